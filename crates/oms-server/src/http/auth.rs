//! Authentication middleware, role checks, pairing and token endpoints.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use oms_domain::model::LocationId;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use super::ApiError;
use super::extract::ApiJson;
use crate::AppState;
use crate::auth::{self, Caller, PAIRING_CODE_TTL_MS, Role};
use crate::storage::{DeviceRow, PairingRefusal};
use oms_api::wire::{
    DeviceRecord, IssuedToken, Me, NewPairingCode, NewStaff, PairingCode, PairingRequest,
    StaffMember, StaffSignIn,
};

/// How long a verified token is trusted without asking the database again.
/// A revoked token stops working within this delay.
const TOKEN_CACHE_TTL: Duration = Duration::from_secs(30);
const TOKEN_CACHE_MAX: usize = 10_000;

/// Recently verified token hashes, so hot endpoints (ATP) skip the database.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, (Caller, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str) -> Option<Caller> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(caller, _)| caller.clone())
    }

    /// Forgets a revoked token at once (other instances within the TTL).
    fn forget(&self, hash: &str) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.remove(hash);
    }

    fn put(&self, hash: String, caller: Caller) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= TOKEN_CACHE_MAX {
            entries.clear();
        }
        entries.insert(hash, (caller, Instant::now()));
    }
}

/// Middleware for every protected route: resolves the bearer token to a
/// [`Caller`] (401 otherwise) and hands it to the handler.
pub async fn require_caller(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty() && token.len() <= 256)
        .ok_or(ApiError::Unauthenticated)?;
    let hash = auth::hash_secret(token);
    let caller = match state.tokens.get(&hash) {
        Some(caller) => caller,
        None => {
            let caller = state
                .storage
                .caller_by_token_hash(&hash)
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            state.tokens.put(hash.clone(), caller.clone());
            caller
        }
    };
    request.extensions_mut().insert(caller);
    request.extensions_mut().insert(TokenHash(hash));
    Ok(next.run(request).await)
}

/// The hash of the token that authenticated the request (`DELETE /v1/me`
/// revokes it). Never the token itself.
#[derive(Debug, Clone)]
pub struct TokenHash(String);

/// Refuses callers whose role is not in `roles`.
pub fn require(caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&caller.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "the {} role may not do this",
            caller.role.as_str()
        )))
    }
}

/// Refuses store callers acting on another store's data.
pub fn require_store(caller: &Caller, location: &str) -> Result<(), ApiError> {
    if caller.may_access_store(location) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "this device belongs to another store than `{location}`"
        )))
    }
}

pub const EVERYONE: &[Role] = &[
    Role::Admin,
    Role::Integration,
    Role::StoreManager,
    Role::StoreAssociate,
];

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub async fn me(axum::Extension(caller): axum::Extension<Caller>) -> Json<Me> {
    Json(Me {
        role: caller.role,
        store: caller.store.map(|s| s.as_str().to_owned()),
        label: caller.label,
        device_id: caller.device,
    })
}

/// `DELETE /v1/me`: the caller's own token stops working — a device that
/// is forgotten, an integration key that is rotated.
pub async fn revoke_me(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    axum::Extension(TokenHash(hash)): axum::Extension<TokenHash>,
) -> Result<StatusCode, ApiError> {
    state.storage.revoke_token(&hash, now_ms()).await?;
    state.tokens.forget(&hash);
    tracing::info!(by = %caller.label, device = ?caller.device, "token revoked by its holder");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/locations/{id}/devices`: the store's paired devices (admin, or
/// the store's manager), to find a lost one.
pub async fn list_devices(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(store): Path<String>,
) -> Result<Json<Vec<DeviceRecord>>, ApiError> {
    require(&caller, &[Role::Admin, Role::StoreManager])?;
    require_store(&caller, &store)?;
    if state.storage.location(&store).await?.is_none() {
        return Err(ApiError::NotFound {
            kind: "location",
            id: store,
        });
    }
    let devices = state.storage.devices_of(&store).await?;
    Ok(Json(devices.into_iter().map(device_record).collect()))
}

/// `DELETE /v1/devices/{id}`: every token of a lost or retired device stops
/// working (admin, or the manager of the device's store). Its sync history
/// stays; pairing it again makes a new device.
pub async fn revoke_device(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    Path(device_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require(&caller, &[Role::Admin, Role::StoreManager])?;
    let Some(device) = state.storage.device(&device_id).await? else {
        return Err(ApiError::NotFound {
            kind: "device",
            id: device_id,
        });
    };
    require_store(&caller, &device.store)?;
    let hashes = state.storage.revoke_device(&device_id, now_ms()).await?;
    for hash in &hashes {
        state.tokens.forget(hash);
    }
    tracing::info!(device = %device_id, store = %device.store, by = %caller.label, tokens = hashes.len(), "device revoked");
    Ok(StatusCode::NO_CONTENT)
}

fn device_record(row: DeviceRow) -> DeviceRecord {
    DeviceRecord {
        device_id: row.device_id,
        store: row.store,
        label: row.label,
        paired_at: jiff::Timestamp::from_millisecond(row.paired_at_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        active: row.active,
    }
}

/// `POST /v1/pairing-codes`: a manager (or admin) lets a new device join a
/// store.
pub async fn create_pairing_code(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiJson(request): ApiJson<NewPairingCode>,
) -> Result<Json<PairingCode>, ApiError> {
    require(&caller, &[Role::Admin, Role::StoreManager])?;
    require_store(&caller, &request.store)?;
    if !request.role.is_store_role() {
        return Err(ApiError::InvalidBody(
            "pairing codes are for store_manager or store_associate devices".to_owned(),
        ));
    }
    let Some(location) = state.storage.location(&request.store).await? else {
        return Err(ApiError::NotFound {
            kind: "location",
            id: request.store,
        });
    };
    if location.kind != oms_domain::model::LocationKind::Store {
        return Err(ApiError::InvalidBody(format!(
            "`{}` is not a store",
            request.store
        )));
    }
    let code = auth::new_pairing_code();
    let expires_at_ms = now_ms() + PAIRING_CODE_TTL_MS;
    state
        .storage
        .insert_pairing_code(
            &auth::hash_secret(&code),
            &request.store,
            request.role,
            &caller.label,
            expires_at_ms,
        )
        .await?;
    tracing::info!(store = %request.store, role = request.role.as_str(), by = %caller.label, "pairing code created");
    Ok(Json(PairingCode {
        code,
        store: request.store,
        role: request.role,
        expires_at: jiff::Timestamp::from_millisecond(expires_at_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    }))
}

/// `POST /v1/pairing`: a device exchanges a pairing code for its token. No
/// authentication: the code is the credential.
pub async fn pair(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PairingRequest>,
) -> Result<Json<IssuedToken>, ApiError> {
    let label = request.device_label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(ApiError::InvalidBody(
            "device_label must be 1 to 100 characters".to_owned(),
        ));
    }
    let code = auth::normalise_pairing_code(&request.code);
    let token = auth::new_token();
    let device_id = uuid::Uuid::new_v4().to_string();
    let outcome = state
        .storage
        .redeem_pairing_code(
            &auth::hash_secret(&code),
            &auth::hash_secret(&token),
            label,
            &device_id,
            now_ms(),
        )
        .await?;
    match outcome {
        Ok(caller) => {
            tracing::info!(device = %label, role = caller.role.as_str(), "device paired");
            Ok(Json(IssuedToken {
                token,
                role: caller.role,
                store: caller.store.map(|s| s.as_str().to_owned()),
                device_id: caller.device,
            }))
        }
        Err(PairingRefusal::Invalid) => Err(ApiError::Forbidden(
            "this pairing code is unknown, used or expired: ask a manager for a new one".to_owned(),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub role: Role,
    #[serde(default)]
    pub store: Option<String>,
    pub label: String,
}

/// `POST /v1/tokens`: an admin issues a token (e.g. for an integration).
pub async fn create_token(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiJson(request): ApiJson<NewToken>,
) -> Result<Json<IssuedToken>, ApiError> {
    require(&caller, &[Role::Admin])?;
    let label = request.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(ApiError::InvalidBody(
            "label must be 1 to 100 characters".to_owned(),
        ));
    }
    let store = match (request.role.is_store_role(), request.store) {
        (true, Some(store)) => {
            if state.storage.location(&store).await?.is_none() {
                return Err(ApiError::NotFound {
                    kind: "location",
                    id: store,
                });
            }
            Some(LocationId::parse(store).map_err(|e| ApiError::InvalidBody(e.to_string()))?)
        }
        (true, None) => return Err(ApiError::InvalidBody("store roles need a store".to_owned())),
        (false, Some(_)) => {
            return Err(ApiError::InvalidBody(format!(
                "the {} role is not scoped to a store",
                request.role.as_str()
            )));
        }
        (false, None) => None,
    };
    let token = auth::new_token();
    let issued = Caller {
        role: request.role,
        store,
        label: label.to_owned(),
        device: None,
    };
    state
        .storage
        .insert_token(&auth::hash_secret(&token), &issued, now_ms())
        .await?;
    tracing::info!(role = issued.role.as_str(), label = %issued.label, by = %caller.label, "token issued");
    Ok(Json(IssuedToken {
        token,
        role: issued.role,
        store: issued.store.map(|s| s.as_str().to_owned()),
        device_id: None,
    }))
}

/// `POST /v1/locations/{id}/staff`: a manager (or admin) adds a member of
/// staff with their PIN (stored as an Argon2id hash only).
pub async fn add_staff(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    axum::extract::Path(store): axum::extract::Path<String>,
    ApiJson(request): ApiJson<NewStaff>,
) -> Result<(axum::http::StatusCode, Json<StaffMember>), ApiError> {
    require(&caller, &[Role::Admin, Role::StoreManager])?;
    require_store(&caller, &store)?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::InvalidBody(
            "name must be 1 to 100 characters".to_owned(),
        ));
    }
    if !request.role.is_store_role() {
        return Err(ApiError::InvalidBody(
            "staff are store_manager or store_associate".to_owned(),
        ));
    }
    if !auth::is_valid_pin(&request.pin) {
        return Err(ApiError::InvalidBody("a PIN is 4 to 8 digits".to_owned()));
    }
    match state.storage.location(&store).await? {
        Some(location) if location.kind == oms_domain::model::LocationKind::Store => {}
        Some(_) => return Err(ApiError::InvalidBody(format!("`{store}` is not a store"))),
        None => {
            return Err(ApiError::NotFound {
                kind: "location",
                id: store,
            });
        }
    }
    let pin = request.pin.clone();
    let pin_hash = tokio::task::spawn_blocking(move || auth::hash_pin(&pin))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    let member = StaffMember {
        id: format!("STAFF-{}", uuid::Uuid::new_v4().simple()),
        store,
        name: name.to_owned(),
        role: request.role,
    };
    state
        .storage
        .insert_staff(&member, &pin_hash, now_ms())
        .await?;
    tracing::info!(staff = %member.id, store = %member.store, by = %caller.label, "staff member added");
    Ok((axum::http::StatusCode::CREATED, Json(member)))
}

/// `GET /v1/locations/{id}/staff`: the names a device shows at sign-in.
pub async fn list_staff(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    axum::extract::Path(store): axum::extract::Path<String>,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    require(&caller, EVERYONE)?;
    require_store(&caller, &store)?;
    Ok(Json(state.storage.staff_of(&store).await?))
}

/// `POST /v1/staff/sign-in`: a member of staff signs in on a paired device
/// of their store with their PIN. Wrong PINs are counted before the check;
/// after [`auth::MAX_PIN_ATTEMPTS`] the member is locked out for a while.
pub async fn staff_sign_in(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiJson(request): ApiJson<StaffSignIn>,
) -> Result<Json<StaffMember>, ApiError> {
    require(&caller, &[Role::StoreManager, Role::StoreAssociate])?;
    let member = verify_staff_pin(&state, &caller, &request.staff_id, &request.pin).await?;
    tracing::info!(staff = %member.id, device = %caller.label, "staff signed in");
    Ok(Json(member))
}

/// Checks a member of the device's store's staff against their PIN: 403 for
/// an unknown member or a wrong PIN (saying how many attempts are left), 429
/// `locked-out` after [`auth::MAX_PIN_ATTEMPTS`] wrong ones in a row. The
/// attempt is counted before the PIN is checked; a right PIN resets the
/// count. Used by sign-in and by a manager's approval.
pub async fn verify_staff_pin(
    state: &AppState,
    caller: &Caller,
    staff_id: &str,
    pin: &str,
) -> Result<StaffMember, ApiError> {
    let wrong = || ApiError::Forbidden("unknown member of staff or wrong PIN".to_owned());
    if !auth::is_valid_pin(pin) {
        return Err(ApiError::InvalidBody("a PIN is 4 to 8 digits".to_owned()));
    }
    if staff_id.is_empty() || staff_id.len() > 100 {
        return Err(wrong());
    }
    // Only the device's own store's staff: another store's member is
    // unknown here (no enumeration, and no locking them out from afar).
    let Some(store) = caller.store.as_ref() else {
        return Err(wrong());
    };
    let now = now_ms();
    let attempt = state
        .storage
        .begin_sign_in(
            store.as_str(),
            staff_id,
            auth::MAX_PIN_ATTEMPTS,
            auth::PIN_LOCKOUT_MS,
            now,
        )
        .await?;
    let credentials = match attempt {
        Ok(credentials) => credentials,
        Err(crate::storage::SignInRefusal::Unknown) => return Err(wrong()),
        Err(crate::storage::SignInRefusal::LockedUntil(until)) => {
            return Err(locked_out(until, now));
        }
    };
    let pin = pin.to_owned();
    let hash = credentials.pin_hash.clone();
    let matches = tokio::task::spawn_blocking(move || auth::verify_pin(&pin, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !matches {
        tracing::info!(staff = %credentials.member.id, attempts = credentials.attempts, device = %caller.label, "wrong PIN");
        let left = auth::MAX_PIN_ATTEMPTS - credentials.attempts;
        if left <= 0 {
            return Err(locked_out(now + auth::PIN_LOCKOUT_MS, now));
        }
        return Err(ApiError::WrongPin(format!(
            "wrong PIN: {left} attempt(s) left before a {}-minute lock-out",
            auth::PIN_LOCKOUT_MS / 60_000
        )));
    }
    state.storage.signed_in(&credentials.member.id).await?;
    Ok(credentials.member)
}

fn locked_out(until: i64, now: i64) -> ApiError {
    let minutes = (until - now + 59_999) / 60_000;
    ApiError::LockedOut(format!(
        "too many wrong PINs: try again in {minutes} minute(s) or ask a manager"
    ))
}
