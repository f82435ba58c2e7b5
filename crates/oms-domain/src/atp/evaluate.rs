//! Evaluating candidates: which locations can serve a delivery method, with
//! how many units and when, and turning plans into answers.

use jiff::Timestamp;
use jiff::civil::Date;

use super::plan::{plan_cart, plan_single};
use super::{
    Address, AtpError, AtpRequest, CartAtp, CartLine, CartLineStock, CartMethodAnswer, LineAnswer,
    LocationOption, MethodAnswer, ProductAtp, Shipment, ShipmentLine, UnavailableReason,
};
use crate::calendar::add_business_days;
use crate::model::{Coordinates, DeliveryMethod, LocationKind, ProductTypeRule, Quantity, Sku};
use crate::stock::{Effect, StockIndex, Target};

/// When a candidate's goods arrive or are ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    date: Date,
    ready_at: Option<Timestamp>,
}

/// Why a location holding stock was dropped, in the order the checks run:
/// the furthest stage any location reached explains an empty answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dropped {
    NotEligible,
    CapacityReached,
    NotOpenSoon,
    NoCarrierRoute,
}

impl Dropped {
    fn reason(self) -> UnavailableReason {
        match self {
            Dropped::NotEligible => UnavailableReason::NoEligibleLocation,
            Dropped::CapacityReached => UnavailableReason::CapacityReached,
            Dropped::NotOpenSoon => UnavailableReason::NotOpenSoon,
            Dropped::NoCarrierRoute => UnavailableReason::NoCarrierRoute,
        }
    }
}

/// A location's timing for this request (shared by every location with the
/// same schedule).
#[derive(Debug, Clone, Copy)]
struct Timing {
    today: Date,
    ready: Option<Timestamp>,
    dispatch: Option<Date>,
}

/// A location that can serve one line through one method.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    location: u32,
    units: u64,
    slot: Slot,
    /// To the address (home, pickup point) or the pickup store, in km.
    distance: f64,
    priority: u32,
    rank: u32,
}

/// What one line looks like through one method.
struct LineEval {
    candidates: Vec<Candidate>,
    reason: Option<UnavailableReason>,
}

/// Everything about one request that does not depend on the SKU, with
/// per-request caches.
struct Ctx<'a> {
    index: &'a StockIndex,
    channel: u32,
    at: Timestamp,
    leaving: Vec<Target>,
    cap_overrides: Vec<(Target, Effect)>,
    address: Option<&'a Address>,
    destination_zone: Option<u32>,
    store: Option<u32>,
    /// Per schedule, computed on first use.
    timings: Vec<Option<Timing>>,
    /// Ship-to-store: preparation start at the store → ready instant.
    store_ready: Vec<(Timestamp, Option<Timestamp>)>,
}

impl<'a> Ctx<'a> {
    fn new(index: &'a StockIndex, request: &'a AtpRequest) -> Result<Self, AtpError> {
        let channel = index.channel_index(&request.channel)?;
        let store = match &request.destination.pickup_store {
            Some(id) => Some(index.location_index(id)?),
            None => None,
        };
        let address = request.destination.address.as_ref();
        let at = request.at;
        Ok(Self {
            index,
            channel,
            at,
            leaving: index.leaving(channel, at),
            cap_overrides: index
                .periods
                .iter()
                .filter(|p| {
                    matches!(p.effect, Effect::DailyCap(_) | Effect::DailyCapPercent(_))
                        && p.starts_at <= at
                        && at < p.ends_at
                })
                .map(|p| (p.target, p.effect))
                .collect(),
            address,
            destination_zone: address.and_then(|a| index.zone_ids.get(&a.carrier_zone).copied()),
            store,
            timings: vec![None; index.schedules.len()],
            store_ready: Vec::new(),
        })
    }

    fn is_active(&self, location: u32) -> bool {
        self.index.is_active(self.channel, &self.leaving, location)
    }

    /// Reasons that hold whatever the product: the channel's methods and
    /// the destination.
    fn request_block(&self, method: DeliveryMethod) -> Option<UnavailableReason> {
        use UnavailableReason as R;
        if !self.index.channel_data[self.channel as usize]
            .methods
            .contains(&method)
        {
            return Some(R::MethodNotOffered);
        }
        match method {
            DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => {
                self.address.is_none().then_some(R::NoAddress)
            }
            DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect => {
                let Some(store) = self.store else {
                    return Some(R::NoPickupStore);
                };
                let site = &self.index.sites[store as usize];
                if site.kind != LocationKind::Store {
                    Some(R::PickupStoreNotAStore)
                } else if method == DeliveryMethod::ClickAndCollect {
                    (!site.capabilities.receive_ship_to_store)
                        .then_some(R::PickupStoreCannotReceive)
                } else if !site.capabilities.express_click_and_collect {
                    Some(R::PickupStoreNoExpress)
                } else {
                    (!self.is_active(store)).then_some(R::PickupStoreNotInChannel)
                }
            }
        }
    }

    fn timing(&mut self, location: u32) -> Timing {
        let schedule = self.index.sites[location as usize].schedule as usize;
        if let Some(timing) = self.timings[schedule] {
            return timing;
        }
        let calendar = &self.index.schedules[schedule];
        let ready = calendar.ready_at(self.at);
        let timing = Timing {
            today: calendar.local_date(self.at),
            ready,
            dispatch: ready.and_then(|r| calendar.dispatch_date(self.at, r)),
        };
        self.timings[schedule] = Some(timing);
        timing
    }

    /// Whether the location has taken its daily cap of orders on today's
    /// local date. Periods in force override the cap (the most restrictive
    /// override wins).
    fn cap_reached(&mut self, location: u32) -> bool {
        let site = &self.index.sites[location as usize];
        let mut overridden: Option<u32> = None;
        for (target, effect) in &self.cap_overrides {
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
        let Some(cap) = overridden.or(site.daily_cap) else {
            return false;
        };
        let today = self.timing(location).today;
        let orders = match self.index.load(location) {
            Some((date, orders)) if date == today => orders,
            _ => 0,
        };
        orders >= cap
    }

    /// The ready instant of a ship-to-store parcel whose preparation at the
    /// store can start at `start`.
    fn store_ready_at(&mut self, store: u32, start: Timestamp) -> Option<Timestamp> {
        if let Some((_, ready)) = self.store_ready.iter().find(|(s, _)| *s == start) {
            return *ready;
        }
        let schedule = self.index.sites[store as usize].schedule as usize;
        let ready = self.index.schedules[schedule].ready_at(start);
        self.store_ready.push((start, ready));
        ready
    }

    /// When a location's parcel for this method arrives (or is ready).
    fn shipping_slot(&mut self, method: DeliveryMethod, location: u32) -> Result<Slot, Dropped> {
        let timing = self.timing(location);
        let (Some(ready), Some(dispatch)) = (timing.ready, timing.dispatch) else {
            return Err(Dropped::NotOpenSoon);
        };
        let index = self.index;
        let zone = index.sites[location as usize].zone;
        let transit = |to: Option<u32>| {
            to.and_then(|to| index.transit_days(zone, to))
                .map(u32::from)
                .ok_or(Dropped::NoCarrierRoute)
        };
        let after = |days: u32| add_business_days(dispatch, days).ok_or(Dropped::NotOpenSoon);
        match method {
            DeliveryMethod::HomeDelivery => Ok(Slot {
                date: after(transit(self.destination_zone)?)?,
                ready_at: None,
            }),
            DeliveryMethod::PickupPoint => {
                let days =
                    transit(self.destination_zone)? + u32::from(index.pickup_point_extra_days);
                Ok(Slot {
                    date: after(days)?,
                    ready_at: None,
                })
            }
            DeliveryMethod::ClickAndCollect | DeliveryMethod::ExpressClickAndCollect => {
                let store = self.store.ok_or(Dropped::NotEligible)?;
                let store_site = &index.sites[store as usize];
                let arrival = after(transit(Some(store_site.zone))?)?;
                let calendar = &index.schedules[store_site.schedule as usize];
                let start = calendar
                    .start_of_day(arrival)
                    .ok_or(Dropped::NotOpenSoon)?
                    .max(ready);
                let ready_at = self
                    .store_ready_at(store, start)
                    .ok_or(Dropped::NotOpenSoon)?;
                Ok(Slot {
                    date: calendar.local_date(ready_at),
                    ready_at: Some(ready_at),
                })
            }
        }
    }

    /// Can `location` (holding stock) serve `method` for a product under `rule`?
    fn evaluate(
        &mut self,
        method: DeliveryMethod,
        location: u32,
        rule: &ProductTypeRule,
    ) -> Result<Slot, Dropped> {
        if method == DeliveryMethod::ExpressClickAndCollect {
            // The chosen store's own shelf: nothing is shipped.
            if Some(location) != self.store {
                return Err(Dropped::NotEligible);
            }
            if self.cap_reached(location) {
                return Err(Dropped::CapacityReached);
            }
            let ready = self.timing(location).ready.ok_or(Dropped::NotOpenSoon)?;
            let schedule = self.index.sites[location as usize].schedule as usize;
            return Ok(Slot {
                date: self.index.schedules[schedule].local_date(ready),
                ready_at: Some(ready),
            });
        }
        let site = &self.index.sites[location as usize];
        if !site.can_ship || !rule.allows_shipping_from(site.kind) {
            return Err(Dropped::NotEligible);
        }
        // Its own shelf is express click & collect, not a parcel.
        if method == DeliveryMethod::ClickAndCollect && Some(location) == self.store {
            return Err(Dropped::NotEligible);
        }
        if self.cap_reached(location) {
            return Err(Dropped::CapacityReached);
        }
        self.shipping_slot(method, location)
    }

    /// Locations the channel sells at this instant with units of `sku`.
    fn stocked(&self, sku: &Sku) -> Vec<(u32, u64)> {
        self.index
            .entries(sku)
            .iter()
            .filter(|e| self.is_active(e.location))
            .filter_map(|e| {
                let units = u64::from(self.index.available(e));
                (units > 0).then_some((e.location, units))
            })
            .collect()
    }

    /// One line through one method (the method is not blocked for the request).
    fn evaluate_line(
        &mut self,
        method: DeliveryMethod,
        stocked: &[(u32, u64)],
        rule: &ProductTypeRule,
        requested: u64,
    ) -> LineEval {
        if !rule.allows_method(method) {
            return LineEval {
                candidates: Vec::new(),
                reason: Some(UnavailableReason::ProductTypeNotAllowed),
            };
        }
        let mut candidates = Vec::new();
        let mut furthest: Option<Dropped> = None;
        let mut any_stock = false;
        for &(location, units) in stocked {
            if method == DeliveryMethod::ExpressClickAndCollect && Some(location) != self.store {
                continue;
            }
            any_stock = true;
            match self.evaluate(method, location, rule) {
                Ok(slot) => {
                    let site = &self.index.sites[location as usize];
                    candidates.push(Candidate {
                        location,
                        units,
                        slot,
                        distance: self.distance(method, location),
                        priority: site.priority,
                        rank: site.rank,
                    })
                }
                Err(dropped) => furthest = furthest.max(Some(dropped)),
            }
        }
        Self::sort(&mut candidates);
        let total: u64 = candidates.iter().map(|c| c.units).sum();
        let reason = if !any_stock {
            Some(UnavailableReason::OutOfStock)
        } else if candidates.is_empty() {
            furthest.map(Dropped::reason)
        } else if total < requested {
            Some(UnavailableReason::InsufficientStock)
        } else {
            None
        };
        LineEval { candidates, reason }
    }

    fn distance(&self, method: DeliveryMethod, location: u32) -> f64 {
        let sites = &self.index.sites;
        let towards: Option<Coordinates> = match method {
            DeliveryMethod::HomeDelivery | DeliveryMethod::PickupPoint => {
                self.address.map(|a| a.coordinates)
            }
            _ => self.store.map(|s| sites[s as usize].coordinates),
        };
        towards.map_or(0.0, |to| {
            sites[location as usize].coordinates.distance_km(to)
        })
    }

    /// Best first: earliest date, earliest ready instant, priority, nearest,
    /// then location id (the rank makes the order total, so an unstable sort
    /// is deterministic).
    fn sort(candidates: &mut [Candidate]) {
        candidates.sort_unstable_by(|a, b| {
            (a.slot.date, a.slot.ready_at, a.priority)
                .cmp(&(b.slot.date, b.slot.ready_at, b.priority))
                .then_with(|| a.distance.total_cmp(&b.distance))
                .then_with(|| a.rank.cmp(&b.rank))
        });
    }

    fn shipment(&self, candidate: &Candidate, lines: Vec<ShipmentLine>) -> Shipment {
        Shipment {
            location: self.index.locations[candidate.location as usize].id.clone(),
            lines,
            expected_date: candidate.slot.date,
            ready_at: candidate.slot.ready_at,
        }
    }
}

fn latest(shipments: &[Shipment]) -> (Option<Date>, Option<Timestamp>) {
    (
        shipments.iter().map(|s| s.expected_date).max(),
        shipments.iter().filter_map(|s| s.ready_at).max(),
    )
}

/// ATP for `quantity` units of one product, for every delivery method.
pub fn product_atp(
    index: &StockIndex,
    request: &AtpRequest,
    sku: &Sku,
    quantity: Quantity,
) -> Result<ProductAtp, AtpError> {
    if quantity.is_zero() {
        return Err(AtpError::ZeroQuantity(sku.clone()));
    }
    let requested = u64::from(quantity.get());
    let mut ctx = Ctx::new(index, request)?;
    let rule = index.product_rules.rule(index.product_type(sku));
    let stocked = ctx.stocked(sku);
    let unified_stock = stocked.iter().map(|(_, units)| units).sum();
    let methods = DeliveryMethod::ALL
        .iter()
        .map(|&method| {
            let unavailable = |reason| MethodAnswer {
                method,
                possible: false,
                reason: Some(reason),
                requested,
                quantity: 0,
                locations: Vec::new(),
                shipments: Vec::new(),
                single_shipment: false,
                expected_date: None,
                ready_at: None,
            };
            if let Some(reason) = ctx.request_block(method) {
                return unavailable(reason);
            }
            let line = ctx.evaluate_line(method, &stocked, rule, requested);
            if line.candidates.is_empty() {
                return unavailable(line.reason.unwrap_or(UnavailableReason::OutOfStock));
            }
            let quantity = line.candidates.iter().map(|c| c.units).sum();
            let locations = line
                .candidates
                .iter()
                .map(|c| LocationOption {
                    location: index.locations[c.location as usize].id.clone(),
                    units: c.units,
                    expected_date: c.slot.date,
                    ready_at: c.slot.ready_at,
                })
                .collect();
            let units: Vec<u64> = line.candidates.iter().map(|c| c.units).collect();
            let shipments: Vec<Shipment> = match (line.reason, plan_single(&units, requested)) {
                (None, Some(plan)) => plan
                    .into_iter()
                    .map(|(i, taken)| {
                        ctx.shipment(
                            &line.candidates[i],
                            vec![ShipmentLine {
                                sku: sku.clone(),
                                quantity: taken,
                            }],
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let (expected_date, ready_at) = latest(&shipments);
            MethodAnswer {
                method,
                possible: !shipments.is_empty(),
                reason: if shipments.is_empty() {
                    Some(line.reason.unwrap_or(UnavailableReason::InsufficientStock))
                } else {
                    None
                },
                requested,
                quantity,
                locations,
                single_shipment: shipments.len() == 1,
                shipments,
                expected_date,
                ready_at,
            }
        })
        .collect();
    Ok(ProductAtp {
        sku: sku.clone(),
        channel: request.channel.clone(),
        at: request.at,
        unified_stock,
        methods,
    })
}

/// ATP for a whole cart, for every delivery method. Lines naming the same
/// SKU are merged.
pub fn cart_atp(
    index: &StockIndex,
    request: &AtpRequest,
    cart: &[CartLine],
) -> Result<CartAtp, AtpError> {
    if cart.is_empty() {
        return Err(AtpError::EmptyCart);
    }
    let mut lines: Vec<(Sku, u64)> = Vec::with_capacity(cart.len());
    for line in cart {
        if line.quantity.is_zero() {
            return Err(AtpError::ZeroQuantity(line.sku.clone()));
        }
        match lines.iter_mut().find(|(sku, _)| *sku == line.sku) {
            Some((_, requested)) => *requested += u64::from(line.quantity.get()),
            None => lines.push((line.sku.clone(), u64::from(line.quantity.get()))),
        }
    }
    let mut ctx = Ctx::new(index, request)?;
    let stocked: Vec<Vec<(u32, u64)>> = lines.iter().map(|(sku, _)| ctx.stocked(sku)).collect();
    let rules: Vec<&ProductTypeRule> = lines
        .iter()
        .map(|(sku, _)| index.product_rules.rule(index.product_type(sku)))
        .collect();

    let mut methods = Vec::with_capacity(DeliveryMethod::ALL.len());
    for method in DeliveryMethod::ALL {
        let block = ctx.request_block(method);
        let evals: Vec<LineEval> = lines
            .iter()
            .zip(&stocked)
            .zip(&rules)
            .map(|(((_, requested), stocked), rule)| match block {
                Some(reason) => LineEval {
                    candidates: Vec::new(),
                    reason: Some(reason),
                },
                None => ctx.evaluate_line(method, stocked, rule, *requested),
            })
            .collect();
        let answers: Vec<LineAnswer> = lines
            .iter()
            .zip(&evals)
            .map(|((sku, requested), eval)| LineAnswer {
                sku: sku.clone(),
                requested: *requested,
                available: eval.candidates.iter().map(|c| c.units).sum(),
                reason: eval.reason,
                locations: eval
                    .candidates
                    .iter()
                    .map(|c| index.locations[c.location as usize].id.clone())
                    .collect(),
            })
            .collect();
        let reason = block.or_else(|| evals.iter().find_map(|e| e.reason));
        let shipments = if reason.is_none() {
            plan_lines(&ctx, &lines, &evals)
        } else {
            Vec::new()
        };
        let (expected_date, ready_at) = latest(&shipments);
        methods.push(CartMethodAnswer {
            method,
            possible: !shipments.is_empty(),
            reason: if shipments.is_empty() {
                Some(reason.unwrap_or(UnavailableReason::InsufficientStock))
            } else {
                None
            },
            lines: answers,
            single_shipment: shipments.len() == 1,
            shipments,
            expected_date,
            ready_at,
        });
    }
    Ok(CartAtp {
        channel: request.channel.clone(),
        at: request.at,
        lines: lines
            .iter()
            .zip(&stocked)
            .map(|((sku, requested), stocked)| CartLineStock {
                sku: sku.clone(),
                requested: *requested,
                unified_stock: stocked.iter().map(|(_, units)| units).sum(),
            })
            .collect(),
        methods,
    })
}

/// Plans the shipments of a cart whose every line can be covered.
fn plan_lines(ctx: &Ctx<'_>, lines: &[(Sku, u64)], evals: &[LineEval]) -> Vec<Shipment> {
    // The union of candidates, best first; a location's slot is the same
    // for every line. `position` maps a location to its union row.
    const NONE: u32 = u32::MAX;
    let mut position = vec![NONE; ctx.index.sites.len()];
    let mut union: Vec<Candidate> = Vec::new();
    for eval in evals {
        for c in &eval.candidates {
            if position[c.location as usize] == NONE {
                position[c.location as usize] = 0;
                union.push(*c);
            }
        }
    }
    Ctx::sort(&mut union);
    for (row, c) in union.iter().enumerate() {
        position[c.location as usize] = row as u32;
    }
    let mut units = vec![vec![0_u64; lines.len()]; union.len()];
    for (line, eval) in evals.iter().enumerate() {
        for c in &eval.candidates {
            units[position[c.location as usize] as usize][line] = c.units;
        }
    }
    let requested: Vec<u64> = lines.iter().map(|(_, r)| *r).collect();
    let plan = if lines.len() == 1 {
        let single: Vec<u64> = units.iter().map(|row| row[0]).collect();
        plan_single(&single, requested[0]).map(|picks| {
            picks
                .into_iter()
                .map(|(c, taken)| (c, vec![taken]))
                .collect()
        })
    } else {
        plan_cart(&units, &requested)
    };
    plan.unwrap_or_default()
        .into_iter()
        .map(|(c, taken)| {
            let shipment_lines = lines
                .iter()
                .zip(taken)
                .filter(|(_, quantity)| *quantity > 0)
                .map(|((sku, _), quantity)| ShipmentLine {
                    sku: sku.clone(),
                    quantity,
                })
                .collect();
            ctx.shipment(&union[c], shipment_lines)
        })
        .collect()
}
