//! The app ↔ core sync protocol (DESIGN.md "Sync between the app and the
//! core"), re-exported by [`crate::wire`]: carry-out sales, store tasks, and
//! `POST /v1/sync/push`. Pull is `GET /v1/changes`.

use serde::{Deserialize, Serialize};

use crate::orders::{
    Amount, CancelOrder, FulfilmentId, FulfilmentStep, ItemCondition, OrderId, PlaceOrder,
    PlaceOrderLine, ReceiveReturn, ReturnReason,
};
use oms_domain::model::{LocationId, Sku};

/// Most mutations one push may carry.
pub const MAX_PUSH_MUTATIONS: usize = 500;

/// `POST /v1/locations/{id}/sales`: the customer took the items from the
/// shelf and paid at the till. Always accepted: the sale happened. Stock that
/// goes short becomes a discrepancy task for the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarryOutSale {
    pub lines: Vec<PlaceOrderLine>,
    /// When the sale was rung up (RFC 3339), for sales taken offline;
    /// absent: now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_at: Option<String>,
}

/// A recorded carry-out sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleView {
    pub id: String,
    pub location: LocationId,
    pub lines: Vec<SaleLineView>,
    pub total: Amount,
    pub sold_at: String,
    /// Lines the shelf did not hold according to the core: each opened a
    /// discrepancy task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discrepancies: Vec<Discrepancy>,
}

/// One line of a sale, priced from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLineView {
    pub sku: Sku,
    pub quantity: u32,
    pub unit_price: Amount,
}

/// Units sold that the stock record did not have free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub sku: Sku,
    /// How many units more were sold than were free (on hand − reserved).
    pub short_by: i64,
}

/// Something store staff must look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A sale took more than the stock record held: count the shelf.
    StockDiscrepancy,
    /// An order taken offline could not be served when it reached the core.
    OfflineOrderRefused,
    /// An order taken offline is served, but not entirely as planned on the
    /// device (partly unservable).
    OfflineOrderChanged,
}

/// A task for a store's staff (in the change sequence, store-scoped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreTask {
    pub id: String,
    pub location: LocationId,
    pub kind: TaskKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderId>,
    /// What happened and what to do, in plain English.
    pub message: String,
    pub created_at: String,
}

/// An intent queued on a device, applied once by the core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "args", rename_all = "snake_case")]
pub enum Intent {
    /// Endless aisle, click & collect, home delivery… (orchestrated when it
    /// reaches the core). Boxed: it is by far the largest intent.
    PlaceOrder(Box<PlaceOrder>),
    /// At the device's store.
    CarryOutSale(CarryOutSale),
    FulfilmentStep {
        fulfilment: FulfilmentId,
        step: FulfilmentStep,
    },
    ReceiveReturn {
        order: OrderId,
        receive: ReceiveReturn,
    },
    CancelOrder {
        order: OrderId,
        cancel: CancelOrder,
    },
}

/// One outbox row of a device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    /// Gapless per device, from 1.
    pub id: u64,
    pub intent: Intent,
}

/// `POST /v1/sync/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The device id given at pairing (`GET /v1/me`).
    pub device_id: String,
    /// Consecutive ids in ascending order. Ids already applied are answered
    /// from storage; the first new one must follow the last applied.
    pub mutations: Vec<Mutation>,
}

/// The answer to a push: one result per mutation, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub device_id: String,
    /// The highest mutation id the core has applied for this device.
    pub last_applied: u64,
    pub results: Vec<MutationResult>,
}

/// What applying a mutation answered — the same on every retry. A business
/// refusal (`status` ≥ 400, `body` a problem+json object) is a result, not
/// an error: show it to staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    pub id: u64,
    pub status: u16,
    pub body: serde_json::Value,
}

impl MutationResult {
    /// Whether the core applied the intent (rather than refused it).
    pub fn applied(&self) -> bool {
        self.status < 400
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including the network and tokens.
    Admin,
    /// The retailer's systems: catalogue, stock feeds, exports, ATP.
    Integration,
    /// A store's manager device: the store's data, pairing its devices.
    StoreManager,
    /// A store associate's device: the store's data.
    StoreAssociate,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Integration => "integration",
            Role::StoreManager => "store_manager",
            Role::StoreAssociate => "store_associate",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "integration" => Some(Role::Integration),
            "store_manager" => Some(Role::StoreManager),
            "store_associate" => Some(Role::StoreAssociate),
            _ => None,
        }
    }

    pub fn is_store_role(self) -> bool {
        matches!(self, Role::StoreManager | Role::StoreAssociate)
    }
}

/// `GET /v1/me`: who the token says you are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub role: Role,
    pub store: Option<String>,
    pub label: String,
    /// Set for tokens issued to a paired device: its id in pushes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// A paired device of a store (`GET /v1/locations/{id}/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub device_id: String,
    pub store: String,
    /// The name given at pairing.
    pub label: String,
    /// When it was paired (RFC 3339).
    pub paired_at: String,
    /// Whether it still holds a token that works: false once revoked.
    pub active: bool,
}

/// `POST /v1/pairing-codes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPairingCode {
    pub store: String,
    pub role: Role,
}

/// A pairing code, shown once to type on the new device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingCode {
    pub code: String,
    pub store: String,
    pub role: Role,
    pub expires_at: String,
}

/// `POST /v1/pairing`: a device exchanges a pairing code for its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairingRequest {
    pub code: String,
    /// How the device shows in logs and lists, e.g. "Till 2".
    pub device_label: String,
}

/// A device's token, shown once: keep it in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: String,
    pub role: Role,
    pub store: Option<String>,
    /// The device's id (its mutations are numbered per device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// `POST /v1/locations/{id}/staff`: a manager adds a member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub name: String,
    /// `store_manager` or `store_associate`.
    pub role: Role,
    /// 4 to 8 digits, chosen by the member.
    pub pin: String,
}

/// A member of a store's staff (never with the PIN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    pub store: String,
    pub name: String,
    pub role: Role,
}

/// `POST /v1/staff/sign-in` from a paired device of the member's store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSignIn {
    pub staff_id: String,
    pub pin: String,
}

/// How a return without a receipt is refunded at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundMethod {
    Cash,
    StoreCredit,
}

/// A store manager's approval, checked by the core against their PIN (the
/// same counting and lock-out as a sign-in). The PIN is never logged or kept.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagerApproval {
    pub staff_id: String,
    pub pin: String,
}

impl std::fmt::Debug for ManagerApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerApproval")
            .field("staff_id", &self.staff_id)
            .field("pin", &"<redacted>")
            .finish()
    }
}

/// One product brought back without its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnreceiptedReturnLine {
    pub sku: Sku,
    pub quantity: u32,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
}

/// `POST /v1/locations/{id}/returns`: products brought back to this store
/// without a receipt (the order cannot be found). Needs a store manager's
/// approval; refunded at the store channel's price. With an
/// `Idempotency-Key`, a replay answers the recorded return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnreceiptedReturn {
    pub lines: Vec<UnreceiptedReturnLine>,
    pub refund_method: RefundMethod,
    pub approval: ManagerApproval,
    /// The member of staff who took the return (signed in on the device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_by: Option<String>,
}

/// A line of a recorded return without receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreceiptedReturnLineView {
    pub sku: Sku,
    pub quantity: u32,
    pub reason: ReturnReason,
    pub condition: ItemCondition,
    pub unit_price: Amount,
    pub refund: Amount,
    /// Put back on hand at the store (resaleable); otherwise quarantined.
    pub restocked: bool,
}

/// A recorded return without receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreceiptedReturnView {
    pub id: String,
    pub location: LocationId,
    pub lines: Vec<UnreceiptedReturnLineView>,
    pub total_refund: Amount,
    pub refund_method: RefundMethod,
    /// The store manager who approved it (verified by their PIN).
    pub approved_by: StaffMember,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_by: Option<String>,
    pub received_at: String,
}
