//! Safety numbers: both partners read the same 60 digits off their screens (or over a call)
//! and mark them verified; each sees whether the other did.
//!
//! The number comes from the two people's keys (`duet_crypto::SafetyNumber`); a mark is a
//! signed event in the log (`Payload::Verified`) naming the number's fingerprint, so it
//! reaches every device of both people and counts only for the keys it was made for: were
//! the partner's key ever another (someone joined in their place), the mark would not match.

use duet_crypto::SafetyNumber;
use duet_log::Payload;
use duet_model::PersonId;
use serde::Serialize;

use crate::{Node, NodeError};

/// Where checking the safety number with my partner stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Verification {
    pub partner: PersonId,
    /// The partner's display name (empty before their profile arrived).
    pub partner_name: String,
    /// Twelve groups of five digits, the same on both sides.
    pub safety_number: Vec<String>,
    /// I marked this number as checked with my partner.
    pub verified_by_me: bool,
    /// My partner marked it (on any of their devices).
    pub verified_by_partner: bool,
}

impl Node {
    /// The safety number I share with my partner, and who marked it as checked.
    pub fn verification(&self) -> Result<Verification, NodeError> {
        let me = self.person_id().ok_or(NodeError::NotInitialized)?;
        let partner = self.partner()?.ok_or_else(|| {
            NodeError::NotFound("there is no safety number yet: it appears once your partner has joined".into())
        })?;
        let number = SafetyNumber::of(&me, &partner);
        let fingerprint = number.fingerprint();
        let marked = |by: &PersonId, of: &PersonId| -> Result<bool, NodeError> {
            Ok(self.shared.store.verified(by, of)?.and_then(|m| m.value).is_some_and(|n| n == fingerprint))
        };
        let partner_name = self.person(&partner)?.map(|p| p.display_name).unwrap_or_default();
        Ok(Verification {
            partner,
            partner_name,
            safety_number: number.groups(),
            verified_by_me: marked(&me, &partner)?,
            verified_by_partner: marked(&partner, &me)?,
        })
    }

    /// Marks the safety number as checked with my partner (`false` takes the mark back). My
    /// partner's devices see it once they sync.
    pub async fn mark_verified(&self, verified: bool) -> Result<Verification, NodeError> {
        self.touch();
        let current = self.verification()?;
        if current.verified_by_me != verified {
            let me = self.person_id().ok_or(NodeError::NotInitialized)?;
            let number = verified.then(|| SafetyNumber::of(&me, &current.partner).fingerprint());
            self.write(Payload::Verified { person: current.partner, number }).await?;
        }
        self.verification()
    }
}
