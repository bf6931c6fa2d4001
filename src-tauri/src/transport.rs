//! The shapes the UI receives, converted from the Duet crates' types with `From`.
//!
//! They are the shell's contract with `ui/src/lib/backend/types.ts`, kept apart from the
//! model's own serde form (which serves storage and the wire, and may change for them). A
//! JSON fixture shared with the UI's tests (`ui/src/lib/backend/fixtures/`) pins the contract
//! from both sides, until the TypeScript types are generated from these.

use duet_model::{Avatar, BlobHash, DeviceId, Person, PersonId};
use serde::Serialize;

/// A person as the UI shows them. Ids are lowercase hex strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonView {
    pub id: PersonId,
    pub display_name: String,
    pub avatar: Option<AvatarView>,
    pub devices: Vec<DeviceId>,
}

/// `{"kind": "emoji", "value": "💛"}` or `{"kind": "image", "value": "<blob hash hex>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "value")]
pub enum AvatarView {
    Emoji(String),
    Image(BlobHash),
}

impl From<Person> for PersonView {
    fn from(person: Person) -> Self {
        Self {
            id: person.id,
            display_name: person.display_name,
            avatar: person.avatar.map(AvatarView::from),
            devices: person.devices,
        }
    }
}

impl From<Avatar> for AvatarView {
    fn from(avatar: Avatar) -> Self {
        match avatar {
            Avatar::Emoji(emoji) => Self::Emoji(emoji),
            Avatar::Image(blob) => Self::Image(blob),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI's tests render this same file, so both sides agree on the shape.
    const PERSON_FIXTURE: &str = include_str!("../../ui/src/lib/backend/fixtures/person.json");

    fn id<T: std::str::FromStr>(hex: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        hex.parse().unwrap()
    }

    #[test]
    fn a_person_reaches_the_ui_in_the_shape_its_tests_use() {
        let person = Person {
            id: id("3f9a1c07d2e845b6a1c0ffee1234567890abcdef1234567890abcdef0badb2e4"),
            display_name: "Maya".into(),
            avatar: Some(Avatar::Emoji("💛".into())),
            devices: vec![id(&"aa".repeat(32)), id(&"bb".repeat(32))],
        };
        let sent = serde_json::to_value(PersonView::from(person)).unwrap();
        let expected: serde_json::Value = serde_json::from_str(PERSON_FIXTURE).unwrap();
        assert_eq!(sent, expected);
    }

    #[test]
    fn an_image_avatar_is_tagged_with_its_blob_hash() {
        let sent = serde_json::to_value(AvatarView::from(Avatar::Image(id(&"cd".repeat(32))))).unwrap();
        assert_eq!(sent, serde_json::json!({ "kind": "image", "value": "cd".repeat(32) }));
    }
}
