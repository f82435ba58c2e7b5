//! Client methods for device pairing and sync (pull and push).

use super::{ClientError, OmsClient, decode};
use crate::wire::{
    ChangePage, ChangeQuery, IssuedToken, Me, NewPairingCode, PairingCode, PairingRequest,
    PushRequest, PushResponse,
};
use std::time::Duration;

impl OmsClient {
    /// `POST /v1/pairing-codes` (admin or the store's manager): a code to
    /// type on a new device.
    pub async fn create_pairing_code(
        &self,
        request: &NewPairingCode,
    ) -> Result<PairingCode, ClientError> {
        let response = self
            .post(self.url("/v1/pairing-codes")?)
            .json(request)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `POST /v1/pairing` (no token): exchanges a pairing code for the
    /// device's token. Keep the token in the OS keyring only.
    pub async fn pair(&self, request: &PairingRequest) -> Result<IssuedToken, ClientError> {
        let response = self
            .http
            .post(self.url("/v1/pairing")?)
            .json(request)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `GET /v1/me`: who this client's token says it is.
    pub async fn me(&self) -> Result<Me, ClientError> {
        let response = self
            .get(self.url("/v1/me")?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `GET /v1/changes`: one page of the change sequence after a cursor.
    pub async fn changes(&self, query: &ChangeQuery) -> Result<ChangePage, ClientError> {
        let response = self
            .get(self.url("/v1/changes")?)
            .query(query)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `POST /v1/sync/push`: a device's queued mutations. A transport error
    /// is an unknown outcome: send the same ids again later.
    pub async fn push(&self, request: &PushRequest) -> Result<PushResponse, ClientError> {
        let response = self
            .post(self.url("/v1/sync/push")?)
            .json(request)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }
}
