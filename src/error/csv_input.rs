//! A user's CSV file read whole, and its errors at the true place: the file, the line that holds
//! the bad byte or value, and its column. Every reader of a user's CSV (units.csv and edges.csv,
//! observed curves, decision logs) goes through this, so their messages cannot drift apart.
//!
//! The csv crate says where a record *begins* (before any blank lines it skipped) and, for broken
//! UTF-8, which field of the record; a record can span lines (a quoted line break). So lines here
//! are found from the bytes: the record's fields are located with csv's own quoting rules (the
//! default dialect: `,`, `"` doubled to escape, any of CR, LF, CRLF ending a record), and a line is
//! counted from the start of the file by the same line breaks: LF, CRLF and a lone CR (a file saved
//! with CR line ends, as old Mac Excel does, has its lines; csv's own count sees LF only).

use super::InputError;
use csv::{Position, StringRecord, Trim};
use std::path::Path;

/// A CSV file's bytes and its name for messages.
pub struct CsvInput<'a> {
    pub path: &'a Path,
    bytes: Vec<u8>,
    /// The offset of the last byte of every line break (LF, the LF of CRLF, a lone CR), ascending.
    breaks: Vec<usize>,
}

impl<'a> CsvInput<'a> {
    /// Read `path` whole (user files are small), or say why it cannot be read.
    pub fn read(path: &'a Path) -> Result<Self, InputError> {
        let bytes = std::fs::read(path).map_err(|e| InputError::new(format!("cannot read the file: {e}")).file(path))?;
        Ok(Self::new(path, bytes))
    }

    /// Text already in memory, named `path` in messages.
    pub fn new(path: &'a Path, bytes: Vec<u8>) -> Self {
        let breaks = (0..bytes.len())
            .filter(|&i| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
            .collect();
        CsvInput { path, bytes, breaks }
    }

    /// A reader that trims cells, and the header row (an unreadable header is an error naming its
    /// line and the column with the bad byte).
    pub fn reader(&self) -> Result<(csv::Reader<&[u8]>, StringRecord), InputError> {
        let mut rdr = csv::ReaderBuilder::new().trim(Trim::All).from_reader(&self.bytes[..]);
        let headers = rdr.headers().map_err(|e| self.error(e, None))?.clone();
        Ok((rdr, headers))
    }

    /// An error at `line`, column `field`.
    pub fn at(&self, line: usize, field: &str, message: impl Into<String>) -> InputError {
        InputError::new(message).file(self.path).line(line).field(field)
    }

    /// The 1-based line where the record at `pos` begins (its first field), past the blank lines
    /// csv skipped before it; `fallback` when csv gave no position.
    pub fn line(&self, pos: Option<&Position>, fallback: usize) -> usize {
        match pos {
            Some(p) => self.line_of(first_byte(&self.bytes, p.byte() as usize)),
            None => fallback,
        }
    }

    /// The 1-based line where cell `col` of `rec` begins (a record may span lines).
    pub fn cell_line(&self, rec: &StringRecord, col: usize) -> usize {
        match rec.position() {
            Some(p) => {
                let (starts, end) = fields(&self.bytes, p.byte() as usize);
                self.line_of(starts.get(col).copied().unwrap_or(end))
            }
            None => 0,
        }
    }

    /// The 1-based line of byte `at` of the file: one more than the line breaks before it.
    fn line_of(&self, at: usize) -> usize {
        1 + self.breaks.partition_point(|&b| b < at)
    }

    /// The index of column `name` (trimmed, any case), if the header has it; a header naming it
    /// twice is refused (which one would be meant?).
    pub fn find(&self, headers: &StringRecord, name: &str) -> Result<Option<usize>, InputError> {
        let mut found = headers.iter().enumerate().filter(|(_, h)| h.eq_ignore_ascii_case(name));
        let first = found.next().map(|(i, _)| i);
        if let Some((j, _)) = found.next() {
            return Err(self.at(
                self.line(headers.position(), 1),
                name,
                format!(
                    "the header row names column `{name}` twice (columns {} and {}); name each column once",
                    first.unwrap_or(0) + 1,
                    j + 1
                ),
            ));
        }
        Ok(first)
    }

    /// The index of the required column `name`, or an error on the header line saying what the
    /// header must name (`expected`), and, when the header is one cell holding `;`, tab or `|`,
    /// that the file is not comma-separated.
    pub fn require(&self, headers: &StringRecord, name: &str, expected: &str) -> Result<usize, InputError> {
        if let Some(c) = self.find(headers, name)? {
            return Ok(c);
        }
        let found: Vec<&str> = headers.iter().collect();
        let line = self.line(headers.position(), 1);
        if let [one] = found[..] {
            if let Some(d) = [';', '\t', '|'].into_iter().find(|&d| one.contains(d)) {
                let d = if d == '\t' { "tab".to_string() } else { format!("`{d}`") };
                return Err(self.at(
                    line,
                    name,
                    format!(
                        "the header row `{one}` is separated by {d}, not by commas; pioneer reads \
                         comma-separated CSV: save the file as CSV with commas (in Excel: \
                         \"CSV UTF-8 (comma delimited)\")"
                    ),
                ));
            }
        }
        Err(self.at(
            line,
            name,
            format!(
                "missing column `{name}`; the header row must name the columns {expected} (found: {})",
                found.join(",")
            ),
        ))
    }

    /// A csv error at its true place: broken UTF-8 at the line of the first bad byte and the
    /// column that holds it; a row with too few fields at the first column without a value (on
    /// the row's last line), one with too many at the last column, on the line of the first extra
    /// value. `headers` names the columns (None while reading the header itself: then the column
    /// is given by number).
    pub fn error(&self, e: csv::Error, headers: Option<&StringRecord>) -> InputError {
        let name = |i: usize| {
            headers
                .and_then(|h| h.get(i))
                .filter(|h| !h.is_empty())
                .map_or_else(|| format!("column {}", i + 1), str::to_string)
        };
        let Some(pos) = e.position().cloned() else {
            return InputError::new(format!("cannot read the CSV: {e}")).file(self.path);
        };
        let start = pos.byte() as usize;
        let (starts, end) = fields(&self.bytes, start);
        let (line, field, message) = match e.kind() {
            csv::ErrorKind::Utf8 { err, .. } => {
                let f = err.field();
                let from = starts.get(f).copied().unwrap_or(start).min(end);
                let bad = std::str::from_utf8(&self.bytes[from..end])
                    .err()
                    .map_or(from, |u| from + u.valid_up_to());
                let what = if headers.is_some() { "this cell" } else { "the header row" };
                (
                    self.line_of(bad),
                    name(f),
                    format!("{what} is not valid UTF-8 (byte {} of the file); save the file as UTF-8", bad + 1),
                )
            }
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                let (exp, len) = (*expected_len as usize, *len as usize);
                let cols = headers.map(|h| h.iter().collect::<Vec<_>>().join(",")).unwrap_or_default();
                let tail = format!(
                    "this row has {len} fields but the header ({cols}) has {exp}; every row needs one \
                     field per column (leave optional cells empty; quote a value that holds a comma)"
                );
                if len < exp {
                    (self.line_of(end), name(len), format!("no value here: {tail}"))
                } else {
                    let extra = starts.get(exp).copied().unwrap_or(end);
                    (
                        self.line_of(extra),
                        name(exp.saturating_sub(1)),
                        format!("extra values after this column: {tail}"),
                    )
                }
            }
            _ => (self.line(Some(&pos), 0), name(0), format!("cannot read the row: {e}")),
        };
        self.at(line, &field, message)
    }
}

/// The first byte of the record that csv begins reading at `start`: past the line breaks of
/// blank lines, which csv skips.
fn first_byte(bytes: &[u8], start: usize) -> usize {
    let rest = bytes.get(start..).unwrap_or_default();
    start + rest.iter().take_while(|&&b| b == b'\n' || b == b'\r').count()
}

/// The byte offsets of the start of each field of the record csv begins reading at `start`, and
/// of its end (its line break, or the end of the file), by csv's default dialect: a field that
/// begins with `"` is quoted until a lone `"` (`""` is a quote inside it); a `"` elsewhere is
/// plain text.
fn fields(bytes: &[u8], start: usize) -> (Vec<usize>, usize) {
    #[derive(Clone, Copy)]
    enum S {
        Start,
        Plain,
        Quoted,
        QuoteInQuoted,
    }
    let first = first_byte(bytes, start).min(bytes.len());
    let mut starts = vec![first];
    let mut s = S::Start;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        s = match (s, b) {
            (S::Quoted, b'"') => S::QuoteInQuoted,
            (S::Quoted, _) => S::Quoted,
            (S::QuoteInQuoted, b'"') | (S::Start, b'"') => S::Quoted,
            (_, b',') => {
                starts.push(i + 1);
                S::Start
            }
            (_, b'\n' | b'\r') => return (starts, i),
            _ => S::Plain,
        };
    }
    (starts, bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &[u8]) -> CsvInput<'static> {
        CsvInput::new(Path::new("t.csv"), text.to_vec())
    }

    /// The first error reading every record of `text`.
    fn first_error(text: &[u8]) -> InputError {
        let src = input(text);
        let (mut rdr, headers) = match src.reader() {
            Ok(x) => x,
            Err(e) => return e,
        };
        let mut rec = StringRecord::new();
        loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => panic!("no error in {text:?}"),
                Err(e) => return src.error(e, Some(&headers)),
            }
        }
    }

    fn at(e: &InputError, line: usize, field: &str) {
        assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{e}");
        assert_eq!(e.file.as_deref(), Some(Path::new("t.csv")));
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }

    #[test]
    fn fields_follow_csv_quoting() {
        let b = b"a,\"b,\"\"c\nd\",e\"f,g\nnext";
        let (starts, end) = fields(b, 0);
        assert_eq!((starts, end), (vec![0, 2, 12, 16], 17));
        // Blank lines before a record are skipped; a record at the end of the file ends there.
        let b = b"\r\n\n1,2";
        assert_eq!(fields(b, 0), (vec![3, 5], 6));
    }

    #[test]
    fn utf8_is_named_at_the_cell_and_line_of_the_bad_byte() {
        at(&first_error(b"year,share\n2014,0.\xff1\n"), 2, "share");
        at(&first_error(b"year,share\n2014,0.1\n\n\n2015,\xff\n"), 5, "share");
        // In a quoted cell over three lines, the bad byte on the third.
        at(&first_error(b"year,share,note\n2014,0.1,\"a\nb\n\xffc\"\n"), 4, "note");
        // In the header: named by its number, the header being unreadable.
        at(&first_error(b"year,sh\xffare\n2014,1\n"), 1, "column 2");
        at(&first_error(b"\n\nyear,sh\xffare\n2014,1\n"), 3, "column 2");
    }

    #[test]
    fn short_and_long_rows_name_the_column_at_fault() {
        let e = first_error(b"year,share\n2014,0.1\n\n\n2015\n2016,0.3\n");
        at(&e, 5, "share");
        assert!(e.message.starts_with("no value here"), "{e}");
        at(&first_error(b"\xef\xbb\xbfyear,share\n2014\n"), 2, "share");
        // The missing value is at the end of a row that spans lines.
        at(&first_error(b"year,share,note\n2014,\"a\nb\"\n"), 3, "note");
        let e = first_error(b"year,share\n2014,0.1,9\n");
        at(&e, 2, "share");
        assert!(e.message.starts_with("extra values after this column"), "{e}");
        // The first extra value on the second line of its row.
        at(&first_error(b"a,b\n\"x\ny\",1,2\n"), 3, "b");
    }

    #[test]
    fn lines_and_columns_of_good_rows() {
        let src = input(b"year,note,share\n\n2014,\"a\nb\",0.5\n2015,c,0.6\n");
        let (mut rdr, headers) = src.reader().expect("header");
        assert_eq!(src.find(&headers, "SHARE").expect("once"), Some(2));
        assert_eq!(src.find(&headers, "count").expect("absent"), None);
        let rows: Vec<StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
        assert_eq!(src.line(rows[0].position(), 0), 3);
        assert_eq!(src.cell_line(&rows[0], 2), 4);
        assert_eq!(src.cell_line(&rows[1], 0), 5);
        let twice = input(b"year,share,Share\n");
        let (_, h) = twice.reader().expect("header");
        at(&twice.find(&h, "share").expect_err("twice"), 1, "share");
        let semi = input(b"year;share\n2014;0.1\n");
        let (_, h) = semi.reader().expect("header");
        let e = semi.require(&h, "year", "year,share").expect_err("semicolons");
        at(&e, 1, "year");
        assert!(e.message.contains("separated by `;`"), "{e}");
    }

    #[test]
    fn a_lone_cr_ends_a_line_as_it_ends_a_record() {
        // CR line ends (old Mac Excel): csv splits the records there, and so do the lines.
        let src = input(b"year,share\r2014,0.1\r\r2015,0.2\r");
        let (mut rdr, _) = src.reader().expect("header");
        let rows: Vec<StringRecord> = rdr.records().map(|r| r.expect("row")).collect();
        assert_eq!(rows.iter().map(|r| src.cell_line(r, 1)).collect::<Vec<_>>(), vec![2, 4]);
        at(&first_error(b"year,share\r2014,0.1\r2015\r"), 3, "share");
        at(&first_error(b"year,share\r2014,0.1\r2015,\xff\r"), 3, "share");
        // CRLF is one line break, and a CR inside a line ends it too.
        at(&first_error(b"year,share\r\n2014,0.1\r\n\r\n2015\r\n"), 4, "share");
        at(&first_error(b"year,share\n2014,0.1\r2015\n2016,0.3\n"), 3, "share");
    }
}
