//! Stock feed parsing: bytes in, validated rows or refusals out, line by line.
//!
//! Pure and synchronous: [`LineSplitter`] cuts a body that arrives in chunks
//! into lines (CRLF or LF, the last line may lack its newline) without ever
//! holding more than one line; [`FeedParser`] turns each line into a
//! [`FeedRow`] or a [`RefusedRow`]. What needs the database — duplicates
//! across the whole feed, applying it — is done by `storage::feeds`; the HTTP
//! handler (`http::feeds`) drives both.

use oms_api::wire::{FeedFormat, FeedMode, RefusalCode, RefusedRow};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Longest accepted line, in bytes (rows are ~40 bytes; a longer line is
/// refused without being buffered).
pub const MAX_LINE_BYTES: usize = 4 * 1024;

/// Largest accepted quantity (absolute value): far above any real stock, and
/// small enough that deltas never overflow.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// A line as the splitter hands it out.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's bytes, without its `\n` or `\r\n`.
    Text(&'a [u8]),
    /// The line was longer than [`MAX_LINE_BYTES`]; its bytes were dropped.
    TooLong,
}

/// Cuts chunks of a body into numbered lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    /// The start of a line that continues in the next chunk.
    carry: Vec<u8>,
    /// Dropping the rest of an over-long line.
    overlong: bool,
    /// Lines handed out so far.
    line: u64,
}

impl LineSplitter {
    /// Feeds one chunk; calls `emit(line_number, line)` for each complete line.
    pub fn push(&mut self, mut chunk: &[u8], mut emit: impl FnMut(u64, Line<'_>)) {
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            let (head, rest) = (&chunk[..end], &chunk[end + 1..]);
            chunk = rest;
            self.line += 1;
            if self.overlong {
                self.overlong = false;
                emit(self.line, Line::TooLong);
            } else if self.carry.is_empty() {
                emit(self.line, text(head));
            } else if self.carry.len() + head.len() > MAX_LINE_BYTES + 1 {
                self.carry.clear();
                emit(self.line, Line::TooLong);
            } else {
                self.carry.extend_from_slice(head);
                let line = std::mem::take(&mut self.carry);
                emit(self.line, text(&line));
                // Keep the allocation for the next carried line.
                self.carry = line;
                self.carry.clear();
            }
        }
        if self.overlong {
            return;
        }
        // +1: a trailing `\r` may still be cut off.
        if self.carry.len() + chunk.len() > MAX_LINE_BYTES + 1 {
            self.carry.clear();
            self.overlong = true;
        } else {
            self.carry.extend_from_slice(chunk);
        }
    }

    /// Ends the body: hands out a last line that had no newline.
    pub fn finish(&mut self, mut emit: impl FnMut(u64, Line<'_>)) {
        if self.overlong {
            self.overlong = false;
            self.line += 1;
            emit(self.line, Line::TooLong);
        } else if !self.carry.is_empty() {
            self.line += 1;
            let line = std::mem::take(&mut self.carry);
            emit(self.line, text(&line));
        }
    }
}

fn text(line: &[u8]) -> Line<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_LINE_BYTES {
        Line::TooLong
    } else {
        Line::Text(line)
    }
}

/// A valid feed row, not yet checked for duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRow {
    pub line: u64,
    pub location: String,
    pub sku: String,
    pub quantity: i64,
}

/// What one line turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Row(FeedRow),
    Refused(RefusedRow),
    /// A blank line or the CSV header: nothing to apply.
    Skip,
}

/// What a row is checked against: the network's locations and the
/// catalogue's SKUs.
pub trait Known {
    fn location(&self, id: &str) -> bool;
    fn sku(&self, sku: &str) -> bool;
}

/// Where the CSV header put each column.
#[derive(Debug, Clone, Copy)]
struct Columns {
    location: usize,
    sku: usize,
    quantity: usize,
    count: usize,
}

#[derive(Debug)]
enum Header {
    /// The first non-blank line has not come yet.
    Pending,
    Ready(Columns),
    /// A required column is missing: rows cannot be read (the header line
    /// was refused, and the rows are only counted).
    Broken,
}

/// Turns lines into rows for one feed's format and mode.
#[derive(Debug)]
pub struct FeedParser {
    format: FeedFormat,
    mode: FeedMode,
    header: Header,
    /// Data rows seen (the CSV header and blank lines excluded).
    pub rows_read: u64,
}

impl FeedParser {
    pub fn new(format: FeedFormat, mode: FeedMode) -> Self {
        Self {
            format,
            mode,
            header: Header::Pending,
            rows_read: 0,
        }
    }

    /// The name of the quantity column or field.
    pub fn quantity_field(&self) -> &'static str {
        match self.mode {
            FeedMode::Snapshot => "on_hand",
            FeedMode::Delta => "delta",
        }
    }

    /// Reads one line.
    pub fn parse(&mut self, number: u64, line: Line<'_>, known: &impl Known) -> Parsed {
        let bytes = match line {
            Line::TooLong => {
                self.count_row();
                return refused(
                    number,
                    RefusalCode::Malformed,
                    format!("the line is longer than {MAX_LINE_BYTES} bytes"),
                );
            }
            Line::Text(bytes) => bytes,
        };
        // A UTF-8 byte order mark (spreadsheet exports) opens the first line.
        let bytes = if number == 1 {
            bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
        } else {
            bytes
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Parsed::Skip;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.count_row();
            return refused(
                number,
                RefusalCode::Malformed,
                "the line is not UTF-8".into(),
            );
        };
        match self.format {
            FeedFormat::Csv => self.csv_line(number, text, known),
            FeedFormat::Jsonl => {
                self.count_row();
                self.json_line(number, text, known)
            }
        }
    }

    fn count_row(&mut self) {
        self.rows_read += 1;
    }

    fn csv_line(&mut self, number: u64, text: &str, known: &impl Known) -> Parsed {
        let columns = match self.header {
            Header::Pending => return self.csv_header(number, text),
            Header::Broken => {
                self.count_row();
                return Parsed::Skip;
            }
            Header::Ready(columns) => columns,
        };
        self.count_row();
        let fields = match split_csv(text) {
            Ok(fields) => fields,
            Err(message) => return refused(number, RefusalCode::Malformed, message),
        };
        if fields.len() != columns.count {
            return refused(
                number,
                RefusalCode::Malformed,
                format!(
                    "expected {} fields as in the header, found {}",
                    columns.count,
                    fields.len()
                ),
            );
        }
        let location = fields[columns.location].trim();
        let sku = fields[columns.sku].trim();
        let quantity = fields[columns.quantity].trim();
        if let Some(missing) = [("location", location), ("sku", sku)]
            .into_iter()
            .chain([(self.quantity_field(), quantity)])
            .find(|(_, value)| value.is_empty())
        {
            return refused(
                number,
                RefusalCode::MissingField,
                format!("`{}` is empty", missing.0),
            );
        }
        let quantity = match quantity.parse::<i64>() {
            Ok(q) => q,
            Err(_) => {
                return refused(
                    number,
                    RefusalCode::BadNumber,
                    format!(
                        "`{}` must be a whole number, got `{quantity}`",
                        self.quantity_field()
                    ),
                );
            }
        };
        self.row(number, location, sku, quantity, known)
    }

    fn csv_header(&mut self, number: u64, text: &str) -> Parsed {
        let fields = match split_csv(text) {
            Ok(fields) => fields,
            Err(message) => {
                self.header = Header::Broken;
                return refused(number, RefusalCode::Malformed, message);
            }
        };
        let names: Vec<&str> = fields.iter().map(|f| f.trim()).collect();
        let position = |name: &str| names.iter().position(|n| *n == name);
        let quantity_field = self.quantity_field();
        let expected = ["location", "sku", quantity_field];
        let unknown: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !expected.contains(n))
            .collect();
        let missing: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|e| position(e).is_none())
            .collect();
        let repeated = expected
            .iter()
            .find(|e| names.iter().filter(|n| *n == *e).count() > 1);
        match (
            position("location"),
            position("sku"),
            position(quantity_field),
        ) {
            (Some(location), Some(sku), Some(quantity)) if repeated.is_none() => {
                self.header = Header::Ready(Columns {
                    location,
                    sku,
                    quantity,
                    count: names.len(),
                });
                if unknown.is_empty() {
                    Parsed::Skip
                } else {
                    // Rows stay readable by the known columns, so they are
                    // still checked and reported.
                    refused(
                        number,
                        RefusalCode::UnknownField,
                        format!(
                            "unknown column(s) {} (a {} feed has location,sku,{quantity_field})",
                            quoted(&unknown),
                            mode_name(self.mode)
                        ),
                    )
                }
            }
            _ => {
                self.header = Header::Broken;
                let message = match repeated {
                    Some(name) => format!("column `{name}` appears twice"),
                    None => format!(
                        "the header lacks {} (a {} feed has location,sku,{quantity_field}){}",
                        quoted(&missing),
                        mode_name(self.mode),
                        if unknown.is_empty() {
                            String::new()
                        } else {
                            format!("; unknown column(s) {}", quoted(&unknown))
                        }
                    ),
                };
                refused(number, RefusalCode::MissingField, message)
            }
        }
    }

    fn json_line(&mut self, number: u64, text: &str, known: &impl Known) -> Parsed {
        let row: JsonRow = match serde_json::from_str(text) {
            Ok(row) => row,
            Err(e) => {
                return refused(
                    number,
                    RefusalCode::Malformed,
                    format!("not a JSON object: {e}"),
                );
            }
        };
        let quantity_field = self.quantity_field();
        let mut unknown = row.unknown;
        let (quantity, other) = match self.mode {
            FeedMode::Snapshot => (row.on_hand, row.delta),
            FeedMode::Delta => (row.delta, row.on_hand),
        };
        if other.is_some() {
            let other_name = match self.mode {
                FeedMode::Snapshot => "delta",
                FeedMode::Delta => "on_hand",
            };
            unknown.insert(0, other_name.to_owned());
        }
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(String::as_str).collect();
            return refused(
                number,
                RefusalCode::UnknownField,
                format!(
                    "unknown field(s) {} (a {} row has location, sku, {quantity_field})",
                    quoted(&names),
                    mode_name(self.mode)
                ),
            );
        }
        let mut missing = Vec::new();
        for (name, value) in [
            ("location", &row.location),
            ("sku", &row.sku),
            (quantity_field, &quantity),
        ] {
            if value.is_none() {
                missing.push(name);
            }
        }
        if !missing.is_empty() {
            return refused(
                number,
                RefusalCode::MissingField,
                format!("missing field(s) {}", quoted(&missing)),
            );
        }
        let text_field = |name: &str, value: Option<serde_json::Value>| match value {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(s),
            Some(serde_json::Value::String(_)) => Err(refused(
                number,
                RefusalCode::MissingField,
                format!("`{name}` is empty"),
            )),
            _ => Err(refused(
                number,
                RefusalCode::Malformed,
                format!("`{name}` must be a string"),
            )),
        };
        let location = match text_field("location", row.location) {
            Ok(s) => s,
            Err(refusal) => return refusal,
        };
        let sku = match text_field("sku", row.sku) {
            Ok(s) => s,
            Err(refusal) => return refusal,
        };
        let quantity = match quantity.as_ref().and_then(serde_json::Value::as_i64) {
            Some(q) => q,
            None => {
                return refused(
                    number,
                    RefusalCode::BadNumber,
                    format!(
                        "`{quantity_field}` must be a whole number, got {}",
                        quantity.unwrap_or(serde_json::Value::Null)
                    ),
                );
            }
        };
        self.row(number, location.trim(), sku.trim(), quantity, known)
    }

    /// The checks shared by both formats, once the fields are read.
    fn row(
        &self,
        number: u64,
        location: &str,
        sku: &str,
        quantity: i64,
        known: &impl Known,
    ) -> Parsed {
        let field = self.quantity_field();
        if quantity.abs() > MAX_QUANTITY {
            return refused(
                number,
                RefusalCode::BadNumber,
                format!("`{field}` {quantity} is beyond ±{MAX_QUANTITY}"),
            );
        }
        if self.mode == FeedMode::Snapshot && quantity < 0 {
            return refused(
                number,
                RefusalCode::NegativeQuantity,
                format!("a snapshot's `on_hand` cannot be negative, got {quantity}"),
            );
        }
        if !known.location(location) {
            return refused(
                number,
                RefusalCode::UnknownLocation,
                format!("location `{location}` does not exist"),
            );
        }
        if !known.sku(sku) {
            return refused(
                number,
                RefusalCode::UnknownSku,
                format!("SKU `{sku}` is not in the catalogue"),
            );
        }
        Parsed::Row(FeedRow {
            line: number,
            location: location.to_owned(),
            sku: sku.to_owned(),
            quantity,
        })
    }
}

fn refused(line: u64, code: RefusalCode, message: String) -> Parsed {
    Parsed::Refused(RefusedRow {
        line,
        code,
        message,
    })
}

fn mode_name(mode: FeedMode) -> &'static str {
    match mode {
        FeedMode::Snapshot => "snapshot",
        FeedMode::Delta => "delta",
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits one CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote).
fn split_csv(line: &str) -> Result<Vec<std::borrow::Cow<'_, str>>, String> {
    use std::borrow::Cow;
    let mut fields = Vec::with_capacity(3);
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if let Some(quoted) = trimmed.strip_prefix('"') {
            // A quoted field: up to the closing quote, `""` being a quote.
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let after = loop {
                match chars.next() {
                    None => return Err("a quoted field is not closed".to_owned()),
                    Some((i, '"')) => {
                        if quoted[i + 1..].starts_with('"') {
                            value.push('"');
                            chars.next();
                        } else {
                            break &quoted[i + 1..];
                        }
                    }
                    Some((_, c)) => value.push(c),
                }
            };
            fields.push(Cow::Owned(value));
            let after = after.trim_start_matches([' ', '\t']);
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None if after.is_empty() => return Ok(fields),
                None => return Err("text after a closing quote".to_owned()),
            }
        } else {
            match rest.find(',') {
                Some(comma) => {
                    fields.push(Cow::Borrowed(&rest[..comma]));
                    rest = &rest[comma + 1..];
                }
                None => {
                    fields.push(Cow::Borrowed(rest));
                    return Ok(fields);
                }
            }
        }
    }
}

/// A JSONL row's fields, read without building a map, unknown names kept.
#[derive(Debug, Default)]
struct JsonRow {
    location: Option<serde_json::Value>,
    sku: Option<serde_json::Value>,
    on_hand: Option<serde_json::Value>,
    delta: Option<serde_json::Value>,
    unknown: Vec<String>,
}

enum Key {
    Location,
    Sku,
    OnHand,
    Delta,
    Other(String),
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
                Ok(match name {
                    "location" => Key::Location,
                    "sku" => Key::Sku,
                    "on_hand" => Key::OnHand,
                    "delta" => Key::Delta,
                    other => Key::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for JsonRow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RowVisitor;
        impl<'de> Visitor<'de> for RowVisitor {
            type Value = JsonRow;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonRow, A::Error> {
                let mut row = JsonRow::default();
                let mut seen = HashSet::new();
                while let Some(key) = map.next_key::<Key>()? {
                    let slot = match key {
                        Key::Location => &mut row.location,
                        Key::Sku => &mut row.sku,
                        Key::OnHand => &mut row.on_hand,
                        Key::Delta => &mut row.delta,
                        Key::Other(name) => {
                            map.next_value::<IgnoredAny>()?;
                            if seen.insert(name.clone()) {
                                row.unknown.push(name);
                            }
                            continue;
                        }
                    };
                    if slot.is_some() {
                        return Err(de::Error::custom("a field appears twice"));
                    }
                    *slot = Some(map.next_value()?);
                }
                Ok(row)
            }
        }
        deserializer.deserialize_map(RowVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Demo;
    impl Known for Demo {
        fn location(&self, id: &str) -> bool {
            matches!(id, "WH-1" | "ST-1")
        }
        fn sku(&self, sku: &str) -> bool {
            matches!(sku, "SKU-1" | "SKU-2")
        }
    }

    fn lines(chunks: &[&[u8]]) -> Vec<(u64, Result<String, ()>)> {
        let mut splitter = LineSplitter::default();
        let mut out = Vec::new();
        let mut emit = |n: u64, line: Line<'_>| {
            out.push((
                n,
                match line {
                    Line::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
                    Line::TooLong => Err(()),
                },
            ))
        };
        for chunk in chunks {
            splitter.push(chunk, &mut emit);
        }
        splitter.finish(&mut emit);
        out
    }

    #[test]
    fn lines_split_across_chunks_with_crlf_and_no_final_newline() {
        let got = lines(&[b"a,b\r", b"\nc", b"d\n\ne\r\n", b"f"]);
        let want: Vec<(u64, Result<String, ()>)> = vec![
            (1, Ok("a,b".into())),
            (2, Ok("cd".into())),
            (3, Ok("".into())),
            (4, Ok("e".into())),
            (5, Ok("f".into())),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn an_overlong_line_is_refused_without_being_kept() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let got = lines(&[b"ok\n", &long[..100], &long[100..], b"\nnext\n", &long]);
        assert_eq!(got[0], (1, Ok("ok".into())));
        assert_eq!(got[1], (2, Err(())));
        assert_eq!(got[2], (3, Ok("next".into())));
        assert_eq!(got[3], (4, Err(())));
        assert_eq!(got.len(), 4);
    }

    fn parse_all(format: FeedFormat, mode: FeedMode, body: &str) -> (Vec<Parsed>, u64) {
        let mut parser = FeedParser::new(format, mode);
        let mut out = Vec::new();
        let mut splitter = LineSplitter::default();
        splitter.push(body.as_bytes(), |n, line| {
            out.push(parser.parse(n, line, &Demo))
        });
        splitter.finish(|n, line| out.push(parser.parse(n, line, &Demo)));
        out.retain(|p| *p != Parsed::Skip);
        (out, parser.rows_read)
    }

    fn codes(parsed: &[Parsed]) -> Vec<(u64, Option<RefusalCode>)> {
        parsed
            .iter()
            .map(|p| match p {
                Parsed::Row(r) => (r.line, None),
                Parsed::Refused(r) => (r.line, Some(r.code)),
                Parsed::Skip => (0, None),
            })
            .collect()
    }

    #[test]
    fn csv_rows_are_checked_one_by_one() {
        use RefusalCode::*;
        let body = "sku, location ,on_hand\n\
                    SKU-1,WH-1,5\n\
                    \"SKU-2\",\"ST-1\",0\n\
                    SKU-1,WH-1,-1\n\
                    SKU-1,WH-1,five\n\
                    SKU-9,WH-1,1\n\
                    SKU-1,XX,1\n\
                    SKU-1,WH-1\n\
                    SKU-1,,3\n\
                    SKU-1,WH-1,2000000000\n\
                    \"SKU-1,WH-1,1\n";
        let (parsed, rows) = parse_all(FeedFormat::Csv, FeedMode::Snapshot, body);
        assert_eq!(rows, 10);
        assert_eq!(
            codes(&parsed),
            vec![
                (2, None),
                (3, None),
                (4, Some(NegativeQuantity)),
                (5, Some(BadNumber)),
                (6, Some(UnknownSku)),
                (7, Some(UnknownLocation)),
                (8, Some(Malformed)),
                (9, Some(MissingField)),
                (10, Some(BadNumber)),
                (11, Some(Malformed)),
            ]
        );
        assert_eq!(
            parsed[1],
            Parsed::Row(FeedRow {
                line: 3,
                location: "ST-1".into(),
                sku: "SKU-2".into(),
                quantity: 0
            })
        );
    }

    #[test]
    fn csv_headers_report_unknown_and_missing_columns() {
        let (parsed, _) = parse_all(
            FeedFormat::Csv,
            FeedMode::Delta,
            "\u{feff}location,sku,delta,price\nWH-1,SKU-1,-3,9\n",
        );
        assert_eq!(
            codes(&parsed),
            vec![(1, Some(RefusalCode::UnknownField)), (2, None)]
        );
        let (parsed, rows) = parse_all(
            FeedFormat::Csv,
            FeedMode::Delta,
            "location,sku,on_hand\nWH-1,SKU-1,3\nWH-1,SKU-2,3\n",
        );
        assert_eq!(codes(&parsed), vec![(1, Some(RefusalCode::MissingField))]);
        assert_eq!(rows, 2);
    }

    #[test]
    fn json_lines_report_unknown_missing_and_bad_fields() {
        use RefusalCode::*;
        let body = r#"{"location":"WH-1","sku":"SKU-1","delta":-4}

{"location":"WH-1","sku":"SKU-1","delta":1,"price":3,"note":"x"}
{"location":"WH-1","sku":"SKU-1","on_hand":1}
{"location":"WH-1","delta":1}
{"location":"WH-1","sku":"SKU-1","delta":1.5}
{"location":"WH-1","sku":"SKU-1","delta":"1"}
[1,2]
{"location":7,"sku":"SKU-1","delta":1}
"#;
        let (parsed, rows) = parse_all(FeedFormat::Jsonl, FeedMode::Delta, body);
        assert_eq!(rows, 8);
        assert_eq!(
            codes(&parsed),
            vec![
                (1, None),
                (3, Some(UnknownField)),
                (4, Some(UnknownField)),
                (5, Some(MissingField)),
                (6, Some(BadNumber)),
                (7, Some(BadNumber)),
                (8, Some(Malformed)),
                (9, Some(Malformed)),
            ]
        );
        let Parsed::Refused(unknown) = &parsed[1] else {
            panic!("refused")
        };
        assert!(
            unknown.message.contains("`price`, `note`"),
            "{}",
            unknown.message
        );
    }
}
