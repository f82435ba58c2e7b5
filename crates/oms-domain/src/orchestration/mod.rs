//! Explainable order orchestration: which locations serve an order, and why.
//!
//! - [`RuleSet`]: a channel's rules as versioned JSON data — filters, an
//!   ordering and a split policy ([`rules`] says what each does).
//! - [`orchestrate`]: an [`Order`] against a [`StockIndex`] at an instant →
//!   a [`Plan`]: fulfilments (location, lines, units, expected date) that
//!   never exceed available stock, the lines that cannot be served with a
//!   reason, and a [`Trace`] of every candidate kept or dropped (rule and
//!   reason), the kept ones' scores, and why each winner won.
//! - [`explain`]: a trace as plain sentences in English, French or German
//!   for store staff and customer service.
//! - [`reorchestrate`]: a store reports lines missing → the stock correction
//!   and a plan for the missing units only, never again at a location that
//!   reported the same line missing for this order.
//! - [`simulate`]: replays orders against a rule set on a copy of the stock
//!   and reports split rate, distance, lead time, cap hits, unservable lines
//!   and cost, to compare rule sets.
//!
//! Orchestration only plans: reserving the stock (atomically, in the
//! database) is the server's job; [`commit`] applies a plan to an in-memory
//! index the same way (reservations and daily-cap counts).

mod engine;
mod explain;
mod order;
mod reorchestrate;
pub mod rules;
mod simulate;
mod trace;

use jiff::Timestamp;

pub use explain::{Lang, explain};
pub use order::{Discount, LineId, Order, OrderError, OrderId, OrderLine};
pub(crate) use order::{check_id, identifier};
pub use reorchestrate::{
    FoundLine, MissingReport, ReorchestrateError, Reorchestration, SetAside, StockCorrection,
    reorchestrate,
};
pub use rules::{
    CostModel, Criterion, CriterionKind, Filter, KindCost, ProductTypeRestriction, Rule, RuleSet,
    RuleSetError, SplitPolicy, StockRequirement,
};
pub use simulate::{KindCount, ReasonCount, SimulationReport, commit, simulate};
pub use trace::{
    CandidateTrace, Decision, DropCount, DropReason, LineExclusion, Plan, PlannedFulfilment,
    PlannedLine, Pool, RunnerUp, Score, Trace, UnservableLine, UnservableReason, Verdict,
};

use crate::model::{ChannelId, Currency};
use crate::stock::{IndexError, StockIndex};

/// A request orchestration cannot answer (as opposed to a plan that says
/// "cannot be served").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrchestrateError {
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("invalid rule set: {0}")]
    RuleSet(#[from] RuleSetError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("the rule set is for channel `{rule_set}`, the order for `{order}`")]
    RuleSetForAnotherChannel {
        rule_set: ChannelId,
        order: ChannelId,
    },
    #[error("the channel sells in {channel}, the order is in {order}")]
    CurrencyMismatch { channel: Currency, order: Currency },
    #[error("the rule set's amounts must be in the order's currency {0}")]
    RuleSetCurrency(Currency),
}

/// Orchestrates a whole order at `now` (see the module documentation).
pub fn orchestrate(
    order: &Order,
    index: &StockIndex,
    rules: &RuleSet,
    now: Timestamp,
) -> Result<Plan, OrchestrateError> {
    let wants: Vec<engine::Want> = order
        .lines
        .iter()
        .enumerate()
        .map(|(line, l)| engine::Want {
            line,
            quantity: l.quantity.get(),
            first_unit: 0,
        })
        .collect();
    engine::run(order, &wants, &[], index, rules, now)
}
