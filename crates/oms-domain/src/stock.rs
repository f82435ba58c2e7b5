//! Stock levels and the in-memory stock index that unified stock and ATP are
//! computed from.
//!
//! The index is built from plain data (a [`Network`], product types and
//! [`StockRow`]s) and keeps, per SKU, a small vector of
//! `(location index, on_hand, reserved, safety override)` sorted by location,
//! with SKUs, locations, channels, carrier zones and working calendars
//! interned to integers. A question about one SKU touches only that SKU's
//! vector; one stock row changes in place in `O(log n)`.
//!
//! It is plain owned data (`Send + Sync`), with no interior mutability: a
//! server keeps one behind a lock or an `ArcSwap` and applies committed stock
//! changes with [`StockIndex::apply`].

use std::collections::HashMap;
use std::mem::size_of;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{Schedule, ScheduleKey};
use crate::model::{
    Capabilities, CarrierZone, Channel, ChannelId, Coordinates, DeliveryMethod, Location,
    LocationId, LocationKind, Network, PeriodEffect, PeriodTarget, ProductRules, ProductType,
    Quantity, Sku,
};

/// The stock of one SKU at one location, as stored.
///
/// `on_hand` may be negative: a carry-out sale is always accepted, and the
/// discrepancy becomes an inventory task (DESIGN.md "Offline stock").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StockRow {
    pub sku: Sku,
    pub location: LocationId,
    pub on_hand: i64,
    pub reserved: Quantity,
}

/// A product's type, which decides where it may ship from and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRow {
    pub sku: Sku,
    pub product_type: ProductType,
}

/// How many orders a location has accepted on a local date (for its daily
/// cap). Only the latest date per location is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationLoad {
    pub location: LocationId,
    pub date: Date,
    pub orders: u32,
}

/// One location's stock of a SKU, with the safety stock that applies and
/// what is left to sell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationStock {
    pub location: LocationId,
    pub on_hand: i64,
    pub reserved: Quantity,
    pub safety: Quantity,
    /// `max(0, on_hand − reserved − safety)`.
    pub available: u32,
}

/// A (SKU, location) as numbered by one [`StockIndex`] (see
/// [`StockIndex::row_key`]): 8 bytes instead of two texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowKey {
    sku: u32,
    location: u32,
}

/// A stock feed's change to one row's on-hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnHandChange {
    /// A snapshot's value.
    Set(i64),
    /// A delta.
    Add(i64),
}

/// Why an index could not be built or changed, or a question not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("location `{0}` is defined twice")]
    DuplicateLocation(LocationId),
    #[error("channel `{0}` is defined twice")]
    DuplicateChannel(ChannelId),
    #[error("unknown location `{0}`")]
    UnknownLocation(LocationId),
    #[error("unknown channel `{0}`")]
    UnknownChannel(ChannelId),
    #[error("too many locations for the index")]
    TooManyLocations,
}

/// Marks "no per-(location, SKU) safety stock" in an [`Entry`].
const NO_OVERRIDE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) on_hand: i64,
    pub(crate) location: u32,
    pub(crate) reserved: u32,
    safety: u32,
}

/// A location compiled for the hot path.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// The location's id (also here, beside what the hot path reads, so
    /// that traces copy it without touching the `Location`).
    pub(crate) id: LocationId,
    pub(crate) kind: LocationKind,
    pub(crate) schedule: u32,
    pub(crate) zone: u32,
    pub(crate) can_ship: bool,
    pub(crate) capabilities: Capabilities,
    pub(crate) daily_cap: Option<u32>,
    safety: Option<u32>,
    pub(crate) priority: u32,
    pub(crate) coordinates: Coordinates,
    /// The latitude in radians and its cosine, for great-circle distances
    /// from this location (computed once, not per order).
    pub(crate) lat_rad: f64,
    pub(crate) cos_lat: f64,
    /// Position of the location's id in id order: a cheap, stable tie-break.
    pub(crate) rank: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Kind(LocationKind),
    Location(u32),
}

impl Target {
    pub(crate) fn matches(self, location: u32, kind: LocationKind) -> bool {
        match self {
            Target::Kind(k) => k == kind,
            Target::Location(l) => l == location,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    LeaveChannel(u32),
    DailyCap(u32),
    DailyCapPercent(u32),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledPeriod {
    pub(crate) starts_at: Timestamp,
    pub(crate) ends_at: Timestamp,
    pub(crate) target: Target,
    pub(crate) effect: Effect,
}

#[derive(Debug, Clone)]
pub(crate) struct ChannelData {
    /// Indexed by location.
    pub(crate) members: Vec<bool>,
    pub(crate) methods: Vec<DeliveryMethod>,
}

/// Unified stock and ATP's data: the network compiled, and stock per SKU.
#[derive(Debug, Clone)]
pub struct StockIndex {
    pub(crate) locations: Vec<Location>,
    pub(crate) location_ids: HashMap<LocationId, u32>,
    pub(crate) sites: Vec<Site>,
    pub(crate) schedules: Vec<Schedule>,
    pub(crate) channels: Vec<Channel>,
    pub(crate) channel_ids: HashMap<ChannelId, u32>,
    pub(crate) channel_data: Vec<ChannelData>,
    pub(crate) periods: Vec<CompiledPeriod>,
    pub(crate) zone_ids: HashMap<CarrierZone, u32>,
    /// `zones × zones`, business days; `None`: no carrier route.
    transit: Vec<Option<u8>>,
    pub(crate) pickup_point_extra_days: u8,
    pub(crate) product_rules: ProductRules,
    global_safety: u32,
    sku_ids: HashMap<Sku, u32>,
    skus: Vec<Sku>,
    product_types: Vec<ProductType>,
    /// Per SKU, sorted by location.
    stock: Vec<Vec<Entry>>,
    /// Per location: orders accepted on a local date.
    loads: Vec<Option<(Date, u32)>>,
}

impl StockIndex {
    /// An index of the network with no stock yet.
    pub fn new(network: &Network) -> Result<Self, IndexError> {
        let mut location_ids = HashMap::with_capacity(network.locations.len());
        let mut schedule_ids: HashMap<ScheduleKey, u32> = HashMap::new();
        let mut schedules = Vec::new();
        let mut zone_ids: HashMap<CarrierZone, u32> = HashMap::new();
        let mut sites = Vec::with_capacity(network.locations.len());
        for location in &network.locations {
            let index = u32::try_from(sites.len()).map_err(|_| IndexError::TooManyLocations)?;
            if location_ids.insert(location.id.clone(), index).is_some() {
                return Err(IndexError::DuplicateLocation(location.id.clone()));
            }
            let key = Schedule::key(location);
            let schedule = match schedule_ids.get(&key) {
                Some(id) => *id,
                None => {
                    let id = schedules.len() as u32;
                    schedules.push(Schedule::of(location));
                    schedule_ids.insert(key, id);
                    id
                }
            };
            let zone = intern(&mut zone_ids, &location.carrier_zone);
            sites.push(Site {
                id: location.id.clone(),
                kind: location.kind,
                schedule,
                zone,
                can_ship: location.can_ship(),
                capabilities: location.capabilities,
                daily_cap: location.daily_order_cap,
                safety: None,
                priority: location.priority,
                coordinates: location.coordinates,
                lat_rad: location.coordinates.lat().to_radians(),
                cos_lat: location.coordinates.lat().to_radians().cos(),
                rank: 0,
            });
        }
        let mut by_id: Vec<usize> = (0..sites.len()).collect();
        by_id.sort_unstable_by_key(|&i| &network.locations[i].id);
        for (rank, i) in by_id.into_iter().enumerate() {
            sites[i].rank = rank as u32;
        }
        let lookup = |id: &LocationId| {
            location_ids
                .get(id)
                .copied()
                .ok_or_else(|| IndexError::UnknownLocation(id.clone()))
        };

        let mut channel_ids = HashMap::with_capacity(network.channels.len());
        let mut channel_data = Vec::with_capacity(network.channels.len());
        for channel in &network.channels {
            if channel_ids
                .insert(channel.id.clone(), channel_data.len() as u32)
                .is_some()
            {
                return Err(IndexError::DuplicateChannel(channel.id.clone()));
            }
            let mut members = vec![false; sites.len()];
            for id in &channel.locations {
                members[lookup(id)? as usize] = true;
            }
            channel_data.push(ChannelData {
                members,
                methods: channel.delivery_methods.clone(),
            });
        }

        let mut periods = Vec::with_capacity(network.periods.len());
        for period in &network.periods {
            let target = match period.target() {
                PeriodTarget::LocationKind { kind } => Target::Kind(*kind),
                PeriodTarget::Location { location } => Target::Location(lookup(location)?),
            };
            let effect = match period.effect() {
                PeriodEffect::LeaveChannel { channel } => Effect::LeaveChannel(
                    *channel_ids
                        .get(channel)
                        .ok_or_else(|| IndexError::UnknownChannel(channel.clone()))?,
                ),
                PeriodEffect::DailyCap { cap } => Effect::DailyCap(*cap),
                PeriodEffect::DailyCapPercent { percent } => Effect::DailyCapPercent(*percent),
            };
            periods.push(CompiledPeriod {
                starts_at: period.starts_at(),
                ends_at: period.ends_at(),
                target,
                effect,
            });
        }

        // Routes may name zones no location is in (customer-only zones).
        for route in &network.transit.routes {
            intern(&mut zone_ids, &route.from);
            intern(&mut zone_ids, &route.to);
        }
        let zones = zone_ids.len();
        let mut transit = vec![None; zones * zones];
        for route in &network.transit.routes {
            let (from, to) = (zone_ids[&route.from] as usize, zone_ids[&route.to] as usize);
            transit[from * zones + to] = Some(route.business_days);
        }

        for setting in &network.safety_stock.per_location {
            sites[lookup(&setting.location)? as usize].safety = Some(setting.quantity.get());
        }

        let mut index = Self {
            locations: network.locations.clone(),
            location_ids,
            loads: vec![None; sites.len()],
            sites,
            schedules,
            channels: network.channels.clone(),
            channel_ids,
            channel_data,
            periods,
            zone_ids,
            transit,
            pickup_point_extra_days: network.transit.pickup_point_extra_days,
            product_rules: network.product_rules.clone(),
            global_safety: network.safety_stock.global.get(),
            sku_ids: HashMap::new(),
            skus: Vec::new(),
            product_types: Vec::new(),
            stock: Vec::new(),
        };
        for setting in &network.safety_stock.per_location_sku {
            index.set_sku_safety(&setting.location, &setting.sku, Some(setting.quantity))?;
        }
        Ok(index)
    }

    /// Builds the index from the network, product types and stock rows. A SKU
    /// without a product row is `standard`. When two rows name the same
    /// (SKU, location), the later one wins.
    pub fn build(
        network: &Network,
        products: impl IntoIterator<Item = ProductRow>,
        rows: impl IntoIterator<Item = StockRow>,
    ) -> Result<Self, IndexError> {
        let mut index = Self::new(network)?;
        for product in products {
            index.set_product_type(&product.sku, product.product_type);
        }
        // Rows usually arrive grouped by SKU: skip re-hashing a repeated SKU.
        let mut last: Option<(Sku, u32)> = None;
        for row in rows {
            let location = index.location_index(&row.location)?;
            let sku = match &last {
                Some((sku, id)) if *sku == row.sku => *id,
                _ => {
                    let id = index.intern_sku(&row.sku);
                    last = Some((row.sku, id));
                    id
                }
            };
            index.stock[sku as usize].push(Entry {
                on_hand: row.on_hand,
                location,
                reserved: row.reserved.get(),
                safety: NO_OVERRIDE,
            });
        }
        // Also merges the entries that safety overrides created in `new`.
        // Growth by doubling leaves up to half of each vector unused: give
        // it back, the index lives long.
        for entries in &mut index.stock {
            normalise(entries);
            entries.shrink_to_fit();
        }
        Ok(index)
    }

    /// Applies one stock row (insert or replace): what the server does after
    /// committing a stock change.
    pub fn apply(&mut self, row: &StockRow) -> Result<(), IndexError> {
        let location = self.location_index(&row.location)?;
        let sku = self.intern_sku(&row.sku);
        let entry = self.entry_mut(sku, location);
        entry.on_hand = row.on_hand;
        entry.reserved = row.reserved.get();
        Ok(())
    }

    /// A stock row's place in this index: its SKU's and location's numbers,
    /// for [`StockIndex::change_on_hand`]. `None` for a SKU or location the
    /// index does not hold. Valid until the index is rebuilt.
    pub fn row_key(&self, sku: &str, location: &str) -> Option<RowKey> {
        Some(RowKey {
            sku: *self.sku_ids.get(sku)?,
            location: *self.location_ids.get(location)?,
        })
    }

    /// Changes one row's on-hand the way a stock feed's SQL does, keeping what
    /// is reserved: a missing row is created (nothing reserved) only for a
    /// non-zero value, and a zero delta changes nothing. A key from another
    /// index is ignored (`false`).
    pub fn change_on_hand(&mut self, key: RowKey, change: OnHandChange) -> bool {
        let Some(entries) = self.stock.get(key.sku as usize) else {
            return false;
        };
        if key.location as usize >= self.locations.len() {
            return false;
        }
        let exists = entries
            .binary_search_by_key(&key.location, |e| e.location)
            .is_ok();
        match change {
            OnHandChange::Set(0) if !exists => {}
            OnHandChange::Add(0) => {}
            OnHandChange::Set(value) => self.entry_mut(key.sku, key.location).on_hand = value,
            OnHandChange::Add(delta) => {
                let entry = self.entry_mut(key.sku, key.location);
                entry.on_hand = entry.on_hand.saturating_add(delta);
            }
        }
        true
    }

    /// Sets or clears the safety stock of one (location, SKU).
    pub fn set_sku_safety(
        &mut self,
        location: &LocationId,
        sku: &Sku,
        quantity: Option<Quantity>,
    ) -> Result<(), IndexError> {
        let location = self.location_index(location)?;
        let sku = self.intern_sku(sku);
        self.entry_mut(sku, location).safety = quantity.map_or(NO_OVERRIDE, Quantity::get);
        Ok(())
    }

    pub fn set_product_type(&mut self, sku: &Sku, product_type: ProductType) {
        let sku = self.intern_sku(sku);
        self.product_types[sku as usize] = product_type;
    }

    /// Records how many orders a location has accepted on a local date.
    pub fn set_location_load(&mut self, load: &LocationLoad) -> Result<(), IndexError> {
        let location = self.location_index(&load.location)?;
        self.loads[location as usize] = Some((load.date, load.orders));
        Ok(())
    }

    /// Unified stock: Σ over the channel's locations active at `at` of
    /// `max(0, on_hand − reserved − safety)`.
    pub fn unified_stock(
        &self,
        channel: &ChannelId,
        sku: &Sku,
        at: Timestamp,
    ) -> Result<u64, IndexError> {
        let channel = self.channel_index(channel)?;
        let leaving = self.leaving(channel, at);
        Ok(self
            .entries(sku)
            .iter()
            .filter(|e| self.is_active(channel, &leaving, e.location))
            .map(|e| u64::from(self.available(e)))
            .sum())
    }

    /// Every location's stock of a SKU (for browsing the network).
    pub fn stock_of(&self, sku: &Sku) -> Vec<LocationStock> {
        self.entries(sku)
            .iter()
            .map(|e| LocationStock {
                location: self.locations[e.location as usize].id.clone(),
                on_hand: e.on_hand,
                reserved: Quantity::new(e.reserved),
                safety: Quantity::new(self.safety(e)),
                available: self.available(e),
            })
            .collect()
    }

    /// All stock rows, sorted by SKU then location.
    pub fn rows(&self) -> Vec<StockRow> {
        let mut rows: Vec<StockRow> = self
            .stock
            .iter()
            .enumerate()
            .flat_map(|(sku, entries)| {
                entries.iter().map(move |e| StockRow {
                    sku: self.skus[sku].clone(),
                    location: self.locations[e.location as usize].id.clone(),
                    on_hand: e.on_hand,
                    reserved: Quantity::new(e.reserved),
                })
            })
            .collect();
        rows.sort_unstable_by(|a, b| (&a.sku, &a.location).cmp(&(&b.sku, &b.location)));
        rows
    }

    pub fn product_type(&self, sku: &Sku) -> ProductType {
        self.sku_ids
            .get(sku)
            .map_or(ProductType::Standard, |id| self.product_types[*id as usize])
    }

    pub fn location(&self, id: &LocationId) -> Option<&Location> {
        self.location_ids
            .get(id)
            .map(|index| &self.locations[*index as usize])
    }

    pub fn locations(&self) -> &[Location] {
        &self.locations
    }

    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    pub fn sku_count(&self) -> usize {
        self.skus.len()
    }

    pub fn row_count(&self) -> usize {
        self.stock.iter().map(Vec::len).sum()
    }

    /// An estimate of the heap the index holds, from its containers'
    /// capacities (stock vectors, interning maps and tables).
    pub fn memory_bytes(&self) -> usize {
        // A hash map entry costs its key and value plus about one control byte.
        fn map_bytes<K, V>(map: &HashMap<K, V>) -> usize {
            map.capacity() * (size_of::<K>() + size_of::<V>() + 1)
        }
        let stock: usize = self
            .stock
            .iter()
            .map(|v| v.capacity() * size_of::<Entry>())
            .sum::<usize>()
            + self.stock.capacity() * size_of::<Vec<Entry>>();
        // The map key and the vector share each SKU's text (and its two
        // reference counts).
        let sku_names: usize = self
            .skus
            .iter()
            .map(|s| s.as_str().len() + 2 * size_of::<usize>())
            .sum::<usize>()
            + self.skus.capacity() * size_of::<Sku>();
        stock
            + sku_names
            + map_bytes(&self.sku_ids)
            + self.product_types.capacity() * size_of::<ProductType>()
            + self.sites.capacity() * size_of::<Site>()
            + self.transit.capacity()
            + self
                .channel_data
                .iter()
                .map(|c| c.members.capacity())
                .sum::<usize>()
    }

    // ---- internals shared with ATP ------------------------------------

    pub(crate) fn location_index(&self, id: &LocationId) -> Result<u32, IndexError> {
        self.location_ids
            .get(id)
            .copied()
            .ok_or_else(|| IndexError::UnknownLocation(id.clone()))
    }

    pub(crate) fn channel_index(&self, id: &ChannelId) -> Result<u32, IndexError> {
        self.channel_ids
            .get(id)
            .copied()
            .ok_or_else(|| IndexError::UnknownChannel(id.clone()))
    }

    /// A SKU's type and stock entries with one lookup of the SKU.
    pub(crate) fn product(&self, sku: &Sku) -> (ProductType, &[Entry]) {
        match self.sku_ids.get(sku) {
            Some(id) => (
                self.product_types[*id as usize],
                self.stock[*id as usize].as_slice(),
            ),
            None => (ProductType::Standard, &[]),
        }
    }

    pub(crate) fn entries(&self, sku: &Sku) -> &[Entry] {
        self.sku_ids
            .get(sku)
            .map_or(&[], |id| self.stock[*id as usize].as_slice())
    }

    fn safety(&self, entry: &Entry) -> u32 {
        if entry.safety != NO_OVERRIDE {
            entry.safety
        } else {
            self.sites[entry.location as usize]
                .safety
                .unwrap_or(self.global_safety)
        }
    }

    /// `max(0, on_hand − reserved − safety)`.
    pub(crate) fn available(&self, entry: &Entry) -> u32 {
        let free =
            i128::from(entry.on_hand) - i128::from(entry.reserved) - i128::from(self.safety(entry));
        u32::try_from(free.clamp(0, i128::from(u32::MAX))).unwrap_or(u32::MAX)
    }

    /// Targets of the periods that take locations out of `channel` at `at`.
    pub(crate) fn leaving(&self, channel: u32, at: Timestamp) -> Vec<Target> {
        self.periods
            .iter()
            .filter(|p| {
                p.effect == Effect::LeaveChannel(channel) && p.starts_at <= at && at < p.ends_at
            })
            .map(|p| p.target)
            .collect()
    }

    pub(crate) fn is_active(&self, channel: u32, leaving: &[Target], location: u32) -> bool {
        self.channel_data[channel as usize].members[location as usize]
            && !leaving
                .iter()
                .any(|t| t.matches(location, self.sites[location as usize].kind))
    }

    pub(crate) fn transit_days(&self, from: u32, to: u32) -> Option<u8> {
        let zones = self.zone_ids.len();
        self.transit[from as usize * zones + to as usize]
    }

    pub(crate) fn load(&self, location: u32) -> Option<(Date, u32)> {
        self.loads[location as usize]
    }

    fn intern_sku(&mut self, sku: &Sku) -> u32 {
        if let Some(id) = self.sku_ids.get(sku) {
            return *id;
        }
        let id = self.skus.len() as u32;
        self.sku_ids.insert(sku.clone(), id);
        self.skus.push(sku.clone());
        self.product_types.push(ProductType::Standard);
        self.stock.push(Vec::new());
        id
    }

    fn entry_mut(&mut self, sku: u32, location: u32) -> &mut Entry {
        let entries = &mut self.stock[sku as usize];
        let at = match entries.binary_search_by_key(&location, |e| e.location) {
            Ok(at) => at,
            Err(at) => {
                entries.insert(
                    at,
                    Entry {
                        on_hand: 0,
                        location,
                        reserved: 0,
                        safety: NO_OVERRIDE,
                    },
                );
                at
            }
        };
        &mut entries[at]
    }
}

fn intern(map: &mut HashMap<CarrierZone, u32>, zone: &CarrierZone) -> u32 {
    let next = map.len() as u32;
    *map.entry(zone.clone()).or_insert(next)
}

/// Sorts a SKU's entries by location and merges duplicates: the last row
/// wins for levels, and a safety override survives from whichever entry had it.
fn normalise(entries: &mut Vec<Entry>) {
    if entries.is_sorted_by(|a, b| a.location < b.location) {
        return;
    }
    entries.sort_by_key(|e| e.location); // stable: later rows stay later
    let mut merged: Vec<Entry> = Vec::with_capacity(entries.len());
    for entry in entries.drain(..) {
        match merged.last_mut() {
            Some(last) if last.location == entry.location => {
                let safety = if entry.safety != NO_OVERRIDE {
                    entry.safety
                } else {
                    last.safety
                };
                *last = Entry { safety, ..entry };
            }
            _ => merged.push(entry),
        }
    }
    *entries = merged;
}
