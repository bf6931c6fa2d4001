//! The UI's TypeScript types, generated from the Rust types with ts-rs into
//! `ui/src/lib/backend/bindings/` (one file per type).
//!
//! `cargo test -p duet-app --features ts` checks that the committed files are exactly what the
//! Rust types generate and fails otherwise; with `DUET_WRITE_BINDINGS=1` it rewrites them
//! instead (`scripts/check-bindings.sh --write`). Without the `ts` feature there is nothing here. 64-bit integers are plain `number`s: times are
//! milliseconds and counts are small, far below 2^53.

#[cfg(all(test, feature = "ts"))]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use ts_rs::{Config, TS};

    const WRITE_ENV: &str = "DUET_WRITE_BINDINGS";

    fn committed_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/backend/bindings")
    }

    /// Every type the shell sends or receives, with what they refer to.
    fn export_all(dir: &Path) -> Result<(), ts_rs::ExportError> {
        let cfg = Config::new().with_out_dir(dir).with_large_int("number");
        crate::transport::AppSnapshot::export_all(&cfg)?;
        crate::transport::Invitation::export_all(&cfg)?;
        crate::transport::MessagePage::export_all(&cfg)?;
        crate::error::AppError::export_all(&cfg)?;
        crate::calls::CallStart::export_all(&cfg)?;
        crate::media::CallNotice::export_all(&cfg)?;
        crate::media::VoiceNoteProgress::export_all(&cfg)?;
        crate::attachments::VoiceNoteStart::export_all(&cfg)?;
        crate::devices::MediaDevices::export_all(&cfg)?;
        duet_node::CallQuality::export_all(&cfg)?;
        crate::lock::LockStatus::export_all(&cfg)?;
        duet_node::duet_call::devices::ShareTarget::export_all(&cfg)?;
        duet_model::Call::export_all(&cfg)?;
        duet_model::Blob::export_all(&cfg)?;
        duet_node::NodeEvent::export_all(&cfg)?;
        duet_node::PeerInfo::export_all(&cfg)?;
        duet_node::MailboxStatus::export_all(&cfg)?;
        duet_node::Verification::export_all(&cfg)?;
        duet_node::PinnedMessage::export_all(&cfg)?;
        duet_node::Memory::export_all(&cfg)?;
        duet_node::TimeWindow::export_all(&cfg)?;
        duet_node::StoryReport::export_all(&cfg)?;
        duet_node::BackupReport::export_all(&cfg)?;
        crate::backup::FoundBackup::export_all(&cfg)?;
        duet_node::Dates::export_all(&cfg)?;
        duet_model::SharedDate::export_all(&cfg)?;
        duet_model::SharedList::export_all(&cfg)?;
        duet_node::Place::export_all(&cfg)?;
        duet_node::DeviceInfo::export_all(&cfg)?;
        duet_model::Conversation::export_all(&cfg)?;
        duet_model::Channel::export_all(&cfg)?;
        duet_model::Presence::export_all(&cfg)?;
        duet_model::InviteKind::export_all(&cfg)?;
        duet_model::AttachmentKind::export_all(&cfg)?;
        duet_model::ChannelKind::export_all(&cfg)?;
        duet_model::SpaceId::export_all(&cfg)?;
        Ok(())
    }

    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        let Ok(entries) = std::fs::read_dir(dir) else { return BTreeMap::new() };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
            .map(|e| {
                (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn the_committed_typescript_bindings_match_the_rust_types() {
        let fresh = tempfile::tempdir().unwrap();
        export_all(fresh.path()).unwrap();
        let generated = read_dir(fresh.path());
        let committed_dir = committed_dir();

        if std::env::var(WRITE_ENV).is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(&committed_dir).unwrap();
            for stale in read_dir(&committed_dir).keys().filter(|name| !generated.contains_key(*name)) {
                std::fs::remove_file(committed_dir.join(stale)).unwrap();
            }
            for (name, text) in &generated {
                std::fs::write(committed_dir.join(name), text).unwrap();
            }
            return;
        }

        let committed = read_dir(&committed_dir);
        let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&committed),
            names(&generated),
            "{} holds other files than the Rust types generate: run scripts/check-bindings.sh --write",
            committed_dir.display()
        );
        for (name, text) in &generated {
            assert_eq!(&committed[name], text, "{name} is out of date: run scripts/check-bindings.sh --write");
        }
    }
}
