//! Client methods for device pairing and sync (pull and push).

#[allow(unused_imports)]
use super::{ClientError, OmsClient};
