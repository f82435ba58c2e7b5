//! Client methods for ATP, orders, fulfilments and returns.

#[allow(unused_imports)]
use super::{ClientError, OmsClient};
