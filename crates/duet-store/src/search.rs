//! Search: the words of every message in an inverted index inside the store, sealed like every
//! other value.
//!
//! **Words.** A text is cut at Unicode word boundaries (UAX #29) and each word folded:
//! compatibility decomposition (NFKD), combining marks dropped, lower case. "Café", "CAFE" and
//! "cafe" are one word; "l'été" is one word that "l'ete" finds; an ideograph (Chinese,
//! Japanese) is a word of its own. A word is at most [`MAX_WORD_BYTES`] long (a longer one is
//! cut there) and the first [`MAX_WORDS`] words of a message are indexed. A query finds whole
//! words, not parts of words: "pizz" does not find "pizza" (indexing every prefix would
//! multiply the index and its cost in sync; `docs/decisions.md`).
//!
//! **Index.** A word is named by a 64-bit SipHash-1-3 keyed with a key derived from the data
//! key ([`word_key`]), and belongs to one of [`SHARDS`] shards (its hash's top bits). The
//! `search` tree holds *chunks* under `shard(1) · level(1) · number(8)`: a chunk is a table of
//! word hashes, sorted, and for each the messages holding it, delta coded (about 6 bytes a
//! message; [`Chunk`] gives the layout). A commit adds one chunk to level 0 of each shard its
//! new messages touched, so a synced batch of 1,000 messages writes at most 64 keys ("Few sled
//! keys per event" in `docs/decisions.md`). Merging is upkeep done apart from writing
//! ([`Store::compact_words`], which the node runs when no write came for a moment): a level of
//! a shard holding [`FANOUT`] chunks or more becomes one chunk of the next level (a
//! log-structured merge). It reads and merges without the store's writer lock (chunks never
//! change, and only it removes them) and swaps the chunks in one transaction under the lock, so
//! sync and sending never wait for a merge; a search walking the chunks while a merge commits
//! reads again ([`crate::consolidate`], "Readers"). Once merged, a shard holds fewer than `FANOUT`
//! chunks per level, and a query reads every chunk of the word's shard (a few dozen), opening
//! each and finding the word by binary search.
//!
//! **Edits and deletions** remove nothing from the index: an edit adds the new text's words,
//! and a query checks every candidate against the message as it is now, so a deleted message,
//! or one edited so that it no longer holds the words, is not a result.
//!
//! **What sled sees**: how many chunks each shard holds and how big they are. Words, their
//! hashes and the message ids are inside sealed values.
//!
//! **Results** ([`crate::Store::search`]): the messages holding every word of the query. The
//! newest [`WINDOW`] candidates (before a date, if one is given) are checked; among them, a
//! message holding the query as typed (same accents, words in order) comes first, then one
//! holding the words in order, then the rest; newest first within each.

use std::collections::{BTreeMap, BTreeSet};

use duet_log::{MessageRecord, OpenedEvent, Payload};
use duet_model::{ConversationId, Message, MessageId, Timestamp};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::cut;
use crate::keyspace::Ks;
use crate::txn::{decode, Txn};
use crate::{scan, Store, StoreError};

/// Shards of the index (a power of two): a word's shard is its hash's top bits.
pub(crate) const SHARDS: u64 = 64;
/// Chunks a level holds before they are merged into the next.
pub const FANOUT: usize = 8;
/// Levels: enough for 8^12 commits.
pub(crate) const LEVELS: u8 = 12;
/// The longest word kept, in bytes (a longer one is cut at a character boundary before it).
pub const MAX_WORD_BYTES: usize = 48;
/// The most words indexed for one text (repeats included): bounds what one message adds to
/// the index.
pub const MAX_WORDS: usize = 2_000;
/// The most words a query uses.
pub const MAX_QUERY_WORDS: usize = 16;
/// How many of the newest candidates a query checks and ranks.
pub const WINDOW: usize = 200;

/// A message in a posting list: ordered by id, so by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Posting {
    pub(crate) id: MessageId,
    pub(crate) conversation: ConversationId,
}

/// Postings with their word's hash: what a write adds, and a chunk's contents, sorted by
/// (hash, posting) when encoded.
pub(crate) type Postings = Vec<(u64, Posting)>;

/// The folded words of `text`, in order (repeats kept).
pub fn words(text: &str) -> Vec<String> {
    cut::words(text).map(fold).filter(|w| !w.is_empty()).collect()
}

/// One word folded: NFKD, combining marks dropped, lower case, at most [`MAX_WORD_BYTES`].
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    fold_into(word, &mut out);
    out
}

fn fold_into(word: &str, out: &mut String) {
    out.clear();
    // Most words are ASCII: nothing to decompose.
    if word.is_ascii() {
        out.push_str(&word[..word.len().min(MAX_WORD_BYTES)]);
        out.make_ascii_lowercase();
        return;
    }
    for c in word.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase) {
        if out.len() + c.len_utf8() > MAX_WORD_BYTES {
            break;
        }
        out.push(c);
    }
}

/// The key that names words in the index, derived from the data key: which shards a message
/// touched (visible in sled's keys) says nothing about its words to someone without the key.
pub(crate) struct WordKey(u64, u64);

pub(crate) fn word_key(data_key: &duet_crypto::DataKey) -> WordKey {
    let key = blake3::derive_key("duet 2026-12 search word names", data_key.to_bytes().as_slice());
    let half = |i: usize| {
        let mut h = [0; 8];
        h.copy_from_slice(&key[i * 8..i * 8 + 8]);
        u64::from_le_bytes(h)
    };
    WordKey(half(0), half(1))
}

/// A word's name: SipHash-1-3 under the word key (a keyed hash made for short inputs; BLAKE3
/// cost three times as much per word, and indexing hashes every word of every message).
pub(crate) fn word_hash(key: &WordKey, word: &str) -> u64 {
    let mut hasher = siphasher::sip::SipHasher13::new_with_keys(key.0, key.1);
    std::hash::Hasher::write(&mut hasher, word.as_bytes());
    std::hash::Hasher::finish(&hasher)
}

/// A word's shard: its hash's top bits, so postings sorted by hash are grouped by shard.
pub(crate) fn shard(hash: u64) -> u8 {
    (hash >> (64 - SHARDS.trailing_zeros())) as u8
}

/// The text a message shows now: none once deleted.
pub(crate) fn current_text(record: &MessageRecord) -> Option<&str> {
    if record.deleted_at.is_some() {
        return None;
    }
    Some(record.edit.as_ref().map_or(record.content.as_str(), |e| e.value.as_str()))
}

/// Adds the words of `text` (at most [`MAX_WORDS`]) as postings of `posting`; repeats are
/// merged when the write is encoded.
pub(crate) fn add_text(into: &mut Postings, key: &WordKey, text: &str, posting: Posting) {
    let mut word = String::new();
    for w in cut::words(text).take(MAX_WORDS) {
        fold_into(w, &mut word);
        if !word.is_empty() {
            into.push((word_hash(key, &word), posting));
        }
    }
}

/// The words of a batch's posts, found before the batch is stored ([`Store::words_of`]) so that
/// storing it ([`Store::apply_remote_with_words`]) need not: in sync, a batch's words are found on
/// the thread that checked it while the one before is being stored (a third of storing a synced
/// batch was finding its words; `cargo bench -p duet-store --bench store -- store.apply`).
#[derive(Debug, Default)]
pub struct BatchWords {
    pub(crate) postings: Postings,
    /// The posts whose words these are.
    pub(crate) posts: BTreeSet<MessageId>,
}

impl Store {
    /// The words of every post in `batch`, as folding would index a new post's text.
    pub fn words_of(&self, batch: &[OpenedEvent]) -> Result<BatchWords, StoreError> {
        let space = self.space_id()?;
        let mut words = BatchWords::default();
        for e in batch {
            if let Payload::Post { target, content, .. } = &e.payload {
                let id = e.message_id();
                let posting = Posting { id, conversation: target.conversation(space) };
                add_text(&mut words.postings, &self.inner.word_key, content, posting);
                words.posts.insert(id);
            }
        }
        // Sorted here too: the write's own sort then finds them in order, which costs it little.
        sort(&mut words.postings);
        Ok(words)
    }
}

/// Sorts postings by word (so by shard), then message, without repeats: the order
/// [`write`](crate::txn) groups them in.
pub(crate) fn sort(postings: &mut Postings) {
    if postings.is_sorted() {
        // A write's postings found before it ([`Store::words_of`]) come sorted already.
        postings.dedup();
        return;
    }
    if !postings.is_sorted_by(|a, b| a.1 <= b.1) {
        // Added message by message, a batch's posts are in id order within each author's run
        // (sync sends one author's run at a time; a local batch may hold several): a stable
        // sort finds those runs and merges them. 16-byte arrays compare as big-endian
        // integers, so the integer key is the derived order, without 16-byte memcmps.
        postings.sort_by_key(|(_, p)| (u128::from_be_bytes(p.id.0), u128::from_be_bytes(p.conversation.0)));
    }
    // In message order now, so a stable sort by word alone gives the order, and sorting
    // (hash, place) integers is several times cheaper than comparing 40-byte entries.
    let mut order: Vec<u128> =
        postings.iter().enumerate().map(|(place, (hash, _))| (u128::from(*hash) << 64) | place as u128).collect();
    sort_by_word(&mut order);
    *postings = order.into_iter().map(|key| postings[key as u64 as usize]).collect();
    postings.dedup();
}

/// Sorts `(hash << 64) | place` keys whose places are distinct and ascending: by hash, and by
/// place among equal hashes. A synced batch of 1,000 posts has some 20,000 of them; comparison
/// sorting them was half of finding the batch's words (`cargo bench -p duet-store --bench store
/// -- store.words`), so a batch that large goes through a radix sort of the hashes (8 bits a
/// pass, least significant first), which keeps equal hashes in the order they came: by place.
fn sort_by_word(keys: &mut Vec<u128>) {
    const BITS: usize = 8;
    const BUCKETS: usize = 1 << BITS;
    const PASSES: usize = 64 / BITS;
    // Below this, comparisons cost less than the passes over the keys.
    const RADIX_FROM: usize = 512;
    if keys.len() < RADIX_FROM {
        keys.sort_unstable();
        return;
    }
    let digit = |key: &u128, pass: usize| (key >> (64 + pass * BITS)) as usize & (BUCKETS - 1);
    // Every pass's counts in one read of the keys.
    let mut starts = [[0usize; BUCKETS]; PASSES];
    for key in keys.iter() {
        for (pass, counts) in starts.iter_mut().enumerate() {
            counts[digit(key, pass)] += 1;
        }
    }
    let mut moved = vec![0u128; keys.len()];
    for (pass, starts) in starts.iter_mut().enumerate() {
        if starts.contains(&keys.len()) {
            // Every key has this digit: the pass would move nothing.
            continue;
        }
        let mut sum = 0;
        for start in starts.iter_mut() {
            (*start, sum) = (sum, sum + *start);
        }
        for key in keys.iter() {
            let bucket = &mut starts[digit(key, pass)];
            moved[*bucket] = *key;
            *bucket += 1;
        }
        std::mem::swap(keys, &mut moved);
    }
}

/// A chunk key: `shard · level · number`.
pub(crate) fn chunk_key(shard: u8, level: u8, number: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(10);
    k.push(shard);
    k.push(level);
    k.extend_from_slice(&number.to_be_bytes());
    k
}

// ---------------------------------------------------------------------------------------------
// Chunks
// ---------------------------------------------------------------------------------------------

/// Encodes one chunk:
///
/// `words:u32 | conversations:u32 | tags:u32 | (hash:u64, end:u32) × words, hashes ascending |
/// conversation(16) × conversations | device tag(4) × tags | postings`
///
/// A word's postings end at its `end` (the previous word's `end` is where they start). Each
/// posting, in id order: the id's time minus the previous posting's (the first: minus 0), the
/// conversation's index, the device tag's index, and the id's sequence number as the zigzag
/// difference from the previous posting's, each a LEB128 varint. Integers in the header are
/// big-endian.
pub(crate) fn encode(entries: &[(u64, Posting)]) -> Vec<u8> {
    let mut conversations: BTreeMap<ConversationId, u64> = BTreeMap::new();
    let mut tags: BTreeMap<[u8; 4], u64> = BTreeMap::new();
    for (_, p) in entries {
        let next = conversations.len() as u64;
        conversations.entry(p.conversation).or_insert(next);
        let next = tags.len() as u64;
        tags.entry(p.id.device_tag()).or_insert(next);
    }
    let mut postings = Vec::with_capacity(entries.len() * 6);
    let mut table = Vec::new();
    let mut words = 0u32;
    let (mut time, mut seq) = (0u64, 0u32);
    for (i, (hash, p)) in entries.iter().enumerate() {
        if i == 0 || entries[i - 1].0 != *hash {
            (time, seq) = (0, 0);
        }
        let at = p.id.created_at().0;
        varint(&mut postings, at.saturating_sub(time));
        varint(&mut postings, conversations[&p.conversation]);
        varint(&mut postings, tags[&p.id.device_tag()]);
        varint(&mut postings, zigzag(i64::from(p.id.seq()) - i64::from(seq)));
        (time, seq) = (at, p.id.seq());
        if entries.get(i + 1).is_none_or(|(next, _)| next != hash) {
            table.extend_from_slice(&hash.to_be_bytes());
            table.extend_from_slice(&(postings.len() as u32).to_be_bytes());
            words += 1;
        }
    }
    let mut out = Vec::with_capacity(HEADER + table.len() + conversations.len() * 16 + tags.len() * 4 + postings.len());
    out.extend_from_slice(&words.to_be_bytes());
    out.extend_from_slice(&(conversations.len() as u32).to_be_bytes());
    out.extend_from_slice(&(tags.len() as u32).to_be_bytes());
    out.extend_from_slice(&table);
    let mut by_index: Vec<(u64, &ConversationId)> = conversations.iter().map(|(c, i)| (*i, c)).collect();
    by_index.sort();
    for (_, c) in by_index {
        out.extend_from_slice(&c.0);
    }
    let mut by_index: Vec<(u64, &[u8; 4])> = tags.iter().map(|(t, i)| (*i, t)).collect();
    by_index.sort();
    for (_, t) in by_index {
        out.extend_from_slice(t);
    }
    out.extend_from_slice(&postings);
    out
}

const CORRUPT: StoreError = StoreError::Corrupt("a search index chunk is damaged");

/// A stored chunk, read in place.
pub(crate) struct Chunk<'a> {
    table: &'a [u8],
    conversations: &'a [u8],
    tags: &'a [u8],
    postings: &'a [u8],
}

/// A table entry: hash(8) · end(4).
const ENTRY: usize = 12;
/// The three counts before the table.
const HEADER: usize = 12;

impl<'a> Chunk<'a> {
    pub(crate) fn decode(bytes: &'a [u8]) -> Result<Self, StoreError> {
        let count = |at: usize| -> Result<usize, StoreError> {
            let b = bytes.get(at..at + 4).ok_or(CORRUPT)?;
            Ok(u32::from_be_bytes(b.try_into().map_err(|_| CORRUPT)?) as usize)
        };
        let (words, conversations, tags) = (count(0)?, count(4)?, count(8)?);
        let table_end = words.checked_mul(ENTRY).and_then(|n| n.checked_add(HEADER)).ok_or(CORRUPT)?;
        let conversations_end = conversations.checked_mul(16).and_then(|n| n.checked_add(table_end)).ok_or(CORRUPT)?;
        let tags_end = tags.checked_mul(4).and_then(|n| n.checked_add(conversations_end)).ok_or(CORRUPT)?;
        if bytes.len() < tags_end {
            return Err(CORRUPT);
        }
        Ok(Self {
            table: &bytes[HEADER..table_end],
            conversations: &bytes[table_end..conversations_end],
            tags: &bytes[conversations_end..tags_end],
            postings: &bytes[tags_end..],
        })
    }

    fn len(&self) -> usize {
        self.table.len() / ENTRY
    }

    fn hash(&self, i: usize) -> u64 {
        let mut h = [0; 8];
        h.copy_from_slice(&self.table[i * ENTRY..i * ENTRY + 8]);
        u64::from_be_bytes(h)
    }

    fn end(&self, i: usize) -> usize {
        let mut e = [0; 4];
        e.copy_from_slice(&self.table[i * ENTRY + 8..i * ENTRY + 12]);
        u32::from_be_bytes(e) as usize
    }

    /// The postings of the word with `hash`, if the chunk holds it.
    pub(crate) fn find(&self, hash: u64) -> Result<Vec<Posting>, StoreError> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.hash(mid).cmp(&hash) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.postings_of(mid),
            }
        }
        Ok(Vec::new())
    }

    /// Every posting with its word's hash, sorted by (hash, posting), appended to `into`.
    pub(crate) fn all_into(&self, into: &mut Postings) -> Result<(), StoreError> {
        for i in 0..self.len() {
            let hash = self.hash(i);
            into.extend(self.postings_of(i)?.into_iter().map(|p| (hash, p)));
        }
        Ok(())
    }

    fn postings_of(&self, i: usize) -> Result<Vec<Posting>, StoreError> {
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let mut bytes = self.postings.get(start..self.end(i)).ok_or(CORRUPT)?;
        let (mut time, mut seq) = (0u64, 0u32);
        let mut out = Vec::new();
        while !bytes.is_empty() {
            time = time.checked_add(read_varint(&mut bytes)?).ok_or(CORRUPT)?;
            let conversation = self.conversation(read_varint(&mut bytes)?)?;
            let tag = self.tag(read_varint(&mut bytes)?)?;
            let delta = unzigzag(read_varint(&mut bytes)?);
            seq = u32::try_from(i64::from(seq) + delta).map_err(|_| CORRUPT)?;
            let mut id = [0; 16];
            id[..8].copy_from_slice(&time.to_be_bytes());
            id[8..12].copy_from_slice(&tag);
            id[12..].copy_from_slice(&seq.to_be_bytes());
            out.push(Posting { id: MessageId(id), conversation });
        }
        Ok(out)
    }

    fn conversation(&self, i: u64) -> Result<ConversationId, StoreError> {
        let i = usize::try_from(i).map_err(|_| CORRUPT)?;
        self.conversations.get(i * 16..i * 16 + 16).and_then(ConversationId::from_slice).ok_or(CORRUPT)
    }

    fn tag(&self, i: u64) -> Result<[u8; 4], StoreError> {
        let i = usize::try_from(i).map_err(|_| CORRUPT)?;
        self.tags.get(i * 4..i * 4 + 4).and_then(|t| t.try_into().ok()).ok_or(CORRUPT)
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &mut &[u8]) -> Result<u64, StoreError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let Some((&b, rest)) = bytes.split_first() else { return Err(CORRUPT) };
        *bytes = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(CORRUPT)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

/// What to look for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The words, as typed.
    pub text: String,
    /// Only this conversation's messages.
    pub conversation: Option<ConversationId>,
    /// Only messages written before this time (to look further back, or from a date).
    pub before: Option<Timestamp>,
    /// The most results.
    pub limit: usize,
}

impl Store {
    /// The messages holding every word of `query`, best first (see the module's doc). No word
    /// (only spaces or punctuation) finds nothing.
    pub fn search(&self, query: &Query) -> Result<Vec<Message>, StoreError> {
        self.steady(|| self.search_once(query))
    }

    /// [`Store::search`], read once.
    fn search_once(&self, query: &Query) -> Result<Vec<Message>, StoreError> {
        let ordered: Vec<String> = words(&query.text).into_iter().take(MAX_QUERY_WORDS).collect();
        let mut distinct = ordered.clone();
        distinct.sort();
        distinct.dedup();
        if distinct.is_empty() || query.limit == 0 {
            return Ok(Vec::new());
        }
        let tree = self.inner.tree(Ks::Search);
        let mut shards: BTreeMap<u8, Vec<sled::IVec>> = BTreeMap::new();
        let mut lists = Vec::with_capacity(distinct.len());
        for word in &distinct {
            let hash = word_hash(&self.inner.word_key, word);
            let shard = shard(hash);
            if let std::collections::btree_map::Entry::Vacant(e) = shards.entry(shard) {
                e.insert(tree.scan_prefix([shard]).map(|r| r.map(|(_, v)| v)).collect::<Result<Vec<_>, _>>()?);
            }
            let mut list = Vec::new();
            for chunk in shards.get(&shard).into_iter().flatten() {
                list.extend(Chunk::decode(chunk)?.find(hash)?);
            }
            list.retain(|p: &Posting| {
                query.before.is_none_or(|before| p.id.created_at() < before)
                    && query.conversation.is_none_or(|c| p.conversation == c)
            });
            if list.is_empty() {
                return Ok(Vec::new());
            }
            list.sort_unstable();
            list.dedup();
            lists.push(list);
        }
        lists.sort_by_key(Vec::len);
        let (first, rest) = lists.split_first().ok_or(CORRUPT)?;
        let candidates = first.iter().rev().filter(|p| rest.iter().all(|l| l.binary_search(p).is_ok()));
        let mut found = Vec::new();
        for p in candidates.take(WINDOW) {
            let Some(bytes) = scan::record(&self.inner, &p.conversation, &p.id)? else { continue };
            let record: MessageRecord = decode(&bytes)?;
            if let Some(score) = current_text(&record).and_then(|text| score(text, &query.text, &ordered)) {
                found.push((score, record));
            }
        }
        found.sort_by(|(a, ra), (b, rb)| b.cmp(a).then(rb.id.cmp(&ra.id)));
        found.iter().take(query.limit).map(|(_, r)| self.render(r)).collect()
    }

    /// Format 3 → 4: indexes the words of the messages already stored, a few thousand per
    /// write. The format is raised only after it, so a crash in between indexes again (the
    /// same postings twice, which queries merge).
    pub(crate) fn index_words(&self) -> Result<(), StoreError> {
        const PER_WRITE: usize = 5_000;
        let mut words = Postings::new();
        let mut held = 0;
        for c in self.inner.conversations_stored()? {
            for item in scan::Scan::all(&self.inner, &c, false) {
                let (id, bytes) = item?;
                // A record that does not read is left out of the index, as of the memories.
                let Ok(record) = decode::<MessageRecord>(&bytes) else { continue };
                if let Some(text) = current_text(&record) {
                    add_text(&mut words, &self.inner.word_key, text, Posting { id, conversation: c });
                    held += 1;
                }
                if held >= PER_WRITE {
                    self.write_words(std::mem::take(&mut words))?;
                    held = 0;
                }
            }
        }
        self.write_words(words)
    }

    fn write_words(&self, words: Postings) -> Result<(), StoreError> {
        let _writing = self.lock();
        let mut txn = Txn::new(&self.inner);
        txn.index_words(words);
        txn.commit().map(|_| ())
    }

    /// The most chunks one level of one shard of the words index holds: below [`FANOUT`], its
    /// upkeep is done.
    pub fn words_index_backlog(&self) -> Result<usize, StoreError> {
        Ok(self.chunk_levels()?.values().map(Vec::len).max().unwrap_or(0))
    }

    /// The keys of the words index's chunks by (level, shard), lowest level first.
    fn chunk_levels(&self) -> Result<BTreeMap<(u8, u8), Vec<sled::IVec>>, StoreError> {
        let mut levels: BTreeMap<(u8, u8), Vec<sled::IVec>> = BTreeMap::new();
        for key in self.inner.raw[Ks::Search as usize].iter().keys() {
            let key = key?;
            if let [shard, level, ..] = key[..] {
                levels.entry((level, shard)).or_default().push(key);
            }
        }
        Ok(levels)
    }

    /// One step of the words index's upkeep: the lowest level of a shard holding [`FANOUT`]
    /// chunks or more is merged into one chunk of the next level. Returns whether there was
    /// such a level; the node calls it again until there is none.
    pub fn compact_words(&self) -> Result<bool, StoreError> {
        let _one_at_a_time = self.compacting.lock().unwrap_or_else(|e| e.into_inner());
        let Some(((level, shard), keys)) =
            self.chunk_levels()?.into_iter().find(|((level, _), keys)| level + 1 < LEVELS && keys.len() >= FANOUT)
        else {
            return Ok(false);
        };
        let tree = self.inner.tree(Ks::Search);
        let mut merged = Postings::new();
        for key in &keys {
            if let Some(bytes) = tree.get(key)? {
                Chunk::decode(&bytes)?.all_into(&mut merged)?;
            }
        }
        // Sorted runs one after the other: a stable sort merges them run by run.
        merged.sort();
        merged.dedup();
        let chunk = encode(&merged);
        let _writing = self.lock();
        let mut txn = Txn::new(&self.inner);
        for key in keys {
            txn.remove(Ks::Search, key.to_vec());
        }
        txn.put_chunk(shard, level + 1, chunk)?;
        let _reshaping = crate::consolidate::Reshaping::begin(&self.inner.reshaped);
        txn.commit()?;
        Ok(true)
    }
}

// ---------------------------------------------------------------------------------------------
// Ranking
// ---------------------------------------------------------------------------------------------

/// How well `text` matches a query, or `None` if it does not hold every word: 2 when it holds
/// the query as typed (case aside), 1 when it holds the folded words in order, 0 otherwise.
pub(crate) fn score(text: &str, query: &str, query_words: &[String]) -> Option<u8> {
    let found = words(text);
    if !query_words.iter().all(|q| found.contains(q)) {
        return None;
    }
    let typed = query.trim().to_lowercase();
    if !typed.is_empty() && text.to_lowercase().contains(&typed) {
        return Some(2);
    }
    let in_order = found.windows(query_words.len().max(1)).any(|w| w == query_words);
    Some(u8::from(in_order))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The integer-keyed sort gives exactly the derived order, repeats removed.
        #[test]
        fn sort_is_the_derived_order(raw in proptest::collection::vec((0u64..4, proptest::array::uniform16(0u8..3), proptest::array::uniform16(0u8..2)), 0..1_200)) {
            let mut postings: Postings =
                raw.into_iter().map(|(h, id, c)| (h, Posting { id: MessageId(id), conversation: ConversationId(c) })).collect();
            let mut derived = postings.clone();
            derived.sort_unstable();
            derived.dedup();
            sort(&mut postings);
            proptest::prop_assert_eq!(postings, derived);
        }

        /// Postings added message by message in id order (as a synced batch's are) take the
        /// stable sort by word, and it too gives the derived order.
        #[test]
        fn sort_of_postings_in_message_order_is_the_derived_order(raw in proptest::collection::vec((0u64..6, proptest::array::uniform16(0u8..3), proptest::array::uniform16(0u8..2)), 0..1_200)) {
            let mut postings: Postings =
                raw.into_iter().map(|(h, id, c)| (h, Posting { id: MessageId(id), conversation: ConversationId(c) })).collect();
            postings.sort_by_key(|(_, p)| *p);
            let mut derived = postings.clone();
            derived.sort_unstable();
            derived.dedup();
            sort(&mut postings);
            proptest::prop_assert_eq!(postings, derived);
        }
    }

    proptest::proptest! {
        /// The radix sort of a large batch's keys is the comparison sort's order: hashes drawn
        /// from a few (many repeats, most digits equal) or from all 64 bits.
        #[test]
        fn sort_by_word_is_the_integer_order(
            hashes in proptest::collection::vec(proptest::prop_oneof![0u64..8, proptest::num::u64::ANY], 0..3_000),
        ) {
            let mut keys: Vec<u128> =
                hashes.iter().enumerate().map(|(place, hash)| (u128::from(*hash) << 64) | place as u128).collect();
            let mut expected = keys.clone();
            expected.sort_unstable();
            sort_by_word(&mut keys);
            proptest::prop_assert_eq!(keys, expected);
        }
    }

    #[test]
    fn words_fold_case_accents_and_width() {
        assert_eq!(words("Café au LAIT, s'il vous plaît!"), ["cafe", "au", "lait", "s'il", "vous", "plait"]);
        assert_eq!(words("ÉTÉ été ete"), ["ete", "ete", "ete"]);
        assert_eq!(words("Ｆｕｌｌｗｉｄｔｈ ﬁne"), ["fullwidth", "fine"]);
        assert_eq!(words("Straße Ωμέγα"), ["straße", "ωμεγα"]);
        assert_eq!(words("我爱你 tea"), ["我", "爱", "你", "tea"]);
        assert_eq!(words("🙂 … --- 42 3.14"), ["42", "3.14"]);
        assert_eq!(fold(&"a".repeat(100)).len(), MAX_WORD_BYTES);
        assert_eq!(fold(&"é".repeat(100)).len(), MAX_WORD_BYTES);
    }

    #[test]
    fn chunks_round_trip_and_refuse_damage() {
        let mut entries = Postings::new();
        let tag = |t: u8| duet_model::DeviceId([t; 32]);
        for i in 0..300u64 {
            let id = MessageId::new(duet_model::Timestamp(1_700_000_000_000 + i * 7919), &tag((i % 3) as u8), i * 5);
            let conversation = ConversationId([(i % 2) as u8; 16]);
            entries.push((i % 17, Posting { id, conversation }));
            entries.push((u64::MAX - i % 5, Posting { id, conversation }));
            entries.push((i % 17, Posting { id, conversation }));
        }
        entries.sort();
        entries.dedup();
        let bytes = encode(&entries);
        let chunk = Chunk::decode(&bytes).expect("decodes");
        for hash in (0..17).chain((0..5).map(|i| u64::MAX - i)) {
            let want: Vec<Posting> = entries.iter().filter(|(h, _)| *h == hash).map(|(_, p)| *p).collect();
            assert_eq!(want.len(), if hash < 17 { 300 / 17 + usize::from(hash < 300 % 17) } else { 60 });
            assert_eq!(chunk.find(hash).expect("reads"), want);
        }
        assert!(chunk.find(1_000).expect("reads").is_empty());
        let mut all = Postings::new();
        chunk.all_into(&mut all).expect("reads");
        assert_eq!(all, entries);
        for cut in [0, 3, 11, 20] {
            assert!(Chunk::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // Damaged postings are refused, never a panic.
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0xff;
            if let Ok(chunk) = Chunk::decode(&bad) {
                let _ = chunk.all_into(&mut Postings::new());
            }
        }
    }

    #[test]
    fn score_ranks_typed_then_in_order() {
        let q = |s: &str| words(s);
        assert_eq!(score("On se voit au café ce soir", "au café", &q("au café")), Some(2));
        assert_eq!(score("On se voit au cafe ce soir", "au café", &q("au café")), Some(1));
        assert_eq!(score("café? on y va, au revoir", "au café", &q("au café")), Some(0));
        assert_eq!(score("on y va", "au café", &q("au café")), None);
    }
}
