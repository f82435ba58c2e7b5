//! The retailer's network: locations, channels, periods and settings, stored
//! as the domain's own JSON documents (validated by `oms_domain::model` on the
//! way in and out), keyed for lookups and change tracking.

use super::sql::Sql;
use super::{Storage, StorageError};
use oms_domain::demo::DemoNetwork;
use oms_domain::model::{Channel, Location, Network, Period};
use sqlx::any::Any;
use sqlx::{Row, Transaction};

/// Names of the network-wide settings documents.
const SAFETY_STOCK: &str = "safety_stock";
const TRANSIT: &str = "transit";
const PRODUCT_RULES: &str = "product_rules";

pub(crate) async fn seed_network(
    tx: &mut Transaction<'static, Any>,
    demo: &DemoNetwork,
    seq: i64,
) -> Result<(), StorageError> {
    let network = &demo.network;
    for location in &network.locations {
        insert_location(tx, location, seq).await?;
    }
    for channel in &network.channels {
        let document = serde_json::to_string(channel)?;
        upsert_document(
            tx,
            "channels",
            "id",
            channel.id.as_str(),
            None,
            &document,
            seq,
        )
        .await?;
    }
    for period in &network.periods {
        let document = serde_json::to_string(period)?;
        upsert_document(tx, "periods", "name", period.name(), None, &document, seq).await?;
    }
    for (name, document) in [
        (SAFETY_STOCK, serde_json::to_string(&network.safety_stock)?),
        (TRANSIT, serde_json::to_string(&network.transit)?),
        (
            PRODUCT_RULES,
            serde_json::to_string(&network.product_rules)?,
        ),
    ] {
        upsert_document(tx, "network_settings", "name", name, None, &document, seq).await?;
    }
    Ok(())
}

async fn insert_location(
    tx: &mut Transaction<'static, Any>,
    location: &Location,
    seq: i64,
) -> Result<(), StorageError> {
    let document = serde_json::to_string(location)?;
    let kind = serde_json::to_value(location.kind)?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    upsert_document(
        tx,
        "locations",
        "id",
        location.id.as_str(),
        Some(&kind),
        &document,
        seq,
    )
    .await
}

impl Storage {
    /// The whole network, as the domain's stock index needs it.
    pub async fn load_network(&self) -> Result<Network, StorageError> {
        let mut network = Network {
            locations: self
                .documents::<Location>("SELECT document FROM locations ORDER BY id")
                .await?,
            channels: self
                .documents::<Channel>("SELECT document FROM channels ORDER BY id")
                .await?,
            periods: self
                .documents::<Period>("SELECT document FROM periods ORDER BY name")
                .await?,
            ..Network::default()
        };
        let settings = Sql::new("SELECT name, document FROM network_settings")
            .fetch_all(self.pool())
            .await?;
        for row in settings {
            let name: String = row.try_get("name")?;
            let document: String = row.try_get("document")?;
            match name.as_str() {
                SAFETY_STOCK => network.safety_stock = serde_json::from_str(&document)?,
                TRANSIT => network.transit = serde_json::from_str(&document)?,
                PRODUCT_RULES => network.product_rules = serde_json::from_str(&document)?,
                other => {
                    return Err(StorageError::Corrupt(format!(
                        "unknown network setting `{other}`"
                    )));
                }
            }
        }
        Ok(network)
    }

    /// Locations in id order, after `after`.
    pub async fn list_locations(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Location>, StorageError> {
        let mut sql = Sql::new("SELECT document FROM locations");
        if let Some(after) = after {
            sql.push(" WHERE id > ").bind(after.to_owned());
        }
        sql.push(" ORDER BY id LIMIT ").bind(i64::from(limit));
        decode_documents(sql.fetch_all(self.pool()).await?)
    }

    pub async fn location(&self, id: &str) -> Result<Option<Location>, StorageError> {
        let mut sql = Sql::new("SELECT document FROM locations WHERE id = ");
        sql.bind(id.to_owned());
        let rows: Vec<_> = sql.fetch_optional(self.pool()).await?.into_iter().collect();
        Ok(decode_documents(rows)?.into_iter().next())
    }

    pub async fn list_channels(&self) -> Result<Vec<Channel>, StorageError> {
        self.documents("SELECT document FROM channels ORDER BY id")
            .await
    }

    async fn documents<T: serde::de::DeserializeOwned>(
        &self,
        query: &str,
    ) -> Result<Vec<T>, StorageError> {
        decode_documents(Sql::new(query).fetch_all(self.pool()).await?)
    }
}

fn decode_documents<T: serde::de::DeserializeOwned>(
    rows: Vec<sqlx::any::AnyRow>,
) -> Result<Vec<T>, StorageError> {
    rows.iter()
        .map(|row| {
            let document: String = row.try_get("document")?;
            Ok(serde_json::from_str(&document)?)
        })
        .collect()
}

/// Why a network could not be replaced.
#[derive(Debug, thiserror::Error)]
pub enum NetworkWriteError {
    #[error("location `{0}` still holds stock rows: move or zero its stock before removing it")]
    LocationInUse(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for NetworkWriteError {
    fn from(error: sqlx::Error) -> Self {
        NetworkWriteError::Storage(error.into())
    }
}

impl Storage {
    /// Replaces the whole network in one transaction. The caller has checked
    /// it with the domain (`StockIndex::new`). Documents that did not change
    /// keep their change sequence number, so devices re-download nothing.
    pub async fn replace_network(&self, network: &Network) -> Result<i64, NetworkWriteError> {
        let mut tx = self.begin_write().await?;
        let seq = super::next_change_seqs(&mut tx, 1).await?;

        // Locations: refuse to drop one that still has stock.
        let existing = Sql::new("SELECT id FROM locations")
            .fetch_all(&mut **tx)
            .await?;
        for row in existing {
            let id: String = row.try_get("id")?;
            if !network.locations.iter().any(|l| l.id.as_str() == id) {
                let mut used = Sql::new("SELECT 1 AS used FROM stock_levels WHERE location_id = ");
                used.bind(id.clone()).push(" LIMIT 1");
                if used.fetch_optional(&mut **tx).await?.is_some() {
                    return Err(NetworkWriteError::LocationInUse(id));
                }
                let mut delete = Sql::new("DELETE FROM locations WHERE id = ");
                delete.bind(id);
                delete.execute(&mut **tx).await?;
            }
        }
        for location in &network.locations {
            let document = serde_json::to_string(location).map_err(StorageError::from)?;
            let kind = serde_json::to_value(location.kind)
                .map_err(StorageError::from)?
                .as_str()
                .unwrap_or_default()
                .to_owned();
            upsert_document(
                &mut tx,
                "locations",
                "id",
                location.id.as_str(),
                Some(&kind),
                &document,
                seq,
            )
            .await?;
        }
        replace_documents(
            &mut tx,
            "channels",
            "id",
            network
                .channels
                .iter()
                .map(|c| Ok((c.id.as_str().to_owned(), serde_json::to_string(c)?)))
                .collect::<Result<Vec<_>, serde_json::Error>>()
                .map_err(StorageError::from)?,
            seq,
        )
        .await?;
        replace_documents(
            &mut tx,
            "periods",
            "name",
            network
                .periods
                .iter()
                .map(|p| Ok((p.name().to_owned(), serde_json::to_string(p)?)))
                .collect::<Result<Vec<_>, serde_json::Error>>()
                .map_err(StorageError::from)?,
            seq,
        )
        .await?;
        replace_documents(
            &mut tx,
            "network_settings",
            "name",
            vec![
                (
                    SAFETY_STOCK.to_owned(),
                    serde_json::to_string(&network.safety_stock).map_err(StorageError::from)?,
                ),
                (
                    TRANSIT.to_owned(),
                    serde_json::to_string(&network.transit).map_err(StorageError::from)?,
                ),
                (
                    PRODUCT_RULES.to_owned(),
                    serde_json::to_string(&network.product_rules).map_err(StorageError::from)?,
                ),
            ],
            seq,
        )
        .await?;
        tx.commit().await?;
        Ok(seq)
    }
}

/// Deletes the documents of `table` not in `documents`, upserts the others.
async fn replace_documents(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    key_column: &str,
    documents: Vec<(String, String)>,
    seq: i64,
) -> Result<(), StorageError> {
    let existing = Sql::new(&format!("SELECT {key_column} AS k FROM {table}"))
        .fetch_all(&mut **tx)
        .await?;
    for row in existing {
        let key: String = row.try_get("k")?;
        if !documents.iter().any(|(k, _)| *k == key) {
            let mut delete = Sql::new(&format!("DELETE FROM {table} WHERE {key_column} = "));
            delete.bind(key);
            delete.execute(&mut **tx).await?;
        }
    }
    for (key, document) in &documents {
        upsert_document(tx, table, key_column, key, None, document, seq).await?;
    }
    Ok(())
}

/// Inserts or updates one document; an unchanged document keeps its number.
async fn upsert_document(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    key_column: &str,
    key: &str,
    kind: Option<&str>,
    document: &str,
    seq: i64,
) -> Result<(), StorageError> {
    let (columns, extra) = match kind {
        Some(_) => (
            format!("{key_column}, kind, document, change_seq"),
            ", kind = excluded.kind",
        ),
        None => (format!("{key_column}, document, change_seq"), ""),
    };
    let mut sql = Sql::new(&format!("INSERT INTO {table} ({columns})"));
    sql.values([()], |row, ()| {
        row.bind(key.to_owned());
        if let Some(kind) = kind {
            row.bind(kind.to_owned());
        }
        row.bind(document.to_owned()).bind(seq);
    });
    sql.push(&format!(
        " ON CONFLICT ({key_column}) DO UPDATE SET document = excluded.document, change_seq = excluded.change_seq{extra} \
         WHERE {table}.document <> excluded.document"
    ));
    sql.execute(&mut **tx).await?;
    Ok(())
}

/// One part of the network that can be replaced on its own.
#[derive(Debug, Clone)]
pub enum NetworkPart {
    Periods(Vec<Period>),
    SafetyStock(oms_domain::model::SafetyStock),
    Transit(oms_domain::model::TransitTable),
}

/// A channel's own price for a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPrice {
    pub channel: String,
    pub currency: String,
    pub amount_minor: i64,
}

impl Storage {
    /// Replaces one part of the network in one transaction (its own rows
    /// only: two parts written at once do not overwrite each other).
    pub async fn replace_network_part(&self, part: &NetworkPart) -> Result<i64, StorageError> {
        let mut tx = self.begin_write().await?;
        let seq = super::next_change_seqs(&mut tx, 1).await?;
        match part {
            NetworkPart::Periods(periods) => {
                let documents = periods
                    .iter()
                    .map(|p| Ok((p.name().to_owned(), serde_json::to_string(p)?)))
                    .collect::<Result<Vec<_>, serde_json::Error>>()?;
                replace_documents(&mut tx, "periods", "name", documents, seq).await?;
            }
            NetworkPart::SafetyStock(safety) => {
                let document = serde_json::to_string(safety)?;
                upsert_document(
                    &mut tx,
                    "network_settings",
                    "name",
                    SAFETY_STOCK,
                    None,
                    &document,
                    seq,
                )
                .await?;
            }
            NetworkPart::Transit(transit) => {
                let document = serde_json::to_string(transit)?;
                upsert_document(
                    &mut tx,
                    "network_settings",
                    "name",
                    TRANSIT,
                    None,
                    &document,
                    seq,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(seq)
    }

    /// A product's channel prices, by channel.
    pub async fn channel_prices(&self, sku: &str) -> Result<Vec<ChannelPrice>, StorageError> {
        let mut sql =
            Sql::new("SELECT channel_id, currency, amount_minor FROM channel_prices WHERE sku = ");
        sql.bind(sku.to_owned()).push(" ORDER BY channel_id");
        sql.fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(ChannelPrice {
                    channel: row.try_get("channel_id")?,
                    currency: row.try_get("currency")?,
                    amount_minor: row.try_get("amount_minor")?,
                })
            })
            .collect()
    }

    /// Sets (or with `None`, removes) a product's price on one channel; the
    /// product's change number moves so followers read it again.
    pub async fn set_channel_price(
        &self,
        sku: &str,
        channel: &str,
        price: Option<(&str, i64)>,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        let seq = super::next_change_seqs(&mut tx, 1).await?;
        match price {
            Some((currency, amount_minor)) => {
                let mut sql = Sql::new(
                    "INSERT INTO channel_prices (sku, channel_id, currency, amount_minor, change_seq)",
                );
                sql.values([()], |row, ()| {
                    row.bind(sku.to_owned())
                        .bind(channel.to_owned())
                        .bind(currency.to_owned())
                        .bind(amount_minor)
                        .bind(seq);
                });
                sql.push(
                    " ON CONFLICT (sku, channel_id) DO UPDATE SET currency = excluded.currency, \
                     amount_minor = excluded.amount_minor, change_seq = excluded.change_seq",
                );
                sql.execute(&mut **tx).await?;
            }
            None => {
                let mut sql = Sql::new("DELETE FROM channel_prices WHERE sku = ");
                sql.bind(sku.to_owned())
                    .push(" AND channel_id = ")
                    .bind(channel.to_owned());
                sql.execute(&mut **tx).await?;
            }
        }
        let mut touch = Sql::new("UPDATE products SET change_seq = ");
        touch.bind(seq).push(" WHERE sku = ").bind(sku.to_owned());
        touch.execute(&mut **tx).await?;
        tx.commit().await?;
        self.pricing.invalidate();
        Ok(())
    }
}
