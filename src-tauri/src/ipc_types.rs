//! Generates the TypeScript types of the IPC payloads (`dto.rs`, `error.rs`)
//! into `ui/src/generated/ipc.ts`, and fails when the checked-in file is
//! stale. `AISLE_UPDATE_IPC_TYPES=1 cargo test -p aisle ipc_types` rewrites it.

use crate::dto::*;
use crate::error::{AppError, ErrorCode};
use ts_rs::{Config, TS};

macro_rules! declarations {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        vec![$(format!("export {}", <$t as TS>::decl($cfg))),*]
    };
}

fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let decls = declarations![&cfg;
        ErrorCode, AppError, Money, Lang, AppInfo, StoreRef, BackendKind, SyncStatus, Connectivity,
        ProductSummary, ProductPage, SearchFilters, SearchFilterValues, ProductDetail, StockHere, NearbyStock, ChannelStock,
        DestinationInput, DeliveryMethod, UnavailableReason, UnservableReason, Availability,
        MethodAvailability, ShipmentView, CartLineInput, CheckoutDelivery, PaymentChoice,
        CustomerInput, CheckoutInput, OrderStatus, FulfilmentStatus, PickLine, FulfilmentDetail,
        QueueItem, QueuePage, LineFoundInput, StepInput, UnservableView, FulfilmentSummary, StepOutcome,
        LabelFile, OrderHit, OrderHitPage, CustomerView, OrderLineDetail, PaymentLine, ReturnReason,
        ItemCondition, Restock, RefundLineView, ReturnReceipt, OrderDetail, ReturnLineInput,
        CustomerHit, NewCustomerInput, CustomerSaved, ReceiptSent,
        ReturnInput, QueuedAction, PlaceOutcome, RefusedAction, PairingPhase, PairingReason, PairingState,
        PairingInput, StaffMemberView, StaffRole, StaffList, SignedInStaff, SignInOutcome,
        RefundMethod, NoReceiptLineInput, NoReceiptInput, NoReceiptLineView, NoReceiptReceipt,
        NoReceiptOutcome,
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/dto.rs and error.rs by the Rust test\n\
         // `ipc_types_are_up_to_date`. Do not edit: change the Rust types, then run\n\
         // `AISLE_UPDATE_IPC_TYPES=1 cargo test -p aisle ipc_types`.\n",
    );
    for decl in decls {
        out.push('\n');
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

#[test]
fn ipc_types_are_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/generated/ipc.ts");
    let generated = generate();
    if std::env::var_os("AISLE_UPDATE_IPC_TYPES").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the directory");
        std::fs::write(&path, &generated).expect("write ipc.ts");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{} is stale: run `AISLE_UPDATE_IPC_TYPES=1 cargo test -p aisle ipc_types` and commit it",
        path.display()
    );
}

/// The IPC mirrors of the server's closed sets accept every server value.
#[test]
fn mirrored_enums_cover_the_server_sets() {
    use oms_domain::lifecycle::{FulfilmentStatus as F, OrderStatus as O};
    use oms_domain::model::DeliveryMethod as D;
    for m in D::ALL {
        convert::<_, DeliveryMethod>(&m).expect("delivery method");
    }
    for s in F::ALL {
        convert::<_, FulfilmentStatus>(&s).expect("fulfilment status");
    }
    for s in O::ALL {
        convert::<_, OrderStatus>(&s).expect("order status");
    }
    for code in [
        "method_not_offered",
        "product_type_not_allowed",
        "no_address",
        "no_pickup_store",
        "pickup_store_not_a_store",
        "pickup_store_cannot_receive",
        "pickup_store_no_express",
        "pickup_store_not_in_channel",
        "out_of_stock",
        "no_eligible_location",
        "capacity_reached",
        "not_open_soon",
        "no_carrier_route",
        "insufficient_stock",
    ] {
        let server: oms_domain::atp::UnavailableReason =
            serde_json::from_value(serde_json::json!(code)).expect("a server reason");
        convert::<_, UnavailableReason>(&server).expect("mirrored");
    }
}
