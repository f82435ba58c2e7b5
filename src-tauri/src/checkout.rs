//! Checkout commands: the customer register (find or create) and the
//! order's receipt (PDF in the system viewer, or e-mail). Arguments are
//! checked here; the OMS core answers through `remote`.
//!
//! Both need the core: offline, the Cart takes the customer's details for
//! that order only (they travel with the queued order), and a queued order
//! has its receipt once synced — the errors say `backend_unavailable`.

use crate::backend::Backend;
use crate::dto;
use crate::error::{AppError, ErrorCode};

type State<'a> = tauri::State<'a, Backend>;

/// Longest search or contact text.
const MAX_TEXT_CHARS: usize = 200;

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::InvalidInput, message)
}

fn check_len(what: &str, text: &str) -> Result<(), AppError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "The {what} is limited to {MAX_TEXT_CHARS} characters."
        )));
    }
    Ok(())
}

/// A plausible e-mail address (the core checks it fully).
fn check_email(email: &str) -> Result<(), AppError> {
    check_len("e-mail address", email)?;
    let email = email.trim();
    let plausible = email
        .split_once('@')
        .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if plausible {
        Ok(())
    } else {
        Err(invalid("The e-mail address is not valid."))
    }
}

/// A contact field's text, unless empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Finds customers by the start of the name (or of a word of it), of the
/// e-mail address, or by phone digits: at least two characters.
#[tauri::command]
pub async fn search_customers(
    backend: State<'_>,
    query: String,
) -> Result<Vec<dto::CustomerHit>, AppError> {
    check_len("search", &query)?;
    let query = query.trim();
    if query.chars().count() < 2 {
        return Err(invalid("Type at least two characters."));
    }
    backend.remote().await?.search_customers(query).await
}

/// Registers a customer (name, and an e-mail address or a phone number). If
/// the e-mail address is registered already, that customer is answered
/// (`existing`) and nothing is created.
#[tauri::command]
pub async fn create_customer(
    backend: State<'_>,
    customer: dto::NewCustomerInput,
) -> Result<dto::CustomerSaved, AppError> {
    let name = customer.name.trim();
    if name.is_empty() {
        return Err(invalid("The customer's name is required."));
    }
    check_len("name", name)?;
    if given(&customer.email).is_none() && given(&customer.phone).is_none() {
        return Err(invalid("An e-mail address or a phone number is required."));
    }
    if let Some(email) = given(&customer.email) {
        check_email(email)?;
    }
    if let Some(phone) = given(&customer.phone) {
        check_len("phone number", phone)?;
    }
    backend.remote().await?.create_customer(&customer).await
}

/// Saves the order's receipt as a PDF in the app's data directory and opens
/// it in the system viewer (to print it).
#[tauri::command]
pub async fn open_receipt(
    backend: State<'_>,
    order: String,
    lang: dto::Lang,
) -> Result<dto::LabelFile, AppError> {
    let open = std::env::var_os("AISLE_NO_OPEN").is_none();
    backend
        .remote()
        .await?
        .receipt(order.trim(), lang, open)
        .await
}

/// Sends the order's receipt by e-mail: to the order's address, or to `to`.
#[tauri::command]
pub async fn email_receipt(
    backend: State<'_>,
    order: String,
    to: Option<String>,
    lang: dto::Lang,
) -> Result<dto::ReceiptSent, AppError> {
    let to = to
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if let Some(to) = &to {
        check_email(to)?;
    }
    backend
        .remote()
        .await?
        .email_receipt(order.trim(), to, lang)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked_before_sending() {
        assert!(check_email(" ana@example.com ").is_ok());
        for bad in ["", "ana", "@example.com", "ana@example", "an a@example.com"] {
            let error = check_email(bad).expect_err(bad);
            assert_eq!(error.code, ErrorCode::InvalidInput);
        }
        assert!(check_email(&format!("{}@example.com", "a".repeat(200))).is_err());
    }
}
