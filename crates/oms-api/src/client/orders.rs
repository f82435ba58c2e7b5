//! Client methods for the catalogue, network, stock, ATP, orders,
//! fulfilments and returns.

use super::{ClientError, OmsClient, decode};
use crate::wire::{
    CartAtp, CartAtpRequest, Channel, FulfilmentStep, FulfilmentView, Language, Location,
    NotificationView, OrderQuery, OrderSummary, OrderView, Page, PlaceOrder, Product, ProductAtp,
    ProductAtpRequest, QueueQuery, ReceiveReturn, ReturnView, SkuStock, StepResult,
};
use reqwest::Url;

/// `prefix/segment/suffix`, the segment (an id) percent-encoded as one path
/// segment.
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

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &OmsClient,
    url: Url,
) -> Result<T, ClientError> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(ClientError::Transport)?;
    decode(response).await
}

async fn post_json<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    client: &OmsClient,
    url: Url,
    body: &B,
) -> Result<T, ClientError> {
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(ClientError::Transport)?;
    decode(response).await
}

/// `decode` never succeeds on an error status; this keeps the types honest.
fn unreachable_success() -> Result<Vec<u8>, ClientError> {
    Err(ClientError::Unexpected {
        status: 0,
        message: "an error status decoded as success".into(),
    })
}

impl OmsClient {
    /// `GET /v1/products/{sku}`.
    pub async fn product(&self, sku: &str) -> Result<Product, ClientError> {
        get_json(self, id_url(self, "/v1/products", sku, "")?).await
    }

    /// `GET /v1/stock/{sku}`: per-location levels and per-channel unified stock.
    pub async fn sku_stock(&self, sku: &str) -> Result<SkuStock, ClientError> {
        get_json(self, id_url(self, "/v1/stock", sku, "")?).await
    }

    /// `GET /v1/locations` (the first 200: networks are far smaller).
    pub async fn locations(&self) -> Result<Page<Location>, ClientError> {
        let mut url = self.url("/v1/locations")?;
        url.query_pairs_mut().append_pair("limit", "200");
        get_json(self, url).await
    }

    /// `GET /v1/channels`.
    pub async fn channels(&self) -> Result<Page<Channel>, ClientError> {
        let mut url = self.url("/v1/channels")?;
        url.query_pairs_mut().append_pair("limit", "200");
        get_json(self, url).await
    }

    /// `POST /v1/atp/product`.
    pub async fn product_atp(
        &self,
        request: &ProductAtpRequest,
    ) -> Result<ProductAtp, ClientError> {
        post_json(self, self.url("/v1/atp/product")?, request).await
    }

    /// `POST /v1/atp/cart`.
    pub async fn cart_atp(&self, request: &CartAtpRequest) -> Result<CartAtp, ClientError> {
        post_json(self, self.url("/v1/atp/cart")?, request).await
    }

    /// `POST /v1/orders` with an `Idempotency-Key`: the same key with the same
    /// body answers the same order (a retry never places a second one).
    pub async fn place_order(
        &self,
        order: &PlaceOrder,
        idempotency_key: &str,
    ) -> Result<OrderView, ClientError> {
        let response = self
            .post(self.url("/v1/orders")?)
            .header("Idempotency-Key", idempotency_key)
            .json(order)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `GET /v1/orders?q=`: by number, e-mail, phone or name.
    pub async fn search_orders(
        &self,
        query: &OrderQuery,
    ) -> Result<Page<OrderSummary>, ClientError> {
        let response = self
            .get(self.url("/v1/orders")?)
            .query(query)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `GET /v1/orders/{id}?lang=`: with traces and their explanation.
    pub async fn order(&self, id: &str, lang: Option<Language>) -> Result<OrderView, ClientError> {
        let mut url = id_url(self, "/v1/orders", id, "")?;
        if let Some(lang) = lang {
            let lang = match lang {
                Language::En => "en",
                Language::Fr => "fr",
                Language::De => "de",
            };
            url.query_pairs_mut().append_pair("lang", lang);
        }
        get_json(self, url).await
    }

    /// `GET /v1/orders/{id}/notifications`.
    pub async fn order_notifications(
        &self,
        id: &str,
    ) -> Result<Vec<NotificationView>, ClientError> {
        get_json(self, id_url(self, "/v1/orders", id, "notifications")?).await
    }

    /// `POST /v1/orders/{id}/returns`.
    pub async fn receive_return(
        &self,
        order: &str,
        request: &ReceiveReturn,
    ) -> Result<ReturnView, ClientError> {
        post_json(self, id_url(self, "/v1/orders", order, "returns")?, request).await
    }

    /// `GET /v1/fulfilments/{id}`.
    pub async fn fulfilment(&self, id: &str) -> Result<FulfilmentView, ClientError> {
        get_json(self, id_url(self, "/v1/fulfilments", id, "")?).await
    }

    /// `POST /v1/fulfilments/{id}/steps`.
    pub async fn fulfilment_step(
        &self,
        id: &str,
        step: &FulfilmentStep,
    ) -> Result<StepResult, ClientError> {
        post_json(self, id_url(self, "/v1/fulfilments", id, "steps")?, step).await
    }

    /// `GET /v1/fulfilments/{id}/label`: the 4×6 in PDF shipping label.
    pub async fn fulfilment_label(&self, id: &str) -> Result<Vec<u8>, ClientError> {
        let response = self
            .get(id_url(self, "/v1/fulfilments", id, "label")?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        if response.status().is_success() {
            let bytes = response.bytes().await.map_err(ClientError::Transport)?;
            return Ok(bytes.to_vec());
        }
        // Not a success: decode answers the server's problem.
        decode::<serde_json::Value>(response)
            .await
            .and_then(|_| unreachable_success())
    }

    /// `GET /v1/locations/{id}/fulfilments`: the store's queue by due time.
    pub async fn location_fulfilments(
        &self,
        location: &str,
        query: &QueueQuery,
    ) -> Result<Page<FulfilmentView>, ClientError> {
        let response = self
            .get(id_url(self, "/v1/locations", location, "fulfilments")?)
            .query(query)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }
}
