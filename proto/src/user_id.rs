//! The one rule for a user id, checked wherever one enters a service or the
//! CLI: 1 to 128 characters, each an ASCII letter, digit or one of `_-.:@`.
//! The metrics service holds its other client-supplied ids (event ids,
//! Stripe ids) to the same rule. It returns why a text is not a user id, not
//! a gRPC status: each caller names its own field.

use std::fmt;

/// Most characters in a user id.
pub const MAX_LEN: usize = 128;

/// The characters allowed besides ASCII letters and digits.
pub const PUNCTUATION: &str = "_-.:@";

/// The rule in words, as every refusal states it.
pub const RULE: &str = "must be 1 to 128 characters, each an ASCII letter, digit or one of _-.:@";

/// Why a text is not a user id. Its `Display` is the rule followed by what
/// broke it, e.g. `must be 1 to 128 characters, …; character 1 is 'ȸ'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidUserId {
    /// The text is empty.
    Empty,
    /// The text has more than [`MAX_LEN`] characters.
    TooLong {
        /// How many characters it has.
        chars: usize,
    },
    /// A character outside the rule.
    Character {
        /// The first such character.
        found: char,
        /// Its position, counting characters from 1.
        position: usize,
    },
}

impl fmt::Display for InvalidUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "{RULE}; got an empty id"),
            Self::TooLong { chars } => write!(f, "{RULE}; got {chars} characters"),
            Self::Character { found, position } => {
                write!(f, "{RULE}; character {position} is {found:?}")
            }
        }
    }
}

impl std::error::Error for InvalidUserId {}

/// Whether `c` may appear in a user id.
pub fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || PUNCTUATION.contains(c)
}

/// Checks `id` against the rule. The text is taken as it is: surrounding
/// spaces are characters like any other (and refused).
pub fn check(id: &str) -> Result<(), InvalidUserId> {
    if id.is_empty() {
        return Err(InvalidUserId::Empty);
    }
    let chars = id.chars().count();
    if chars > MAX_LEN {
        return Err(InvalidUserId::TooLong { chars });
    }
    match id.chars().enumerate().find(|(_, c)| !allowed(*c)) {
        Some((i, found)) => Err(InvalidUserId::Character {
            found,
            position: i + 1,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_shapes_are_user_ids() {
        for id in [
            "u1",
            "u_000123",
            "3f2b8c1e-9a4d-4c1b-8e8e-1f2a3b4c5d6e",
            "user@example.com",
            "tenant:42.user",
            &"x".repeat(MAX_LEN),
        ] {
            assert_eq!(check(id), Ok(()), "{id:?}");
        }
    }

    #[test]
    fn an_empty_id_is_refused() {
        assert_eq!(check(""), Err(InvalidUserId::Empty));
        assert_eq!(
            InvalidUserId::Empty.to_string(),
            "must be 1 to 128 characters, each an ASCII letter, digit or one of _-.:@; \
             got an empty id"
        );
    }

    #[test]
    fn too_long_counts_characters_not_bytes() {
        let err = check(&"x".repeat(MAX_LEN + 1)).unwrap_err();
        assert_eq!(err, InvalidUserId::TooLong { chars: 129 });
        assert!(err.to_string().ends_with("; got 129 characters"), "{err}");
        // 128 two-byte characters: the length is within the rule, the
        // characters are not.
        assert!(matches!(
            check(&"é".repeat(MAX_LEN)),
            Err(InvalidUserId::Character { found: 'é', .. })
        ));
    }

    #[test]
    fn a_nul_byte_is_refused_and_shown_escaped() {
        let err = check("u\0").unwrap_err();
        assert_eq!(
            err,
            InvalidUserId::Character {
                found: '\0',
                position: 2
            }
        );
        assert!(err.to_string().ends_with("; character 2 is '\\0'"), "{err}");
    }

    #[test]
    fn letters_outside_ascii_are_refused() {
        let err = check("ȸ˴").unwrap_err();
        assert_eq!(
            err.to_string(),
            "must be 1 to 128 characters, each an ASCII letter, digit or one of _-.:@; \
             character 1 is 'ȸ'"
        );
        for id in ["Müller", "ユーザー", "ß", "Ａ"] {
            assert!(check(id).is_err(), "{id:?}");
        }
    }

    #[test]
    fn spaces_and_other_punctuation_are_refused() {
        for id in [" ", " u1", "u1 ", "a b", "a/b", "a+b", "a\tb", "a#b"] {
            assert!(
                matches!(check(id), Err(InvalidUserId::Character { .. })),
                "{id:?}"
            );
        }
    }
}
