//! Orders as orchestration, the lifecycle and returns see them: lines with
//! prices, order-level discounts and a shipping fee, and the money rules that
//! split those amounts between lines and units.
//!
//! # Money allocation
//!
//! All amounts are integer minor units ([`Money`]); nothing is ever rounded
//! up beyond what the customer paid.
//!
//! - **Line net**: order-level discounts are shared between lines in
//!   proportion to their gross amounts (unit price × quantity). Each line
//!   first gets `floor(discount × gross / Σ gross)`; the cents left over go
//!   one each to the lines with the largest remainders (ties: the earlier
//!   line). The shares add up to the discount exactly, so Σ line nets =
//!   Σ gross − discount.
//! - **Units of a line**: unit `k` (0-based) of a line of `q` units with net
//!   `N` is worth `floor(N × (k + 1) / q) − floor(N × k / q)`, so any range of
//!   units is worth `floor(N × end / q) − floor(N × start / q)` and the units
//!   of a line add up to its net exactly. Fulfilments and returns name the
//!   units they cover by range ([`Order::units_amount`]), which makes captures
//!   and refunds of partial lines deterministic and never more than was paid.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::atp::Destination;
use crate::model::{
    ChannelId, Currency, DeliveryMethod, ModelError, Money, MoneyError, Quantity, Sku,
};

/// Characters allowed in an order id (the same safe subset as other ids).
pub(crate) fn check_id(kind: &'static str, value: &str) -> Result<(), ModelError> {
    let reason = if value.is_empty() {
        Some("must not be empty")
    } else if value.len() > 64 {
        Some("is too long")
    } else if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
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

/// Declares a string identifier newtype: non-empty, at most 64 characters of
/// `[A-Za-z0-9-_./]`, parsed on deserialisation.
macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, $crate::model::ModelError> {
                let value = value.into();
                $crate::orchestration::check_id($kind, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::model::ModelError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::model::ModelError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use identifier;

identifier!(
    /// An order's id.
    OrderId,
    "order id"
);

/// A line's number within its order (unique within the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LineId(pub u32);

impl fmt::Display for LineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub id: LineId,
    pub sku: Sku,
    pub quantity: Quantity,
    /// Price of one unit, taxes included, before order-level discounts.
    pub unit_price: Money,
}

/// An order-level discount (a voucher, a promotion), shared between lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discount {
    pub code: String,
    /// A positive amount taken off the order.
    pub amount: Money,
}

/// An order, as placed by a customer in a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub channel: ChannelId,
    pub delivery: DeliveryMethod,
    /// An address (home delivery, pickup point) or a pickup store (click &
    /// collect, express click & collect).
    pub destination: Destination,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub discounts: Vec<Discount>,
    pub shipping_fee: Money,
    pub placed_at: Timestamp,
}

/// An order that cannot be orchestrated, fulfilled or refunded as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("the order has no lines")]
    NoLines,
    #[error("line {0} is listed twice")]
    DuplicateLine(LineId),
    #[error("line {0} has a zero quantity")]
    ZeroQuantity(LineId),
    #[error("the order has no line {0}")]
    UnknownLine(LineId),
    #[error("amounts must be in the order's currency {expected}, found {found}")]
    CurrencyMismatch { expected: Currency, found: Currency },
    #[error("amounts must not be negative")]
    NegativeAmount,
    #[error("the discounts ({discount}) exceed the goods ({gross})")]
    DiscountExceedsGoods { discount: Money, gross: Money },
    #[error("units {start}..{end} are outside line {line} ({quantity} units)")]
    UnitsOutOfRange {
        line: LineId,
        start: u32,
        end: u32,
        quantity: u32,
    },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Order {
    /// Checks the order's shape and amounts: at least one line, unique line
    /// ids, quantities above zero, every amount non-negative and in the
    /// order's currency, discounts no larger than the goods.
    pub fn validate(&self) -> Result<(), OrderError> {
        if self.lines.is_empty() {
            return Err(OrderError::NoLines);
        }
        for (i, line) in self.lines.iter().enumerate() {
            // Orders have a handful of lines: a scan beats hashing.
            if self.lines[..i].iter().any(|l| l.id == line.id) {
                return Err(OrderError::DuplicateLine(line.id));
            }
            if line.quantity.is_zero() {
                return Err(OrderError::ZeroQuantity(line.id));
            }
            self.check_amount(line.unit_price)?;
        }
        for discount in &self.discounts {
            self.check_amount(discount.amount)?;
        }
        self.check_amount(self.shipping_fee)?;
        let gross = self.gross()?;
        let discount = self.discount_total()?;
        if discount.minor() > gross.minor() {
            return Err(OrderError::DiscountExceedsGoods { discount, gross });
        }
        Ok(())
    }

    fn check_amount(&self, amount: Money) -> Result<(), OrderError> {
        if amount.currency() != self.currency {
            return Err(OrderError::CurrencyMismatch {
                expected: self.currency,
                found: amount.currency(),
            });
        }
        if amount.minor() < 0 {
            return Err(OrderError::NegativeAmount);
        }
        Ok(())
    }

    /// The position of a line in [`Order::lines`].
    pub fn line_index(&self, id: LineId) -> Result<usize, OrderError> {
        self.lines
            .iter()
            .position(|l| l.id == id)
            .ok_or(OrderError::UnknownLine(id))
    }

    pub fn line(&self, id: LineId) -> Result<&OrderLine, OrderError> {
        Ok(&self.lines[self.line_index(id)?])
    }

    /// Σ unit price × quantity.
    pub fn gross(&self) -> Result<Money, OrderError> {
        let mut total = Money::zero(self.currency);
        for line in &self.lines {
            total = total.checked_add(line.unit_price.checked_mul(line.quantity)?)?;
        }
        Ok(total)
    }

    pub fn discount_total(&self) -> Result<Money, OrderError> {
        let mut total = Money::zero(self.currency);
        for discount in &self.discounts {
            total = total.checked_add(discount.amount)?;
        }
        Ok(total)
    }

    /// The goods after discounts (what order-amount rules look at).
    pub fn merchandise_total(&self) -> Result<Money, OrderError> {
        Ok(self.gross()?.checked_sub(self.discount_total()?)?)
    }

    /// What the customer pays: goods after discounts plus the shipping fee
    /// (the amount authorised at placement).
    pub fn total(&self) -> Result<Money, OrderError> {
        Ok(self.merchandise_total()?.checked_add(self.shipping_fee)?)
    }

    /// Each line's amount after its share of the order's discounts, in line
    /// order (see the module documentation for the rounding).
    pub fn line_nets(&self) -> Result<Vec<Money>, OrderError> {
        let gross: Vec<i128> = self
            .lines
            .iter()
            .map(|l| i128::from(l.unit_price.minor()) * i128::from(l.quantity.get()))
            .collect();
        let total: i128 = gross.iter().sum();
        let discount = i128::from(self.discount_total()?.minor());
        let mut shares: Vec<i128> = Vec::with_capacity(gross.len());
        let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(gross.len());
        if total > 0 {
            for (i, g) in gross.iter().enumerate() {
                let exact = discount * g;
                shares.push(exact / total);
                remainders.push((exact % total, i));
            }
            let mut left = discount - shares.iter().sum::<i128>();
            // Largest remainder first; the earlier line wins a tie.
            remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for (_, i) in remainders {
                if left == 0 {
                    break;
                }
                shares[i] += 1;
                left -= 1;
            }
        } else {
            shares = vec![0; gross.len()];
        }
        gross
            .iter()
            .zip(shares)
            .map(|(g, share)| {
                i64::try_from(g - share)
                    .map(|minor| Money::new(minor, self.currency))
                    .map_err(|_| OrderError::Money(MoneyError::Overflow))
            })
            .collect()
    }

    /// What units `start .. start + quantity` of a line are worth after
    /// discounts (see the module documentation).
    pub fn units_amount(
        &self,
        line: LineId,
        start: u32,
        quantity: u32,
    ) -> Result<Money, OrderError> {
        let index = self.line_index(line)?;
        let nets = self.line_nets()?;
        self.units_amount_with(&nets, index, start, quantity)
    }

    /// [`Order::units_amount`] with the line nets already computed.
    pub(crate) fn units_amount_with(
        &self,
        nets: &[Money],
        index: usize,
        start: u32,
        quantity: u32,
    ) -> Result<Money, OrderError> {
        let line = &self.lines[index];
        let q = line.quantity.get();
        let end = start.checked_add(quantity).filter(|end| *end <= q).ok_or(
            OrderError::UnitsOutOfRange {
                line: line.id,
                start,
                end: start.saturating_add(quantity),
                quantity: q,
            },
        )?;
        let net = i128::from(nets[index].minor());
        let q = i128::from(q);
        let upto = |k: u32| net * i128::from(k) / q;
        let minor = i64::try_from(upto(end) - upto(start))
            .map_err(|_| OrderError::Money(MoneyError::Overflow))?;
        Ok(Money::new(minor, self.currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LocationId, Quantity};

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::parse("EUR").unwrap())
    }

    fn order(lines: &[(u32, i64)], discount: i64) -> Order {
        Order {
            id: OrderId::parse("O-1").unwrap(),
            channel: ChannelId::parse("web-fr").unwrap(),
            delivery: DeliveryMethod::ExpressClickAndCollect,
            destination: Destination::pickup_store(LocationId::parse("ST-1").unwrap()),
            currency: Currency::parse("EUR").unwrap(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (q, price))| OrderLine {
                    id: LineId(i as u32 + 1),
                    sku: Sku::parse(format!("SKU-{i}")).unwrap(),
                    quantity: Quantity::new(*q),
                    unit_price: eur(*price),
                })
                .collect(),
            discounts: if discount > 0 {
                vec![Discount {
                    code: "PROMO".into(),
                    amount: eur(discount),
                }]
            } else {
                vec![]
            },
            shipping_fee: eur(490),
            placed_at: "2025-03-03T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn discounts_are_shared_by_largest_remainder() {
        // Gross 1000, 1000, 1000; discount 100 → 33, 33, 33 and one cent to
        // the first line (all remainders equal).
        let o = order(&[(1, 1000), (1, 1000), (1, 1000)], 100);
        let nets: Vec<i64> = o.line_nets().unwrap().iter().map(|m| m.minor()).collect();
        assert_eq!(nets, [966, 967, 967]);
        assert_eq!(nets.iter().sum::<i64>(), 2900);
        // Gross 3 × 333 = 999 and 1; discount 500.
        let o = order(&[(3, 333), (1, 1)], 500);
        let nets: Vec<i64> = o.line_nets().unwrap().iter().map(|m| m.minor()).collect();
        assert_eq!(nets.iter().sum::<i64>(), 500);
        assert_eq!(nets, [499, 1]);
        assert_eq!(o.total().unwrap(), eur(500 + 490));
    }

    #[test]
    fn units_of_a_line_add_up_to_its_net() {
        let o = order(&[(3, 1000)], 1);
        // Net 2999 over 3 units: 999, 1000, 1000.
        let units: Vec<i64> = (0..3)
            .map(|k| o.units_amount(LineId(1), k, 1).unwrap().minor())
            .collect();
        assert_eq!(units, [999, 1000, 1000]);
        assert_eq!(o.units_amount(LineId(1), 0, 3).unwrap(), eur(2999));
        assert!(o.units_amount(LineId(1), 2, 2).is_err());
        assert!(o.units_amount(LineId(9), 0, 1).is_err());
    }

    #[test]
    fn validation_refuses_bad_orders() {
        assert!(order(&[(1, 100)], 0).validate().is_ok());
        assert_eq!(order(&[], 0).validate(), Err(OrderError::NoLines));
        assert!(matches!(
            order(&[(1, 100)], 101).validate(),
            Err(OrderError::DiscountExceedsGoods { .. })
        ));
        assert_eq!(
            order(&[(0, 100)], 0).validate(),
            Err(OrderError::ZeroQuantity(LineId(1)))
        );
        let mut o = order(&[(1, 100), (1, 100)], 0);
        o.lines[1].id = LineId(1);
        assert_eq!(o.validate(), Err(OrderError::DuplicateLine(LineId(1))));
        let mut o = order(&[(1, 100)], 0);
        o.shipping_fee = Money::new(1, Currency::parse("USD").unwrap());
        assert!(matches!(
            o.validate(),
            Err(OrderError::CurrencyMismatch { .. })
        ));
        assert!(OrderId::parse("bad id").is_err());
    }
}
