//! Receipts: a printable A4 PDF of an order, and the same receipt as a
//! message for the customer.
//!
//! [`render_receipt`] prints the store, the date, the order number — also as
//! a Code 128 barcode (the label's encoder), so the till scans it at a
//! return — the lines with quantities and prices, discounts, shipping and
//! total, the delivery method with each part's expected date, units that
//! could not be served, and the payment. Text uses the built-in Helvetica in
//! WinAnsi encoding like the label; a character the font lacks prints as
//! `?` (a receipt must print whatever a customer is called). Long texts are
//! cut with `…`; many lines flow onto further pages. The output is
//! deterministic: same input, same bytes.

use oms_api::wire::Language;
use oms_domain::model::DeliveryMethod;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::label::{LabelError, barcode_modules, text_width, win_ansi};

/// A4 in PDF points.
pub const PAGE_WIDTH_PT: f32 = 595.0;
pub const PAGE_HEIGHT_PT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const TOP: f32 = PAGE_HEIGHT_PT - 50.0;
const BOTTOM: f32 = 60.0;
const BAR_HEIGHT: f32 = 48.0;
const MODULE_WIDTH: f32 = 1.2;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// One line of the receipt, priced and formatted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiptLine {
    pub sku: String,
    /// The product's name (empty when the catalogue lacks it).
    pub name: String,
    pub quantity: u32,
    pub unit_price: String,
    pub amount: String,
}

/// Everything printed on a receipt, already formatted in its language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiptInput {
    pub language: Language,
    pub store: String,
    /// When the order was placed, in the store's time zone.
    pub date: String,
    /// The order number, encoded in the barcode too.
    pub order: String,
    pub customer: String,
    pub lines: Vec<ReceiptLine>,
    /// `(code, amount)` of each discount.
    pub discounts: Vec<(String, String)>,
    pub shipping: String,
    pub total: String,
    pub delivery: String,
    /// One sentence per fulfilment: where from, expected when.
    pub fulfilments: Vec<String>,
    /// One sentence per unit count nobody could serve.
    pub unservable: Vec<String>,
    /// How it is paid, and where the payment stands.
    pub payment: String,
}

/// The fixed words of a receipt.
pub struct Words {
    pub title: &'static str,
    pub order: &'static str,
    pub date: &'static str,
    pub customer: &'static str,
    pub item: &'static str,
    pub quantity: &'static str,
    pub unit_price: &'static str,
    pub amount: &'static str,
    pub discount: &'static str,
    pub shipping: &'static str,
    pub total: &'static str,
    pub delivery: &'static str,
    pub payment: &'static str,
    pub not_served: &'static str,
    pub scan: &'static str,
    pub expected: &'static str,
    pub paid_at_till: &'static str,
    pub payment_link: &'static str,
    pub subject: &'static str,
    pub greeting: &'static str,
    pub attached: &'static str,
}

pub fn words(language: Language) -> Words {
    match language {
        Language::En => Words {
            title: "Receipt",
            order: "Order",
            date: "Date",
            customer: "Customer",
            item: "Item",
            quantity: "Qty",
            unit_price: "Unit price",
            amount: "Amount",
            discount: "Discount",
            shipping: "Shipping",
            total: "Total",
            delivery: "Delivery",
            payment: "Payment",
            not_served: "Not available",
            scan: "Show this code for a return or an exchange.",
            expected: "expected",
            paid_at_till: "Paid at the till",
            payment_link: "Payment link",
            subject: "Your receipt for order",
            greeting: "Hello",
            attached: "Your receipt is attached as a PDF.",
        },
        Language::Fr => Words {
            title: "Ticket de caisse",
            order: "Commande",
            date: "Date",
            customer: "Client",
            item: "Article",
            quantity: "Qté",
            unit_price: "Prix unitaire",
            amount: "Montant",
            discount: "Remise",
            shipping: "Frais de livraison",
            total: "Total",
            delivery: "Mode de livraison",
            payment: "Paiement",
            not_served: "Indisponible",
            scan: "Présentez ce code pour un retour ou un échange.",
            expected: "prévu le",
            paid_at_till: "Payé en caisse",
            payment_link: "Lien de paiement",
            subject: "Votre ticket de caisse pour la commande",
            greeting: "Bonjour",
            attached: "Votre ticket de caisse est joint en PDF.",
        },
        Language::De => Words {
            title: "Kassenbeleg",
            order: "Bestellung",
            date: "Datum",
            customer: "Kunde",
            item: "Artikel",
            quantity: "Menge",
            unit_price: "Einzelpreis",
            amount: "Betrag",
            discount: "Rabatt",
            shipping: "Versandkosten",
            total: "Summe",
            delivery: "Lieferart",
            payment: "Zahlung",
            not_served: "Nicht lieferbar",
            scan: "Zeigen Sie diesen Code bei Rückgabe oder Umtausch vor.",
            expected: "erwartet am",
            paid_at_till: "An der Kasse bezahlt",
            payment_link: "Zahlungslink",
            subject: "Ihr Kassenbeleg zur Bestellung",
            greeting: "Hallo",
            attached: "Ihr Kassenbeleg liegt als PDF bei.",
        },
    }
}

/// A delivery method in words.
pub fn delivery_name(method: DeliveryMethod, language: Language) -> &'static str {
    use DeliveryMethod as D;
    use Language as L;
    match (language, method) {
        (L::En, D::HomeDelivery) => "Home delivery",
        (L::En, D::PickupPoint) => "Pickup point",
        (L::En, D::ClickAndCollect) => "Click & collect",
        (L::En, D::ExpressClickAndCollect) => "Express click & collect",
        (L::Fr, D::HomeDelivery) => "Livraison à domicile",
        (L::Fr, D::PickupPoint) => "Point relais",
        (L::Fr, D::ClickAndCollect) => "Retrait en magasin",
        (L::Fr, D::ExpressClickAndCollect) => "Retrait express en magasin",
        (L::De, D::HomeDelivery) => "Lieferung nach Hause",
        (L::De, D::PickupPoint) => "Abholstation",
        (L::De, D::ClickAndCollect) => "Click & Collect",
        (L::De, D::ExpressClickAndCollect) => "Express Click & Collect",
    }
}

/// Text in WinAnsi; characters the font lacks become `?`, controls spaces.
fn encode(text: &str) -> Vec<u8> {
    text.trim()
        .chars()
        .map(|ch| {
            if ch.is_control() {
                b' '
            } else {
                win_ansi(ch).unwrap_or(b'?')
            }
        })
        .collect()
}

/// `text` cut (with `…`) to fit `width` at `size`.
fn fit(text: &str, size: f32, width: f32) -> Vec<u8> {
    let mut bytes = encode(text);
    if text_width(&bytes, size) <= width {
        return bytes;
    }
    while !bytes.is_empty() && text_width(&bytes, size) + text_width(&[0x85], size) > width {
        bytes.pop();
    }
    bytes.push(0x85);
    bytes
}

/// Pages being drawn, top to bottom.
struct Pages {
    done: Vec<Content>,
    current: Content,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Self {
            done: Vec::new(),
            current: Content::new(),
            y: TOP,
        }
    }

    /// Moves down by `height`, starting a page first when it does not fit.
    fn advance(&mut self, height: f32) -> f32 {
        if self.y - height < BOTTOM {
            let full = std::mem::replace(&mut self.current, Content::new());
            self.done.push(full);
            self.y = TOP;
        }
        self.y -= height;
        self.y
    }

    fn text(&mut self, font: Name<'_>, size: f32, x: f32, y: f32, text: &[u8]) {
        self.current
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(text))
            .end_text();
    }

    /// A line of text at the left margin.
    fn line(&mut self, bold: bool, size: f32, text: &str) {
        let y = self.advance(size * 1.45);
        let bytes = fit(text, size, PAGE_WIDTH_PT - 2.0 * MARGIN);
        self.text(if bold { BOLD } else { REGULAR }, size, MARGIN, y, &bytes);
    }

    /// A label on the left and a value on the right.
    fn pair(&mut self, bold: bool, size: f32, label: &str, value: &str) {
        let y = self.advance(size * 1.5);
        let font = if bold { BOLD } else { REGULAR };
        let value = encode(value);
        let right = PAGE_WIDTH_PT - MARGIN;
        // Helvetica Bold runs up to ~8 % wider than the regular widths.
        let widen = if bold { 1.08 } else { 1.0 };
        let value_x = right - text_width(&value, size) * widen;
        let label = fit(label, size, value_x - MARGIN - 10.0);
        self.text(font, size, MARGIN, y, &label);
        self.text(font, size, value_x, y, &value);
    }

    fn rule(&mut self) {
        let y = self.advance(8.0) + 4.0;
        self.current
            .set_line_width(0.6)
            .move_to(MARGIN, y)
            .line_to(PAGE_WIDTH_PT - MARGIN, y)
            .stroke();
    }

    fn gap(&mut self, height: f32) {
        self.advance(height);
    }

    /// Item, quantity, unit price, amount: one row of the lines' table.
    fn row(&mut self, bold: bool, cells: [&str; 4]) {
        let size = 9.5;
        let y = self.advance(size * 1.55);
        let font = if bold { BOLD } else { REGULAR };
        let item = fit(cells[0], size, 300.0);
        self.text(font, size, MARGIN, y, &item);
        let widen = if bold { 1.08 } else { 1.0 };
        for (text, right) in [(cells[1], 395.0), (cells[2], 475.0), (cells[3], 545.0)] {
            let bytes = encode(text);
            let x = right - text_width(&bytes, size) * widen;
            self.text(font, size, x, y, &bytes);
        }
    }

    /// The barcode's bars at the left margin, `modules` wide.
    fn barcode(&mut self, modules: &[u8]) {
        let y = self.advance(BAR_HEIGHT + 6.0);
        self.current.set_fill_gray(0.0);
        let mut i = 0;
        while i < modules.len() {
            if modules[i] == 1 {
                let run = modules[i..].iter().take_while(|&&m| m == 1).count();
                self.current.rect(
                    MARGIN + 10.0 * MODULE_WIDTH + i as f32 * MODULE_WIDTH,
                    y,
                    run as f32 * MODULE_WIDTH,
                    BAR_HEIGHT,
                );
                i += run;
            } else {
                i += 1;
            }
        }
        self.current.fill_nonzero();
    }

    fn finish(mut self) -> Vec<Content> {
        self.done.push(self.current);
        self.done
    }
}

/// Renders a receipt as an A4 PDF (one page, more for long orders).
pub fn render_receipt(input: &ReceiptInput) -> Result<Vec<u8>, LabelError> {
    let w = words(input.language);
    let modules = barcode_modules(&input.order)?;
    let mut pages = Pages::new();

    pages.line(true, 18.0, &input.store);
    pages.line(false, 11.0, w.title);
    pages.gap(6.0);
    pages.pair(true, 12.0, w.order, &input.order);
    pages.pair(false, 10.0, w.date, &input.date);
    pages.pair(false, 10.0, w.customer, &input.customer);
    pages.gap(4.0);
    pages.barcode(&modules);
    pages.line(false, 8.0, w.scan);
    pages.gap(6.0);
    pages.rule();

    pages.row(true, [w.item, w.quantity, w.unit_price, w.amount]);
    for line in &input.lines {
        let item = if line.name.is_empty() {
            line.sku.clone()
        } else {
            format!("{} ({})", line.name, line.sku)
        };
        pages.row(
            false,
            [
                &item,
                &line.quantity.to_string(),
                &line.unit_price,
                &line.amount,
            ],
        );
    }
    pages.rule();
    for (code, amount) in &input.discounts {
        pages.pair(false, 10.0, &format!("{} {code}", w.discount), amount);
    }
    pages.pair(false, 10.0, w.shipping, &input.shipping);
    pages.pair(true, 13.0, w.total, &input.total);
    pages.rule();

    pages.pair(true, 10.0, w.delivery, &input.delivery);
    for sentence in &input.fulfilments {
        pages.line(false, 9.5, sentence);
    }
    for sentence in &input.unservable {
        pages.line(false, 9.5, &format!("{}: {sentence}", w.not_served));
    }
    pages.gap(4.0);
    pages.line(true, 10.0, w.payment);
    pages.line(false, 9.5, &input.payment);

    Ok(write_pdf(
        pages.finish(),
        &format!("{} {}", w.title, input.order),
    ))
}

fn write_pdf(contents: Vec<Content>, title: &str) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let page_tree_id = Ref::new(2);
    let regular_id = Ref::new(3);
    let bold_id = Ref::new(4);
    let info_id = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..contents.len())
        .map(|i| Ref::new(first + 2 * i32::try_from(i).unwrap_or(0)))
        .collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(page_tree_id);
    pdf.pages(page_tree_id)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(page_ids.len()).unwrap_or(1));
    for (content, page_id) in contents.into_iter().zip(&page_ids) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH_PT, PAGE_HEIGHT_PT));
        page.parent(page_tree_id);
        page.contents(content_id);
        page.resources()
            .fonts()
            .pair(REGULAR, regular_id)
            .pair(BOLD, bold_id);
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.type1_font(regular_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info_id)
        .title(TextStr(title))
        .producer(TextStr("Aisle"));
    pdf.finish()
}

/// The receipt as a plain-text message (subject, body) for the e-mail
/// service; the PDF travels as its attachment.
pub fn render_message(input: &ReceiptInput, customer_name: &str) -> (String, String) {
    let w = words(input.language);
    let subject = format!("{} {}", w.subject, input.order);
    let mut body = format!("{} {customer_name},\n\n", w.greeting);
    body.push_str(&format!("{} — {}\n", input.store, input.date));
    body.push_str(&format!("{} {}\n\n", w.order, input.order));
    for line in &input.lines {
        let item = if line.name.is_empty() {
            line.sku.clone()
        } else {
            line.name.clone()
        };
        body.push_str(&format!(
            "{} × {item} ({}) — {}\n",
            line.quantity, line.sku, line.amount
        ));
    }
    for (code, amount) in &input.discounts {
        body.push_str(&format!("{} {code}: {amount}\n", w.discount));
    }
    body.push_str(&format!("{}: {}\n", w.shipping, input.shipping));
    body.push_str(&format!("{}: {}\n\n", w.total, input.total));
    body.push_str(&format!("{}: {}\n", w.delivery, input.delivery));
    for sentence in &input.fulfilments {
        body.push_str(&format!("  {sentence}\n"));
    }
    for sentence in &input.unservable {
        body.push_str(&format!("  {}: {sentence}\n", w.not_served));
    }
    body.push_str(&format!(
        "{}: {}\n\n{}\n",
        w.payment, input.payment, w.attached
    ));
    (subject, body)
}

/// Standard base64 (RFC 4648, with padding), for attachments.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn input(lines: usize) -> ReceiptInput {
        ReceiptInput {
            language: Language::Fr,
            store: "Aisle Lyon Part-Dieu".into(),
            date: "2026-11-27 10:42 (Europe/Paris)".into(),
            order: "O-7KQ2MX9A".into(),
            customer: "Zoë Müller".into(),
            lines: (0..lines)
                .map(|i| ReceiptLine {
                    sku: format!("SKU-{i:05}"),
                    name: "Lampe de bureau ✨ orientable".into(),
                    quantity: 2,
                    unit_price: "19.99 EUR".into(),
                    amount: "39.98 EUR".into(),
                })
                .collect(),
            discounts: vec![("BIENVENUE".into(), "-5.00 EUR".into())],
            shipping: "4.90 EUR".into(),
            total: "39.88 EUR".into(),
            delivery: "Livraison à domicile".into(),
            fulfilments: vec!["Entrepôt Lyon — prévu le 2026-11-30".into()],
            unservable: vec![],
            payment: "Payé en caisse".into(),
        }
    }

    fn streams(pdf: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(pdf).into_owned();
        text.match_indices("stream\n")
            .filter(|(at, _)| !text[..*at].ends_with("end"))
            .map(|(at, _)| {
                let start = at + "stream\n".len();
                text[start..start + text[start..].find("endstream").unwrap()].to_owned()
            })
            .collect()
    }

    #[test]
    fn renders_the_order_number_as_text_and_barcode() {
        let pdf = render_receipt(&input(3)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(pdf, render_receipt(&input(3)).unwrap(), "deterministic");
        let content = &streams(&pdf)[0];
        assert!(content.contains("(O-7KQ2MX9A)"));
        assert!(content.contains("(Aisle Lyon Part-Dieu)"));
        // Unprintable characters become `?`, not an error.
        assert!(String::from_utf8_lossy(&pdf).contains("orientable"));
        let bars = content.matches(" re").count();
        let expected = barcode_modules("O-7KQ2MX9A")
            .unwrap()
            .windows(2)
            .filter(|w| w == &[0, 1])
            .count()
            + 1;
        assert_eq!(bars, expected, "one rectangle per bar");
    }

    #[test]
    fn long_orders_flow_onto_more_pages() {
        let one = render_receipt(&input(5)).unwrap();
        let many = render_receipt(&input(100)).unwrap();
        assert!(String::from_utf8_lossy(&one).contains("/Count 1"));
        let text = String::from_utf8_lossy(&many);
        assert!(!text.contains("/Count 1\n") && !text.contains("/Count 1 "));
        assert!(streams(&many).len() >= 3);
        assert!(streams(&many).iter().any(|s| s.contains("SKU-00099")));
    }

    #[test]
    fn the_message_lists_lines_and_total() {
        let (subject, body) = render_message(&input(2), "Zoë");
        assert_eq!(
            subject,
            "Votre ticket de caisse pour la commande O-7KQ2MX9A"
        );
        assert!(body.starts_with("Bonjour Zoë,"));
        assert!(body.contains("2 × Lampe") && body.contains("Total: 39.88 EUR"));
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (raw, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), encoded);
        }
    }
}
