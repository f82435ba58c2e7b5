//! Shipping labels: one printable 4×6 inch PDF page per parcel.
//!
//! [`render_label`] draws the sender, the recipient, the order/fulfilment
//! reference and a Code 128 barcode of the tracking number (vector
//! rectangles, so it prints sharp on any printer) with the number in text
//! under it. Text uses the PDF's built-in Helvetica (no font is embedded) in
//! WinAnsi encoding: Latin-1 letters (é, ü, ß, …) print, other scripts are
//! refused with a typed error rather than printed as garbage. Long lines are
//! shrunk to fit; a line that cannot fit even at the smallest size is
//! refused. The output is deterministic: same input, same bytes.
//!
//! [`tracking_number`] derives an Aisle tracking number from a fulfilment id.

use barcoders::sym::code128::Code128;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};

/// Page width: 4 inches in PDF points.
pub const PAGE_WIDTH_PT: f32 = 288.0;
/// Page height: 6 inches in PDF points.
pub const PAGE_HEIGHT_PT: f32 = 432.0;
/// The longest tracking number accepted (it must fit the label's width as a
/// scannable barcode).
pub const MAX_TRACKING_NUMBER_LEN: usize = 30;
/// The longest text field accepted, in characters.
pub const MAX_FIELD_CHARS: usize = 80;
/// At most this many street lines per address.
pub const MAX_STREET_LINES: usize = 3;

const MARGIN: f32 = 14.0;
const MIN_FONT_SIZE: f32 = 6.0;
/// Bars of the barcode: bottom edge and height.
const BAR_Y: f32 = 44.0;
const BAR_HEIGHT: f32 = 96.0;
/// Quiet zone on each side of the barcode, in modules (Code 128 asks ≥ 10).
const QUIET_MODULES: f32 = 10.0;
/// Widest module drawn (wider bars scan no better and look odd).
const MAX_MODULE_WIDTH: f32 = 1.5;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// A postal address as printed on the label.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelAddress {
    /// A person or a company (the store's name for the sender).
    pub name: String,
    /// Street lines, 1 to [`MAX_STREET_LINES`].
    pub street: Vec<String>,
    /// May be empty (some countries have none).
    pub postal_code: String,
    pub city: String,
    /// As it should be printed (`FRANCE`, `DE`, …).
    pub country: String,
}

/// Everything printed on a label.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelInput {
    pub sender: LabelAddress,
    pub recipient: LabelAddress,
    /// The order and fulfilment it ships, e.g. `O-1042 / F-1042-1`.
    pub reference: String,
    /// Encoded in the barcode: printable ASCII without spaces, 1 to
    /// [`MAX_TRACKING_NUMBER_LEN`] characters.
    pub tracking_number: String,
}

/// Why a label was refused. Nothing is rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    #[error("the tracking number is empty")]
    EmptyTrackingNumber,
    #[error("the tracking number has {len} characters; at most {max} fit a label")]
    TrackingNumberTooLong { len: usize, max: usize },
    #[error("the tracking number has {ch:?}: only printable ASCII without spaces can be barcoded")]
    TrackingNumberCharacter { ch: char },
    #[error("{field} is empty")]
    MissingField { field: String },
    #[error(
        "{field} does not fit on the label (at most {max_chars} characters, and it must fit the width)"
    )]
    FieldTooLong { field: String, max_chars: usize },
    #[error("{field} has {ch:?}, which the label font cannot print")]
    UnprintableCharacter { field: String, ch: char },
    #[error("{field} has {count} street lines; between 1 and {max}")]
    StreetLines {
        field: String,
        count: usize,
        max: usize,
    },
    #[error("the barcode could not be encoded: {0}")]
    Barcode(#[from] barcoders::error::Error),
}

/// Derives the tracking number of a fulfilment: `AIS`, 18 digits from a
/// SHA-256 of the id, and a Luhn check digit (22 characters). Deterministic,
/// so a label printed twice carries the same number; different ids collide
/// with probability ~n²/2·10¹⁸, so storage should still keep it unique.
pub fn tracking_number(fulfilment_id: &str) -> String {
    let digest = Sha256::digest(fulfilment_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let body = format!(
        "{:018}",
        u64::from_be_bytes(first) % 1_000_000_000_000_000_000
    );
    let check = luhn_check_digit(&body);
    format!("AIS{body}{check}")
}

/// The Luhn (mod 10) check digit of a string of ASCII digits.
fn luhn_check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.wrapping_sub(b'0'));
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// Checks a tracking number: non-empty, at most [`MAX_TRACKING_NUMBER_LEN`]
/// characters, printable ASCII without spaces (`!` to `~`).
pub fn validate_tracking_number(tracking: &str) -> Result<(), LabelError> {
    if tracking.is_empty() {
        return Err(LabelError::EmptyTrackingNumber);
    }
    if let Some(ch) = tracking.chars().find(|c| !matches!(c, '!'..='~')) {
        return Err(LabelError::TrackingNumberCharacter { ch });
    }
    if tracking.len() > MAX_TRACKING_NUMBER_LEN {
        return Err(LabelError::TrackingNumberTooLong {
            len: tracking.len(),
            max: MAX_TRACKING_NUMBER_LEN,
        });
    }
    Ok(())
}

/// The data for barcoders' Code 128 encoder: code set B (all printable
/// ASCII), switching to set C (two digits per symbol) for runs of digits
/// long enough to make the barcode shorter, hence its bars wider.
fn code128_data(tracking: &str) -> String {
    const SET_B: char = 'Ɓ';
    const SET_C: char = 'Ć';
    let bytes = tracking.as_bytes();
    let mut out = String::with_capacity(bytes.len() + 8);
    let mut set = None;
    let mut switch = |out: &mut String, to: char| {
        if set != Some(to) {
            out.push(to);
            set = Some(to);
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let at_edge = i == 0 || i + run == bytes.len();
        let worth_set_c = if at_edge { run >= 4 } else { run >= 6 };
        if worth_set_c {
            if run % 2 == 1 {
                switch(&mut out, SET_B);
                out.push(char::from(bytes[i]));
                i += 1;
            }
            let even = run - run % 2;
            switch(&mut out, SET_C);
            out.extend(bytes[i..i + even].iter().map(|&b| char::from(b)));
            i += even;
        } else {
            let take = run.max(1);
            switch(&mut out, SET_B);
            out.extend(bytes[i..i + take].iter().map(|&b| char::from(b)));
            i += take;
        }
    }
    out
}

/// The barcode's modules (1 = bar, 0 = space), quiet zones excluded.
pub(crate) fn barcode_modules(tracking: &str) -> Result<Vec<u8>, LabelError> {
    validate_tracking_number(tracking)?;
    Ok(Code128::new(code128_data(tracking))?.encode())
}

/// Renders a label as a one-page 4×6 inch PDF.
pub fn render_label(input: &LabelInput) -> Result<Vec<u8>, LabelError> {
    let modules = barcode_modules(&input.tracking_number)?;

    let mut content = Content::new();

    // Sender, small, at the top.
    caption(&mut content, 7.0, MARGIN, 418.0, b"FROM");
    let mut y = 407.0;
    for (field, text) in address_lines("sender", &input.sender)? {
        line(&mut content, &field, &text, 8.5, MARGIN, y)?;
        y -= 10.5;
    }
    rule(&mut content, 338.0, 1.0);

    // Recipient, large.
    caption(&mut content, 8.0, MARGIN, 325.0, b"SHIP TO");
    let mut y = 306.0;
    for (field, text) in address_lines("recipient", &input.recipient)? {
        line(&mut content, &field, &text, 14.0, MARGIN, y)?;
        y -= 16.5;
    }
    rule(&mut content, 198.0, 1.0);

    // Reference.
    caption(&mut content, 7.0, MARGIN, 186.0, b"ORDER / FULFILMENT");
    let reference = printable("reference", &input.reference)?;
    line(&mut content, "reference", &reference, 12.0, MARGIN, 171.0)?;
    rule(&mut content, 160.0, 1.0);

    // Barcode and its number.
    caption(&mut content, 7.0, MARGIN, 148.0, b"TRACKING NUMBER");
    draw_bars(&mut content, &modules);
    let number = input.tracking_number.as_bytes();
    let size = 12.0;
    let x = (PAGE_WIDTH_PT - text_width(number, size)) / 2.0;
    line(
        &mut content,
        "tracking number",
        number,
        size,
        x.max(MARGIN),
        26.0,
    )?;

    Ok(write_pdf(content, &input.tracking_number))
}

/// The lines of an address, each with the name of its field, checked and
/// encoded.
fn address_lines(who: &str, address: &LabelAddress) -> Result<Vec<(String, Vec<u8>)>, LabelError> {
    let count = address.street.len();
    if count == 0 || count > MAX_STREET_LINES {
        return Err(LabelError::StreetLines {
            field: format!("{who} street"),
            count,
            max: MAX_STREET_LINES,
        });
    }
    let mut lines = Vec::with_capacity(count + 3);
    let field = format!("{who} name");
    lines.push((field.clone(), required(&field, &address.name)?));
    for (i, street) in address.street.iter().enumerate() {
        let field = format!("{who} street line {}", i + 1);
        lines.push((field.clone(), required(&field, street)?));
    }
    let field = format!("{who} city");
    let city = required(&field, &address.city)?;
    let postal = printable(&format!("{who} postal code"), &address.postal_code)?;
    let mut town = postal;
    if !town.is_empty() {
        town.push(b' ');
    }
    town.extend_from_slice(&city);
    lines.push((format!("{who} postal code and city"), town));
    let field = format!("{who} country");
    lines.push((field.clone(), required(&field, &address.country)?));
    Ok(lines)
}

fn required(field: &str, text: &str) -> Result<Vec<u8>, LabelError> {
    if text.trim().is_empty() {
        return Err(LabelError::MissingField {
            field: field.to_owned(),
        });
    }
    printable(field, text)
}

/// Encodes `text` in WinAnsi (the built-in fonts' encoding), refusing control
/// characters, characters it lacks and over-long text.
fn printable(field: &str, text: &str) -> Result<Vec<u8>, LabelError> {
    let text = text.trim();
    if text.chars().count() > MAX_FIELD_CHARS {
        return Err(LabelError::FieldTooLong {
            field: field.to_owned(),
            max_chars: MAX_FIELD_CHARS,
        });
    }
    text.chars()
        .map(|ch| {
            win_ansi(ch).ok_or_else(|| LabelError::UnprintableCharacter {
                field: field.to_owned(),
                ch,
            })
        })
        .collect()
}

/// The WinAnsiEncoding byte of a character, if it has one.
pub(crate) fn win_ansi(ch: char) -> Option<u8> {
    let code = u32::from(ch);
    match code {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(code).ok(),
        _ => Some(match ch {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => return None,
        }),
    }
}

/// Helvetica advance widths (1/1000 em) of ASCII 32–126 (Adobe's AFM).
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '–'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // '0'–'9'
    278, 278, 584, 584, 584, 556, 1015, // ':'–'@'
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // 'A'–'M'
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // 'N'–'Z'
    278, 278, 278, 469, 556, 333, // '['–'`'
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // 'a'–'m'
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // 'n'–'z'
    334, 260, 334, 584, // '{'–'~'
];

/// The width of WinAnsi text in Helvetica at `size`; bytes above ASCII count
/// as the widest glyph, so the estimate never falls short.
pub(crate) fn text_width(text: &[u8], size: f32) -> f32 {
    let units: u32 = text
        .iter()
        .map(|&b| match b {
            0x20..=0x7E => u32::from(HELVETICA_WIDTHS[usize::from(b - 0x20)]),
            _ => 1000,
        })
        .sum();
    units as f32 * size / 1000.0
}

/// A fixed caption in Helvetica Bold (known to fit).
fn caption(content: &mut Content, size: f32, x: f32, y: f32, text: &[u8]) {
    content
        .begin_text()
        .set_font(BOLD, size)
        .next_line(x, y)
        .show(Str(text))
        .end_text();
}

/// A line of input text in Helvetica at `size`, or smaller down to
/// [`MIN_FONT_SIZE`] if it is too wide.
fn line(
    content: &mut Content,
    field: &str,
    text: &[u8],
    size: f32,
    x: f32,
    y: f32,
) -> Result<(), LabelError> {
    let available = PAGE_WIDTH_PT - MARGIN - x;
    let width = text_width(text, size);
    let size = if width <= available {
        size
    } else {
        size * available / width
    };
    if size < MIN_FONT_SIZE {
        return Err(LabelError::FieldTooLong {
            field: field.to_owned(),
            max_chars: MAX_FIELD_CHARS,
        });
    }
    content
        .begin_text()
        .set_font(REGULAR, size)
        .next_line(x, y)
        .show(Str(text))
        .end_text();
    Ok(())
}

/// A horizontal rule across the content width (a stroked path, not a
/// rectangle: rectangles are reserved for bars).
fn rule(content: &mut Content, y: f32, width: f32) {
    content
        .set_line_width(width)
        .move_to(MARGIN, y)
        .line_to(PAGE_WIDTH_PT - MARGIN, y)
        .stroke();
}

/// Draws the bars, centred within the margins, with quiet zones of at least
/// [`QUIET_MODULES`] modules on each side, one filled rectangle per run of bar modules.
fn draw_bars(content: &mut Content, modules: &[u8]) {
    let total = modules.len() as f32 + 2.0 * QUIET_MODULES;
    let module = (PAGE_WIDTH_PT / total)
        .min((PAGE_WIDTH_PT - 2.0 * MARGIN) / modules.len() as f32)
        .min(MAX_MODULE_WIDTH);
    let x0 = (PAGE_WIDTH_PT - modules.len() as f32 * module) / 2.0;
    content.set_fill_gray(0.0);
    let mut i = 0;
    while i < modules.len() {
        if modules[i] == 1 {
            let run = modules[i..].iter().take_while(|&&m| m == 1).count();
            content.rect(
                x0 + i as f32 * module,
                BAR_Y,
                run as f32 * module,
                BAR_HEIGHT,
            );
            i += run;
        } else {
            i += 1;
        }
    }
    content.fill_nonzero();
}

fn write_pdf(content: Content, tracking: &str) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let page_tree_id = Ref::new(2);
    let page_id = Ref::new(3);
    let regular_id = Ref::new(4);
    let bold_id = Ref::new(5);
    let content_id = Ref::new(6);
    let info_id = Ref::new(7);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(page_tree_id);
    pdf.pages(page_tree_id).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH_PT, PAGE_HEIGHT_PT));
    page.parent(page_tree_id);
    page.contents(content_id);
    page.resources()
        .fonts()
        .pair(REGULAR, regular_id)
        .pair(BOLD, bold_id);
    page.finish();
    pdf.type1_font(regular_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let content = content.finish();
    pdf.stream(content_id, &content);
    let title = format!("Shipping label {tracking}");
    pdf.document_info(info_id)
        .title(TextStr(&title))
        .producer(TextStr("Aisle"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn address(name: &str) -> LabelAddress {
        LabelAddress {
            name: name.to_owned(),
            street: vec!["12 rue de la Paix".to_owned(), "Bâtiment B".to_owned()],
            postal_code: "75002".to_owned(),
            city: "Paris".to_owned(),
            country: "FRANCE".to_owned(),
        }
    }

    fn input(tracking: &str) -> LabelInput {
        LabelInput {
            sender: address("Aisle Store Opéra"),
            recipient: address("Zoë Müller"),
            reference: "O-1042 / F-1042-1".to_owned(),
            tracking_number: tracking.to_owned(),
        }
    }

    /// The content stream: pdf-writer writes it uncompressed.
    fn content_stream(pdf: &[u8]) -> String {
        let text = String::from_utf8_lossy(pdf);
        let start = text.find("stream\n").unwrap() + "stream\n".len();
        let end = start + text[start..].find("endstream").unwrap();
        text[start..end].to_owned()
    }

    /// Every `x y w h re` of a content stream.
    fn rectangles(content: &str) -> Vec<[f32; 4]> {
        let tokens: Vec<&str> = content.split_whitespace().collect();
        tokens
            .windows(5)
            .filter(|w| w[4] == "re")
            .map(|w| {
                let n = |s: &str| s.parse::<f32>().unwrap();
                [n(w[0]), n(w[1]), n(w[2]), n(w[3])]
            })
            .collect()
    }

    #[test]
    fn renders_a_4x6_inch_pdf() {
        let pdf = render_label(&input("AIS1234567890123456789")).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        let at = text.find("/MediaBox [").unwrap() + "/MediaBox [".len();
        let end = at + text[at..].find(']').unwrap();
        let numbers: Vec<f32> = text[at..end]
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(numbers, vec![0.0, 0.0, 288.0, 432.0]);
        assert!(text.trim_end().ends_with("%%EOF"));
        // Text is there, Latin-1 included (WinAnsi: ë = 0xEB).
        let content = content_stream(&pdf);
        assert!(content.contains("(AIS1234567890123456789) Tj"));
        assert!(content.contains("(O-1042 / F-1042-1) Tj"));
        assert!(content.contains("(75002 Paris) Tj"));
        assert!(
            content
                .to_ascii_uppercase()
                .contains("<5A6FEB204DFC6C6C6572>")
        );
        // Same input, same bytes.
        assert_eq!(pdf, render_label(&input("AIS1234567890123456789")).unwrap());
    }

    #[test]
    fn code_sets_switch_to_c_for_digit_runs() {
        assert_eq!(
            code128_data("AIS1234567890123456789"),
            "ƁAIS1Ć234567890123456789"
        );
        assert_eq!(code128_data("123456"), "Ć123456");
        assert_eq!(code128_data("12345X"), "Ɓ1Ć2345ƁX");
        assert_eq!(code128_data("AB12345CD"), "ƁAB12345CD");
        assert_eq!(code128_data("AB123456CD"), "ƁABĆ123456ƁCD");
        assert_eq!(code128_data("1Z999AA10123456784"), "Ɓ1Z999AA1Ć0123456784");
    }

    /// The rectangles drawn are exactly barcoders' modules for the number.
    #[test]
    fn bars_match_barcoders_encoding() {
        for (tracking, data) in [
            ("AIS1234567890123456789", "ƁAIS1Ć234567890123456789"),
            ("ab-CD_9", "Ɓab-CD_9"),
        ] {
            let expected = Code128::new(data).unwrap().encode();
            let pdf = render_label(&input(tracking)).unwrap();
            let bars = rectangles(&content_stream(&pdf));
            assert_eq!(
                bars.len(),
                expected.windows(2).filter(|w| w == &[0, 1]).count() + 1
            );
            assert!(bars.iter().all(|b| b[1] == BAR_Y && b[3] == BAR_HEIGHT));

            let first = expected.iter().position(|&m| m == 1).unwrap();
            let last = expected.iter().rposition(|&m| m == 1).unwrap();
            let left = bars[0][0];
            let right = bars.last().map(|b| b[0] + b[2]).unwrap();
            let module = (right - left) / (last + 1 - first) as f32;
            assert!(module >= 0.7, "bars too thin to print: {module} pt");
            let mut drawn = vec![0u8; expected.len()];
            for [x, _, w, _] in bars {
                let start = first + ((x - left) / module).round() as usize;
                let len = (w / module).round() as usize;
                drawn[start..start + len].fill(1);
            }
            assert_eq!(drawn, expected, "{tracking}");
            // Centred with room for the quiet zones.
            let quiet = left.min(PAGE_WIDTH_PT - right);
            assert!(quiet >= QUIET_MODULES * module - 0.01);
        }
    }

    #[test]
    fn tracking_numbers_are_deterministic_and_valid() {
        let a = tracking_number("F-1042-1");
        assert_eq!(a, tracking_number("F-1042-1"));
        assert_ne!(a, tracking_number("F-1042-2"));
        assert_eq!(a.len(), 22);
        assert!(a.starts_with("AIS"));
        assert!(a[3..].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(luhn_check_digit(&a[3..21]).to_string(), a[21..]);
        validate_tracking_number(&a).unwrap();
        // Luhn's textbook example.
        assert_eq!(luhn_check_digit("7992739871"), 3);
    }

    #[test]
    fn bad_input_is_refused_with_a_typed_error() {
        assert_eq!(
            render_label(&input("")),
            Err(LabelError::EmptyTrackingNumber)
        );
        assert_eq!(
            render_label(&input("AIS 123")),
            Err(LabelError::TrackingNumberCharacter { ch: ' ' })
        );
        assert_eq!(
            render_label(&input("AISé")),
            Err(LabelError::TrackingNumberCharacter { ch: 'é' })
        );
        assert_eq!(
            render_label(&input(&"A".repeat(31))),
            Err(LabelError::TrackingNumberTooLong { len: 31, max: 30 })
        );

        let mut bad = input("AIS1");
        bad.recipient.name = "  ".to_owned();
        assert_eq!(
            render_label(&bad),
            Err(LabelError::MissingField {
                field: "recipient name".to_owned()
            })
        );

        let mut bad = input("AIS1");
        bad.recipient.city = "東京".to_owned();
        assert_eq!(
            render_label(&bad),
            Err(LabelError::UnprintableCharacter {
                field: "recipient city".to_owned(),
                ch: '東'
            })
        );

        let mut bad = input("AIS1");
        bad.sender.street.clear();
        assert!(matches!(
            render_label(&bad),
            Err(LabelError::StreetLines { count: 0, .. })
        ));

        let mut bad = input("AIS1");
        bad.reference = "W".repeat(MAX_FIELD_CHARS);
        assert!(matches!(
            render_label(&bad),
            Err(LabelError::FieldTooLong { field, .. }) if field == "reference"
        ));
    }

    #[test]
    fn long_lines_shrink_to_fit() {
        let mut long = input("AIS1");
        long.recipient.street =
            vec!["Residence les Jardins de la Grande Plaine, escalier 4".to_owned()];
        let pdf = render_label(&long).unwrap();
        let content = content_stream(&pdf);
        let tokens: Vec<&str> = content.split_whitespace().collect();
        let at = tokens
            .iter()
            .position(|t| t.starts_with("(Residence"))
            .unwrap();
        // ... /F1 <size> Tf <x> <y> Td (text) Tj
        let size: f32 = tokens[at - 5].parse().unwrap();
        assert!((MIN_FONT_SIZE..14.0).contains(&size), "{size}");
    }
}
