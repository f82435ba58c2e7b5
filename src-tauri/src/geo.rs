//! Addresses from what a customer tells at the counter (a postal code and a
//! country), and distances between locations.

use crate::error::{AppError, ErrorCode};
use oms_api::wire::Address;
use oms_domain::model::{Coordinates, CountryCode};

/// A representative point of each demo carrier zone: ATP and orchestration
/// rank candidates by distance, and the zone decides the carrier's days.
const ZONE_POINTS: &[(&str, f64, f64)] = &[
    ("FR-IDF", 48.8566, 2.3522),
    ("FR-N", 50.6292, 3.0573),
    ("FR-W", 47.2184, -1.5536),
    ("FR-S", 43.6047, 1.4442),
    ("FR-SE", 45.7640, 4.8357),
    ("FR-E", 48.5734, 7.7521),
    ("DE-N", 53.5511, 9.9937),
    ("DE-E", 52.5200, 13.4050),
    ("DE-W", 50.9375, 6.9603),
    ("DE-S", 48.1351, 11.5820),
    ("SE", 59.3293, 18.0686),
];

/// The delivery address for a postal code in a country (FR, DE, SE).
pub fn address(postal_code: &str, country: &str) -> Result<Address, AppError> {
    let postal_code = postal_code.trim();
    let invalid = |what: &str| AppError::new(ErrorCode::InvalidInput, what.to_owned());
    let country: CountryCode = country
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| invalid("The country must be a two-letter code such as FR or DE."))?;
    let zone = oms_domain::demo::carrier_zone(country, postal_code)
        .ok_or_else(|| invalid("This postal code is not one the carriers deliver to."))?;
    let (lat, lon) = ZONE_POINTS
        .iter()
        .find(|(name, _, _)| *name == zone.as_str())
        .map(|(_, lat, lon)| (*lat, *lon))
        .unwrap_or((48.8566, 2.3522));
    let coordinates = Coordinates::new(lat, lon)
        .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(Address {
        coordinates,
        postal_code: postal_code.to_owned(),
        country,
        carrier_zone: zone,
    })
}

/// Great-circle distance, rounded to 0.1 km.
pub fn distance_km(a: Coordinates, b: Coordinates) -> f64 {
    (a.distance_km(b) * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_give_carrier_zones() {
        assert_eq!(
            address("75001", "fr").unwrap().carrier_zone.as_str(),
            "FR-IDF"
        );
        assert_eq!(
            address("10115", "DE").unwrap().carrier_zone.as_str(),
            "DE-E"
        );
        assert!(address("7500", "FR").is_err());
        assert!(address("75001", "France").is_err());
    }
}
