//! A count of units: never negative.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ModelError;

/// A non-negative number of units of a product.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    pub const fn new(units: u32) -> Self {
        Self(units)
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = ModelError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u32::try_from(value)
            .map(Quantity)
            .map_err(|_| ModelError::InvalidQuantity(value))
    }
}

impl From<u32> for Quantity {
    fn from(value: u32) -> Self {
        Self(value)
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> u32 {
        value.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_or_huge_quantities_are_refused() {
        assert_eq!(Quantity::try_from(3_i64).unwrap().get(), 3);
        assert!(Quantity::try_from(-1_i64).is_err());
        assert!(Quantity::try_from(i64::from(u32::MAX) + 1).is_err());
        assert!(serde_json::from_str::<Quantity>("-2").is_err());
        assert_eq!(
            serde_json::from_str::<Quantity>("7").unwrap(),
            Quantity::new(7)
        );
    }
}
