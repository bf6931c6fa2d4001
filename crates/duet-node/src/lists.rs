//! Shared lists: groceries, plans, to-dos (`duet_model::SharedList`).
//!
//! Every change is a signed, sealed event (`Payload::ListSet` for a list's title,
//! `Payload::ListItemSet` for one field or more of one item), folded field by field, latest
//! wins per field (`duet_log::ItemMark`). So both partners edit while apart and, once their
//! devices meet, hold the same list with every edit of a different field kept; two edits of
//! the same field keep the later one in the space's order of events. Order comes from each
//! item's position key (`duet_model::position_between`), so moving one item writes only that
//! item. Why not Automerge or Yrs: these four fields per item are all a list needs, the fold
//! already merges last-writer-wins registers in any order (property-tested), and a CRDT
//! library would bring a second sync and storage format into every device
//! (docs/decisions.md, "Shared lists are registers per field").

use duet_log::Payload;
use duet_model::{
    position_between, validate_list_item, validate_list_title, ItemId, ListId, ListItem, SharedList, MAX_LIST_ITEMS,
};
use rand_core::{OsRng, RngCore};

use crate::{Node, NodeError};

/// Where an item goes in its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "to", content = "item")]
pub enum Place {
    Top,
    Bottom,
    /// Right after this item.
    After(ItemId),
}

fn random16() -> [u8; 16] {
    let mut bytes = [0; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

impl Node {
    /// Every shared list, most recently changed first.
    pub fn lists(&self) -> Result<Vec<SharedList>, NodeError> {
        let mut lists = Vec::new();
        for (id, mark) in self.shared.store.lists()? {
            if let Some(title) = mark.value {
                lists.push(self.assemble(id, title, mark.at)?);
            }
        }
        lists.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
        Ok(lists)
    }

    /// One shared list, its items in order.
    pub fn list(&self, id: &ListId) -> Result<SharedList, NodeError> {
        match self.shared.store.shared_list(id)? {
            Some(mark) => match mark.value {
                Some(title) => self.assemble(*id, title, mark.at),
                None => Err(NodeError::NotFound("that list was deleted".into())),
            },
            None => Err(NodeError::NotFound(format!("there is no list {id}"))),
        }
    }

    /// A list by name (case-insensitive) or by the start of its id.
    pub fn list_by_name(&self, name: &str) -> Result<SharedList, NodeError> {
        let name = name.trim();
        let lists = self.lists()?;
        let by_title: Vec<&SharedList> = lists.iter().filter(|l| l.title.eq_ignore_ascii_case(name)).collect();
        let by_id: Vec<&SharedList> =
            lists.iter().filter(|l| name.len() >= 4 && l.id.to_string().starts_with(&name.to_lowercase())).collect();
        match (by_title.as_slice(), by_id.as_slice()) {
            ([one], _) | ([], [one]) => Ok((*one).clone()),
            ([], []) => {
                Err(NodeError::NotFound(format!("there is no list called \"{name}\" (`duet lists` shows them)")))
            }
            _ => Err(NodeError::NotFound(format!("more than one list is called \"{name}\": give its id instead"))),
        }
    }

    fn assemble(&self, id: ListId, title: String, titled_at: duet_model::Timestamp) -> Result<SharedList, NodeError> {
        let marks = self.shared.store.list_items(&id)?;
        let mut updated_at = titled_at;
        let mut items: Vec<(Vec<u8>, ListItem)> = Vec::new();
        for (item, mark) in &marks {
            updated_at = updated_at.max(mark.updated_at());
            if let Some((position, text, checked)) = mark.shown() {
                items.push((position.to_vec(), ListItem { id: *item, text: text.to_owned(), checked }));
            }
        }
        items.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.id.cmp(&y.id)));
        Ok(SharedList { id, title, items: items.into_iter().map(|(_, item)| item).collect(), updated_at })
    }

    /// The position keys of a list's shown items, in order.
    fn positions(&self, list: &ListId) -> Result<Vec<(ItemId, Vec<u8>)>, NodeError> {
        let mut shown: Vec<(ItemId, Vec<u8>)> = self
            .shared
            .store
            .list_items(list)?
            .into_iter()
            .filter_map(|(id, mark)| mark.shown().map(|(p, _, _)| (id, p.to_vec())))
            .collect();
        shown.sort_by(|(x, a), (y, b)| a.cmp(b).then(x.cmp(y)));
        Ok(shown)
    }

    /// A position key for `place` in `list` (`moving`: the item being moved, left out).
    fn position_for(&self, list: &ListId, place: Place, moving: Option<ItemId>) -> Result<Vec<u8>, NodeError> {
        let shown: Vec<(ItemId, Vec<u8>)> =
            self.positions(list)?.into_iter().filter(|(id, _)| Some(*id) != moving).collect();
        let (before, after) = match place {
            Place::Top => (None, shown.first().map(|(_, p)| p.as_slice())),
            Place::Bottom => (shown.last().map(|(_, p)| p.as_slice()), None),
            Place::After(item) => {
                let i = shown
                    .iter()
                    .position(|(id, _)| *id == item)
                    .ok_or_else(|| NodeError::NotFound("that item is not in the list".into()))?;
                // Items written apart may share a key: skip to the next different one.
                let next = shown[i + 1..].iter().find(|(_, p)| *p != shown[i].1).map(|(_, p)| p.as_slice());
                (Some(shown[i].1.as_slice()), next)
            }
        };
        position_between(before, after).ok_or_else(|| {
            NodeError::NotAllowed("the list cannot take more items at that place; move some first".into())
        })
    }

    /// Makes a shared list, for both of us.
    pub async fn create_list(&self, title: &str) -> Result<SharedList, NodeError> {
        self.touch();
        let title = validate_list_title(title)?;
        let id = ListId(random16());
        self.write(Payload::ListSet { list: id, title: Some(title) }).await?;
        self.list(&id)
    }

    /// Renames a list.
    pub async fn rename_list(&self, id: ListId, title: &str) -> Result<SharedList, NodeError> {
        self.touch();
        let title = validate_list_title(title)?;
        self.list(&id)?;
        self.write(Payload::ListSet { list: id, title: Some(title) }).await?;
        self.list(&id)
    }

    /// Deletes a list, for both of us.
    pub async fn delete_list(&self, id: ListId) -> Result<(), NodeError> {
        self.touch();
        self.list(&id)?;
        self.write(Payload::ListSet { list: id, title: None }).await.map(|_| ())
    }

    /// Adds an item (at the bottom unless `place` says otherwise).
    pub async fn add_list_item(&self, list: ListId, text: &str, place: Option<Place>) -> Result<SharedList, NodeError> {
        self.touch();
        let text = validate_list_item(text)?;
        if self.list(&list)?.items.len() >= MAX_LIST_ITEMS {
            return Err(NodeError::NotAllowed(format!(
                "a list holds at most {MAX_LIST_ITEMS} items: remove some done ones first"
            )));
        }
        let position = self.position_for(&list, place.unwrap_or(Place::Bottom), None)?;
        let item = ItemId(random16());
        let payload = Payload::ListItemSet {
            list,
            item,
            text: Some(text),
            checked: Some(false),
            position: Some(position),
            removed: Some(false),
        };
        self.write(payload).await?;
        self.list(&list)
    }

    /// Changes an item's text and/or ticks or unticks it.
    pub async fn set_list_item(
        &self,
        list: ListId,
        item: ItemId,
        text: Option<&str>,
        checked: Option<bool>,
    ) -> Result<SharedList, NodeError> {
        self.touch();
        let text = text.map(validate_list_item).transpose()?;
        self.shown_item(&list, &item)?;
        if text.is_none() && checked.is_none() {
            return self.list(&list);
        }
        let payload = Payload::ListItemSet { list, item, text, checked, position: None, removed: None };
        self.write(payload).await?;
        self.list(&list)
    }

    /// Moves an item to `place`.
    pub async fn move_list_item(&self, list: ListId, item: ItemId, place: Place) -> Result<SharedList, NodeError> {
        self.touch();
        self.shown_item(&list, &item)?;
        if place == Place::After(item) {
            return self.list(&list);
        }
        let position = self.position_for(&list, place, Some(item))?;
        let payload =
            Payload::ListItemSet { list, item, text: None, checked: None, position: Some(position), removed: None };
        self.write(payload).await?;
        self.list(&list)
    }

    /// Removes an item, for both of us.
    pub async fn remove_list_item(&self, list: ListId, item: ItemId) -> Result<SharedList, NodeError> {
        self.touch();
        self.shown_item(&list, &item)?;
        let payload =
            Payload::ListItemSet { list, item, text: None, checked: None, position: None, removed: Some(true) };
        self.write(payload).await?;
        self.list(&list)
    }

    fn shown_item(&self, list: &ListId, item: &ItemId) -> Result<ListItem, NodeError> {
        self.list(list)?
            .items
            .into_iter()
            .find(|i| i.id == *item)
            .ok_or_else(|| NodeError::NotFound("that item is not in the list (it may have been removed)".into()))
    }
}
