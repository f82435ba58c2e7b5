//! The customer register and receipts, through the OMS core (a child of
//! `remote`: it uses the same client and the same error mapping).

use super::{Remote, language};
use crate::dto;
use crate::error::{AppError, ErrorCode};
use oms_api::wire::{
    CustomerCreated, CustomerQuery, CustomerView, EmailReceipt, Language, LocationId, NewCustomer,
    ReceiptQuery,
};

/// Most customers the picker lists.
const PICKER_RESULTS: u32 = 20;

fn lang(language: Language) -> dto::Lang {
    match language {
        Language::En => dto::Lang::En,
        Language::Fr => dto::Lang::Fr,
        Language::De => dto::Lang::De,
    }
}

fn hit(view: CustomerView) -> dto::CustomerHit {
    dto::CustomerHit {
        language: lang(view.language),
        id: view.id,
        name: view.name,
        email: view.email,
        phone: view.phone,
    }
}

/// An order number as the core writes them (`O-` and letters or digits):
/// it names a file, so nothing else passes.
fn check_order_id(id: &str) -> Result<(), AppError> {
    let valid = id.len() <= 40
        && id.strip_prefix("O-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if valid {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::InvalidInput,
            "This is not an order number of the OMS core.",
        ))
    }
}

impl Remote {
    /// Customers by name, e-mail or phone (the picker).
    pub async fn search_customers(&self, q: &str) -> Result<Vec<dto::CustomerHit>, AppError> {
        let found = self.answered(
            self.client()
                .customers(&CustomerQuery {
                    q: Some(q.to_owned()),
                    limit: Some(PICKER_RESULTS),
                })
                .await,
        )?;
        Ok(found.into_iter().map(hit).collect())
    }

    /// Registers a customer, or answers the one registered with the same
    /// e-mail address.
    pub async fn create_customer(
        &self,
        input: &dto::NewCustomerInput,
    ) -> Result<dto::CustomerSaved, AppError> {
        let non_empty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let request = NewCustomer {
            name: input.name.trim().to_owned(),
            email: non_empty(&input.email),
            phone: non_empty(&input.phone),
            language: language(input.language),
        };
        Ok(
            match self.answered(self.client().create_customer(&request).await)? {
                CustomerCreated::Created(view) => dto::CustomerSaved {
                    customer: hit(view),
                    existing: false,
                },
                CustomerCreated::Existing(view) => dto::CustomerSaved {
                    customer: hit(view),
                    existing: true,
                },
            },
        )
    }

    /// Saves the order's receipt PDF under `receipts/` in the data directory
    /// (for this store, in `lang`) and opens it in the system viewer.
    pub async fn receipt(
        &self,
        order: &str,
        lang: dto::Lang,
        open: bool,
    ) -> Result<dto::LabelFile, AppError> {
        check_order_id(order)?;
        let query = ReceiptQuery {
            lang: Some(language(lang)),
            store: self.receipt_store(),
        };
        let pdf = self.answered(self.client().order_receipt(order, &query).await)?;
        let io = |e: std::io::Error| {
            AppError::new(ErrorCode::Internal, format!("cannot save the receipt: {e}"))
        };
        let dir = self.receipts_dir();
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let path = dir.join(format!("receipt-{order}.pdf"));
        tokio::fs::write(&path, pdf).await.map_err(io)?;
        let opened = open && super::open_file(&path);
        Ok(dto::LabelFile {
            path: path.display().to_string(),
            opened,
        })
    }

    /// Queues the receipt to the order's e-mail address, or to `to`.
    pub async fn email_receipt(
        &self,
        order: &str,
        to: Option<String>,
        lang: dto::Lang,
    ) -> Result<dto::ReceiptSent, AppError> {
        check_order_id(order)?;
        let request = EmailReceipt {
            to,
            lang: Some(language(lang)),
            store: self.receipt_store(),
        };
        let sent = self.answered(self.client().email_receipt(order, &request).await)?;
        Ok(dto::ReceiptSent {
            to: sent.to_email.unwrap_or_default(),
            delivery: sent.delivery,
        })
    }

    /// Receipts carry this device's store.
    fn receipt_store(&self) -> Option<LocationId> {
        LocationId::parse(self.store_id()).ok()
    }

    fn receipts_dir(&self) -> std::path::PathBuf {
        self.labels_dir.parent().map_or_else(
            || self.labels_dir.join("receipts"),
            |data| data.join("receipts"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::check_order_id;

    #[test]
    fn only_order_numbers_name_a_receipt_file() {
        assert!(check_order_id("O-7KQ2MX9A").is_ok());
        for bad in [
            "",
            "O-",
            "../etc",
            "O-../x",
            "O-AB/CD",
            "pending-3",
            "sale-1",
        ] {
            assert!(check_order_id(bad).is_err(), "{bad}");
        }
    }
}
