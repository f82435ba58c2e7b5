//! The orchestration engine: candidates, filters, scores and the plan.
//!
//! One run works on a set of wanted units ("wants": an order line, how many
//! of its units, from which unit on). It
//!
//! 1. refuses the whole request if the delivery method cannot be used at all
//!    (not offered, no address, a pickup store that cannot take it);
//! 2. gathers the candidates: every location of the channel holding an
//!    available unit of a wanted product (`max(0, on_hand − reserved −
//!    safety)` as the [`StockIndex`] computes it), plus, for express click &
//!    collect, the pickup store even if it holds nothing;
//! 3. runs the rule set's filters on each, in the order listed;
//! 4. plans under the split policy, ranking the kept candidates by the
//!    ordering at each choice;
//! 5. reports what is left as unservable, with a reason per line.
//!
//! A plan never takes more than a location's available units of a product,
//! even when two lines name the same product.
//!
//! Delivery dates (and whether a location opens within the 60-day horizon)
//! take most of the time of a run, so they are computed only where they
//! matter: for every candidate when the ordering ranks by earliest delivery
//! or a filter needs them (express opening hours), otherwise only for a
//! location about to be chosen. A location that turns out not to open in
//! time is then dropped (rule `capability`, reason `not_open_soon`) and the
//! choice is made again.

use std::ops::Range;

use jiff::Timestamp;
use jiff::civil::Date;

use super::OrchestrateError;
use super::order::{LineId, Order};
use super::rules::{
    Criterion, CriterionKind, Filter, Rule, RuleSet, SplitPolicy, StockRequirement,
};
use super::trace::{
    CandidateTrace, Decision, DropCount, DropReason, LineExclusion, Plan, PlannedFulfilment,
    PlannedLine, Pool, RunnerUp, Score, Trace, UnservableLine, UnservableReason, Verdict,
};
use crate::calendar::add_business_days;
use crate::model::{
    Coordinates, DeliveryMethod, LocationId, LocationKind, Money, ProductType, ProductTypeRule,
    Quantity, Sku,
};
use crate::stock::{Effect, Entry, Site, StockIndex, Target};

/// Units of one order line to serve in this run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want {
    /// Index into the order's lines.
    pub(crate) line: usize,
    pub(crate) quantity: u32,
    /// The first of the line's units to serve (see `PlannedLine::first_unit`).
    pub(crate) first_unit: u32,
}

/// When a candidate's goods arrive (or are ready).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    date: Date,
    ready_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    today: Date,
    ready: Option<Timestamp>,
    dispatch: Option<Date>,
}

/// A wanted product (lines naming the same SKU share one).
struct Product<'a> {
    sku: &'a Sku,
    entries: &'a [Entry],
    rule: &'a ProductTypeRule,
    product_type: ProductType,
}

/// A candidate location during a run.
struct Candidate {
    location: u32,
    own_shelf: bool,
    /// Computed on first need.
    slot: Option<Result<Slot, DropReason>>,
    dropped: Option<(Rule, DropReason)>,
    /// Its lines excluded, a range of the run's exclusions (one vector for
    /// all candidates: most are dropped and never reported).
    exclusions: Range<usize>,
    distance_m: u32,
    cost: Option<Money>,
    /// The location's priority and its position in id order (the tie-break).
    priority: u32,
    rank: u32,
    /// What it would take of the whole request (recorded by the first
    /// choice; the trace's score).
    taken: Option<Take>,
}

/// The request-wide context.
struct Ctx<'a> {
    index: &'a StockIndex,
    order: &'a Order,
    now: Timestamp,
    method: DeliveryMethod,
    channel: u32,
    leaving: Vec<Target>,
    cap_overrides: Vec<(Target, Effect)>,
    destination_zone: Option<u32>,
    store: Option<u32>,
    /// `(schedule, timing)`, computed on first use.
    timings: Vec<(u32, Timing)>,
    amount: Money,
}

impl Ctx<'_> {
    fn timing(&mut self, location: u32) -> Timing {
        let schedule = self.index.sites[location as usize].schedule;
        if let Some((_, timing)) = self.timings.iter().find(|(s, _)| *s == schedule) {
            return *timing;
        }
        let calendar = &self.index.schedules[schedule as usize];
        let ready = calendar.ready_at(self.now);
        let timing = Timing {
            today: calendar.local_date(self.now),
            ready,
            dispatch: ready.and_then(|r| calendar.dispatch_date(self.now, r)),
        };
        self.timings.push((schedule, timing));
        timing
    }

    /// The zone parcels go to: the address's, or the pickup store's.
    fn target_zone(&self) -> Option<u32> {
        match self.method {
            DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => self.destination_zone,
            DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect => {
                self.store.map(|s| self.index.sites[s as usize].zone)
            }
        }
    }

    fn transit_days(&self, location: u32) -> Option<u8> {
        let zone = self.index.sites[location as usize].zone;
        self.target_zone()
            .and_then(|to| self.index.transit_days(zone, to))
    }

    fn slot(&mut self, location: u32, own_shelf: bool) -> Result<Slot, DropReason> {
        let timing = self.timing(location);
        let index = self.index;
        if own_shelf {
            let ready = timing.ready.ok_or(DropReason::NotOpenSoon)?;
            let schedule = index.sites[location as usize].schedule as usize;
            return Ok(Slot {
                date: index.schedules[schedule].local_date(ready),
                ready_at: Some(ready),
            });
        }
        let (Some(ready), Some(dispatch)) = (timing.ready, timing.dispatch) else {
            return Err(DropReason::NotOpenSoon);
        };
        let mut days = u32::from(
            self.transit_days(location)
                .ok_or(DropReason::NoCarrierRoute)?,
        );
        if self.method == DeliveryMethod::PickupPoint {
            days += u32::from(index.pickup_point_extra_days);
        }
        let arrival = add_business_days(dispatch, days).ok_or(DropReason::NotOpenSoon)?;
        match self.method {
            DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => Ok(Slot {
                date: arrival,
                ready_at: None,
            }),
            DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect => {
                let store = self.store.ok_or(DropReason::CannotShip)?;
                let calendar = &index.schedules[index.sites[store as usize].schedule as usize];
                let start = calendar
                    .start_of_day(arrival)
                    .ok_or(DropReason::NotOpenSoon)?
                    .max(ready);
                let ready_at = calendar.ready_at(start).ok_or(DropReason::NotOpenSoon)?;
                Ok(Slot {
                    date: calendar.local_date(ready_at),
                    ready_at: Some(ready_at),
                })
            }
        }
    }

    fn candidate_slot(&mut self, c: &mut Candidate) -> Result<Slot, DropReason> {
        if let Some(slot) = &c.slot {
            return slot.clone();
        }
        let slot = self.slot(c.location, c.own_shelf);
        c.slot = Some(slot.clone());
        slot
    }

    /// `(orders today, cap)` when the location has reached its daily cap.
    fn cap_reached(&mut self, location: u32) -> Option<(u32, u32)> {
        let cap = effective_cap(self.index, &self.cap_overrides, location)?;
        // The local date costs a time-zone conversion: only needed when
        // the recorded load has reached the cap.
        match self.index.load(location) {
            Some((date, orders)) if orders >= cap && date == self.today(location) => {
                Some((orders, cap))
            }
            // A cap of 0 closes the location to orders whatever the load.
            _ if cap == 0 => Some((0, 0)),
            _ => None,
        }
    }

    /// The location's local date now.
    fn today(&mut self, location: u32) -> Date {
        let schedule = self.index.sites[location as usize].schedule;
        if let Some((_, timing)) = self.timings.iter().find(|(s, _)| *s == schedule) {
            return timing.today;
        }
        self.index.schedules[schedule as usize].local_date(self.now)
    }

    /// Reasons that rule out every location, whatever the product.
    fn request_block(&self) -> Option<UnservableReason> {
        use UnservableReason as R;
        if !self.index.channel_data[self.channel as usize]
            .methods
            .contains(&self.method)
        {
            return Some(R::MethodNotOffered);
        }
        match self.method {
            DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => self
                .order
                .destination
                .address
                .is_none()
                .then_some(R::NoAddress),
            DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect => {
                let Some(store) = self.store else {
                    return Some(R::NoPickupStore);
                };
                let site = &self.index.sites[store as usize];
                if site.kind != LocationKind::Store {
                    Some(R::PickupStoreNotAStore)
                } else if self.method == DeliveryMethod::ClickAndCollect {
                    (!site.capabilities.receive_ship_to_store)
                        .then_some(R::PickupStoreCannotReceive)
                } else if !site.capabilities.express_click_and_collect {
                    Some(R::PickupStoreNoExpress)
                } else {
                    (!self.index.is_active(self.channel, &self.leaving, store))
                        .then_some(R::PickupStoreNotInChannel)
                }
            }
        }
    }
}

/// The destination, prepared for many great-circle distances to it.
struct Towards {
    lat: f64,
    lon: f64,
    cos_lat: f64,
}

impl Towards {
    fn new(to: Coordinates) -> Self {
        let lat = to.lat().to_radians();
        Self {
            lat,
            lon: to.lon(),
            cos_lat: lat.cos(),
        }
    }

    /// [`Coordinates::distance_km`] from `from`, in whole metres, with the
    /// destination's terms computed once.
    #[cfg(test)]
    fn distance_m(&self, from: Coordinates) -> u32 {
        let lat1 = from.lat().to_radians();
        self.distance_m_from(lat1, lat1.cos(), from.lon())
    }

    /// The same from a location, whose terms the index computed once.
    fn site_distance_m(&self, site: &Site) -> u32 {
        self.distance_m_from(site.lat_rad, site.cos_lat, site.coordinates.lon())
    }

    fn distance_m_from(&self, lat1: f64, cos_lat1: f64, lon1: f64) -> u32 {
        const EARTH_RADIUS_KM: f64 = 6371.0;
        let dlat = self.lat - lat1;
        let dlon = (self.lon - lon1).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + cos_lat1 * self.cos_lat * (dlon / 2.0).sin().powi(2);
        let km = 2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin();
        (km * 1000.0).round() as u32
    }
}

/// The daily order cap of a location at this instant: its own, or the most
/// restrictive of the periods in force.
pub(crate) fn effective_cap(
    index: &StockIndex,
    overrides: &[(Target, Effect)],
    location: u32,
) -> Option<u32> {
    let site = &index.sites[location as usize];
    let mut overridden: Option<u32> = None;
    for (target, effect) in overrides {
        if !target.matches(location, site.kind) {
            continue;
        }
        let cap = match *effect {
            Effect::DailyCap(cap) => Some(cap),
            Effect::DailyCapPercent(percent) => site.daily_cap.map(|base| {
                (u64::from(base) * u64::from(percent) / 100).min(u64::from(u32::MAX)) as u32
            }),
            Effect::LeaveChannel(_) => None,
        };
        if let Some(cap) = cap {
            overridden = Some(overridden.map_or(cap, |c| c.min(cap)));
        }
    }
    overridden.or(site.daily_cap)
}

/// Cap-changing periods in force at `at`.
pub(crate) fn cap_overrides(index: &StockIndex, at: Timestamp) -> Vec<(Target, Effect)> {
    index
        .periods
        .iter()
        .filter(|p| {
            matches!(p.effect, Effect::DailyCap(_) | Effect::DailyCapPercent(_))
                && p.starts_at <= at
                && at < p.ends_at
        })
        .map(|p| (p.target, p.effect))
        .collect()
}

/// A score reduced to what the ordering compares, criterion by criterion in
/// the ordering's order, smaller first (a rule set lists each of the six
/// criteria at most once).
type Key = [u64; 6];

/// An ordering's criteria, without an allocation (a validated rule set
/// lists each of the six at most once).
struct Criteria {
    kinds: [CriterionKind; 6],
    len: usize,
}

impl Criteria {
    fn new(kinds: impl Iterator<Item = CriterionKind>) -> Self {
        let mut criteria = Criteria {
            kinds: [CriterionKind::Priority; 6],
            len: 0,
        };
        for (slot, kind) in criteria.kinds.iter_mut().zip(kinds) {
            *slot = kind;
            criteria.len += 1;
        }
        criteria
    }

    fn as_slice(&self) -> &[CriterionKind] {
        &self.kinds[..self.len]
    }
}

/// What a candidate would take of what is left: the part of its score that
/// changes from one choice to the next (the rest is the candidate's own).
#[derive(Debug, Clone, Copy)]
struct Take {
    lines_covered: u32,
    units_covered: u32,
    stock_left: u32,
}

/// The slot of a candidate if it is known (computed and usable).
fn known_slot(cand: &Candidate) -> Option<Slot> {
    match &cand.slot {
        Some(Ok(slot)) => Some(*slot),
        _ => None,
    }
}

fn key(criteria: &[CriterionKind], cand: &Candidate, t: &Take) -> Key {
    let mut key = [0; 6];
    for (k, criterion) in key.iter_mut().zip(criteria) {
        *k = match criterion {
            CriterionKind::Priority => u64::from(cand.priority),
            CriterionKind::Distance => u64::from(cand.distance_m),
            // More lines in full first, then more units.
            CriterionKind::FewestShipments => {
                (u64::from(u32::MAX - t.lines_covered) << 32)
                    | u64::from(u32::MAX - t.units_covered)
            }
            // More units left first.
            CriterionKind::StockDepth => u64::from(u32::MAX - t.stock_left),
            // Costs are validated non-negative.
            CriterionKind::Cost => cand
                .cost
                .map_or(u64::MAX, |c| u64::try_from(c.minor()).unwrap_or(0)),
            // The date, then the ready instant (seconds, 40 bits). Dates
            // are computed for every candidate when this criterion is
            // listed; a missing one ranks last.
            CriterionKind::EarliestDelivery => match known_slot(cand) {
                None => u64::MAX,
                Some(slot) => {
                    let date = slot.date;
                    let day = (u64::try_from(i32::from(date.year()) + 10_000).unwrap_or(0) << 9)
                        | (u64::try_from(date.month()).unwrap_or(0) << 5)
                        | u64::try_from(date.day()).unwrap_or(0);
                    let ready = slot.ready_at.map_or(0, |r| {
                        u64::try_from(r.as_second()).unwrap_or(0).min((1 << 40) - 1)
                    });
                    (day << 40) | ready
                }
            },
        };
    }
    key
}

/// A candidate's full score: its own terms, what it would take, and its
/// date if known.
fn score(cand: &Candidate, t: &Take) -> Score {
    let slot = known_slot(cand);
    Score {
        priority: cand.priority,
        distance_m: cand.distance_m,
        lines_covered: t.lines_covered,
        units_covered: t.units_covered,
        stock_left: t.stock_left,
        cost: cand.cost,
        expected_date: slot.map(|s| s.date),
        ready_at: slot.and_then(|s| s.ready_at),
    }
}

/// Mutable planning state (cloned to try an alternative plan).
#[derive(Clone)]
struct State {
    /// Per (candidate, product): units left to take.
    left: Vec<u32>,
    /// Per want: units not yet planned.
    remaining: Vec<u32>,
    used: Vec<bool>,
    picks: Vec<Pick>,
}

impl State {
    fn units_left(&self) -> u64 {
        self.remaining.iter().map(|r| u64::from(*r)).sum()
    }
}

/// One choice made while planning.
#[derive(Clone)]
struct Pick {
    candidate: usize,
    /// Per want.
    units: Vec<u32>,
    pool: Pool,
    contenders: u32,
    score: Score,
    runner_up: Option<(usize, Score)>,
    decided_by: Option<CriterionKind>,
}

/// What planning reads (the candidates and the context are passed along,
/// as choosing may compute a slot or drop a candidate).
struct Planner<'c> {
    wants: &'c [Want],
    want_product: &'c [usize],
    products: usize,
    /// Per (candidate, want): may the candidate serve the line?
    line_ok: &'c [bool],
    split_lines: bool,
}

/// The best and second-best contenders of a choice: candidate, what it
/// would take, its key and its rank (the location's position in id order,
/// which breaks a complete tie).
type Contender = (usize, Take, Key, u32);

impl Planner<'_> {
    /// What one line may take of `have` units towards `want_left`: any part
    /// when lines may be split, else all or nothing.
    fn line_take(&self, have: u32, want_left: u32) -> u32 {
        if self.split_lines {
            have.min(want_left)
        } else if have >= want_left {
            want_left
        } else {
            0
        }
    }

    /// What candidate `c` would take of what is left (the units per want
    /// written into `units`); `None` if nothing.
    fn take_units(&self, c: usize, state: &State, units: &mut [u32]) -> Option<Take> {
        let nw = self.wants.len();
        units.fill(0);
        let mut lines_covered = 0;
        let mut units_covered = 0;
        // Lines may share a product: what earlier lines of this take use
        // of it is not there for later ones (orders have a handful of lines).
        let taken_before = |units: &[u32], w: usize, p: usize| -> u32 {
            (0..w)
                .filter(|v| self.want_product[*v] == p)
                .map(|v| units[v])
                .sum()
        };
        for w in 0..nw {
            let want_left = state.remaining[w];
            if want_left == 0 || !self.line_ok[c * nw + w] {
                continue;
            }
            let p = self.want_product[w];
            let have = state.left[c * self.products + p] - taken_before(units, w, p);
            let take = self.line_take(have, want_left);
            if take == 0 {
                continue;
            }
            units[w] = take;
            units_covered += take;
            if take == want_left {
                lines_covered += 1;
            }
        }
        if units_covered == 0 {
            return None;
        }
        let stock_left = (0..nw)
            .filter(|w| units[*w] > 0)
            .map(|w| {
                let p = self.want_product[w];
                state.left[c * self.products + p] - taken_before(units, nw, p)
            })
            .min()
            .unwrap_or(0);
        Some(Take {
            lines_covered,
            units_covered,
            stock_left,
        })
    }

    /// [`Self::take_units`] without the units, when every want has its own
    /// product (the usual case: then no line takes from another's stock).
    fn take_distinct(&self, c: usize, state: &State) -> Option<Take> {
        let nw = self.wants.len();
        // Rows of one length: no bounds checks in the loop but `left[p]`.
        let line_ok = &self.line_ok[c * nw..(c + 1) * nw];
        let remaining = &state.remaining[..nw];
        let want_product = &self.want_product[..nw];
        let left = &state.left[c * self.products..(c + 1) * self.products];
        let mut lines_covered = 0;
        let mut units_covered = 0;
        let mut stock_left = u32::MAX;
        for w in 0..nw {
            let want_left = remaining[w];
            if want_left == 0 || !line_ok[w] {
                continue;
            }
            let have = left[want_product[w]];
            let take = self.line_take(have, want_left);
            if take == 0 {
                continue;
            }
            units_covered += take;
            lines_covered += u32::from(take == want_left);
            stock_left = stock_left.min(have - take);
        }
        (units_covered > 0).then_some(Take {
            lines_covered,
            units_covered,
            stock_left,
        })
    }

    /// Chooses the best of a pool and records the pick in `state`; `false`
    /// (and `state` unchanged) if the pool is empty. With `record`, every
    /// candidate's take is kept for the trace's scores.
    #[allow(clippy::too_many_arguments)]
    fn choose(
        &self,
        ctx: &mut Ctx<'_>,
        cands: &mut [Candidate],
        state: &mut State,
        criteria: &[CriterionKind],
        pool: Pool,
        whole_only: bool,
        record: bool,
    ) -> bool {
        let nw = self.wants.len();
        let distinct = self.products == nw;
        let lines_left = state.remaining.iter().filter(|r| **r > 0).count() as u32;
        let mut scratch = if distinct {
            Vec::new()
        } else {
            vec![0_u32; nw]
        };
        loop {
            let mut best: Option<Contender> = None;
            let mut second: Option<Contender> = None;
            let mut contenders = 0;
            for (c, cand) in cands.iter_mut().enumerate() {
                if state.used[c] || cand.dropped.is_some() {
                    continue;
                }
                let taken = if distinct {
                    self.take_distinct(c, state)
                } else {
                    self.take_units(c, state, &mut scratch)
                };
                let Some(t) = taken else {
                    continue;
                };
                if record {
                    cand.taken = Some(t);
                }
                if whole_only && t.lines_covered < lines_left {
                    continue;
                }
                contenders += 1;
                let k = key(criteria, cand, &t);
                let rank = cand.rank;
                // Smaller key first, the location id breaking a full tie.
                let beats = |other: &Option<Contender>| {
                    other
                        .as_ref()
                        .is_none_or(|(_, _, ok, orank)| (&k, rank) < (ok, *orank))
                };
                if beats(&best) {
                    second = best.take();
                    best = Some((c, t, k, rank));
                } else if beats(&second) {
                    second = Some((c, t, k, rank));
                }
            }
            let Some((c, t, best_key, _)) = best else {
                return false;
            };
            // The winner's date (and whether it opens in time at all).
            if let Err(reason) = ctx.candidate_slot(&mut cands[c]) {
                cands[c].dropped = Some((Rule::Capability, reason));
                continue;
            }
            // When the ordering ranks by date, dates were computed before
            // the keys; otherwise the date is not part of the key.
            let decided_by = second.as_ref().and_then(|(_, _, other, _)| {
                best_key
                    .iter()
                    .zip(other)
                    .position(|(x, y)| x != y)
                    .and_then(|i| criteria.get(i).copied())
            });
            let mut units = vec![0_u32; nw];
            // The same take again, now with its units (the state is as the
            // loop saw it).
            self.take_units(c, state, &mut units);
            for (w, units) in units.iter().enumerate() {
                if *units > 0 {
                    state.left[c * self.products + self.want_product[w]] -= units;
                    state.remaining[w] -= units;
                }
            }
            state.used[c] = true;
            state.picks.push(Pick {
                candidate: c,
                units,
                pool,
                contenders,
                score: score(&cands[c], &t),
                runner_up: second.map(|(s, t, _, _)| (s, score(&cands[s], &t))),
                decided_by,
            });
            return true;
        }
    }

    fn greedy(
        &self,
        ctx: &mut Ctx<'_>,
        cands: &mut [Candidate],
        mut state: State,
        criteria: &[CriterionKind],
        limit: usize,
        mut record: bool,
    ) -> State {
        while state.units_left() > 0 && state.picks.len() < limit {
            let chosen = self.choose(
                ctx,
                cands,
                &mut state,
                criteria,
                Pool::RemainingLines,
                false,
                record,
            );
            record = false;
            if !chosen {
                break;
            }
        }
        state
    }

    /// Plans under the split policy; `true` if the fewest-shipments
    /// fallback was used. The first choice records the trace scores.
    fn plan(
        &self,
        ctx: &mut Ctx<'_>,
        cands: &mut [Candidate],
        mut state: State,
        policy: SplitPolicy,
        criteria: &[CriterionKind],
    ) -> (State, bool) {
        let fewest_first = Criteria::new(
            std::iter::once(CriterionKind::FewestShipments).chain(
                criteria
                    .iter()
                    .copied()
                    .filter(|c| *c != CriterionKind::FewestShipments),
            ),
        );
        let fewest_first = fewest_first.as_slice();
        match policy {
            SplitPolicy::Never | SplitPolicy::UpTo { max_shipments: 1 } => {
                if !self.choose(
                    ctx,
                    cands,
                    &mut state,
                    criteria,
                    Pool::WholeOrder,
                    true,
                    true,
                ) {
                    self.choose(
                        ctx,
                        cands,
                        &mut state,
                        fewest_first,
                        Pool::MostOfOrder,
                        false,
                        false,
                    );
                }
                (state, false)
            }
            SplitPolicy::UpTo { max_shipments } => {
                let limit = max_shipments as usize;
                if criteria.first() == Some(&CriterionKind::FewestShipments) {
                    return (self.greedy(ctx, cands, state, criteria, limit, true), false);
                }
                let first = self.greedy(ctx, cands, state.clone(), criteria, limit, true);
                if first.units_left() == 0 {
                    return (first, false);
                }
                let second = self.greedy(ctx, cands, state, fewest_first, limit, false);
                if second.units_left() < first.units_left() {
                    (second, true)
                } else {
                    (first, false)
                }
            }
            SplitPolicy::WhenNeeded => {
                if self.choose(
                    ctx,
                    cands,
                    &mut state,
                    criteria,
                    Pool::WholeOrder,
                    true,
                    true,
                ) {
                    return (state, false);
                }
                (
                    self.greedy(ctx, cands, state, fewest_first, usize::MAX, false),
                    false,
                )
            }
        }
    }
}

/// Buffers every run needs, kept for the thread's next run (allocating
/// them anew was a few per cent of a run). A run takes them and puts them
/// back when done; a run that fails early just allocates.
#[derive(Default)]
struct Buffers {
    heads: Vec<(usize, (u32, u32))>,
    avail: Vec<u32>,
    candidates: Vec<Candidate>,
    line_ok: Vec<bool>,
}

thread_local! {
    static BUFFERS: std::cell::Cell<Buffers> = std::cell::Cell::new(Buffers::default());
}

/// Orchestrates `wants` of `order`; `excluded` pairs (line, location) are
/// never chosen (locations that reported the line missing).
pub(crate) fn run(
    order: &Order,
    wants: &[Want],
    excluded: &[(LineId, LocationId)],
    index: &StockIndex,
    rules: &RuleSet,
    now: Timestamp,
) -> Result<Plan, OrchestrateError> {
    order.validate()?;
    rules.validate()?;
    if rules.channel != order.channel {
        return Err(OrchestrateError::RuleSetForAnotherChannel {
            rule_set: rules.channel.clone(),
            order: order.channel.clone(),
        });
    }
    let channel = index.channel_index(&order.channel)?;
    let currency = index.channels[channel as usize].currency;
    if currency != order.currency {
        return Err(OrchestrateError::CurrencyMismatch {
            channel: currency,
            order: order.currency,
        });
    }
    check_rule_currencies(rules, order)?;
    let store = match &order.destination.pickup_store {
        Some(id) => Some(index.location_index(id)?),
        None => None,
    };
    let method = order.delivery;
    let address = order.destination.address.as_ref();
    let towards = match method {
        DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => {
            address.map(|a| a.coordinates)
        }
        _ => store.map(|s| index.sites[s as usize].coordinates),
    }
    .map(Towards::new);
    let mut ctx = Ctx {
        index,
        order,
        now,
        method,
        channel,
        leaving: index.leaving(channel, now),
        cap_overrides: cap_overrides(index, now),
        destination_zone: address.and_then(|a| index.zone_ids.get(&a.carrier_zone).copied()),
        store,
        timings: Vec::new(),
        amount: order.merchandise_total()?,
    };
    let cost_model = rules.ordering.iter().find_map(|c| match c {
        Criterion::Cost(model) => Some(model),
        _ => None,
    });
    let criteria = Criteria::new(rules.ordering.iter().map(Criterion::kind));
    let criteria = criteria.as_slice();
    let dates_needed = criteria.contains(&CriterionKind::EarliestDelivery);

    // Products, shared by lines naming the same SKU.
    let mut products: Vec<Product<'_>> = Vec::with_capacity(wants.len());
    let mut want_product: Vec<usize> = Vec::with_capacity(wants.len());
    for want in wants {
        let sku = &order.lines[want.line].sku;
        let p = match products.iter().position(|p| p.sku == sku) {
            Some(p) => p,
            None => {
                let (product_type, entries) = index.product(sku);
                products.push(Product {
                    sku,
                    entries,
                    rule: index.product_rules.rule(product_type),
                    product_type,
                });
                products.len() - 1
            }
        };
        want_product.push(p);
    }
    let np = products.len();
    let nw = wants.len();

    let mut trace = Trace {
        order: order.id.clone(),
        channel: order.channel.clone(),
        rule_set_version: rules.version,
        delivery: method,
        at: now,
        split_policy: rules.split_policy,
        blocked: ctx.request_block(),
        candidates: Vec::new(),
        decisions: Vec::new(),
        fell_back_to_fewest_shipments: false,
        unservable: Vec::new(),
    };
    if let Some(reason) = trace.blocked {
        let unservable: Vec<UnservableLine> = wants
            .iter()
            .map(|w| unservable_line(order, w, 0, reason, Vec::new()))
            .collect();
        trace.unservable = unservable.clone();
        return Ok(Plan {
            order: order.id.clone(),
            fulfilments: Vec::new(),
            unservable,
            trace,
        });
    }
    let method_allowed: Vec<bool> = products
        .iter()
        .map(|p| p.rule.allows_method(method))
        .collect();

    // Candidates: channel members holding an available unit, in location
    // order (a merge of the products' entries, which are sorted by location).
    let members = &index.channel_data[channel as usize].members;
    // Each product's next candidate entry: (location, available units) at
    // its cursor, `u32::MAX` when none is left.
    let advance = |entries: &[Entry], cursor: &mut usize| -> (u32, u32) {
        while let Some(e) = entries.get(*cursor) {
            if members[e.location as usize] {
                let units = index.available(e);
                if units > 0 {
                    return (e.location, units);
                }
            }
            *cursor += 1;
        }
        (u32::MAX, 0)
    };
    let express_store = match method {
        DeliveryMethod::ExpressClickAndCollect => store,
        _ => None,
    };
    let mut buffers = BUFFERS.take();
    // Per product: its cursor and the entry there.
    let mut heads = std::mem::take(&mut buffers.heads);
    heads.clear();
    heads.extend(
        products
            .iter()
            .zip(&method_allowed)
            .map(|(product, allowed)| {
                let mut cursor = 0;
                let head = if *allowed {
                    advance(product.entries, &mut cursor)
                } else {
                    (u32::MAX, 0)
                };
                (cursor, head)
            }),
    );
    let mut avail = std::mem::take(&mut buffers.avail);
    avail.clear();
    let mut candidates = std::mem::take(&mut buffers.candidates);
    candidates.clear();
    let mut store_listed = false;
    loop {
        let next = heads
            .iter()
            .map(|(_, (location, _))| *location)
            .min()
            .filter(|n| *n != u32::MAX);
        let location = match (next, express_store) {
            (Some(n), Some(s)) if !store_listed && s < n => s,
            (Some(n), _) => n,
            (None, Some(s)) if !store_listed => s,
            (None, _) => break,
        };
        store_listed |= Some(location) == express_store;
        let own_shelf = matches!(
            method,
            DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect
        ) && Some(location) == store;
        candidates.push(Candidate {
            location,
            own_shelf,
            slot: None,
            dropped: None,
            exclusions: 0..0,
            distance_m: 0,
            cost: None,
            priority: index.sites[location as usize].priority,
            rank: index.sites[location as usize].rank,
            taken: None,
        });
        for (product, (cursor, head)) in products.iter().zip(&mut heads) {
            if head.0 == location {
                avail.push(head.1);
                *cursor += 1;
                *head = advance(product.entries, cursor);
            } else {
                avail.push(0);
            }
        }
    }
    let nc = candidates.len();

    // Filters.
    let requirement = rules.stock_requirement();
    // Lines of a product the delivery method cannot take are nobody's.
    let mut line_ok = std::mem::take(&mut buffers.line_ok);
    line_ok.clear();
    for _ in 0..nc {
        line_ok.extend(want_product.iter().map(|p| method_allowed[*p]));
    }
    let mut exclusions: Vec<LineExclusion> = Vec::new();
    for (c, cand) in candidates.iter_mut().enumerate() {
        cand.exclusions = exclusions.len()..exclusions.len();
        let has =
            |line_ok: &[bool], w: usize| line_ok[c * nw + w] && avail[c * np + want_product[w]] > 0;
        // Locations that reported a line missing never get it again.
        if !excluded.is_empty() {
            let location_id = &index.sites[cand.location as usize].id;
            let mut any_excluded = false;
            for (w, want) in wants.iter().enumerate() {
                let line_id = order.lines[want.line].id;
                if has(&line_ok, w)
                    && excluded
                        .iter()
                        .any(|(l, loc)| *l == line_id && loc == location_id)
                {
                    line_ok[c * nw + w] = false;
                    any_excluded = true;
                    exclusions.push(LineExclusion {
                        line: line_id,
                        rule: Rule::ReportedMissing,
                        reason: DropReason::ReportedMissing,
                    });
                    cand.exclusions.end = exclusions.len();
                }
            }
            if any_excluded && !(0..nw).any(|w| has(&line_ok, w)) {
                cand.dropped = Some((Rule::ReportedMissing, DropReason::ReportedMissing));
                continue;
            }
        }
        let site = &index.sites[cand.location as usize];
        // Whether the stock filter passed before a line was excluded.
        let mut stock_passed = false;
        let mut recheck_stock = false;
        for filter in &rules.filters {
            let outcome: Result<(), DropReason> = match filter {
                Filter::ActivePeriod => {
                    if index.is_active(channel, &ctx.leaving, cand.location) {
                        Ok(())
                    } else {
                        Err(DropReason::LeftChannelForPeriod)
                    }
                }
                Filter::Capability => {
                    if method == DeliveryMethod::ExpressClickAndCollect && !cand.own_shelf {
                        Err(DropReason::NotThePickupStore)
                    } else if !cand.own_shelf && !site.can_ship {
                        Err(DropReason::CannotShip)
                    } else if dates_needed {
                        ctx.candidate_slot(cand).map(|_| ())
                    } else if !cand.own_shelf && ctx.transit_days(cand.location).is_none() {
                        Err(DropReason::NoCarrierRoute)
                    } else {
                        // Whether it opens in time is checked when it is
                        // about to be chosen (see the module docs).
                        Ok(())
                    }
                }
                Filter::ProductType { restrictions } => {
                    let mut first: Option<DropReason> = None;
                    for (w, want) in wants.iter().enumerate() {
                        let product = &products[want_product[w]];
                        let reason =
                            if !cand.own_shelf && !product.rule.allows_shipping_from(site.kind) {
                                Some(DropReason::ProductTypeCannotShipFrom {
                                    product_type: product.product_type,
                                })
                            } else if restrictions.iter().any(|r| {
                                r.product_type == product.product_type
                                    && !r.location_kinds.contains(&site.kind)
                            }) {
                                Some(DropReason::ProductTypeRestricted {
                                    product_type: product.product_type,
                                })
                            } else {
                                None
                            };
                        // Only lines it holds and may serve so far (the
                        // reason is cheaper to find, and usually none).
                        if let Some(reason) = reason.filter(|_| has(&line_ok, w)) {
                            recheck_stock |= stock_passed;
                            line_ok[c * nw + w] = false;
                            exclusions.push(LineExclusion {
                                line: order.lines[want.line].id,
                                rule: Rule::ProductType,
                                reason: reason.clone(),
                            });
                            cand.exclusions.end = exclusions.len();
                            first.get_or_insert(reason);
                        }
                    }
                    match first {
                        Some(reason) if !(0..nw).any(|w| has(&line_ok, w)) => Err(reason),
                        _ => Ok(()),
                    }
                }
                Filter::Stock { requirement } => {
                    stock_passed = true;
                    stock_check(*requirement, c, wants, &want_product, &line_ok, &avail, np)
                }
                Filter::DailyCap => match ctx.cap_reached(cand.location) {
                    Some((orders, cap)) => Err(DropReason::DailyCapReached { orders, cap }),
                    None => Ok(()),
                },
                Filter::OrderAmount {
                    at_least,
                    location_kinds,
                } => {
                    if ctx.amount.minor() >= at_least.minor()
                        && !location_kinds.contains(&site.kind)
                    {
                        Err(DropReason::OrderAmountAboveThreshold {
                            amount: ctx.amount,
                            threshold: *at_least,
                        })
                    } else {
                        Ok(())
                    }
                }
                Filter::DeliveryZone {
                    max_transit_days,
                    location_kinds,
                } => {
                    if cand.own_shelf
                        || !(location_kinds.is_empty() || location_kinds.contains(&site.kind))
                    {
                        Ok(())
                    } else {
                        match ctx.transit_days(cand.location) {
                            None => Err(DropReason::NoCarrierRoute),
                            Some(days) if days > *max_transit_days => {
                                Err(DropReason::OutsideDeliveryZone {
                                    transit_days: days,
                                    max_transit_days: *max_transit_days,
                                })
                            }
                            Some(_) => Ok(()),
                        }
                    }
                }
                Filter::ExpressOpening { max_wait_minutes } => {
                    if method != DeliveryMethod::ExpressClickAndCollect || !cand.own_shelf {
                        Ok(())
                    } else {
                        let minutes =
                            i64::from(index.locations[cand.location as usize].preparation_minutes)
                                + i64::from(*max_wait_minutes);
                        let deadline = now
                            .checked_add(jiff::SignedDuration::from_mins(minutes))
                            .unwrap_or(Timestamp::MAX);
                        match ctx.candidate_slot(cand) {
                            Err(reason) => Err(reason),
                            Ok(Slot {
                                ready_at: Some(ready_at),
                                ..
                            }) if ready_at > deadline => {
                                Err(DropReason::StoreClosedForExpress { ready_at })
                            }
                            Ok(_) => Ok(()),
                        }
                    }
                }
            };
            if let Err(reason) = outcome {
                cand.dropped = Some((filter.rule(), reason));
                break;
            }
        }
        // A line-excluding filter listed after the stock filter may have
        // taken away what the stock filter counted: check again.
        if recheck_stock
            && cand.dropped.is_none()
            && let Err(reason) =
                stock_check(requirement, c, wants, &want_product, &line_ok, &avail, np)
        {
            cand.dropped = Some((Rule::Stock, reason));
        }
        if cand.dropped.is_none() {
            cand.distance_m = towards.as_ref().map_or(0, |t| t.site_distance_m(site));
            cand.cost = cost_model.map(|m| m.shipment_cost(site.kind, cand.distance_m));
        }
    }

    // Plan.
    let planner = Planner {
        wants,
        want_product: &want_product,
        products: np,
        line_ok: &line_ok,
        split_lines: requirement == StockRequirement::AnyUnit,
    };
    let start = State {
        left: avail.clone(),
        remaining: wants.iter().map(|w| w.quantity).collect(),
        used: vec![false; nc],
        picks: Vec::new(),
    };
    let (state, fell_back) = planner.plan(
        &mut ctx,
        &mut candidates,
        start,
        rules.split_policy,
        criteria,
    );
    trace.fell_back_to_fewest_shipments = fell_back;

    // The trace's candidates, with their scores against the whole request.
    trace.candidates = candidates
        .iter()
        .map(|cand| {
            let verdict = match (&cand.dropped, &cand.taken) {
                (Some((rule, reason)), _) => Verdict::Dropped {
                    rule: *rule,
                    reason: reason.clone(),
                },
                // With its date if it was computed.
                (None, Some(t)) => Verdict::Kept {
                    score: score(cand, t),
                    excluded_lines: exclusions[cand.exclusions.clone()].to_vec(),
                },
                // Kept by every filter yet nothing to take: the stock check
                // after the filters rules this out; report it as stock if not.
                (None, None) => Verdict::Dropped {
                    rule: Rule::Stock,
                    reason: DropReason::NoStock,
                },
            };
            CandidateTrace {
                location: index.sites[cand.location as usize].id.clone(),
                kind: index.sites[cand.location as usize].kind,
                verdict,
            }
        })
        .collect();

    let mut next_unit: Vec<u32> = wants.iter().map(|w| w.first_unit).collect();
    let mut fulfilments = Vec::with_capacity(state.picks.len());
    for pick in &state.picks {
        let cand = &candidates[pick.candidate];
        let lines: Vec<PlannedLine> = pick
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| **u > 0)
            .map(|(w, u)| {
                let first_unit = next_unit[w];
                next_unit[w] += u;
                let line = &order.lines[wants[w].line];
                PlannedLine {
                    line: line.id,
                    sku: line.sku.clone(),
                    quantity: Quantity::new(*u),
                    first_unit,
                }
            })
            .collect();
        let location = index.sites[cand.location as usize].id.clone();
        let slot = match &cand.slot {
            Some(Ok(slot)) => *slot,
            // A pick always has its slot (`choose` computes it).
            _ => Slot {
                date: Date::MAX,
                ready_at: None,
            },
        };
        fulfilments.push(PlannedFulfilment {
            location: location.clone(),
            lines: lines.clone(),
            expected_date: slot.date,
            ready_at: slot.ready_at,
            distance_m: cand.distance_m,
        });
        trace.decisions.push(Decision {
            location,
            pool: pick.pool,
            contenders: pick.contenders,
            lines,
            score: pick.score.clone(),
            runner_up: pick.runner_up.as_ref().map(|(s, score)| RunnerUp {
                location: index.sites[candidates[*s].location as usize].id.clone(),
                score: score.clone(),
            }),
            decided_by: pick.decided_by,
        });
    }

    // What is left, and why.
    let held: &[u32] = &avail;
    let mut unservable = Vec::new();
    for (w, want) in wants.iter().enumerate() {
        let missing = state.remaining[w];
        if missing == 0 {
            continue;
        }
        let p = want_product[w];
        let line_id = order.lines[want.line].id;
        let holders = || (0..nc).filter(move |c| held[c * np + p] > 0);
        let mut dropped: Vec<DropCount> = Vec::new();
        for c in holders() {
            let rule = match &candidates[c].dropped {
                Some((rule, _)) => Some(*rule),
                None => exclusions[candidates[c].exclusions.clone()]
                    .iter()
                    .find(|e| e.line == line_id)
                    .map(|e| e.rule),
            };
            if let Some(rule) = rule {
                match dropped.iter_mut().find(|d| d.rule == rule) {
                    Some(d) => d.locations += 1,
                    None => dropped.push(DropCount { rule, locations: 1 }),
                }
            }
        }
        dropped.sort_by_key(|d| d.rule);
        let usable = |c: usize| candidates[c].dropped.is_none() && line_ok[c * nw + w];
        let eligible = holders().any(usable);
        let could_supply = holders().any(|c| {
            usable(c) && {
                let left = state.left[c * np + p];
                if planner.split_lines {
                    left > 0
                } else {
                    left >= missing
                }
            }
        });
        let reason = if !method_allowed[p] {
            UnservableReason::ProductTypeNotAllowed
        } else if holders().next().is_none() {
            UnservableReason::OutOfStock
        } else if !eligible {
            UnservableReason::NoEligibleLocation
        } else if could_supply {
            match rules.split_policy {
                SplitPolicy::Never | SplitPolicy::UpTo { max_shipments: 1 } => {
                    UnservableReason::SplitNotAllowed
                }
                _ => UnservableReason::SplitLimitReached,
            }
        } else {
            UnservableReason::InsufficientStock
        };
        unservable.push(unservable_line(
            order,
            want,
            want.quantity - missing,
            reason,
            dropped,
        ));
    }
    trace.unservable = unservable.clone();
    buffers.heads = heads;
    buffers.avail = avail;
    buffers.candidates = candidates;
    buffers.line_ok = line_ok;
    BUFFERS.set(buffers);
    Ok(Plan {
        order: order.id.clone(),
        fulfilments,
        unservable,
        trace,
    })
}

#[inline]
fn stock_check(
    requirement: StockRequirement,
    c: usize,
    wants: &[Want],
    want_product: &[usize],
    line_ok: &[bool],
    avail: &[u32],
    np: usize,
) -> Result<(), DropReason> {
    let nw = wants.len();
    // The candidate's rows.
    let line_ok = &line_ok[c * nw..(c + 1) * nw];
    let avail = &avail[c * np..(c + 1) * np];
    let want_product = &want_product[..nw];
    let usable = |w: usize| {
        if line_ok[w] {
            avail[want_product[w]]
        } else {
            0
        }
    };
    if (0..nw).all(|w| usable(w) == 0) {
        return Err(DropReason::NoStock);
    }
    match requirement {
        StockRequirement::AnyUnit => Ok(()),
        StockRequirement::FullLine => {
            if (0..nw).any(|w| usable(w) >= wants[w].quantity) {
                Ok(())
            } else {
                Err(DropReason::NoFullLine)
            }
        }
        StockRequirement::WholeOrder => {
            // Every line allowed, and each product's lines together fit.
            let whole = (0..nw).all(|w| {
                line_ok[w] && {
                    let p = want_product[w];
                    let needed: u64 = (0..nw)
                        .filter(|v| want_product[*v] == p)
                        .map(|v| u64::from(wants[v].quantity))
                        .sum();
                    u64::from(avail[p]) >= needed
                }
            });
            if whole {
                Ok(())
            } else {
                Err(DropReason::CannotServeWholeOrder)
            }
        }
    }
}

fn unservable_line(
    order: &Order,
    want: &Want,
    planned: u32,
    reason: UnservableReason,
    dropped: Vec<DropCount>,
) -> UnservableLine {
    let line = &order.lines[want.line];
    UnservableLine {
        line: line.id,
        sku: line.sku.clone(),
        requested: want.quantity,
        planned,
        missing: want.quantity - planned,
        reason,
        dropped,
    }
}

/// Amounts in the rule set must be in the order's currency.
fn check_rule_currencies(rules: &RuleSet, order: &Order) -> Result<(), OrchestrateError> {
    let mismatch = |money: Money| money.currency() != order.currency;
    let bad = rules.filters.iter().any(|f| match f {
        Filter::OrderAmount { at_least, .. } => mismatch(*at_least),
        _ => false,
    }) || rules.ordering.iter().any(|c| match c {
        Criterion::Cost(model) => mismatch(model.per_shipment),
        _ => false,
    });
    if bad {
        Err(OrchestrateError::RuleSetCurrency(order.currency))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prepared_distance_is_the_model_distance() {
        let to = Coordinates::new(48.85, 2.35).unwrap();
        let towards = Towards::new(to);
        for (lat, lon) in [
            (48.86, 2.35),
            (50.63, 3.06),
            (43.3, 5.37),
            (52.52, 13.4),
            (48.85, 2.35),
        ] {
            let from = Coordinates::new(lat, lon).unwrap();
            let expected = (from.distance_km(to) * 1000.0).round() as u32;
            assert_eq!(towards.distance_m(from), expected, "{lat}, {lon}");
        }
    }
}
