//! The call history: every call record the log holds (one per call, last writer wins), as the
//! seed's `Call`, newest first.

use duet_log::CallView;
use duet_model::{Call, CallId, SpaceId};

use crate::keyspace::{view, Ks};
use crate::txn::decode;
use crate::{Store, StoreError};

impl Store {
    /// Every call, newest first. `space` names the direct conversation.
    pub fn calls(&self, space: SpaceId) -> Result<Vec<Call>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.tree(Ks::Views).scan_prefix([view::CALL]) {
            let (k, v) = item?;
            if k.len() != 1 + CallId::LEN {
                continue;
            }
            let record: CallView = decode(&v)?;
            let c = record.value;
            out.push(Call {
                id: c.call,
                conversation: c.target.conversation(space),
                caller: c.caller,
                participants: c.participants,
                kind: c.kind,
                state: c.state,
                started_at: c.started_at,
                answered_at: c.answered_at,
                ended_at: c.ended_at,
            });
        }
        out.sort_by_key(|c| std::cmp::Reverse((c.started_at, c.id)));
        Ok(out)
    }
}
