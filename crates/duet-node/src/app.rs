//! What the desktop app needs beyond the CLI's commands: a profile (name and avatar) chosen
//! during onboarding, before there is any space to write it into.
//!
//! A profile change is a `ProfileUpdate` event, and events need a space. A person who has just
//! created their profile has none yet: the space comes with their first invite (`ensure_space`)
//! or when they join their partner's. So until then the name lives in the local identity (as
//! `init` leaves it) and the avatar in a small file beside the store (`pending-avatar`, the
//! emoji as UTF-8). [`Node::invite_with_profile`] and [`Node::join_with_profile`] pair as
//! `invite`/`join` do, then write that pending avatar into the space and forget it.
//!
//! An app also opens the store more than once in one process (`init`, then `start`), and sled
//! releases a store's lock only when its flusher thread lets go, a moment after the last handle
//! is dropped: [`Node::create`] and [`Node::start_when_unlocked`] wait for it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use duet_log::Payload;
use duet_model::{Avatar, InviteKind, Person};

use crate::{InitReport, Node, NodeConfig, NodeError, NodeEvent};

const PENDING_AVATAR_FILE: &str = "pending-avatar";
/// How long a store still held by this process (a handle being dropped) may stay locked.
const UNLOCK_PATIENCE: Duration = Duration::from_secs(5);

impl Node {
    /// Creates this device's profile ([`crate::init`] with `name`) and starts the node.
    pub async fn create(config: NodeConfig, name: &str) -> Result<Node, NodeError> {
        let dir = config.data_dir.clone();
        retry_while_locked(|| async { crate::init(&dir, Some(name), &config.unlock) }).await.map(|_: InitReport| ())?;
        Self::start_when_unlocked(config).await
    }

    /// Creates this device without a person of its own, to be linked to one with a device
    /// invite ([`Node::join`]), and starts the node.
    pub async fn create_device(config: NodeConfig) -> Result<Node, NodeError> {
        let dir = config.data_dir.clone();
        retry_while_locked(|| async { crate::init(&dir, None, &config.unlock) }).await.map(|_: InitReport| ())?;
        Self::start_when_unlocked(config).await
    }

    /// [`Node::start`], waiting a few seconds for a store this process has just closed.
    pub async fn start_when_unlocked(config: NodeConfig) -> Result<Node, NodeError> {
        retry_while_locked(|| Node::start(config.clone())).await
    }

    /// My profile as a front end shows it: the stored one, with the avatar chosen before
    /// pairing when the space does not have one yet. `None` on a device not linked yet.
    pub fn my_profile(&self) -> Result<Option<Person>, NodeError> {
        let Some(mut person) = self.profile()? else { return Ok(None) };
        if person.avatar.is_none() {
            person.avatar = self.pending_avatar();
        }
        Ok(Some(person))
    }

    /// Changes my display name and/or avatar (`None` leaves it; `Some(None)` removes the
    /// avatar). Written to the space when there is one, else kept until pairing.
    pub async fn set_profile(&self, name: Option<&str>, avatar: Option<Option<Avatar>>) -> Result<(), NodeError> {
        self.touch();
        let name = name
            .map(|n| duet_model::validate_name("a display name", n, duet_model::MAX_DISPLAY_NAME_CHARS))
            .transpose()?;
        let avatar = avatar.map(|a| a.map(validate_avatar).transpose()).transpose()?;
        if self.shared.store.space()?.is_some() {
            self.write(Payload::ProfileUpdate { display_name: name, avatar }).await?;
            self.forget_pending_avatar();
            return Ok(());
        }
        if let Some(name) = name {
            let mut identity = self.identity()?.ok_or(NodeError::NotInitialized)?;
            identity.display_name = name;
            self.shared.store.save_identity(&identity)?;
        }
        match avatar {
            Some(Some(Avatar::Emoji(emoji))) => std::fs::write(self.pending_avatar_path(), emoji)
                .map_err(|e| NodeError::NotAllowed(format!("cannot save your avatar: {e}")))?,
            Some(Some(Avatar::Image(_))) => {
                return Err(NodeError::NotAllowed("an image avatar can be chosen once you are paired".into()))
            }
            Some(None) => self.forget_pending_avatar(),
            None => {}
        }
        self.emit(NodeEvent::SpaceChanged);
        Ok(())
    }

    /// [`Node::invite`], then the avatar chosen before pairing goes into the new space.
    pub async fn invite_with_profile(&self, kind: InviteKind) -> Result<String, NodeError> {
        let ticket = self.invite(kind).await?;
        self.publish_pending_profile().await?;
        Ok(ticket)
    }

    /// [`Node::join`], then the avatar chosen before pairing goes into the joined space.
    pub async fn join_with_profile(&self, ticket: &str) -> Result<(), NodeError> {
        self.join(ticket).await?;
        self.publish_pending_profile().await
    }

    /// Writes the pending avatar into the space, if there is both.
    async fn publish_pending_profile(&self) -> Result<(), NodeError> {
        let Some(avatar) = self.pending_avatar() else { return Ok(()) };
        if self.shared.store.space()?.is_none() || self.person_id().is_none() {
            return Ok(());
        }
        self.write(Payload::ProfileUpdate { display_name: None, avatar: Some(Some(avatar)) }).await?;
        self.forget_pending_avatar();
        Ok(())
    }

    fn pending_avatar_path(&self) -> PathBuf {
        self.shared.config.data_dir.join(PENDING_AVATAR_FILE)
    }

    fn pending_avatar(&self) -> Option<Avatar> {
        let text = std::fs::read_to_string(self.pending_avatar_path()).ok()?;
        duet_model::validate_emoji(&text).ok().map(Avatar::Emoji)
    }

    fn forget_pending_avatar(&self) {
        let _ = std::fs::remove_file(self.pending_avatar_path());
    }
}

/// Runs `attempt` again while it fails to open the store, for [`UNLOCK_PATIENCE`].
async fn retry_while_locked<T, F, Fut>(mut attempt: F) -> Result<T, NodeError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, NodeError>>,
{
    let deadline = Instant::now() + UNLOCK_PATIENCE;
    loop {
        match attempt().await {
            Err(NodeError::Store(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            done => return done,
        }
    }
}

fn validate_avatar(avatar: Avatar) -> Result<Avatar, NodeError> {
    Ok(match avatar {
        Avatar::Emoji(emoji) => Avatar::Emoji(duet_model::validate_emoji(&emoji)?),
        image => image,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::NodeConfig;

    fn loopback(dir: &std::path::Path) -> NodeConfig {
        let mut config = NodeConfig::new(dir);
        config.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
        config.mdns = false;
        config.unlock = crate::Unlock::passphrase(crate::TEST_PASSPHRASE);
        config
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_avatar_chosen_before_pairing_is_shown_and_then_written_into_the_space() {
        let tmp = tempfile::tempdir().unwrap();
        let node = Node::create(loopback(tmp.path()), "Maya").await.unwrap();

        node.set_profile(Some("Maya R"), Some(Some(Avatar::Emoji("💛".into())))).await.unwrap();
        let before = node.my_profile().unwrap().unwrap();
        assert_eq!(before.display_name, "Maya R");
        assert_eq!(before.avatar, Some(Avatar::Emoji("💛".into())));

        node.wait_listening(Duration::from_secs(10)).await.unwrap();
        node.invite_with_profile(InviteKind::Partner).await.unwrap();
        let stored = node.profile().unwrap().unwrap();
        assert_eq!(stored.display_name, "Maya R");
        assert_eq!(stored.avatar, Some(Avatar::Emoji("💛".into())), "the avatar is in the space now");
        assert!(!tmp.path().join(PENDING_AVATAR_FILE).exists());
        node.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_avatar_is_refused_in_words() {
        let tmp = tempfile::tempdir().unwrap();
        crate::init(tmp.path(), Some("Maya"), &crate::Unlock::passphrase(crate::TEST_PASSPHRASE)).unwrap();
        let node = Node::start(loopback(tmp.path())).await.unwrap();
        let err = node.set_profile(None, Some(Some(Avatar::Emoji("not an emoji at all".into())))).await.unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        node.shutdown().await;
    }
}
