//! `/v1/customers` (the register: find or create) and an order's receipt
//! (`/v1/orders/{id}/receipt`, PDF or queued by e-mail).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use oms_api::wire::{
    CustomerQuery, CustomerView, EmailReceipt, Language, NewCustomer, NotificationKind,
    NotificationView, OrderView, PaymentKind, PaymentMethod, ReceiptQuery,
};
use oms_domain::model::LocationId;

use super::extract::{ApiJson, ApiQuery};
use super::{ApiError, auth, cursor};
use crate::AppState;
use crate::auth::Caller;
use crate::customers::{self, CreateError};
use crate::notify::{Attachment, RenderedNotification};
use crate::orders;
use crate::receipt::{self, ReceiptInput, ReceiptLine};

/// Finds customers by the start of their name (or of a word of it), of
/// their e-mail address, or by phone digits. Any store role: the till
/// looks customers up.
pub async fn search(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiQuery(query): ApiQuery<CustomerQuery>,
) -> Result<Json<Vec<CustomerView>>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let q = cursor::search_text(query.q.as_deref())?;
    let limit = cursor::bounded_limit(query.limit, 20, customers::MAX_SEARCH_RESULTS)?;
    Ok(Json(customers::search(&state, q, limit).await?))
}

/// Registers a customer; 409 `duplicate-customer` (with `existing`) when
/// the e-mail address is already registered.
pub async fn create(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiJson(request): ApiJson<NewCustomer>,
) -> Result<(StatusCode, Json<CustomerView>), ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    match customers::create(&state, &caller, &request).await {
        Ok(view) => Ok((StatusCode::CREATED, Json(view))),
        Err(CreateError::Invalid(message)) => Err(ApiError::InvalidBody(message)),
        Err(CreateError::Duplicate(existing)) => Err(ApiError::DuplicateCustomer(existing)),
        Err(CreateError::Storage(error)) => Err(ApiError::Storage(error)),
    }
}

/// A registered customer.
pub async fn get(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<CustomerView>, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let not_found = || ApiError::NotFound {
        kind: "customer",
        id: id.clone(),
    };
    let id = customers::check_id(&id).map_err(|_| not_found())?;
    let record = state.storage.customer(&id).await?.ok_or_else(not_found)?;
    Ok(Json(customers::view(record)))
}

/// The order's receipt as a printable A4 PDF.
pub async fn receipt(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ReceiptQuery>,
) -> Result<Response, ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let (input, _) = receipt_input(&state, &caller, &id, query.lang, query.store.as_ref()).await?;
    let pdf =
        receipt::render_receipt(&input).map_err(|e| ApiError::Internal(format!("receipt: {e}")))?;
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(value) =
        HeaderValue::from_str(&format!("inline; filename=\"receipt-{}.pdf\"", input.order))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Queues the receipt to the customer (or to `to`) through the
/// notification outbox, PDF attached; 422 when there is no address.
pub async fn email_receipt(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<EmailReceipt>,
) -> Result<(StatusCode, Json<NotificationView>), ApiError> {
    auth::require(&caller, auth::EVERYONE)?;
    let to = match &request.to {
        Some(to) => Some(check_email(to)?),
        None => None,
    };
    let (input, view) =
        receipt_input(&state, &caller, &id, request.lang, request.store.as_ref()).await?;
    let to = to.or_else(|| view.customer.email.clone()).ok_or_else(|| {
        ApiError::InvalidBody(
            "the order has no e-mail address: give one in `to` (or print the receipt)".into(),
        )
    })?;
    let pdf =
        receipt::render_receipt(&input).map_err(|e| ApiError::Internal(format!("receipt: {e}")))?;
    let (subject, body) = receipt::render_message(&input, &view.customer.name);
    let rendered = RenderedNotification {
        order: input.order.clone(),
        fulfilment: None,
        kind: NotificationKind::Receipt,
        status: None,
        language: input.language,
        to_email: Some(to.clone()),
        to_phone: None,
        subject: subject.clone(),
        body: body.clone(),
        attachments: vec![Attachment {
            filename: format!("receipt-{}.pdf", input.order),
            content_type: "application/pdf".into(),
            content_base64: receipt::base64(&pdf),
        }],
    };
    let payload = serde_json::to_string(&rendered)
        .map_err(|e| ApiError::Internal(format!("receipt message: {e}")))?;
    let queued = state
        .storage
        .queue_notification(
            view.id.as_str(),
            &payload,
            Timestamp::now().as_millisecond(),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(NotificationView {
            id: queued,
            kind: NotificationKind::Receipt,
            status: None,
            language: input.language,
            subject,
            body,
            to_email: Some(to),
            to_phone: None,
            delivery: "pending".into(),
        }),
    ))
}

/// The same check an order's customer e-mail gets.
fn check_email(email: &str) -> Result<String, ApiError> {
    let checked = orders::check_customer(&oms_api::wire::Customer {
        id: None,
        name: "receipt".into(),
        email: Some(email.to_owned()),
        phone: None,
        language: Language::En,
    })
    .map_err(|_| {
        ApiError::InvalidBody(format!("to: `{}` is not an e-mail address", email.trim()))
    })?;
    checked
        .email
        .ok_or_else(|| ApiError::InvalidBody("to: an e-mail address is required".into()))
}

/// Everything printed on the order's receipt, in `lang` (default the
/// customer's), for the caller's store (or `store`).
async fn receipt_input(
    state: &AppState,
    caller: &Caller,
    id: &str,
    lang: Option<Language>,
    store: Option<&LocationId>,
) -> Result<(ReceiptInput, OrderView), ApiError> {
    let order_id =
        oms_domain::orchestration::OrderId::parse(id).map_err(|_| ApiError::NotFound {
            kind: "order",
            id: id.to_owned(),
        })?;
    if let (Some(store), Some(own)) = (store, &caller.store)
        && store != own
    {
        return Err(ApiError::Forbidden(
            "store roles print receipts of their own store".into(),
        ));
    }
    let view = orders::load_view(state, caller, order_id.as_str(), None).await?;
    let language = lang.unwrap_or(view.customer.language);
    let w = receipt::words(language);
    let mut names = Vec::with_capacity(view.lines.len());
    for line in &view.lines {
        let name = state
            .storage
            .product(line.sku.as_str())
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        names.push(name);
    }
    let input = {
        let cache = state.stock.read();
        let index = &cache.index;
        let store_id = store
            .or(caller.store.as_ref())
            .or(view.destination.pickup_store.as_ref());
        let store_location = store_id.and_then(|s| index.location(s));
        let store_name = match (store_location, store_id) {
            (Some(location), _) => location.name.clone(),
            (None, Some(id)) => id.as_str().to_owned(),
            (None, None) => index
                .channels()
                .iter()
                .find(|c| c.id == view.channel)
                .map_or_else(|| view.channel.as_str().to_owned(), |c| c.name.clone()),
        };
        let placed: Timestamp = view
            .placed_at
            .parse()
            .map_err(|e| ApiError::Internal(format!("stored placed_at: {e}")))?;
        let date =
            match store_location.and_then(|l| jiff::tz::TimeZone::get(l.time_zone.as_str()).ok()) {
                Some(tz) => format!(
                    "{} ({})",
                    placed.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M"),
                    tz.iana_name().unwrap_or("UTC")
                ),
                None => format!("{} (UTC)", placed.strftime("%Y-%m-%d %H:%M")),
            };
        let lines = view
            .lines
            .iter()
            .zip(names)
            .map(|(line, name)| ReceiptLine {
                sku: line.sku.as_str().to_owned(),
                name,
                quantity: line.quantity.get(),
                unit_price: line.unit_price.to_string(),
                amount: line
                    .unit_price
                    .checked_mul(line.quantity)
                    .map_or_else(|_| String::new(), |m| m.to_string()),
            })
            .collect();
        let fulfilments = view
            .fulfilments
            .iter()
            .map(|f| {
                let from = index
                    .location(&f.location)
                    .map_or_else(|| f.location.as_str().to_owned(), |l| l.name.clone());
                let skus: Vec<String> = f
                    .lines
                    .iter()
                    .map(|l| format!("{} × {}", l.quantity.get(), l.sku))
                    .collect();
                format!(
                    "{from}: {} — {} {}",
                    skus.join(", "),
                    w.expected,
                    f.expected_date
                )
            })
            .collect();
        let unservable = view
            .unservable
            .iter()
            .map(|u| format!("{} × {}", u.missing, u.sku))
            .collect();
        let authorisation = view
            .payments
            .iter()
            .find(|p| p.kind == PaymentKind::Authorise);
        let payment = match view.payment {
            PaymentMethod::InStore => w.paid_at_till.to_owned(),
            PaymentMethod::Gateway => {
                let status = authorisation.map_or("pending", |p| p.status.as_str());
                format!("{} — {}", w.payment_link, payment_status(status, language))
            }
        };
        ReceiptInput {
            language,
            store: store_name,
            date,
            order: view.id.as_str().to_owned(),
            customer: view.customer.name.clone(),
            lines,
            discounts: view
                .discounts
                .iter()
                .map(|d| {
                    let minus =
                        oms_domain::model::Money::new(-d.amount.minor(), d.amount.currency());
                    (d.code.clone(), minus.to_string())
                })
                .collect(),
            shipping: view.shipping_fee.to_string(),
            total: view.total.to_string(),
            delivery: receipt::delivery_name(view.delivery, language).to_owned(),
            fulfilments,
            unservable,
            payment,
        }
    };
    Ok((input, view))
}

fn payment_status(status: &str, language: Language) -> &'static str {
    match (language, status) {
        (Language::En, "succeeded") => "authorised",
        (Language::En, "declined") => "declined",
        (Language::En, "failed") => "failed",
        (Language::En, _) => "awaiting the customer's payment",
        (Language::Fr, "succeeded") => "autorisé",
        (Language::Fr, "declined") => "refusé",
        (Language::Fr, "failed") => "échoué",
        (Language::Fr, _) => "en attente du paiement du client",
        (Language::De, "succeeded") => "autorisiert",
        (Language::De, "declined") => "abgelehnt",
        (Language::De, "failed") => "fehlgeschlagen",
        (Language::De, _) => "wartet auf die Zahlung des Kunden",
    }
}
