//! Opaque pagination cursors, page limits and search texts shared by list
//! and search endpoints.

use super::ApiError;
use oms_api::wire::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};

/// Cursors are opaque to clients: a version prefix plus the last key seen,
/// hex-encoded so they are URL-safe whatever the key holds.
pub fn encode(last_key: &str) -> String {
    let mut cursor = String::from("c1");
    for byte in last_key.bytes() {
        cursor.push_str(&format!("{byte:02x}"));
    }
    cursor
}

pub fn decode(cursor: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::InvalidQuery("cursor is not one this server issued".to_owned());
    let hex = cursor.strip_prefix("c1").ok_or_else(invalid)?;
    if !hex.len().is_multiple_of(2) || hex.len() > 512 {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| invalid()))
        .collect::<Result<Vec<u8>, _>>()?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

/// The page size asked for, checked against the bounds.
pub fn limit(asked: Option<u32>) -> Result<u32, ApiError> {
    bounded_limit(asked, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)
}

/// A `limit` parameter: `default` when absent, else 1 to `max`.
pub fn bounded_limit(asked: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = asked.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::InvalidQuery(format!(
            "limit must be between 1 and {max}, got {limit}"
        )))
    }
}

/// A search text `q`, trimmed: 2 to 200 characters.
pub fn search_text(q: Option<&str>) -> Result<&str, ApiError> {
    let q = q.map(str::trim).unwrap_or_default();
    if (2..=200).contains(&q.chars().count()) {
        Ok(q)
    } else {
        Err(ApiError::InvalidQuery(
            "q must have 2 to 200 characters".into(),
        ))
    }
}

/// Trims a fetched `limit + 1` rows to `limit` and makes the next cursor.
pub fn paginate<T>(
    mut items: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    if items.len() > limit as usize {
        items.truncate(limit as usize);
        let next = items.last().map(|item| encode(key(item)));
        (items, next)
    } else {
        (items, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        for key in ["SKU-000001", "a/b?c&d", "é"] {
            assert_eq!(decode(&encode(key)).unwrap(), key);
        }
    }

    #[test]
    fn foreign_cursors_are_refused() {
        for bad in ["", "SKU-1", "c1z", "c1abc", "c1ff"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).unwrap(), DEFAULT_PAGE_LIMIT);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(MAX_PAGE_LIMIT + 1)).is_err());
    }
}
