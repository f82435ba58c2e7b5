//! Token and pairing-code records (hashes only).

use super::sql::Sql;
use super::{Storage, StorageError};
use crate::auth::{Caller, Role};
use oms_api::wire::StaffMember;
use oms_domain::model::LocationId;
use sqlx::Row;

/// Why a pairing code could not be exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairingRefusal {
    /// Unknown, already used or expired: the same answer for all three, so
    /// guessing learns nothing.
    Invalid,
}

impl Storage {
    /// The caller a token hash belongs to, unless unknown or revoked.
    pub async fn caller_by_token_hash(&self, hash: &str) -> Result<Option<Caller>, StorageError> {
        let mut sql = Sql::new(
            "SELECT role, store_id, label, device_id FROM api_tokens WHERE revoked_at_ms IS NULL AND token_hash = ",
        );
        sql.bind(hash.to_owned());
        let Some(row) = sql.fetch_optional(self.pool()).await? else {
            return Ok(None);
        };
        caller_from(
            &row.try_get::<String, _>("role")?,
            row.try_get::<Option<String>, _>("store_id")?,
            row.try_get("label")?,
            row.try_get("device_id")?,
        )
        .map(Some)
    }

    /// Records a token's hash. Idempotent for the same hash (the bootstrap
    /// token is re-registered at every start).
    pub async fn insert_token(
        &self,
        hash: &str,
        caller: &Caller,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut sql =
            Sql::new("INSERT INTO api_tokens (token_hash, role, store_id, label, created_at_ms)");
        sql.values([()], |row, ()| {
            row.bind(hash.to_owned())
                .bind(caller.role.as_str())
                .bind(caller.store.as_ref().map(|s| s.as_str().to_owned()))
                .bind(caller.label.clone())
                .bind(now_ms);
        });
        sql.push(" ON CONFLICT (token_hash) DO NOTHING");
        self.execute_write(sql).await?;
        Ok(())
    }

    pub async fn insert_pairing_code(
        &self,
        code_hash: &str,
        store: &str,
        role: Role,
        created_by: &str,
        expires_at_ms: i64,
    ) -> Result<(), StorageError> {
        let mut sql = Sql::new(
            "INSERT INTO pairing_codes (code_hash, store_id, role, created_by, expires_at_ms)",
        );
        sql.values([()], |row, ()| {
            row.bind(code_hash.to_owned())
                .bind(store.to_owned())
                .bind(role.as_str())
                .bind(created_by.to_owned())
                .bind(expires_at_ms);
        });
        self.execute_write(sql).await?;
        Ok(())
    }

    /// Uses a pairing code once and records the device token it buys, in one
    /// transaction: two devices racing with the same code get one token.
    pub async fn redeem_pairing_code(
        &self,
        code_hash: &str,
        token_hash: &str,
        device_label: &str,
        device_id: &str,
        now_ms: i64,
    ) -> Result<Result<Caller, PairingRefusal>, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut claim = Sql::new("UPDATE pairing_codes SET used_at_ms = ");
        claim
            .bind(now_ms)
            .push(" WHERE used_at_ms IS NULL AND expires_at_ms > ")
            .bind(now_ms)
            .push(" AND code_hash = ")
            .bind(code_hash.to_owned())
            .push(" RETURNING store_id, role");
        let Some(row) = claim.fetch_optional(&mut **tx).await? else {
            return Ok(Err(PairingRefusal::Invalid));
        };
        let caller = caller_from(
            &row.try_get::<String, _>("role")?,
            Some(row.try_get("store_id")?),
            device_label.to_owned(),
            Some(device_id.to_owned()),
        )?;
        let store = caller.store.as_ref().map(|s| s.as_str().to_owned());
        let mut insert = Sql::new(
            "INSERT INTO api_tokens (token_hash, role, store_id, label, created_at_ms, device_id)",
        );
        insert.values([()], |r, ()| {
            r.bind(token_hash.to_owned())
                .bind(caller.role.as_str())
                .bind(store.clone())
                .bind(caller.label.clone())
                .bind(now_ms)
                .bind(device_id.to_owned());
        });
        insert.execute(&mut **tx).await?;
        let mut device =
            Sql::new("INSERT INTO devices (device_id, store_id, label, created_at_ms)");
        device.values([()], |r, ()| {
            r.bind(device_id.to_owned())
                .bind(store.clone().unwrap_or_default())
                .bind(caller.label.clone())
                .bind(now_ms);
        });
        device.execute(&mut **tx).await?;
        tx.commit().await?;
        Ok(Ok(caller))
    }
}

/// A device and whether it still holds a working token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub device_id: String,
    pub store: String,
    pub label: String,
    pub paired_at_ms: i64,
    pub active: bool,
}

impl Storage {
    /// Revokes the token with this hash, if it still works. Returns whether
    /// it did.
    pub async fn revoke_token(&self, token_hash: &str, now_ms: i64) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE api_tokens SET revoked_at_ms = ");
        sql.bind(now_ms)
            .push(" WHERE revoked_at_ms IS NULL AND token_hash = ")
            .bind(token_hash.to_owned())
            .push(" RETURNING token_hash");
        let revoked = sql.fetch_optional(&mut **tx).await?.is_some();
        tx.commit().await?;
        Ok(revoked)
    }

    /// The paired devices of `store`, most recent first.
    pub async fn devices_of(&self, store: &str) -> Result<Vec<DeviceRow>, StorageError> {
        let mut sql = Sql::new(DEVICE_SELECT);
        sql.push("d.store_id = ");
        sql.bind(store.to_owned())
            .push(" ORDER BY d.created_at_ms DESC, d.device_id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(device_from_row)
            .collect()
    }

    /// One device, if known.
    pub async fn device(&self, device_id: &str) -> Result<Option<DeviceRow>, StorageError> {
        let mut sql = Sql::new(DEVICE_SELECT);
        sql.push("d.device_id = ");
        sql.bind(device_id.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(device_from_row)
            .transpose()
    }

    /// Revokes every working token of a device. Returns their hashes (for
    /// this instance's token cache to forget them at once).
    pub async fn revoke_device(
        &self,
        device_id: &str,
        now_ms: i64,
    ) -> Result<Vec<String>, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut sql = Sql::new("UPDATE api_tokens SET revoked_at_ms = ");
        sql.bind(now_ms)
            .push(" WHERE revoked_at_ms IS NULL AND device_id = ")
            .bind(device_id.to_owned())
            .push(" RETURNING token_hash");
        let hashes = sql
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| row.try_get("token_hash"))
            .collect::<Result<Vec<String>, _>>()?;
        tx.commit().await?;
        Ok(hashes)
    }
}

/// A device's columns and whether a token of it still works, up to the
/// `WHERE` (read by [`device_from_row`]).
const DEVICE_SELECT: &str = "SELECT d.device_id, d.store_id, d.label, d.created_at_ms, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM api_tokens t WHERE t.device_id = d.device_id \
     AND t.revoked_at_ms IS NULL) THEN 1 ELSE 0 END AS BIGINT) AS active \
     FROM devices d WHERE ";

fn device_from_row(row: &sqlx::any::AnyRow) -> Result<DeviceRow, StorageError> {
    Ok(DeviceRow {
        device_id: row.try_get("device_id")?,
        store: row.try_get("store_id")?,
        label: row.try_get("label")?,
        paired_at_ms: row.try_get("created_at_ms")?,
        active: row.try_get::<i64, _>("active")? != 0,
    })
}

fn caller_from(
    role: &str,
    store: Option<String>,
    label: String,
    device: Option<String>,
) -> Result<Caller, StorageError> {
    let role =
        Role::parse(role).ok_or_else(|| StorageError::Corrupt(format!("unknown role `{role}`")))?;
    let store = store
        .map(|s| LocationId::parse(s).map_err(|e| StorageError::Corrupt(e.to_string())))
        .transpose()?;
    Ok(Caller {
        role,
        store,
        label,
        device,
    })
}

/// A member of staff as sign-in reads them.
#[derive(Debug, Clone)]
pub struct StaffCredentials {
    pub member: StaffMember,
    pub pin_hash: String,
    /// Wrong PINs in a row, this attempt included.
    pub attempts: i64,
}

/// Why a sign-in attempt was not even checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInRefusal {
    Unknown,
    LockedUntil(i64),
}

impl Storage {
    pub async fn insert_staff(
        &self,
        member: &StaffMember,
        pin_hash: &str,
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        let mut sql =
            Sql::new("INSERT INTO staff (id, store_id, name, role, pin_hash, created_at_ms)");
        sql.values([()], |row, ()| {
            row.bind(member.id.clone())
                .bind(member.store.clone())
                .bind(member.name.clone())
                .bind(member.role.as_str())
                .bind(pin_hash.to_owned())
                .bind(now_ms);
        });
        sql.execute(&mut **tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One member of a store's staff (`None`: not of this store).
    pub async fn staff_member(
        &self,
        store: &str,
        staff_id: &str,
    ) -> Result<Option<StaffMember>, StorageError> {
        let mut sql = Sql::new("SELECT id, store_id, name, role FROM staff WHERE id = ");
        sql.bind(staff_id.to_owned())
            .push(" AND store_id = ")
            .bind(store.to_owned());
        sql.fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(staff_from_row)
            .transpose()
    }

    /// A store's returns without receipt (their answers), oldest first.
    pub async fn store_returns_of(&self, store: &str) -> Result<Vec<String>, StorageError> {
        let mut sql = Sql::new("SELECT document FROM store_returns WHERE location_id = ");
        sql.bind(store.to_owned())
            .push(" ORDER BY received_at_ms, id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| Ok(row.try_get("document")?))
            .collect()
    }

    /// Whether any member of staff exists (the demo seeds some only once).
    pub async fn has_staff(&self) -> Result<bool, StorageError> {
        let sql = Sql::new("SELECT id FROM staff LIMIT 1");
        Ok(sql.fetch_optional(self.pool()).await?.is_some())
    }

    /// Adds many members at once, in one transaction (the demo's staff).
    pub async fn insert_staff_batch(
        &self,
        members: &[(StaffMember, String)],
        now_ms: i64,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        for chunk in members.chunks(200) {
            let mut sql =
                Sql::new("INSERT INTO staff (id, store_id, name, role, pin_hash, created_at_ms)");
            sql.values(chunk, |row, (member, pin_hash)| {
                row.bind(member.id.clone())
                    .bind(member.store.clone())
                    .bind(member.name.clone())
                    .bind(member.role.as_str())
                    .bind(pin_hash.clone())
                    .bind(now_ms);
            });
            sql.execute(&mut **tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A store's staff, by name.
    pub async fn staff_of(&self, store: &str) -> Result<Vec<StaffMember>, StorageError> {
        let mut sql = Sql::new("SELECT id, store_id, name, role FROM staff WHERE store_id = ");
        sql.bind(store.to_owned()).push(" ORDER BY name, id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(staff_from_row)
            .collect()
    }

    /// Counts a sign-in attempt *before* the PIN is checked (so parallel
    /// guesses cannot outrun the lock-out) and returns what to check it
    /// against; a member at `max_attempts` is locked for `lockout_ms`.
    pub async fn begin_sign_in(
        &self,
        store: &str,
        staff_id: &str,
        max_attempts: i64,
        lockout_ms: i64,
        now_ms: i64,
    ) -> Result<Result<StaffCredentials, SignInRefusal>, StorageError> {
        let mut tx = self.begin_write().await?;
        let mut read = Sql::new("SELECT locked_until_ms FROM staff WHERE id = ");
        read.bind(staff_id.to_owned())
            .push(" AND store_id = ")
            .bind(store.to_owned());
        let Some(row) = read.fetch_optional(&mut **tx).await? else {
            return Ok(Err(SignInRefusal::Unknown));
        };
        if let Some(until) = row.try_get::<Option<i64>, _>("locked_until_ms")?
            && until > now_ms
        {
            return Ok(Err(SignInRefusal::LockedUntil(until)));
        }
        let mut count = Sql::new(
            "UPDATE staff SET failed_attempts = CASE WHEN locked_until_ms IS NOT NULL THEN 1 ELSE failed_attempts + 1 END, locked_until_ms = CASE WHEN failed_attempts + 1 >= ",
        );
        count
            .bind(max_attempts)
            .push(" AND locked_until_ms IS NULL THEN ")
            .bind(now_ms + lockout_ms)
            .push(" ELSE NULL END WHERE id = ")
            .bind(staff_id.to_owned())
            .push(" RETURNING id, store_id, name, role, pin_hash, failed_attempts");
        let row = count.fetch_one(&mut **tx).await?;
        tx.commit().await?;
        Ok(Ok(StaffCredentials {
            member: staff_from_row(&row)?,
            pin_hash: row.try_get("pin_hash")?,
            attempts: row.try_get("failed_attempts")?,
        }))
    }

    /// A right PIN: the count of wrong ones starts again.
    pub async fn signed_in(&self, staff_id: &str) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        let mut sql =
            Sql::new("UPDATE staff SET failed_attempts = 0, locked_until_ms = NULL WHERE id = ");
        sql.bind(staff_id.to_owned());
        sql.execute(&mut **tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn staff_from_row(row: &sqlx::any::AnyRow) -> Result<StaffMember, StorageError> {
    let role: String = row.try_get("role")?;
    Ok(StaffMember {
        id: row.try_get("id")?,
        store: row.try_get("store_id")?,
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StorageError::Corrupt(format!("unknown role `{role}`")))?,
    })
}
