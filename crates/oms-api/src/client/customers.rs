//! Client methods for the customer register and receipts.

use super::{ClientError, OmsClient, decode};
use crate::wire::{
    CustomerCreated, CustomerQuery, CustomerView, DuplicateCustomer, EmailReceipt, NewCustomer,
    NotificationView, Problem, ReceiptQuery,
};
use reqwest::Url;

/// `prefix/{segment}/suffix` with the id percent-encoded as one segment.
fn id_url(
    client: &OmsClient,
    prefix: &str,
    segment: &str,
    suffix: &str,
) -> Result<Url, ClientError> {
    let mut url = client.url(prefix)?;
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl("base URL cannot have a path".into()))?;
        segments.pop_if_empty().push(segment);
        for part in suffix.split('/').filter(|p| !p.is_empty()) {
            segments.push(part);
        }
    }
    Ok(url)
}

impl OmsClient {
    /// `GET /v1/customers?q=`: by the start of the name (or of a word of
    /// it), of the e-mail address, or phone digits.
    pub async fn customers(&self, query: &CustomerQuery) -> Result<Vec<CustomerView>, ClientError> {
        let response = self
            .get(self.url("/v1/customers")?)
            .query(query)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `GET /v1/customers/{id}`.
    pub async fn customer(&self, id: &str) -> Result<CustomerView, ClientError> {
        let response = self
            .get(id_url(self, "/v1/customers", id, "")?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `POST /v1/customers`: the new customer, or the registered one with
    /// the same e-mail address (409 `duplicate-customer`, nothing written).
    pub async fn create_customer(
        &self,
        customer: &NewCustomer,
    ) -> Result<CustomerCreated, ClientError> {
        let response = self
            .post(self.url("/v1/customers")?)
            .json(customer)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        if response.status() == reqwest::StatusCode::CONFLICT {
            let bytes = response.bytes().await.map_err(ClientError::Transport)?;
            return match serde_json::from_slice::<DuplicateCustomer>(&bytes) {
                Ok(duplicate) if duplicate.problem.kind == "duplicate-customer" => {
                    Ok(CustomerCreated::Existing(duplicate.existing))
                }
                _ => match serde_json::from_slice::<Problem>(&bytes) {
                    Ok(problem) => Err(ClientError::Problem(problem)),
                    Err(e) => Err(ClientError::Unexpected {
                        status: 409,
                        message: e.to_string(),
                    }),
                },
            };
        }
        decode(response).await.map(CustomerCreated::Created)
    }

    /// `GET /v1/orders/{id}/receipt`: the A4 PDF receipt.
    pub async fn order_receipt(
        &self,
        order: &str,
        query: &ReceiptQuery,
    ) -> Result<Vec<u8>, ClientError> {
        let response = self
            .get(id_url(self, "/v1/orders", order, "receipt")?)
            .query(query)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        if response.status().is_success() {
            let bytes = response.bytes().await.map_err(ClientError::Transport)?;
            return Ok(bytes.to_vec());
        }
        match decode::<serde_json::Value>(response).await {
            Err(error) => Err(error),
            Ok(_) => Err(ClientError::Unexpected {
                status: 0,
                message: "an error status decoded as success".into(),
            }),
        }
    }

    /// `POST /v1/orders/{id}/receipt/email`: queued to the customer.
    pub async fn email_receipt(
        &self,
        order: &str,
        request: &EmailReceipt,
    ) -> Result<NotificationView, ClientError> {
        let response = self
            .post(id_url(self, "/v1/orders", order, "receipt/email")?)
            .json(request)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }
}
