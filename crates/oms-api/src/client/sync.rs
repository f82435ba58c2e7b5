//! Client methods for device pairing and sync (pull and push).

use super::{ClientError, OmsClient, decode, expect_no_content};
use crate::wire::{
    ChangePage, ChangeQuery, DeviceRecord, IssuedToken, Me, NewPairingCode, NewStaff, PairingCode,
    PairingRequest, PushRequest, PushResponse, StaffMember, StaffSignIn, UnreceiptedReturn,
    UnreceiptedReturnView,
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

    /// `DELETE /v1/me`: this client's own token stops working (a device
    /// that is forgotten, a key that is rotated).
    pub async fn revoke_own_token(&self) -> Result<(), ClientError> {
        let response = self
            .delete(self.url("/v1/me")?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        expect_no_content(response).await
    }

    /// `GET /v1/locations/{store}/devices` (admin or the store's manager).
    pub async fn devices(&self, store: &str) -> Result<Vec<DeviceRecord>, ClientError> {
        let response = self
            .get(self.url(&format!("/v1/locations/{store}/devices"))?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `DELETE /v1/devices/{id}` (admin or the device's store manager): every
    /// token of a lost or retired device stops working.
    pub async fn revoke_device(&self, device_id: &str) -> Result<(), ClientError> {
        let response = self
            .delete(self.url(&format!("/v1/devices/{device_id}"))?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        expect_no_content(response).await
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

    /// `GET /v1/locations/{store}/staff`: the names shown at sign-in.
    pub async fn staff(&self, store: &str) -> Result<Vec<StaffMember>, ClientError> {
        let response = self
            .get(self.url(&format!("/v1/locations/{store}/staff"))?)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `POST /v1/locations/{store}/staff` (admin or the store's manager).
    pub async fn add_staff(
        &self,
        store: &str,
        request: &NewStaff,
    ) -> Result<StaffMember, ClientError> {
        let response = self
            .post(self.url(&format!("/v1/locations/{store}/staff"))?)
            .json(request)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `POST /v1/staff/sign-in` from a paired device: 403 for an unknown
    /// member or a wrong PIN, 429 `locked-out` after five wrong PINs.
    pub async fn staff_sign_in(&self, request: &StaffSignIn) -> Result<StaffMember, ClientError> {
        let response = self
            .post(self.url("/v1/staff/sign-in")?)
            .json(request)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }

    /// `POST /v1/locations/{store}/returns` with an `Idempotency-Key`: a
    /// return without receipt, approved by a store manager's PIN (403 for a
    /// wrong PIN or an approver who is not a manager of the store, 429
    /// `locked-out` after five wrong PINs). The same key answers the same
    /// return.
    pub async fn return_without_receipt(
        &self,
        store: &str,
        request: &UnreceiptedReturn,
        idempotency_key: &str,
    ) -> Result<UnreceiptedReturnView, ClientError> {
        let response = self
            .post(self.url(&format!("/v1/locations/{store}/returns"))?)
            .header("Idempotency-Key", idempotency_key)
            .json(request)
            .send()
            .await
            .map_err(ClientError::Transport)?;
        decode(response).await
    }
}
