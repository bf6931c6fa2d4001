//! TURN for calls: the credentials each relay in use gives this device (`duet_node::relay`,
//! `duet_net::turn`), asked for when the relay connects and kept until shortly before they
//! expire, so a call starts with them at hand and without a round trip.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use duet_call::TurnServer;
use duet_net::turn::{unix_now, TurnCredentials};
use duet_net::{DeviceId, DuetProtocol};

use crate::{lock, Node};

/// Credentials closer than this to their expiry are asked for again (a call may last hours).
const RENEW_BEFORE: Duration = Duration::from_secs(3 * 3600);
/// How long a call waits for credentials it does not have yet.
const ASK_PATIENCE: Duration = Duration::from_secs(2);

/// The TURN credentials held, per relay.
#[derive(Default)]
pub(crate) struct TurnCredentialsHeld(Mutex<HashMap<DeviceId, TurnCredentials>>);

impl Node {
    /// Whether `device` is one of the relays in use.
    pub(crate) fn is_relay(&self, device: &DeviceId) -> bool {
        self.relays_in_use().is_ok_and(|relays| relays.iter().any(|r| duet_net::device_at(r).as_ref() == Some(device)))
    }

    /// A relay connected: ask it for TURN credentials unless good ones are held.
    pub(crate) fn relay_connected(&self, relay: DeviceId) {
        if self.turn_held(&relay).is_some() {
            return;
        }
        let node = self.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = node.ask_turn(relay).await {
                tracing::info!(%relay, "no TURN credentials from the relay: {e}");
            }
        });
        self.track_task(task);
    }

    fn turn_held(&self, relay: &DeviceId) -> Option<TurnCredentials> {
        let held = lock(&self.shared.turn.0).get(relay).cloned();
        held.filter(|c| c.valid_for(unix_now(), RENEW_BEFORE))
    }

    async fn ask_turn(&self, relay: DeviceId) -> Result<TurnCredentials, crate::NodeError> {
        let stream = self.shared.net.open_stream(relay, DuetProtocol::Turn).await?;
        let credentials = duet_net::turn::take_credentials(stream)
            .await
            .map_err(|e| crate::NodeError::PeerFault(format!("the relay's TURN credentials: {e}")))?;
        lock(&self.shared.turn.0).insert(relay, credentials.clone());
        Ok(credentials)
    }

    /// The TURN servers of the relays in use, with this device's credentials: those held, and
    /// for a connected relay without them, asked for now (waiting at most [`ASK_PATIENCE`]).
    pub(crate) async fn turn_servers(&self) -> Vec<TurnServer> {
        let Ok(relays) = self.relays_in_use() else { return Vec::new() };
        let connected = self.shared.net.connected().await.unwrap_or_default();
        let mut servers = Vec::new();
        for relay in relays {
            let Some(device) = duet_net::device_at(&relay) else { continue };
            let credentials = match self.turn_held(&device) {
                Some(c) => Some(c),
                None if connected.contains(&device) => {
                    tokio::time::timeout(ASK_PATIENCE, self.ask_turn(device)).await.ok().and_then(Result::ok)
                }
                None => None,
            };
            if let Some(c) = credentials {
                if let Some(url) = c.url(&relay) {
                    servers.push(TurnServer { url, username: c.username, credential: c.password });
                }
            }
        }
        servers
    }
}
