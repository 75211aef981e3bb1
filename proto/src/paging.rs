//! The page requests of the list RPCs, read the same way by both services
//! and sized the same way by their clients: a size (0 means
//! [`DEFAULT_SIZE`], more than [`MAX_SIZE`] means [`MAX_SIZE`], negative is
//! refused) and an opaque token the RPC returned with the previous page. A
//! token is an offset (`"100"`) or a key after the RPC's own kind prefix
//! (`"after:u42"`, `"t:17"`); which one, and what a key holds, is the RPC's
//! choice.

use std::fmt;

use crate::common::v1::PageRequest;

/// Rows per page when the request asks for none in particular.
pub const DEFAULT_SIZE: i32 = 50;
/// Most rows per page; a larger size is served as this one.
pub const MAX_SIZE: i32 = 1000;

/// A page request that cannot be served: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    /// `page.page_size` or `page.page_token`.
    pub field: &'static str,
    /// Why, in words.
    pub reason: String,
}

impl PageError {
    /// A token this RPC did not return.
    pub fn bad_token() -> Self {
        Self {
            field: "page.page_token",
            reason: "is not a token this RPC returned (pass next_page_token unchanged)".into(),
        }
    }
}

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for PageError {}

/// A page asked for: how many rows, and the token to continue from (empty
/// for the first page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    /// Rows to return, 1 to [`MAX_SIZE`].
    pub size: i64,
    /// The caller's token, as sent.
    pub token: &'a str,
}

impl<'a> Page<'a> {
    /// Reads a request's page; an absent one is the first page of the
    /// default size.
    pub fn read(page: Option<&'a PageRequest>) -> Result<Self, PageError> {
        let size = match page.map_or(0, |p| p.page_size) {
            size if size < 0 => {
                return Err(PageError {
                    field: "page.page_size",
                    reason: format!("must not be negative, got {size}"),
                });
            }
            0 => DEFAULT_SIZE,
            size => size.min(MAX_SIZE),
        };
        Ok(Self {
            size: i64::from(size),
            token: page.map_or("", |p| p.page_token.as_str()),
        })
    }

    /// The offset of an offset-paged RPC: 0 for the first page.
    pub fn offset(&self) -> Result<i64, PageError> {
        match self.token {
            "" => Ok(0),
            t => t
                .parse::<i64>()
                .ok()
                .filter(|o| *o >= 0)
                .ok_or_else(PageError::bad_token),
        }
    }

    /// The token after a page read at `offset`: empty when no more rows
    /// follow.
    pub fn next_offset(&self, offset: i64, more: bool) -> String {
        if more {
            (offset + self.size).to_string()
        } else {
            String::new()
        }
    }

    /// The key of a keyset-paged RPC whose tokens are `<kind>:<key>`, read
    /// by `parse` (`None`: not a key of this RPC); `None` for the first page.
    pub fn key<T>(
        &self,
        kind: &str,
        parse: impl FnOnce(&'a str) -> Option<T>,
    ) -> Result<Option<T>, PageError> {
        if self.token.is_empty() {
            return Ok(None);
        }
        self.token
            .strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(parse)
            .map(Some)
            .ok_or_else(PageError::bad_token)
    }

    /// The token after a keyset page that returned `rows`: `<kind>:<key of
    /// the last row>` when the page is full, else empty (the last page).
    pub fn next_key<R, K: fmt::Display>(
        &self,
        kind: &str,
        rows: &[R],
        key: impl FnOnce(&R) -> K,
    ) -> String {
        match rows.last() {
            Some(last) if rows.len() as i64 >= self.size => format!("{kind}:{}", key(last)),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(page_size: i32, page_token: &str) -> PageRequest {
        PageRequest {
            page_size,
            page_token: page_token.into(),
        }
    }

    #[test]
    fn sizes_default_cap_and_refuse_negatives() {
        assert_eq!(Page::read(None).map(|p| p.size), Ok(50));
        let sized = |n| Page::read(Some(&request(n, ""))).map(|p| p.size);
        assert_eq!(sized(0), Ok(50));
        assert_eq!(sized(7), Ok(7));
        assert_eq!(sized(5000), Ok(1000));
        let err = sized(-1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "page.page_size: must not be negative, got -1"
        );
    }

    #[test]
    fn offsets_are_non_negative_numbers() {
        let offset = |t: &str| {
            let r = request(10, t);
            Page::read(Some(&r)).and_then(|p| p.offset())
        };
        assert_eq!(offset(""), Ok(0));
        assert_eq!(offset("30"), Ok(30));
        for bad in ["-1", "x", "after:u1"] {
            assert_eq!(offset(bad), Err(PageError::bad_token()), "{bad:?}");
        }
        let r = request(10, "30");
        let page = Page::read(Some(&r)).expect("valid");
        assert_eq!(page.next_offset(30, true), "40");
        assert_eq!(page.next_offset(30, false), "");
    }

    #[test]
    fn keys_need_their_kind_and_a_readable_key() {
        let key = |t: &str| {
            let r = request(2, t);
            Page::read(Some(&r)).and_then(|p| p.key("t", |k| k.parse::<i64>().ok()))
        };
        assert_eq!(key(""), Ok(None));
        assert_eq!(key("t:17"), Ok(Some(17)));
        for bad in ["t:", "t:x", "d:17", "t17", "17"] {
            assert_eq!(key(bad), Err(PageError::bad_token()), "{bad:?}");
        }
    }

    #[test]
    fn only_a_full_page_has_a_next_token() {
        let r = request(2, "");
        let page = Page::read(Some(&r)).expect("valid");
        assert_eq!(page.next_key("after", &["u1", "u2"], |u| *u), "after:u2");
        assert_eq!(page.next_key("after", &["u1"], |u| *u), "");
        assert_eq!(page.next_key("after", &[] as &[&str], |u| *u), "");
    }
}
