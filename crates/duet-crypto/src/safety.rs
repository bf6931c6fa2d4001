//! Safety numbers: what two partners compare, side by side or on a call, to know that no one
//! sits between them.
//!
//! A couple pairs with a ticket passed out of band; whoever intercepted the ticket could have
//! joined in the partner's place, or paired with each of them as the other. Each person's
//! key gives 30 digits; the safety number is both halves, the smaller first, so both partners
//! see the same 60 digits. Someone in the middle holds other keys, so each partner sees a
//! number made with one of them, and the two numbers differ.
//!
//! Each half depends on one person's key alone (as Signal's safety numbers do): to pass a
//! check, someone in the middle would need a key of their own whose 30 digits equal a
//! partner's (about 2^100 tries), not merely two keys whose combined numbers collide (a
//! birthday search, half the bits).

use duet_model::PersonId;

use crate::hash::{hash_parts, Hash};

/// Digit groups per person.
const GROUPS_PER_PERSON: usize = 6;
/// Digits in one group.
const GROUP_DIGITS: usize = 5;

/// The 60 digits two people compare, in 12 groups of 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetyNumber {
    groups: [u32; 2 * GROUPS_PER_PERSON],
}

impl SafetyNumber {
    /// The safety number of two people; the same whichever of them asks.
    pub fn of(a: &PersonId, b: &PersonId) -> Self {
        let (a, b) = (half(a), half(b));
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        let mut groups = [0; 2 * GROUPS_PER_PERSON];
        groups[..GROUPS_PER_PERSON].copy_from_slice(&first);
        groups[GROUPS_PER_PERSON..].copy_from_slice(&second);
        Self { groups }
    }

    /// The 12 groups, each 5 digits ("04211").
    pub fn groups(&self) -> Vec<String> {
        self.groups.iter().map(|g| format!("{g:0width$}", width = GROUP_DIGITS)).collect()
    }

    /// What a "verified" mark names: a hash of the digits, so a mark made for one pair of
    /// keys says nothing about another.
    pub fn fingerprint(&self) -> Hash {
        let digits = self.to_string();
        hash_parts(&[b"duet/safety-number-mark/1", digits.as_bytes()])
    }
}

impl std::fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.groups().join(" "))
    }
}

/// One person's 30 digits: six groups, each five bytes of a hash of their key, read as a
/// number modulo 100,000 (the bias of taking 40 bits modulo 10^5 is below 10^-7).
fn half(person: &PersonId) -> [u32; GROUPS_PER_PERSON] {
    let digest = hash_parts(&[b"duet/safety-number/1", &person.0]);
    let mut groups = [0; GROUPS_PER_PERSON];
    for (i, group) in groups.iter_mut().enumerate() {
        let bytes = &digest[i * 5..i * 5 + 5];
        let n = bytes.iter().fold(0u64, |n, b| n << 8 | u64::from(*b));
        *group = (n % 100_000) as u32;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_partners_see_the_same_number_and_a_third_key_gives_another() {
        let (ada, ben, mallory) = (PersonId([1; 32]), PersonId([2; 32]), PersonId([3; 32]));
        let number = SafetyNumber::of(&ada, &ben);
        assert_eq!(number, SafetyNumber::of(&ben, &ada));
        assert_eq!(number.groups().len(), 12);
        assert!(number.groups().iter().all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_digit())));
        assert_eq!(number.to_string().len(), 12 * 5 + 11);
        // Someone in the middle: Ada paired with Mallory, Ben with Mallory.
        assert_ne!(number, SafetyNumber::of(&ada, &mallory));
        assert_ne!(number, SafetyNumber::of(&mallory, &ben));
        assert_ne!(number.fingerprint(), SafetyNumber::of(&ada, &mallory).fingerprint());
    }

    #[test]
    fn each_half_is_one_persons_and_the_smaller_comes_first() {
        let (ada, ben, carol) = (PersonId([1; 32]), PersonId([2; 32]), PersonId([4; 32]));
        let ab = SafetyNumber::of(&ada, &ben).groups();
        let ac = SafetyNumber::of(&ada, &carol).groups();
        let adas: Vec<String> = half(&ada).iter().map(|g| format!("{g:05}")).collect();
        assert!(ab[..6] == adas[..] || ab[6..] == adas[..], "Ada's half is in her number with Ben");
        assert!(ac[..6] == adas[..] || ac[6..] == adas[..], "and in her number with Carol");
        assert!(ab[..6] <= ab[6..]);
    }

    #[test]
    fn the_digits_are_fixed_for_given_keys() {
        // A change here changes every couple's safety number: it must be deliberate.
        let number = SafetyNumber::of(&PersonId([1; 32]), &PersonId([2; 32]));
        assert_eq!(number.to_string(), "51034 68170 15669 66402 67044 55210 93375 88538 30018 25597 07668 92185");
    }
}
