//! Search: the messages of every conversation (or one) holding every word typed, best first.
//!
//! The index and the ranking are the store's (`duet_store::search`: words folded so accents
//! and case do not matter, whole words, the query as typed first). The node bounds what a
//! front end may ask and names the conversation: a channel or the direct conversation.
//!
//! Writing adds small chunks to the index; merging them ([`duet_store::Store::compact_words`])
//! is upkeep this part does when nothing was written for [`SEARCH_UPKEEP_TICK`], one merge at a
//! time on a blocking thread, so a backlog arriving or a message sent never waits for it; the
//! same upkeep merges the small message blocks and index chunks that messages written one at a
//! time leave ([`duet_store::Store::consolidate`]). After
//! each stretch of work it hands the memory that work freed back to the system
//! ([`crate::memory`]).

use std::time::Duration;

use duet_model::{Message, Target, Timestamp, ValidationError};

use crate::{Node, NodeError};

/// The most results one search returns.
pub const MAX_SEARCH_RESULTS: usize = 200;
/// The longest search, in characters.
pub const MAX_SEARCH_CHARS: usize = 500;
/// How long nothing must be written before the search index is merged.
pub const SEARCH_UPKEEP_TICK: Duration = Duration::from_secs(1);

impl Node {
    /// The messages holding every word of `words`, best first: at most `limit` (and
    /// [`MAX_SEARCH_RESULTS`]), in `target`'s conversation or in all, written before `before`
    /// (to look further back, or from a date) or at any time.
    pub fn search(
        &self,
        words: &str,
        target: Option<Target>,
        before: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<Message>, NodeError> {
        let len = words.chars().count();
        if len > MAX_SEARCH_CHARS {
            return Err(ValidationError::TooLong { field: "a search", len, max: MAX_SEARCH_CHARS }.into());
        }
        let conversation = match target {
            Some(t) => Some(t.conversation(self.space_id()?)),
            None => None,
        };
        let query =
            duet_store::Query { text: words.to_owned(), conversation, before, limit: limit.min(MAX_SEARCH_RESULTS) };
        Ok(self.shared.store.search(&query)?)
    }

    /// Does now, until done, what the idle upkeep does when nothing is written: for a tool that
    /// writes faster than a person (the benchmarks' seeded conversation), so its store is the
    /// one a person's app would leave.
    pub fn settle_store(&self) -> Result<(), NodeError> {
        tidy(&self.shared.store, |_| true)?;
        Ok(())
    }

    /// The search part: merges the index's chunks, and consolidates the store, while nothing
    /// is written.
    pub(crate) async fn search_upkeep(self) {
        let mut seen = self.shared.store.writes();
        // Whether work was done since memory was last given back (opening the store was).
        let mut worked = true;
        loop {
            tokio::time::sleep(SEARCH_UPKEEP_TICK).await;
            let now = self.shared.store.writes();
            if now != seen {
                seen = now;
                worked = true;
                continue;
            }
            let node = self.clone();
            let release = std::mem::take(&mut worked);
            let merged = tokio::task::spawn_blocking(move || {
                let store = &node.shared.store;
                // One merge at a time, and none once something is written again.
                let merged = tidy(store, |merged| store.writes() == seen + merged)?;
                if release || merged > 0 {
                    crate::memory::release_freed();
                }
                Ok::<u64, duet_store::StoreError>(merged)
            })
            .await;
            match merged {
                Ok(Ok(n)) => seen += n,
                Ok(Err(e)) => tracing::warn!("could not tidy the store (search index, small values): {e}"),
                Err(e) => tracing::warn!("the store's tidying stopped: {e}"),
            }
        }
    }
}

/// One pass of the store's idle upkeep: the words index merged one step at a time, then the
/// small values the writes left consolidated (`duet_store::consolidate`), each step only while
/// `quiet(merges so far)`. Returns the merges made (each is a write).
fn tidy(store: &duet_store::Store, quiet: impl Fn(u64) -> bool) -> Result<u64, duet_store::StoreError> {
    let mut merged = 0;
    while quiet(merged) && store.compact_words()? {
        merged += 1;
    }
    if quiet(merged) {
        merged += store.consolidate()?;
    }
    Ok(merged)
}
