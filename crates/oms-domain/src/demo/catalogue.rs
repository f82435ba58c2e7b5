//! The demo catalogue: a home-and-living retailer's products.

use super::DemoSize;
use crate::rng::SplitMix64;

/// One demo product, as plain data (the server stores it; the domain's own
/// types are built from it where rules need them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoProduct {
    pub sku: String,
    pub name: String,
    pub brand: String,
    /// `standard`, `bulky` or `fragile`.
    pub product_type: &'static str,
    /// EAN-13 barcodes (in the 200–299 "internal use" GS1 prefix range, so
    /// they can never clash with a real product).
    pub barcodes: Vec<String>,
    /// Price in euro cents.
    pub price_eur_minor: i64,
}

const BRANDS: &[&str] = &[
    "Nordvik",
    "Maison Clair",
    "Holzwerk",
    "Lumen & Co",
    "Terracotta",
    "Velvetine",
    "Alpenhaus",
    "Brume",
    "Oakridge",
    "Sablon",
    "Kiefer",
    "Atelier Nove",
];

/// (category noun, product type, price range in euro cents)
const FAMILIES: &[(&str, &str, (u64, u64))] = &[
    ("Cushion Cover", "standard", (990, 3990)),
    ("Throw Blanket", "standard", (1990, 8990)),
    ("Bath Towel", "standard", (790, 2990)),
    ("Table Lamp", "fragile", (2490, 14990)),
    ("Wine Glass Set", "fragile", (1490, 5990)),
    ("Ceramic Vase", "fragile", (1290, 7990)),
    ("Dinner Plate Set", "fragile", (1990, 8990)),
    ("Scented Candle", "standard", (590, 2990)),
    ("Wall Mirror", "fragile", (3990, 19990)),
    ("Bookshelf", "bulky", (7990, 39990)),
    ("Armchair", "bulky", (19990, 89990)),
    ("Dining Chair", "bulky", (5990, 24990)),
    ("Rug", "bulky", (4990, 49990)),
    ("Storage Basket", "standard", (990, 4990)),
    ("Bed Linen Set", "standard", (3990, 14990)),
    ("Coffee Mug", "fragile", (490, 1990)),
    ("Picture Frame", "standard", (690, 3990)),
    ("Curtain Pair", "standard", (2990, 12990)),
];

const MATERIALS: &[&str] = &[
    "Linen",
    "Cotton",
    "Oak",
    "Walnut",
    "Stoneware",
    "Glass",
    "Wool",
    "Rattan",
    "Velvet",
    "Marble",
    "Bamboo",
    "Brass",
];

const COLOURS: &[&str] = &[
    "Sand",
    "Charcoal",
    "Ivory",
    "Sage",
    "Terracotta",
    "Navy",
    "Ochre",
    "Stone",
    "Blush",
    "Forest",
];

/// The demo catalogue for a seed and size. Same inputs, same output.
pub fn catalogue(seed: u64, size: DemoSize) -> Vec<DemoProduct> {
    let mut rng = SplitMix64::new(seed ^ 0xCA7A_1065);
    (0..size.sku_count())
        .map(|index| product(&mut rng, index))
        .collect()
}

fn product(rng: &mut SplitMix64, index: usize) -> DemoProduct {
    let brand = *rng.pick(BRANDS);
    let (noun, product_type, (low, high)) = *rng.pick(FAMILIES);
    let material = *rng.pick(MATERIALS);
    let colour = *rng.pick(COLOURS);
    // Prices end in 0 or 9 cents, like shelf prices do.
    let price = rng.between(low, high) / 10 * 10 + if rng.chance(70) { 9 } else { 0 };
    let mut barcodes = vec![ean13(200_000_000_000 + index as u64 * 10)];
    if rng.chance(10) {
        // Some products carry a second barcode (an older packaging).
        barcodes.push(ean13(200_000_000_000 + index as u64 * 10 + 1));
    }
    DemoProduct {
        sku: format!("SKU-{index:06}"),
        name: format!("{brand} {material} {noun} {colour}"),
        brand: brand.to_owned(),
        product_type,
        barcodes,
        price_eur_minor: price as i64,
    }
}

/// An EAN-13 from its first twelve digits (`body` < 10^12).
fn ean13(body: u64) -> String {
    let digits = format!("{body:012}");
    let check = ean13_check_digit(&digits);
    format!("{digits}{check}")
}

/// The GS1 check digit of the first twelve digits of an EAN-13.
pub fn ean13_check_digit(first_twelve: &str) -> u32 {
    let sum: u32 = first_twelve
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        assert_eq!(catalogue(7, DemoSize::Small), catalogue(7, DemoSize::Small));
        assert_ne!(catalogue(7, DemoSize::Small), catalogue(8, DemoSize::Small));
    }

    #[test]
    fn sizes_and_unique_identifiers() {
        let products = catalogue(1, DemoSize::Small);
        assert_eq!(products.len(), 10_000);
        let skus: std::collections::HashSet<_> = products.iter().map(|p| &p.sku).collect();
        assert_eq!(skus.len(), products.len());
        let barcodes: std::collections::HashSet<_> =
            products.iter().flat_map(|p| p.barcodes.iter()).collect();
        assert_eq!(
            barcodes.len(),
            products.iter().map(|p| p.barcodes.len()).sum::<usize>()
        );
    }

    #[test]
    fn barcodes_are_valid_ean13() {
        // A known real-world EAN-13: 4006381333931.
        assert_eq!(ean13_check_digit("400638133393"), 1);
        for product in catalogue(3, DemoSize::Small).iter().take(500) {
            for code in &product.barcodes {
                assert_eq!(code.len(), 13);
                let check = ean13_check_digit(&code[..12]);
                assert_eq!(code[12..].parse::<u32>().unwrap(), check);
            }
        }
    }

    #[test]
    fn prices_are_positive_shelf_prices() {
        for product in catalogue(5, DemoSize::Small) {
            assert!(product.price_eur_minor > 0);
            assert!(matches!(product.price_eur_minor % 10, 0 | 9));
        }
    }
}
