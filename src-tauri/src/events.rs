//! Node events to the webview: every [`duet_node::NodeEvent`] is emitted as the Tauri event
//! `duet://event` with the event's JSON as payload (`ui/src/lib/backend/events.ts` listens).
//! When the window fell behind (the node's queue holds 1,024 events) or the node has just
//! started, `duet://resync` tells the UI to reload what it shows instead.

use duet_node::Node;
use tauri::{AppHandle, Emitter};
use tokio::sync::broadcast::error::RecvError;

pub const NODE_EVENT: &str = "duet://event";
pub const RESYNC_EVENT: &str = "duet://resync";

/// Forwards the node's events until it stops.
pub fn forward(app: AppHandle, node: &Node) {
    let mut events = node.subscribe();
    tauri::async_runtime::spawn(async move {
        let _ = app.emit(RESYNC_EVENT, ());
        loop {
            let sent = match events.recv().await {
                Ok(event) => app.emit(NODE_EVENT, &event),
                Err(RecvError::Lagged(_)) => app.emit(RESYNC_EVENT, ()),
                Err(RecvError::Closed) => break,
            };
            if let Err(error) = sent {
                eprintln!("duet-app: an event could not reach the window: {error}");
            }
        }
    });
}
