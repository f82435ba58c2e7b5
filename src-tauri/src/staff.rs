//! Staff sign-in on this device, and returns without receipt approved by a
//! manager's PIN. Both go to the OMS core through the **paired device's**
//! client (its own token, never the sidecar's admin token): the core checks
//! the PIN against its Argon2id hash, counts wrong PINs and locks a member
//! out (ARCHITECTURE.md, invariant 9).
//!
//! **Offline sign-in.** When the core is unreachable, a member who signed
//! in online on this device within [`OFFLINE_WINDOW`] (during this run of
//! the app) may sign in again against a salted Argon2id hash of their PIN
//! made by the app after that online sign-in. The hash lives only in this
//! process's memory — never in SQLite, a file or a log — so it is gone at
//! the next start; the plain PIN is never kept. Wrong PINs offline are
//! counted here with the core's rule (5 in a row lock the member out on this
//! device for 5 minutes). Approvals (returns without receipt) are never
//! offline: they need the core.

use crate::backend::Backend;
use crate::dto;
use crate::error::{AppError, ErrorCode};
use oms_api::wire::{
    ManagerApproval, Role, StaffMember, StaffSignIn, UnreceiptedReturn, UnreceiptedReturnLine,
};
use oms_api::{ClientError, OmsClient};
use oms_domain::model::Sku;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after an online sign-in a member may sign in offline on this
/// device.
pub const OFFLINE_WINDOW: Duration = Duration::from_secs(12 * 3600);
/// Wrong PINs in a row, offline, before a local lock-out (the core's rule).
const MAX_OFFLINE_ATTEMPTS: u32 = 5;
/// How long the local lock-out lasts (the core's rule).
const OFFLINE_LOCKOUT: Duration = Duration::from_secs(5 * 60);
/// Most lines of a return without receipt.
const MAX_RETURN_LINES: usize = 100;
/// Most units of one line.
const MAX_RETURN_UNITS: u32 = 999;

type State<'a> = tauri::State<'a, Backend>;
type SessionState<'a> = tauri::State<'a, Session>;

/// Who is signed in, the store's staff as last listed, and the PIN hashes
/// kept for offline sign-in. In memory only.
#[derive(Default)]
pub struct Session {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    current: Option<dto::SignedInStaff>,
    roster: Option<Vec<StaffMember>>,
    kept: HashMap<String, Kept>,
}

/// A PIN hash kept after an online sign-in.
struct Kept {
    pin_hash: String,
    verified_at: Instant,
    failed: u32,
    locked_until: Option<Instant>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

fn is_valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The paired device's client and its store.
fn device_client(backend: &Backend) -> Result<(OmsClient, String), AppError> {
    let device = backend.require_device()?;
    let store = device.engine.device().store.clone().ok_or_else(|| {
        AppError::new(
            ErrorCode::Forbidden,
            "This device is not paired with a store.",
        )
    })?;
    Ok((device.engine.client().clone(), store))
}

/// The first whole number in a problem's detail: the core's wrong-PIN and
/// locked-out details carry the attempts left and the minutes to wait
/// (documented in its OpenAPI: "wrong PIN: N attempt(s) left…", "try again
/// in N minute(s)…").
fn first_number(detail: Option<&str>) -> Option<u32> {
    let text = detail?;
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn role(role: Role) -> dto::StaffRole {
    match role {
        Role::StoreManager => dto::StaffRole::StoreManager,
        _ => dto::StaffRole::StoreAssociate,
    }
}

fn view(member: &StaffMember, inner: &Inner, now: Instant) -> dto::StaffMemberView {
    dto::StaffMemberView {
        id: member.id.clone(),
        name: member.name.clone(),
        role: role(member.role),
        offline_ok: inner
            .kept
            .get(&member.id)
            .is_some_and(|k| now.duration_since(k.verified_at) < OFFLINE_WINDOW),
    }
}

fn hash_pin(pin: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

fn verify_pin(pin: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// This store's staff for the sign-in screen: from the core, or the list
/// kept from the last time it answered.
#[tauri::command]
pub async fn staff_list(
    backend: State<'_>,
    session: SessionState<'_>,
) -> Result<dto::StaffList, AppError> {
    let (client, store) = device_client(&backend)?;
    let (members, offline) = match client.staff(&store).await {
        Ok(members) => {
            session.lock().roster = Some(members.clone());
            (members, false)
        }
        Err(ClientError::Transport(error)) => {
            let kept = session.lock().roster.clone();
            match kept {
                Some(members) => (members, true),
                None => {
                    return Err(AppError::new(
                        ErrorCode::BackendUnavailable,
                        format!("The OMS core is unreachable: {error}"),
                    ));
                }
            }
        }
        Err(other) => return Err(other.into()),
    };
    let inner = session.lock();
    let now = Instant::now();
    Ok(dto::StaffList {
        members: members.iter().map(|m| view(m, &inner, now)).collect(),
        offline,
    })
}

/// Who is signed in on this device, if anyone.
#[tauri::command]
pub fn current_staff(session: SessionState<'_>) -> Option<dto::SignedInStaff> {
    session.lock().current.clone()
}

/// Signs the current member out (the button, or the UI's idle timeout).
#[tauri::command]
pub fn staff_sign_out(session: SessionState<'_>) {
    if let Some(staff) = session.lock().current.take() {
        tracing::info!(staff = %staff.member.id, "staff signed out");
    }
}

/// Checks a member's PIN with the core (the device's token); offline, with
/// the hash kept from their last online sign-in on this device.
#[tauri::command]
pub async fn staff_sign_in(
    backend: State<'_>,
    session: SessionState<'_>,
    staff_id: String,
    pin: String,
) -> Result<dto::SignInOutcome, AppError> {
    let staff_id = staff_id.trim().to_owned();
    if staff_id.is_empty() || staff_id.len() > 100 {
        return Err(invalid("Choose who is signing in."));
    }
    if !is_valid_pin(&pin) {
        return Err(invalid("A PIN is 4 to 8 digits."));
    }
    let (client, _) = device_client(&backend)?;
    let request = StaffSignIn {
        staff_id: staff_id.clone(),
        pin: pin.clone(),
    };
    match client.staff_sign_in(&request).await {
        Ok(member) => {
            let hash = tokio::task::spawn_blocking(move || hash_pin(&pin))
                .await
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?
                .map_err(|e| AppError::new(ErrorCode::Internal, e))?;
            let mut inner = session.lock();
            let now = Instant::now();
            inner.kept.insert(
                member.id.clone(),
                Kept {
                    pin_hash: hash,
                    verified_at: now,
                    failed: 0,
                    locked_until: None,
                },
            );
            let staff = dto::SignedInStaff {
                member: view(&member, &inner, now),
                offline: false,
            };
            inner.current = Some(staff.clone());
            tracing::info!(staff = %member.id, "staff signed in");
            Ok(dto::SignInOutcome::SignedIn { staff })
        }
        Err(ClientError::Problem(problem)) => match problem.kind.as_str() {
            "wrong-pin" => Ok(dto::SignInOutcome::WrongPin {
                attempts_left: first_number(problem.detail.as_deref()),
            }),
            "forbidden" => Ok(dto::SignInOutcome::WrongPin {
                attempts_left: None,
            }),
            "locked-out" => Ok(dto::SignInOutcome::LockedOut {
                minutes: first_number(problem.detail.as_deref()),
            }),
            _ => Err(ClientError::Problem(problem).into()),
        },
        Err(ClientError::Transport(_)) => sign_in_offline(&session, &staff_id, pin).await,
        Err(other) => Err(other.into()),
    }
}

/// The offline path of [`staff_sign_in`] (see the module documentation).
async fn sign_in_offline(
    session: &Session,
    staff_id: &str,
    pin: String,
) -> Result<dto::SignInOutcome, AppError> {
    let now = Instant::now();
    let hash = {
        let inner = session.lock();
        let Some(kept) = inner
            .kept
            .get(staff_id)
            .filter(|k| now.duration_since(k.verified_at) < OFFLINE_WINDOW)
        else {
            return Ok(dto::SignInOutcome::OfflineNotAllowed);
        };
        if let Some(until) = kept.locked_until
            && until > now
        {
            let minutes = (until - now).as_secs().div_ceil(60);
            return Ok(dto::SignInOutcome::LockedOut {
                minutes: u32::try_from(minutes).ok(),
            });
        }
        kept.pin_hash.clone()
    };
    let matches = tokio::task::spawn_blocking(move || verify_pin(&pin, &hash))
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    let mut inner = session.lock();
    let member = inner
        .roster
        .as_ref()
        .and_then(|r| r.iter().find(|m| m.id == staff_id))
        .cloned();
    let Some(kept) = inner.kept.get_mut(staff_id) else {
        return Ok(dto::SignInOutcome::OfflineNotAllowed);
    };
    if !matches {
        kept.failed += 1;
        tracing::info!(staff = %staff_id, attempts = kept.failed, "wrong PIN (offline)");
        if kept.failed >= MAX_OFFLINE_ATTEMPTS {
            kept.failed = 0;
            kept.locked_until = Some(now + OFFLINE_LOCKOUT);
            return Ok(dto::SignInOutcome::LockedOut {
                minutes: u32::try_from(OFFLINE_LOCKOUT.as_secs() / 60).ok(),
            });
        }
        return Ok(dto::SignInOutcome::WrongPin {
            attempts_left: Some(MAX_OFFLINE_ATTEMPTS - kept.failed),
        });
    }
    kept.failed = 0;
    kept.locked_until = None;
    let Some(member) = member else {
        return Ok(dto::SignInOutcome::OfflineNotAllowed);
    };
    let staff = dto::SignedInStaff {
        member: view(&member, &inner, now),
        offline: true,
    };
    inner.current = Some(staff.clone());
    tracing::info!(staff = %member.id, "staff signed in offline (kept hash)");
    Ok(dto::SignInOutcome::SignedIn { staff })
}

fn wire_line(line: &dto::NoReceiptLineInput) -> Result<UnreceiptedReturnLine, AppError> {
    if line.quantity == 0 || line.quantity > MAX_RETURN_UNITS {
        return Err(invalid(format!("A quantity is 1 to {MAX_RETURN_UNITS}.")));
    }
    Ok(UnreceiptedReturnLine {
        sku: Sku::parse(line.sku.trim())
            .map_err(|_| invalid(format!("`{}` is not a SKU", line.sku)))?,
        quantity: line.quantity,
        reason: dto::convert(&line.reason)?,
        condition: dto::convert(&line.condition)?,
    })
}

/// A return without receipt at this store, approved by a manager whose PIN
/// the core checks. Online only.
#[tauri::command]
pub async fn return_without_receipt(
    backend: State<'_>,
    session: SessionState<'_>,
    request: dto::NoReceiptInput,
) -> Result<dto::NoReceiptOutcome, AppError> {
    if request.lines.is_empty() || request.lines.len() > MAX_RETURN_LINES {
        return Err(invalid(format!(
            "A return has 1 to {MAX_RETURN_LINES} lines."
        )));
    }
    let lines = request
        .lines
        .iter()
        .map(wire_line)
        .collect::<Result<Vec<_>, _>>()?;
    let manager_id = request.manager_id.trim();
    if manager_id.is_empty() || manager_id.len() > 100 {
        return Err(invalid("Choose the approving manager."));
    }
    if !is_valid_pin(&request.manager_pin) {
        return Err(invalid("A PIN is 4 to 8 digits."));
    }
    if uuid::Uuid::parse_str(&request.idempotency_key).is_err() {
        return Err(invalid("The return attempt has no valid key."));
    }
    let taken_by = session.lock().current.as_ref().map(|s| s.member.id.clone());
    let (client, store) = device_client(&backend)?;
    let wire = UnreceiptedReturn {
        lines,
        refund_method: match request.refund_method {
            dto::RefundMethod::Cash => oms_api::wire::RefundMethod::Cash,
            dto::RefundMethod::StoreCredit => oms_api::wire::RefundMethod::StoreCredit,
        },
        approval: ManagerApproval {
            staff_id: manager_id.to_owned(),
            pin: request.manager_pin.clone(),
        },
        taken_by,
    };
    match client
        .return_without_receipt(&store, &wire, &request.idempotency_key)
        .await
    {
        Ok(view) => Ok(dto::NoReceiptOutcome::Recorded {
            receipt: dto::NoReceiptReceipt {
                id: view.id,
                lines: view
                    .lines
                    .iter()
                    .map(|l| {
                        Ok(dto::NoReceiptLineView {
                            sku: l.sku.as_str().to_owned(),
                            quantity: l.quantity,
                            reason: dto::convert(&l.reason)?,
                            condition: dto::convert(&l.condition)?,
                            refund: money(l.refund),
                            restocked: l.restocked,
                        })
                    })
                    .collect::<Result<_, AppError>>()?,
                total_refund: money(view.total_refund),
                refund_method: request.refund_method,
                approved_by: view.approved_by.name,
                received_at: view.received_at,
            },
        }),
        Err(ClientError::Problem(problem)) => match problem.kind.as_str() {
            "wrong-pin" => Ok(dto::NoReceiptOutcome::WrongPin {
                attempts_left: first_number(problem.detail.as_deref()),
            }),
            "locked-out" => Ok(dto::NoReceiptOutcome::LockedOut {
                minutes: first_number(problem.detail.as_deref()),
            }),
            "forbidden" => Ok(dto::NoReceiptOutcome::NotAManager),
            _ => Err(ClientError::Problem(problem).into()),
        },
        Err(other) => Err(other.into()),
    }
}

fn money(amount: oms_api::wire::Amount) -> dto::Money {
    dto::Money {
        amount_minor: amount.minor(),
        currency: amount.currency().as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cores_details_give_their_numbers() {
        assert_eq!(
            first_number(Some(
                "wrong PIN: 3 attempt(s) left before a 5-minute lock-out"
            )),
            Some(3)
        );
        assert_eq!(
            first_number(Some(
                "too many wrong PINs: try again in 4 minute(s) or ask a manager"
            )),
            Some(4)
        );
        assert_eq!(first_number(Some("unknown member of staff")), None);
        assert_eq!(first_number(None), None);
    }

    #[test]
    fn a_kept_hash_checks_the_pin_and_never_holds_it() {
        let hash = hash_pin("2468").expect("a hash");
        assert!(!hash.contains("2468"));
        assert!(verify_pin("2468", &hash));
        assert!(!verify_pin("2469", &hash));
    }

    #[tokio::test]
    async fn offline_sign_in_needs_a_recent_online_one_and_locks_out() {
        let session = Session::default();
        let member = StaffMember {
            id: "STAFF-1".into(),
            store: "ST-1".into(),
            name: "Inès".into(),
            role: Role::StoreAssociate,
        };
        // Never signed in online here: no offline sign-in.
        assert!(matches!(
            sign_in_offline(&session, "STAFF-1", "4321".into())
                .await
                .expect("an outcome"),
            dto::SignInOutcome::OfflineNotAllowed
        ));
        {
            let mut inner = session.lock();
            inner.roster = Some(vec![member]);
            inner.kept.insert(
                "STAFF-1".into(),
                Kept {
                    pin_hash: hash_pin("4321").expect("a hash"),
                    verified_at: Instant::now(),
                    failed: 0,
                    locked_until: None,
                },
            );
        }
        let signed = sign_in_offline(&session, "STAFF-1", "4321".into())
            .await
            .expect("an outcome");
        assert!(
            matches!(signed, dto::SignInOutcome::SignedIn { ref staff } if staff.offline),
            "{signed:?}"
        );
        for left in (1..=4).rev() {
            let wrong = sign_in_offline(&session, "STAFF-1", "0000".into())
                .await
                .expect("an outcome");
            assert!(
                matches!(wrong, dto::SignInOutcome::WrongPin { attempts_left: Some(n) } if n == left),
                "{wrong:?}"
            );
        }
        for pin in ["0000", "4321"] {
            let locked = sign_in_offline(&session, "STAFF-1", pin.into())
                .await
                .expect("an outcome");
            assert!(
                matches!(locked, dto::SignInOutcome::LockedOut { minutes: Some(5) }),
                "{locked:?}"
            );
        }
    }
}
