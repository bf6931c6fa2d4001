//! Shared lists: groceries, plans, to-dos. Either partner adds, ticks, reorders and removes
//! items, offline too; after reconnecting both hold the same list.
//!
//! Each field of a list or an item is its own last-writer-wins register (in `duet-log`), so
//! edits to different fields made apart are all kept (Ada ticks "milk" while Ben renames it:
//! both hold the renamed, ticked item); two edits of the same field keep the later one. Order
//! is a *position key* per item, compared as bytes ([`position_between`]): moving or inserting
//! an item writes only its own key, so two partners reordering different items never undo each
//! other. Items with the same key (written apart) are ordered by id.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{ItemId, ListId};
use crate::text::validate_name;
use crate::time::Timestamp;

/// Characters in a list's title.
pub const MAX_LIST_TITLE_CHARS: usize = 100;
/// Characters in an item's text.
pub const MAX_LIST_ITEM_CHARS: usize = 500;
/// Items a list holds (removed ones not counted).
pub const MAX_LIST_ITEMS: usize = 1_000;
/// Bytes of a position key.
pub const MAX_POSITION_BYTES: usize = 64;

/// A shared list as both partners see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SharedList {
    pub id: ListId,
    pub title: String,
    /// In order.
    pub items: Vec<ListItem>,
    /// The latest change to the list or one of its items.
    pub updated_at: Timestamp,
}

/// One item of a shared list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ListItem {
    pub id: ItemId,
    pub text: String,
    pub checked: bool,
}

/// A list's title: trimmed, 1..=[`MAX_LIST_TITLE_CHARS`], one line.
pub fn validate_list_title(title: &str) -> Result<String, ValidationError> {
    validate_name("a list's title", title, MAX_LIST_TITLE_CHARS)
}

/// An item's text: trimmed, 1..=[`MAX_LIST_ITEM_CHARS`], one line.
pub fn validate_list_item(text: &str) -> Result<String, ValidationError> {
    validate_name("a list item", text, MAX_LIST_ITEM_CHARS)
}

/// A position key: 1..=[`MAX_POSITION_BYTES`] bytes, not ending in 0 (so a key can always be
/// made before it).
pub fn validate_position(key: &[u8]) -> Result<(), ValidationError> {
    if key.is_empty() || key.last() == Some(&0) {
        return Err(ValidationError::Empty { field: "an item's position" });
    }
    if key.len() > MAX_POSITION_BYTES {
        return Err(ValidationError::TooLong { field: "an item's position", len: key.len(), max: MAX_POSITION_BYTES });
    }
    Ok(())
}

/// A position key strictly between `before` and `after` (bytewise), either end open: `None`
/// before is the top, `None` after is the bottom. Keys never end in 0, so there is always room
/// before one.
///
/// Where one side is open the key steps by one instead of halving the gap, so the usual edits
/// keep keys short: adding at the bottom or the top, or again and again at one spot, grows a
/// key by one byte about every 127 times (halving would every 8).
///
/// Returns `None` when `before` is not below `after`, or the key would pass
/// [`MAX_POSITION_BYTES`].
pub fn position_between(before: Option<&[u8]>, after: Option<&[u8]>) -> Option<Vec<u8>> {
    let lo = before.unwrap_or(&[]);
    if let Some(hi) = after {
        if lo >= hi {
            return None;
        }
    }
    let mut key: Vec<u8> = Vec::new();
    for i in 0..MAX_POSITION_BYTES {
        let lo_ends = i >= lo.len();
        let l = u16::from(lo.get(i).copied().unwrap_or(0));
        // Bounded above only while the key so far equals `after`'s first bytes.
        let h = match after {
            Some(hi) if hi.len() > i && key.as_slice() == &hi[..i] => u16::from(hi[i]),
            _ => 256,
        };
        if h > l + 1 {
            let digit = match (h == 256, lo_ends) {
                (true, false) => l + 1,
                (false, true) => h - 1,
                (true, true) if after.is_none() && !lo.is_empty() => l + 1,
                (true, true) => 128,
                (false, false) => (l + h) / 2,
            };
            key.push(digit as u8);
            return Some(key);
        }
        key.push(l as u8);
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_first_keys_leave_room_everywhere() {
        let mid = position_between(None, None).unwrap();
        let top = position_between(None, Some(&mid)).unwrap();
        let bottom = position_between(Some(&mid), None).unwrap();
        assert!(top < mid && mid < bottom);
        for k in [&mid, &top, &bottom] {
            validate_position(k).unwrap();
        }
        assert_eq!(position_between(Some(&mid), Some(&mid)), None);
        assert_eq!(position_between(Some(&bottom), Some(&top)), None);
    }

    #[test]
    fn a_thousand_items_added_the_usual_ways_keep_short_keys() {
        let first = position_between(None, None).unwrap();
        // At the bottom, at the top, right after the first, right before the second.
        let (mut bottom, mut top) = (first.clone(), first.clone());
        let second = position_between(Some(&first), None).unwrap();
        let (mut after_first, mut before_second) = (second.clone(), first.clone());
        for _ in 0..1000 {
            let b = position_between(Some(&bottom), None).unwrap();
            let t = position_between(None, Some(&top)).unwrap();
            let a = position_between(Some(&first), Some(&after_first)).unwrap();
            let s = position_between(Some(&before_second), Some(&second)).unwrap();
            assert!(bottom < b && t < top && first < a && a < after_first && before_second < s && s < second);
            (bottom, top, after_first, before_second) = (b, t, a, s);
        }
        for k in [&bottom, &top, &after_first, &before_second] {
            validate_position(k).unwrap();
            assert!(k.len() <= 10, "{} bytes after a thousand", k.len());
        }
    }

    proptest! {
        #[test]
        fn a_key_between_two_keys_sorts_between_them(a in proptest::collection::vec(1u8..=255, 1..20), b in proptest::collection::vec(1u8..=255, 1..20)) {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            prop_assume!(lo < hi);
            let k = position_between(Some(&lo), Some(&hi));
            prop_assert!(k.is_some(), "no key between {lo:?} and {hi:?}");
            let k = k.unwrap_or_default();
            prop_assert!(lo < k && k < hi, "{lo:?} < {k:?} < {hi:?}");
            prop_assert!(validate_position(&k).is_ok());
            let above = position_between(None, Some(&lo)).unwrap();
            prop_assert!(above < lo && validate_position(&above).is_ok());
            let below = position_between(Some(&hi), None).unwrap();
            prop_assert!(hi < below && validate_position(&below).is_ok());
        }
    }
}
