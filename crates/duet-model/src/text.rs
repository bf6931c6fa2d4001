//! Text rules shared by every model: trimmed, non-empty, bounded in characters, no control
//! characters except line breaks and tabs in message content.

use crate::error::ValidationError;
use crate::message::{MAX_CONTENT_CHARS, MAX_EMOJI_BYTES, MAX_EMOJI_CHARS};

/// The seed's `content` rule: `trim: true`, required, `maxlength: 2000`. Returns the trimmed
/// text. Length counts Unicode scalar values, so an emoji counts once.
pub fn validate_content(content: &str) -> Result<String, ValidationError> {
    let field = "a message";
    let trimmed = content.trim();
    check_len(field, trimmed, 1, MAX_CONTENT_CHARS)?;
    if trimmed.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(ValidationError::ControlCharacter { field });
    }
    Ok(trimmed.to_owned())
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
    // Count at most max+1 characters: a huge input costs no more than a legal one.
    let len = text.chars().take(max + 1).count();
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
    }
}
