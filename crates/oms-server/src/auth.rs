//! Who is calling: API tokens, roles and store scope.
//!
//! Tokens are 256 random bits, shown once and stored only as SHA-256 hashes
//! (a fast hash is right for high-entropy secrets; a slow one would only cost
//! request latency). Store roles are scoped to one store. Pairing codes are
//! short, single-use and expire after [`PAIRING_CODE_TTL_MS`].

use oms_domain::model::LocationId;
use sha2::{Digest, Sha256};

/// How long a pairing code can be exchanged for a device token.
pub const PAIRING_CODE_TTL_MS: i64 = 10 * 60 * 1000;

pub use oms_api::wire::Role;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// Set for store roles only.
    pub store: Option<LocationId>,
    /// A human label for logs ("till 2, Lyon"), never the token.
    pub label: String,
    /// Set for a paired device's token: the id its mutations are numbered
    /// under (`POST /v1/sync/push`).
    pub device: Option<String>,
}

impl Caller {
    /// Whether this caller may see or act on `location`'s own data.
    pub fn may_access_store(&self, location: &str) -> bool {
        match &self.store {
            None => true,
            Some(store) => store.as_str() == location,
        }
    }
}

pub use oms_api::token::new_token;

/// A fresh pairing code: 10 characters from an alphabet without look-alikes
/// (no 0/O, 1/I/L), about 48 bits — enough for a single-use code that
/// expires in minutes.
pub fn new_pairing_code() -> String {
    readable_code(10)
}

/// Characters people can read out and type: no 0/O, 1/I/L.
pub(crate) const READABLE_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// `len` (at most 16) random characters of [`READABLE_ALPHABET`]. Pairing
/// codes and the random end of order numbers.
pub fn readable_code(len: usize) -> String {
    let bytes = uuid::Uuid::new_v4();
    bytes
        .as_bytes()
        .iter()
        .take(len)
        .map(|b| char::from(READABLE_ALPHABET[usize::from(*b) % READABLE_ALPHABET.len()]))
        .collect()
}

/// The stored form of a token or code.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Wrong PINs in a row before a member of staff is locked out.
pub const MAX_PIN_ATTEMPTS: i64 = 5;
/// How long a lock-out lasts.
pub const PIN_LOCKOUT_MS: i64 = 5 * 60 * 1000;

/// Whether `pin` is an acceptable staff PIN: 4 to 8 digits.
pub fn is_valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// A staff PIN's Argon2id hash (PHC string with its salt). PINs are short,
/// so unlike tokens they get a slow, salted hash. CPU-heavy: call it off
/// the async threads.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `pin` matches a hash made by [`hash_pin`] (constant time).
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(pin.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Codes are typed by people: ignore case, spaces and dashes.
pub fn normalise_pairing_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_unique_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), "aisle_".len() + 96);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), hash_secret(&b));
        assert!(!hash_secret(&a).contains(&a[6..20]));
    }

    #[test]
    fn pairing_codes_are_typable() {
        let code = new_pairing_code();
        assert_eq!(code.len(), 10);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_alphanumeric() && !"01OIL".contains(c))
        );
        let typed = format!(" {}-{} ", &code[..5].to_lowercase(), &code[5..]);
        assert_eq!(normalise_pairing_code(&typed), code);
    }

    #[test]
    fn pins_are_hashed_with_salt_and_verified() {
        assert!(is_valid_pin("0042") && is_valid_pin("12345678"));
        assert!(!is_valid_pin("123") && !is_valid_pin("12a4") && !is_valid_pin("123456789"));
        let first = hash_pin("2468").unwrap();
        let second = hash_pin("2468").unwrap();
        assert_ne!(first, second, "salted");
        assert!(!first.contains("2468"));
        assert!(verify_pin("2468", &first) && verify_pin("2468", &second));
        assert!(!verify_pin("2469", &first));
        assert!(!verify_pin("2468", "not a hash"));
    }

    #[test]
    fn store_scope() {
        let store = Caller {
            role: Role::StoreAssociate,
            store: Some(LocationId::parse("ST-LYON").unwrap()),
            label: "till".into(),
            device: None,
        };
        assert!(store.may_access_store("ST-LYON"));
        assert!(!store.may_access_store("ST-PARIS"));
        let admin = Caller {
            role: Role::Admin,
            store: None,
            label: "ops".into(),
            device: None,
        };
        assert!(admin.may_access_store("ST-PARIS"));
    }
}
