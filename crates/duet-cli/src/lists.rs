//! `duet lists`, `list-new`, `list-add`, `list-check`, `list-move`, `list-remove`,
//! `list-rename`, `list-delete`: shared lists from a terminal. A list is named by its title
//! (any case) or the start of its id; an item by its text (any case) or the start of its id.

use duet_model::{ItemId, SharedList};
use duet_node::{Node, NodeError, Place};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change to a list, as the control socket carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Edit {
    Add {
        text: String,
        top: bool,
    },
    Check {
        item: String,
        on: bool,
    },
    /// To the top, the bottom, or after an item (named).
    Move {
        item: String,
        top: bool,
        after: Option<String>,
    },
    Remove {
        item: String,
    },
    Rename {
        title: String,
    },
    Delete,
}

/// The item named `name` in `list`.
fn item(list: &SharedList, name: &str) -> Result<ItemId, NodeError> {
    let name = name.trim();
    let by_text: Vec<ItemId> = list.items.iter().filter(|i| i.text.eq_ignore_ascii_case(name)).map(|i| i.id).collect();
    let by_id: Vec<ItemId> = list
        .items
        .iter()
        .filter(|i| name.len() >= 4 && i.id.to_string().starts_with(&name.to_lowercase()))
        .map(|i| i.id)
        .collect();
    match (by_text.as_slice(), by_id.as_slice()) {
        ([one], _) | ([], [one]) => Ok(*one),
        ([], []) => Err(NodeError::NotFound(format!("\"{}\" has no item \"{name}\"", list.title))),
        _ => Err(NodeError::NotFound(format!("more than one item of \"{}\" is \"{name}\": give its id", list.title))),
    }
}

/// Applies `edit` to the list named `list`; answers the list as it is now (`null` once deleted).
pub async fn edit(node: &Node, list: &str, edit: Edit) -> Result<Value, NodeError> {
    let shared = node.list_by_name(list)?;
    let id = shared.id;
    let after = match edit {
        Edit::Add { text, top } => node.add_list_item(id, &text, top.then_some(Place::Top)).await?,
        Edit::Check { item: name, on } => node.set_list_item(id, item(&shared, &name)?, None, Some(on)).await?,
        Edit::Move { item: name, top, after } => {
            let place = match (top, after) {
                (true, _) => Place::Top,
                (false, Some(other)) => Place::After(item(&shared, &other)?),
                (false, None) => Place::Bottom,
            };
            node.move_list_item(id, item(&shared, &name)?, place).await?
        }
        Edit::Remove { item: name } => node.remove_list_item(id, item(&shared, &name)?).await?,
        Edit::Rename { title } => node.rename_list(id, &title).await?,
        Edit::Delete => {
            node.delete_list(id).await?;
            return Ok(Value::Null);
        }
    };
    Ok(serde_json::to_value(after).unwrap_or(Value::Null))
}

/// A list for people: its title, then one line per item, ticked or not.
pub fn describe(list: &Value) -> String {
    let mut out = format!("{} ({})", list["title"].as_str().unwrap_or("?"), list["id"].as_str().unwrap_or("?"));
    let items = list["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        out.push_str("\n  (empty)");
    }
    for i in items {
        let mark = if i["checked"] == true { "☑" } else { "☐" };
        out.push_str(&format!("\n  {mark} {}", i["text"].as_str().unwrap_or("?")));
    }
    out
}
