//! Cutting a text into its words: exactly `str::unicode_words` (UAX #29 word boundaries, the
//! pieces holding a letter or a digit), with the ASCII parts of the text cut by a scanner of
//! their own.
//!
//! Why: finding the words of a synced batch runs on the thread that checks it, and the Unicode
//! segmenter's state machine was the largest part of that (`cargo bench -p duet-store --bench
//! store -- store.words`). Most of what people write is ASCII between the odd emoji or accent.
//!
//! **Pieces.** A text is split before an ASCII character that is not white space and follows
//! white space (space, tab, line feed, carriage return, vertical tab, form feed). UAX #29
//! always has a boundary there (nothing joins a word to the white space before it, and the rules
//! that look two characters back or ahead see white space on either side of the split as they
//! would see the text's start or end), so each piece cuts alone as it cuts in the text. A run
//! of pieces that is all ASCII goes to [`ascii_word`]; a piece holding anything else goes to the
//! Unicode segmenter.
//!
//! **ASCII.** Only these of UAX #29's rules can apply to ASCII: letters, digits and `_` join
//! each other (WB5, WB8–WB10, WB13a–b); `:`, `.` and `'` join two letters (WB6–7); `,`, `;`,
//! `.` and `'` join two digits (WB11–12). Everything else stands alone, and a piece with no
//! letter or digit is not a word. The property test below checks the whole against
//! `unicode_words` on random text of ASCII and the characters that have rules of their own
//! (combining marks, joiners, flags, Katakana, Hebrew, other spaces).

use unicode_segmentation::{UnicodeSegmentation, UnicodeWords};

/// The words of `text`, in order: the same as `text.unicode_words()`.
pub(crate) fn words(text: &str) -> Words<'_> {
    Words { rest: text, piece: Piece::Done }
}

pub(crate) struct Words<'t> {
    /// The text after the current piece.
    rest: &'t str,
    piece: Piece<'t>,
}

enum Piece<'t> {
    /// What is left of an all-ASCII piece.
    Ascii(&'t str),
    Unicode(UnicodeWords<'t>),
    Done,
}

impl<'t> Iterator for Words<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        loop {
            match &mut self.piece {
                Piece::Ascii(left) => {
                    if let Some((word, after)) = ascii_word(left) {
                        *left = after;
                        return Some(word);
                    }
                }
                Piece::Unicode(words) => {
                    if let Some(word) = words.next() {
                        return Some(word);
                    }
                }
                Piece::Done => {}
            }
            if self.rest.is_empty() {
                self.piece = Piece::Done;
                return None;
            }
            (self.piece, self.rest) = next_piece(self.rest);
        }
    }
}

/// White space after which UAX #29 always breaks before an ASCII character.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Whether `text` may be split before byte `i` (see "Pieces").
fn splits_at(bytes: &[u8], i: usize) -> bool {
    i > 0 && i < bytes.len() && is_space(bytes[i - 1]) && bytes[i].is_ascii() && !is_space(bytes[i])
}

/// The next piece of `text` and what follows it: the longest all-ASCII run of pieces, or else
/// the one piece that holds the first character beyond ASCII.
fn next_piece(text: &str) -> (Piece<'_>, &str) {
    let bytes = text.as_bytes();
    let Some(first_other) = bytes.iter().position(|b| !b.is_ascii()) else {
        return (Piece::Ascii(text), "");
    };
    // The last split at or before it ends the ASCII run...
    if let Some(end) = (1..=first_other).rev().find(|&i| splits_at(bytes, i)) {
        let (ascii, rest) = text.split_at(end);
        return (Piece::Ascii(ascii), rest);
    }
    // ...and without one, the piece holding it ends at the next split. A split is before an
    // ASCII byte, so on a character boundary.
    let end = (first_other + 1..bytes.len()).find(|&i| splits_at(bytes, i)).unwrap_or(bytes.len());
    let (other, rest) = text.split_at(end);
    (Piece::Unicode(other.unicode_words()), rest)
}

/// What UAX #29 makes of an ASCII character (its Word_Break property, as far as the rules that
/// can apply to ASCII tell them apart).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    /// `_`: ExtendNumLet.
    Underscore,
    /// `:`: MidLetter.
    BetweenLetters,
    /// `.` and `'`: MidNumLet and Single_Quote.
    BetweenEither,
    /// `,` and `;`: MidNum.
    BetweenDigits,
    Other,
}

/// Each ASCII character's class, looked up rather than matched: the scanner asks for every
/// character's class and the next two.
const CLASSES: [Class; 128] = {
    let mut classes = [Class::Other; 128];
    let mut b = 0;
    while b < 128 {
        classes[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
            b'0'..=b'9' => Class::Digit,
            b'_' => Class::Underscore,
            b':' => Class::BetweenLetters,
            b'.' | b'\'' => Class::BetweenEither,
            b',' | b';' => Class::BetweenDigits,
            _ => Class::Other,
        };
        b += 1;
    }
    classes
};

fn is_wordish(c: Class) -> bool {
    matches!(c, Class::Letter | Class::Digit | Class::Underscore)
}

/// The first word of an ASCII `text` and the text after it.
fn ascii_word(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    // Past the end reads as `Other`, which joins nothing.
    let class = |i: usize| bytes.get(i).map_or(Class::Other, |&b| CLASSES[usize::from(b & 0x7f)]);
    let mut i = 0;
    loop {
        while i < bytes.len() && !is_wordish(class(i)) {
            i += 1;
        }
        if i == bytes.len() {
            return None;
        }
        let start = i;
        let mut here = class(i);
        let mut alphanumeric = false;
        loop {
            alphanumeric |= here != Class::Underscore;
            let next = class(i + 1);
            if is_wordish(next) {
                i += 1;
                here = next;
                continue;
            }
            let joins = match (here, next) {
                (Class::Letter, Class::BetweenLetters | Class::BetweenEither) => class(i + 2) == Class::Letter,
                (Class::Digit, Class::BetweenDigits | Class::BetweenEither) => class(i + 2) == Class::Digit,
                _ => false,
            };
            if !joins {
                i += 1;
                break;
            }
            i += 2;
            here = class(i);
        }
        if alphanumeric {
            return Some((&text[start..i], &text[i..]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ASCII with every class, and characters beyond it that UAX #29 has rules for.
    const ALPHABET: &[char] = &[
        'a',
        'Z',
        'q',
        '0',
        '7',
        '_',
        ':',
        '.',
        '\'',
        ',',
        ';',
        '"',
        '-',
        '!',
        '?',
        '/',
        ' ',
        ' ',
        '\t',
        '\n',
        '\r',
        '\u{0b}',
        '\u{0c}',
        '\u{00}',
        'é',
        '\u{301}',
        '\u{200d}',
        '\u{200b}',
        '\u{ad}',
        '’',
        '‘',
        '·',
        '🦊',
        '👍',
        '🇫',
        '🇷',
        'カ',
        'ー',
        'א',
        '״',
        '٣',
        '\u{85}',
        '\u{a0}',
        '\u{3000}',
        '中',
        'ß',
        'Ω',
        '\u{fe0f}',
        '\u{1f3fb}',
    ];

    proptest::proptest! {
        #[test]
        fn cuts_as_unicode_words(picks in proptest::collection::vec(0..ALPHABET.len(), 0..48)) {
            let text: String = picks.iter().map(|&i| ALPHABET[i]).collect();
            let ours: Vec<&str> = words(&text).collect();
            let theirs: Vec<&str> = text.unicode_words().collect();
            proptest::prop_assert_eq!(ours, theirs, "{:?}", text);
        }

        /// Mostly ASCII, as most messages are, with the odd other character.
        #[test]
        fn cuts_mostly_ascii_text_as_unicode_words(
            picks in proptest::collection::vec(proptest::prop_oneof![8 => 0..24usize, 1 => 24..ALPHABET.len()], 0..200),
        ) {
            let text: String = picks.iter().map(|&i| ALPHABET[i]).collect();
            let ours: Vec<&str> = words(&text).collect();
            let theirs: Vec<&str> = text.unicode_words().collect();
            proptest::prop_assert_eq!(ours, theirs, "{:?}", text);
        }
    }

    #[test]
    fn ascii_rules() {
        fn cut(t: &str) -> Vec<&str> {
            words(t).collect()
        }
        assert_eq!(
            cut("message 12: the fox's den, 3.14 or 1,000; a.b a:b 1:2 a.1 __ _x"),
            ["message", "12", "the", "fox's", "den", "3.14", "or", "1,000", "a.b", "a:b", "1", "2", "a", "1", "_x"]
        );
        assert_eq!(cut("l'été, café 🦊 ok"), ["l'été", "café", "ok"]);
        assert_eq!(cut(""), Vec::<&str>::new());
    }
}
