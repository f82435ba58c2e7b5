//! IPC commands: thin adapters from the UI to the backend.

use crate::backend::Backend;
use crate::error::{AppError, ErrorCode};
use oms_api::wire::{Page, Product, ProductQuery};

/// Longest search text accepted from the UI, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// Searches the catalogue by name, brand, SKU or barcode.
#[tauri::command]
pub async fn search_products(
    backend: tauri::State<'_, Backend>,
    query: String,
    cursor: Option<String>,
) -> Result<Page<Product>, AppError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::new(
            ErrorCode::InvalidInput,
            format!("Search text is limited to {MAX_QUERY_CHARS} characters."),
        ));
    }
    let client = backend.client().await?;
    let page = client
        .products(&ProductQuery {
            q: Some(query),
            limit: Some(50),
            cursor,
        })
        .await?;
    Ok(page)
}
