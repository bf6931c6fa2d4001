//! Text rules shared by every model: trimmed, non-empty, bounded in characters, no control
//! characters except line breaks and tabs in message content.

use crate::error::ValidationError;
use crate::message::{MAX_CONTENT_CHARS, MAX_EMOJI_BYTES, MAX_EMOJI_CHARS};

/// The seed's `content` rule: `trim: true`, required, `maxlength: 2000`. Returns the trimmed
/// text. Length counts Unicode scalar values, so an emoji counts once.
pub fn validate_content(content: &str) -> Result<String, ValidationError> {
    check_content(content).map(str::to_owned)
}

/// [`validate_content`] of text already owned (a payload just decoded): the same rules, and
/// the same `String` back when there is nothing to trim, so a synced message is not copied.
pub fn validate_content_owned(content: String) -> Result<String, ValidationError> {
    let trimmed = check_content(&content)?;
    // Trimming only takes from the ends: as long as the whole, it is the whole.
    Ok(if trimmed.len() == content.len() { content } else { trimmed.to_owned() })
}

/// The content rules; the trimmed text.
fn check_content(content: &str) -> Result<&str, ValidationError> {
    let field = "a message";
    let trimmed = content.trim();
    check_len(field, trimmed, 1, MAX_CONTENT_CHARS)?;
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(ValidationError::ControlCharacter { field });
    }
    Ok(trimmed)
}

/// A single-line name (display name, channel name, space name, custom status): trimmed,
/// 1..=`max` characters, no control characters. Returns the trimmed text.
pub fn validate_name(field: &'static str, text: &str, max: usize) -> Result<String, ValidationError> {
    let trimmed = text.trim();
    check_len(field, trimmed, 1, max)?;
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::ControlCharacter { field });
    }
    Ok(trimmed.to_owned())
}

/// A reaction emoji: non-empty, short (a few scalar values, to allow skin tones and ZWJ
/// sequences), no whitespace, and not plain ASCII letters or digits.
pub fn validate_emoji(emoji: &str) -> Result<String, ValidationError> {
    let field = "an emoji";
    let trimmed = emoji.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    let chars = trimmed.chars().count();
    if chars > MAX_EMOJI_CHARS || trimmed.len() > MAX_EMOJI_BYTES {
        return Err(ValidationError::TooLong { field, len: chars, max: MAX_EMOJI_CHARS });
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control() || c.is_ascii_alphanumeric()) {
        return Err(ValidationError::NotAnEmoji);
    }
    Ok(trimmed.to_owned())
}

fn check_len(field: &'static str, text: &str, min: usize, max: usize) -> Result<(), ValidationError> {
    // Count at most max+1 characters: a huge input costs no more than a legal one. Text of
    // at most `max` bytes is counted whole, which `count` does a word of bytes at a time
    // (`take` would decode it character by character).
    let len = if text.len() <= max { text.chars().count() } else { text.chars().take(max + 1).count() };
    if len < min {
        return Err(ValidationError::Empty { field });
    }
    if len > max {
        return Err(ValidationError::TooLong { field, len: text.chars().count(), max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn content_is_trimmed_and_bounded() {
        assert_eq!(validate_content("  hi love \n").unwrap(), "hi love");
        assert_eq!(validate_content("   ").unwrap_err(), ValidationError::Empty { field: "a message" });
        let long = "é".repeat(2001);
        let err = validate_content(&long).unwrap_err();
        assert_eq!(err.to_string(), "a message is too long: 2001 characters, the limit is 2000");
        assert!(validate_content(&"💛".repeat(2000)).is_ok());
        assert!(validate_content("a\u{0}b").is_err());
        assert!(validate_content("line one\nline two").is_ok());
    }

    #[test]
    fn emoji_rules() {
        assert_eq!(validate_emoji(" 💛 ").unwrap(), "💛");
        assert!(validate_emoji("👍🏽").is_ok());
        assert!(validate_emoji("👩‍❤️‍👨").is_ok());
        assert!(validate_emoji("").is_err());
        assert!(validate_emoji("lol").is_err());
        assert!(validate_emoji("💛 💛").is_err());
        assert!(validate_emoji(&"💛".repeat(20)).is_err());
    }

    proptest! {
        #[test]
        fn valid_content_is_always_trimmed_and_in_bounds(s in ".{0,2100}") {
            if let Ok(v) = validate_content(&s) {
                prop_assert_eq!(v.trim(), v.as_str());
                let n = v.chars().count();
                prop_assert!((1..=MAX_CONTENT_CHARS).contains(&n));
            }
        }

        /// Owned or borrowed, content gets the same answer; and lengths near the limit, in
        /// characters of one to four bytes, are counted exactly on either side of it.
        #[test]
        fn owned_content_gets_the_same_answer(
            s in "[ \t\na-z\u{0}\u{85}é💛]{0,40}",
            unit in prop::sample::select(vec!["a", "é", "€", "💛"]),
            extra in 0usize..3,
            fewer in 0usize..3,
        ) {
            prop_assert_eq!(validate_content_owned(s.clone()), validate_content(&s));
            for n in [MAX_CONTENT_CHARS + extra, MAX_CONTENT_CHARS - fewer] {
                let long = unit.repeat(n);
                let expected = if n > MAX_CONTENT_CHARS {
                    Err(ValidationError::TooLong { field: "a message", len: n, max: MAX_CONTENT_CHARS })
                } else {
                    Ok(long.clone())
                };
                prop_assert_eq!(validate_content_owned(long.clone()), expected.clone());
                prop_assert_eq!(validate_content(&long), expected);
            }
        }
    }
}
