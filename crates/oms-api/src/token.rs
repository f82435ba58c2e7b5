//! API tokens as the server issues them and the app mints for its sidecar.

/// A fresh secret token: `aisle_` + 96 hex digits from three v4 UUIDs, i.e.
/// 366 random bits from the OS generator.
pub fn new_token() -> String {
    let mut token = String::from("aisle_");
    for _ in 0..3 {
        for byte in uuid::Uuid::new_v4().as_bytes() {
            token.push_str(&format!("{byte:02x}"));
        }
    }
    token
}
