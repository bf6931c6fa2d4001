//! "Our story": everything the two wrote, as one HTML page a browser opens on its own.
//!
//! Decisions:
//! - **Self-contained and inert.** One file: the styles inline, pictures as `data:` URLs, no
//!   script, and a Content-Security-Policy that allows nothing else (`default-src 'none'`), so
//!   the page cannot reach the network or run anything whatever a message says. Every piece
//!   of text from a message or a name is HTML-escaped; formatting marks (`**bold**`) are kept
//!   as written.
//! - **Pictures come from this device.** A photo whose content is here is embedded whole up to
//!   [`MAX_EMBEDDED_PICTURE`], else its thumbnail, else a line saying it is not on this
//!   device; the page stops embedding past [`MAX_EMBEDDED_TOTAL`] so it stays openable. Voice
//!   notes, videos and files are named, not embedded.
//! - **Times are this computer's local time**, written when the page is made (a page with no
//!   script cannot learn its reader's time zone).
//! - The page is written whole or not at all (`duet_store::write_whole`, as attachments are
//!   saved): a crash leaves either the old page or the whole new one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use duet_model::{Attachment, AttachmentKind, Media, Message, PersonId, Target};
use serde::Serialize;

use crate::{Node, NodeError};

/// The largest picture embedded whole; bigger ones are shown by their thumbnail.
pub const MAX_EMBEDDED_PICTURE: u64 = 4 << 20;
/// Pictures stop being embedded once the page holds this much of them.
pub const MAX_EMBEDDED_TOTAL: u64 = 256 << 20;
/// Messages read per page while the story is written.
const PAGE: usize = 500;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoryReport {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub path: PathBuf,
    pub messages: u64,
    /// Pictures embedded (whole or as a thumbnail).
    pub pictures: u64,
    /// Pictures named only: not on this device, or past the page's limit.
    pub pictures_left_out: u64,
    pub bytes: u64,
}

impl Node {
    /// Writes "Our story" (every conversation, oldest first, with the pictures held here) to
    /// `path` as one self-contained HTML page. See the module docs.
    pub async fn export_story(&self, path: &Path) -> Result<StoryReport, NodeError> {
        let node = self.clone();
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || node.write_story(&path)).await.map_err(|_| NodeError::Stopped)?
    }

    fn write_story(&self, path: &Path) -> Result<StoryReport, NodeError> {
        let me = self.me()?;
        let partner = self.partner()?;
        let name = |id: &PersonId| -> String {
            self.person(id)
                .ok()
                .flatten()
                .map(|p| p.display_name)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "Someone".into())
        };
        let title = match partner {
            Some(p) => format!("{} & {} — our story", name(&me), name(&p)),
            None => format!("{} — our story", name(&me)),
        };
        let mut report =
            StoryReport { path: path.to_path_buf(), messages: 0, pictures: 0, pictures_left_out: 0, bytes: 0 };
        let mut embedded = 0u64;
        let mut html = String::new();
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
            escape(&title),
            escape(&title)
        );
        if let Some(day) = self.dates()?.together_since {
            let _ =
                writeln!(html, "<p class=\"since\">Together since {}-{:02}-{:02}</p>", day.year, day.month, day.day);
        }
        let mut conversations = vec![(Target::Direct, "Just the two of you".to_owned())];
        for c in self.channels()? {
            conversations.push((Target::Channel(c.id), format!("#{}", c.name)));
        }
        let key = self.space_key().ok();
        for (target, heading) in conversations {
            let messages = self.all_messages(target)?;
            if messages.iter().all(|m| m.deleted) {
                continue;
            }
            let _ = writeln!(html, "<section><h2>{}</h2>", escape(&heading));
            let mut last_day = String::new();
            for m in messages.iter().filter(|m| !m.deleted) {
                let at = local(m.created_at.0);
                let day = at.format("%A %-d %B %Y").to_string();
                if day != last_day {
                    let _ = writeln!(html, "<h3>{}</h3>", escape(&day));
                    last_day = day;
                }
                let mine = if m.sender == me { " mine" } else { "" };
                let _ = write!(
                    html,
                    "<article class=\"message{mine}\"><header><b>{}</b> <time>{}</time>{}</header>",
                    escape(&name(&m.sender)),
                    at.format("%H:%M"),
                    if m.edited { " <i>(edited)</i>" } else { "" }
                );
                if !m.content.is_empty() && !m.attachments.iter().any(|a| a.name == m.content) {
                    let _ = write!(html, "<p>{}</p>", escape(&m.content));
                }
                for a in &m.attachments {
                    match self.picture(key.as_ref(), a, &mut embedded) {
                        Some(img) => {
                            report.pictures += 1;
                            html.push_str(&img);
                        }
                        None => {
                            if a.kind == AttachmentKind::Image {
                                report.pictures_left_out += 1;
                            }
                            let _ = write!(html, "<p class=\"file\">{}</p>", escape(&describe(a)));
                        }
                    }
                }
                if !m.reactions.is_empty() {
                    let emoji: String = m.reactions.iter().map(|r| r.emoji.as_str()).collect::<Vec<_>>().join(" ");
                    let _ = write!(html, "<footer>{}</footer>", escape(&emoji));
                }
                html.push_str("</article>\n");
                report.messages += 1;
            }
            html.push_str("</section>\n");
        }
        let _ = writeln!(
            html,
            "<p class=\"made\">Made by Duet on {}.</p>\n</body></html>",
            local_now().format("%-d %B %Y")
        );
        report.bytes = html.len() as u64;
        duet_store::write_whole(path, |file| {
            use std::io::Write;
            file.write_all(html.as_bytes())
                .map_err(|e| duet_store::BlobStoreError::Unwritable { path: path.to_path_buf(), reason: e.to_string() })
        })?;
        Ok(report)
    }

    /// Every message of `target`, oldest first.
    fn all_messages(&self, target: Target) -> Result<Vec<Message>, NodeError> {
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let page = self.messages(target, before, PAGE)?;
            all.extend(page.messages);
            match page.older {
                Some(older) => before = Some(older),
                None => break,
            }
        }
        all.reverse();
        Ok(all)
    }

    /// An attachment as an embedded picture, if it is one and its content (or thumbnail) is
    /// here and within the page's limits.
    fn picture(&self, key: Option<&duet_crypto::SpaceKey>, a: &Attachment, embedded: &mut u64) -> Option<String> {
        if a.kind != AttachmentKind::Image {
            return None;
        }
        let key = key?;
        let store = &self.shared.blobs.store;
        let whole = (a.size <= MAX_EMBEDDED_PICTURE && store.is_complete(&a.blob).unwrap_or(false))
            .then(|| store.read(key, &a.blob).ok())
            .flatten()
            .map(|bytes| (bytes, mime_of(&a.name)));
        let shown = whole.or_else(|| {
            let Some(Media::Image { thumbnail: Some(t), .. }) = &a.media else { return None };
            store.read(key, &t.blob).ok().map(|bytes| (bytes, "image/jpeg"))
        });
        let (bytes, mime) = shown?;
        if *embedded + bytes.len() as u64 > MAX_EMBEDDED_TOTAL {
            return None;
        }
        *embedded += bytes.len() as u64;
        let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
        Some(format!("<img src=\"data:{mime};base64,{data}\" alt=\"{}\">", escape(&a.name)))
    }
}

/// A line for an attachment that is not embedded.
fn describe(a: &Attachment) -> String {
    let what = match (&a.kind, &a.media) {
        (_, Some(Media::Voice { duration_ms, .. })) => {
            let s = duration_ms / 1000;
            format!("🎤 voice message, {}:{:02}", s / 60, s % 60)
        }
        (AttachmentKind::Image, _) => format!("🖼 {} (not on this device)", a.name),
        (AttachmentKind::Video, _) => format!("🎬 {}", a.name),
        (AttachmentKind::Audio, _) => format!("🎵 {}", a.name),
        (AttachmentKind::File, _) => format!("📎 {}", a.name),
    };
    format!("{what} · {:.1} MB", a.size as f64 / 1_000_000.0)
}

/// The picture's type from its name (what the sender's device decided it was).
fn mime_of(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).as_deref() {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "image/jpeg",
    }
}

/// `text` safe to put in HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn local(ms: u64) -> chrono::DateTime<chrono::Local> {
    use chrono::TimeZone;
    chrono::Local.timestamp_millis_opt(ms as i64).single().unwrap_or_else(local_now)
}

fn local_now() -> chrono::DateTime<chrono::Local> {
    chrono::Local::now()
}

const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#2b2024;background:#fffaf7}\
h1{font-size:1.8rem;margin-bottom:.2rem}.since{color:#8a6f78;margin-top:0}h2{margin-top:2.5rem;border-bottom:1px solid #ecd9dd;padding-bottom:.3rem}\
h3{font-size:.85rem;text-transform:uppercase;letter-spacing:.05em;color:#8a6f78;margin:1.6rem 0 .6rem}\
.message{background:#fff;border:1px solid #f0e2e5;border-radius:12px;padding:.5rem .8rem;margin:.45rem 0;max-width:85%}\
.message.mine{margin-left:auto;background:#fbeef1}.message header{font-size:.85rem;color:#8a6f78}.message p{margin:.2rem 0;white-space:pre-wrap}\
.message img{max-width:100%;border-radius:8px;margin-top:.3rem;display:block}.file{color:#5d4a50}.message footer{font-size:1.1rem}\
.made{margin-top:3rem;color:#8a6f78;font-size:.85rem;text-align:center}";
