//! The customer register: find or create a customer at the checkout, and
//! the link between an order and its customer.
//!
//! A customer is created only on purpose (`POST /v1/customers`), with its
//! e-mail address unique (lower-case): creating one with an address the
//! register has already answers 409 `duplicate-customer` with that
//! customer, for the till to pick instead. An order placed with
//! `customer.id` links to that customer (unknown → 404); one placed without
//! links to the registered customer with the same e-mail address, if any,
//! and otherwise stays a guest order — a placement never creates a register
//! entry, so web orders and offline orders never make duplicates.

use jiff::Timestamp;
use oms_api::wire::{Customer, CustomerView, Language, NewCustomer};

use crate::AppState;
use crate::auth::{Caller, readable_code};
use crate::orders::{OrderFailure, check_customer};
use crate::storage::{CustomerInsert, CustomerRecord, NewCustomerRow, StorageError};

/// Most results of one customer search.
pub const MAX_SEARCH_RESULTS: u32 = 50;

/// Checks a customer id's shape: `C-` and 1 to 38 letters or digits.
pub fn check_id(id: &str) -> Result<String, String> {
    let id = id.trim();
    let valid = id.len() <= 40
        && id.strip_prefix("C-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if valid {
        Ok(id.to_owned())
    } else {
        Err(format!("customer.id `{id}` is not a customer id (C-…)"))
    }
}

fn language_name(language: Language) -> &'static str {
    match language {
        Language::En => "en",
        Language::Fr => "fr",
        Language::De => "de",
    }
}

fn language_of(name: &str) -> Language {
    match name {
        "fr" => Language::Fr,
        "de" => Language::De,
        _ => Language::En,
    }
}

/// The API view of a stored customer.
pub fn view(record: CustomerRecord) -> CustomerView {
    CustomerView {
        language: language_of(&record.language),
        created_at: Timestamp::from_millisecond(record.created_at_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        id: record.id,
        name: record.name,
        email: record.email,
        phone: record.phone,
    }
}

/// Links a checked order customer to the register: by its id (which must
/// exist), else by its e-mail address (if registered).
pub async fn link(state: &AppState, mut customer: Customer) -> Result<Customer, OrderFailure> {
    match (&customer.id, &customer.email) {
        (Some(id), _) => {
            if state.storage.customer(id).await?.is_none() {
                return Err(OrderFailure::NotFound {
                    kind: "customer",
                    id: id.clone(),
                });
            }
        }
        (None, Some(email)) => {
            customer.id = state
                .storage
                .customer_by_email(email)
                .await?
                .map(|record| record.id);
        }
        (None, None) => {}
    }
    Ok(customer)
}

/// Why a customer was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{0}")]
    Invalid(String),
    #[error("a customer with this e-mail address exists: {}", .0.id)]
    Duplicate(Box<CustomerView>),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Creates a customer: name required, an e-mail address or a phone number,
/// both checked and normalised as an order's are.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: &NewCustomer,
) -> Result<CustomerView, CreateError> {
    let checked = check_customer(&Customer {
        id: None,
        name: request.name.clone(),
        email: request.email.clone().filter(|e| !e.trim().is_empty()),
        phone: request.phone.clone().filter(|p| !p.trim().is_empty()),
        language: request.language,
    })
    .map_err(|failure| CreateError::Invalid(failure.to_string()))?;
    if checked.email.is_none() && checked.phone.is_none() {
        return Err(CreateError::Invalid(
            "a customer needs an e-mail address or a phone number".into(),
        ));
    }
    let id = format!("C-{}", readable_code(8));
    let row = NewCustomerRow {
        id: &id,
        name: &checked.name,
        email: checked.email.as_deref(),
        phone: checked.phone.as_deref(),
        language: language_name(checked.language),
        created_by: &caller.label,
        now_ms: Timestamp::now().as_millisecond(),
    };
    match state.storage.insert_customer(&row).await? {
        CustomerInsert::Inserted(record) => Ok(view(record)),
        CustomerInsert::DuplicateEmail(existing) => {
            Err(CreateError::Duplicate(Box::new(view(existing))))
        }
    }
}

/// Searches the register: `q` of 2 to 200 characters.
pub async fn search(
    state: &AppState,
    q: &str,
    limit: u32,
) -> Result<Vec<CustomerView>, StorageError> {
    let lower = q.trim().to_lowercase();
    let digits: String = lower.chars().filter(char::is_ascii_digit).collect();
    // A phone search needs a few digits, and nothing but phone punctuation.
    let phone_like = digits.len() >= 3
        && lower
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
    let found = state
        .storage
        .search_customers(&lower, phone_like.then_some(digits.as_str()), limit)
        .await?;
    Ok(found.into_iter().map(view).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_are_checked() {
        assert_eq!(check_id(" C-7KQ2MX9A ").as_deref(), Ok("C-7KQ2MX9A"));
        for bad in [
            "",
            "C-",
            "7KQ2",
            "C-7K Q2",
            "C-7K%",
            &format!("C-{}", "A".repeat(39)),
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
