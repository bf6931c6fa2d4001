//! The shapes the UI receives that are not the model's own: a snapshot of who is here, an
//! invitation with its QR code, a page of messages. Everything inside them keeps the model's
//! JSON form (docs/decisions.md "JSON shapes"); their TypeScript is generated
//! (`src/bindings.rs`).

use duet_model::{DeviceId, Message, MessageId, Person};
use duet_node::{Node, NodeError};
use duet_store::Page;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde::Serialize;

use crate::error::{AppError, ErrorCode};

/// Who is here: what the window needs to choose between onboarding and the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppSnapshot {
    /// This device, once a profile exists.
    pub device_id: Option<DeviceId>,
    /// My profile; `None` before onboarding.
    pub profile: Option<Person>,
    /// My partner, once paired (their name may be empty until their profile has synced).
    pub partner: Option<Person>,
    pub paired: bool,
    /// Restored from a backup, and not yet caught up with the partner's devices: nothing can
    /// be sent until then (`caught_up` says when it is).
    pub catching_up: bool,
}

impl AppSnapshot {
    /// Before any profile exists.
    pub const EMPTY: AppSnapshot =
        AppSnapshot { device_id: None, profile: None, partner: None, paired: false, catching_up: false };

    /// What a running node says.
    pub fn of(node: &Node) -> Result<Self, NodeError> {
        let partner = match node.partner()? {
            Some(id) => Some(node.person(&id)?.unwrap_or(Person {
                id,
                display_name: String::new(),
                avatar: None,
                devices: vec![],
            })),
            None => None,
        };
        Ok(Self {
            device_id: Some(node.device_id()),
            profile: node.my_profile()?,
            paired: partner.is_some(),
            partner,
            catching_up: node.catching_up(),
        })
    }
}

/// A one-time invite: the ticket text and the same ticket as a QR code (an `<svg>` document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invitation {
    pub ticket: String,
    pub qr_svg: String,
}

impl Invitation {
    pub fn new(ticket: String) -> Result<Self, AppError> {
        let code = QrCode::with_error_correction_level(ticket.as_bytes(), EcLevel::M)
            .map_err(|e| AppError::new(ErrorCode::Internal, format!("The invite is too long for a QR code ({e}).")))?;
        let qr_svg = code
            .render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build();
        Ok(Self { ticket, qr_svg })
    }
}

/// A page of a conversation, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MessagePage {
    pub messages: Vec<Message>,
    /// Pass as `before` for the next (older) page; `None` at the beginning.
    pub older: Option<MessageId>,
}

impl From<Page> for MessagePage {
    fn from(page: Page) -> Self {
        Self { messages: page.messages, older: page.older }
    }
}

#[cfg(test)]
mod tests {
    use duet_model::Avatar;

    use super::*;

    /// The UI's tests render this same file, so both sides agree on the shape.
    const PERSON_FIXTURE: &str = include_str!("../../ui/src/lib/backend/fixtures/person.json");

    #[test]
    fn a_person_reaches_the_ui_in_the_model_s_json_shape() {
        let person = Person {
            id: "3f9a1c07d2e845b6a1c0ffee1234567890abcdef1234567890abcdef0badb2e4".parse().unwrap(),
            display_name: "Maya".into(),
            avatar: Some(Avatar::Emoji("💛".into())),
            devices: vec!["aa".repeat(32).parse().unwrap(), "bb".repeat(32).parse().unwrap()],
        };
        let expected: serde_json::Value = serde_json::from_str(PERSON_FIXTURE).unwrap();
        assert_eq!(serde_json::to_value(&person).unwrap(), expected);
    }

    #[test]
    fn an_invitation_carries_its_ticket_as_an_svg_qr_code() {
        let invitation = Invitation::new(format!("duet1{}", "x".repeat(400))).unwrap();
        assert!(invitation.qr_svg.starts_with("<?xml") || invitation.qr_svg.starts_with("<svg"));
        assert!(invitation.qr_svg.contains("</svg>"));
    }

    #[test]
    fn nothing_is_known_before_onboarding() {
        let json = serde_json::to_value(AppSnapshot::EMPTY).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"device_id": null, "profile": null, "partner": null, "paired": false, "catching_up": false})
        );
    }
}
