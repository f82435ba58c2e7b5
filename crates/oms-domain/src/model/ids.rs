//! Identifiers and codes: SKUs, location, channel and carrier-zone ids, and
//! ISO country codes. Each is a newtype that can only hold a well-formed value.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ModelError;

/// Characters allowed in identifiers: they travel in URLs, file names and log
/// lines, so we keep them to a safe ASCII subset.
fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn check_identifier(kind: &'static str, value: &str, max_len: usize) -> Result<(), ModelError> {
    let reason = if value.is_empty() {
        Some("must not be empty")
    } else if value.len() > max_len {
        Some("is too long")
    } else if !value.chars().all(is_identifier_char) {
        Some("may only contain ASCII letters, digits and - _ . /")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ModelError::InvalidIdentifier {
            kind,
            value: value.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

macro_rules! string_identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max_len:expr) => {
        $(#[$doc])*
        ///
        /// Shared, immutable text: a clone (into an answer, a shipment) is a
        /// reference-count increment, not an allocation.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            /// Parses an identifier: non-empty, at most
            #[doc = concat!(stringify!($max_len), " ASCII letters, digits or `-_./`.")]
            pub fn parse(value: impl Into<String>) -> Result<Self, ModelError> {
                let value = value.into();
                check_identifier($kind, &value, $max_len)?;
                Ok(Self(Arc::from(value)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ModelError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ModelError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl FromStr for $name {
            type Err = ModelError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.as_ref().to_owned()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Lets maps keyed by the id be queried with a plain `&str`; the
        // derived Hash of a one-field `Arc<str>` newtype equals the str's hash.
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_identifier!(
    /// A stock-keeping unit: the retailer's product code.
    Sku,
    "sku",
    64
);
string_identifier!(
    /// A stock point: warehouse, store, distribution centre or drop-shipper.
    LocationId,
    "location id",
    64
);
string_identifier!(
    /// A sales channel: a web shop, a marketplace or the store network.
    ChannelId,
    "channel id",
    64
);
string_identifier!(
    /// A carrier's delivery zone (origin and destination of the transit table).
    CarrierZone,
    "carrier zone",
    32
);

/// An ISO 3166-1 alpha-2 country code, upper case (`FR`, `DE`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn parse(value: &str) -> Result<Self, ModelError> {
        match value.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Self([*a, *b])),
            _ => Err(ModelError::InvalidCountry(value.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl TryFrom<String> for CountryCode {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CountryCode> for String {
    fn from(value: CountryCode) -> String {
        value.as_str().to_owned()
    }
}

impl FromStr for CountryCode {
    type Err = ModelError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_accept_the_safe_subset() {
        assert_eq!(Sku::parse("SKU-000123").unwrap().as_str(), "SKU-000123");
        assert!(LocationId::parse("wh/paris_1.a").is_ok());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("with space").is_err());
        assert!(Sku::parse("é").is_err());
        assert!(Sku::parse("x".repeat(65)).is_err());
        assert!(CarrierZone::parse("x".repeat(33)).is_err());
    }

    #[test]
    fn identifiers_round_trip_through_json_and_reject_bad_input() {
        let sku: Sku = serde_json::from_str("\"SKU-1\"").unwrap();
        assert_eq!(serde_json::to_string(&sku).unwrap(), "\"SKU-1\"");
        assert!(serde_json::from_str::<Sku>("\"bad sku\"").is_err());
    }

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert_eq!(CountryCode::parse("FR").unwrap().as_str(), "FR");
        for bad in ["fr", "FRA", "F", "", "F1"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
        let json = serde_json::to_string(&CountryCode::parse("DE").unwrap()).unwrap();
        assert_eq!(json, "\"DE\"");
    }
}
