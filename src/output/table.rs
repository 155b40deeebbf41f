//! Reading back what pioneer wrote: each table's fingerprint in the manifest (bytes, rows, a
//! hash), checked before a table is read, and a strict CSV reader that names file, line, column.

use crate::error::{Error, InputError, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A file's fingerprint: its bytes, its rows (lines after the header) and FNV-1a over its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    pub bytes: u64,
    pub rows: u64,
    pub fnv: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest {
            bytes: 0,
            rows: 0,
            fnv: 0xcbf2_9ce4_8422_2325,
        }
    }
}

impl Digest {
    /// Add the next bytes of the file (the digest does not depend on how they are cut).
    pub fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.fnv ^= b as u64;
            self.fnv = self.fnv.wrapping_mul(0x0100_0000_01b3);
        }
        self.bytes += bytes.len() as u64;
        self.rows += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    }

    /// The digest of the file at `path`.
    pub fn of_file(path: &Path) -> Result<Digest> {
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        let mut d = Digest::default();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
            if n == 0 {
                break;
            }
            d.add(&buf[..n]);
        }
        // The header line is not a row.
        d.rows = d.rows.saturating_sub(1);
        Ok(d)
    }

    /// As the manifest holds it.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({ "bytes": self.bytes, "rows": self.rows, "fnv": format!("{:016x}", self.fnv) })
    }

    fn from_json(v: &serde_json::Value) -> Option<Digest> {
        Some(Digest {
            bytes: v.get("bytes")?.as_u64()?,
            rows: v.get("rows")?.as_u64()?,
            fnv: u64::from_str_radix(v.get("fnv")?.as_str()?, 16).ok()?,
        })
    }
}

/// The fingerprints of the CSV tables in `dir` (not in its subfolders), for its manifest's
/// `tables`: read back from the disk, so they say what is there.
pub fn digests(dir: &Path) -> Result<serde_json::Value> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv") && !n.starts_with('.'))
        .collect();
    names.sort();
    let mut out = serde_json::Map::new();
    for n in names {
        out.insert(n.clone(), Digest::of_file(&dir.join(&n))?.to_json());
    }
    Ok(serde_json::Value::Object(out))
}

/// The error of reading `path`, a file pioneer wrote: bytes that are not UTF-8 text are damage
/// (bad input, exit 2), anything else a failure to read.
pub fn read_error(path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::InvalidData {
        InputError::new(format!("not UTF-8 text; {DAMAGED}")).file(path).into()
    } else {
        Error::io(format!("cannot read {}", path.display()), e)
    }
}

/// What a damaged results folder is told to do.
const DAMAGED: &str = "the folder was changed or damaged after it was written; run the command again to write it whole";

/// Check `dir/name` against the fingerprint in `dir/manifest.json`: a table cut short, emptied,
/// rewritten or replaced is refused, naming the file. A manifest of an earlier pioneer, without
/// fingerprints, leaves the table to the reader's own checks.
pub fn verify(dir: &Path, name: &str) -> Result<()> {
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        InputError::new(format!(
            "no finished results here ({e}): the command that writes this folder did not finish"
        ))
        .file(&manifest_path)
    })?;
    let m: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| InputError::new(format!("not a pioneer manifest: {e}; {DAMAGED}")).file(&manifest_path))?;
    let Some(tables) = m.get("tables") else {
        return Ok(());
    };
    let path = dir.join(name);
    let want = tables
        .get(name)
        .and_then(Digest::from_json)
        .ok_or_else(|| InputError::new(format!("the manifest records no table `{name}`; {DAMAGED}")).file(&manifest_path))?;
    if !path.is_file() {
        return Err(InputError::new(format!("missing: the manifest records it; {DAMAGED}"))
            .file(&path)
            .into());
    }
    let have = Digest::of_file(&path)?;
    if have != want {
        let what = if have.bytes != want.bytes {
            format!(
                "{} bytes in {} rows, the manifest says {} bytes in {} rows",
                have.bytes, have.rows, want.bytes, want.rows
            )
        } else {
            format!("its {} bytes differ from those the manifest recorded", have.bytes)
        };
        return Err(InputError::new(format!("{what}: {DAMAGED}")).file(&path).into());
    }
    Ok(())
}

/// A CSV table read strictly, row by row: every row has the header's cells, the file ends with
/// a line end, and a cell that is not what its column holds is named by line and column.
pub struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    rdr: csv::Reader<std::fs::File>,
    last_ends_line: bool,
}

/// One row of a `Table`: its 1-based line and its cells.
pub struct Row<'a> {
    pub line: usize,
    pub cells: csv::StringRecord,
    table: &'a Table,
}

impl Table {
    /// Open `path` and read its header.
    pub fn open(path: &Path) -> Result<Table> {
        let bad = |m: String| -> Error { InputError::new(m).file(path).into() };
        let mut f = std::fs::File::open(path).map_err(|e| bad(format!("cannot read the table: {e}")))?;
        // A file cut short mid-line: its last byte is not a line end.
        let last_ends_line = {
            use std::io::{Seek, SeekFrom};
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let mut b = [0u8; 1];
            let ends = len == 0 || (f.seek(SeekFrom::Start(len - 1)).is_ok() && f.read_exact(&mut b).is_ok() && b[0] == b'\n');
            f.seek(SeekFrom::Start(0)).map_err(|e| bad(format!("cannot read the table: {e}")))?;
            ends
        };
        let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(f);
        let header: Vec<String> = match rdr.headers() {
            Ok(h) => h.iter().map(str::to_string).collect(),
            Err(e) => return Err(bad(format!("cannot read the header: {e}; {DAMAGED}"))),
        };
        if header.iter().all(String::is_empty) {
            return Err(bad(format!("empty: no header; {DAMAGED}")));
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rdr,
            last_ends_line,
        })
    }

    /// The index of column `name`, or an error naming it.
    pub fn col(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            InputError::new(format!("no column `{name}`: not a table of this pioneer, or {DAMAGED}"))
                .file(&self.path)
                .line(1)
                .field(name)
                .into()
        })
    }

    /// Every row, in order, handed to `f`.
    pub fn rows(mut self, mut f: impl FnMut(&Row) -> Result<()>) -> Result<usize> {
        let mut rec = csv::StringRecord::new();
        let mut n = 0;
        loop {
            let more = self.rdr.read_record(&mut rec).map_err(|e| self.csv_error(e))?;
            if !more {
                break;
            }
            let line = rec.position().map_or(n + 2, |p| p.line() as usize);
            n += 1;
            let row = Row {
                line,
                cells: std::mem::take(&mut rec),
                table: &self,
            };
            f(&row)?;
            rec = row.cells;
        }
        if !self.last_ends_line {
            let line = n + 1;
            return Err(InputError::new(format!("the last row is cut short (no line end); {DAMAGED}"))
                .file(&self.path)
                .line(line)
                .into());
        }
        Ok(n)
    }

    fn csv_error(&self, e: csv::Error) -> Error {
        let line = e.position().map(|p| p.line() as usize);
        let (m, field) = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => (
                format!("{len} cells, the header has {expected_len}; {DAMAGED}"),
                (*len < *expected_len).then(|| self.header.get(*len as usize).cloned()).flatten(),
            ),
            csv::ErrorKind::Utf8 { err, .. } => (format!("not UTF-8 text; {DAMAGED}"), self.header.get(err.field()).cloned()),
            _ => (format!("{e}; {DAMAGED}"), None),
        };
        let mut err = InputError::new(m).file(&self.path);
        if let Some(l) = line {
            err = err.line(l);
        }
        if let Some(f) = field {
            err = err.field(f);
        }
        err.into()
    }
}

impl Row<'_> {
    /// The cell of column `c`, as text.
    pub fn get(&self, c: usize) -> &str {
        self.cells.get(c).unwrap_or("")
    }

    /// An error at this row's cell of column `c`.
    pub fn error(&self, c: usize, m: impl Into<String>) -> Error {
        let mut e = InputError::new(m).file(&self.table.path).line(self.line);
        if let Some(name) = self.table.header.get(c) {
            e = e.field(name.clone());
        }
        e.into()
    }

    /// The number in column `c`: finite, else an error naming the cell.
    pub fn num(&self, c: usize) -> Result<f64> {
        let s = self.get(c);
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.error(c, format!("`{s}` is not a number; {DAMAGED}"))),
        }
    }

    /// The number in column `c`, or None for an empty cell (a month never reached).
    pub fn opt_num(&self, c: usize) -> Result<Option<f64>> {
        if self.get(c).is_empty() {
            Ok(None)
        } else {
            self.num(c).map(Some)
        }
    }

    /// The whole number in column `c`.
    pub fn index(&self, c: usize) -> Result<usize> {
        let s = self.get(c);
        s.parse::<usize>()
            .map_err(|_| self.error(c, format!("`{s}` is not a whole number; {DAMAGED}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pioneer-table-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("dir");
        d
    }

    #[test]
    fn a_digest_does_not_depend_on_how_the_bytes_are_cut() {
        let text = b"a,b\n1,2\n3,4\n";
        let mut whole = Digest::default();
        whole.add(text);
        let mut parts = Digest::default();
        for c in text.chunks(3) {
            parts.add(c);
        }
        assert_eq!(whole, parts);
        let mut other = Digest::default();
        other.add(b"a,b\n1,2\n3,5\n");
        assert_ne!(whole.fnv, other.fnv);
    }

    #[test]
    fn a_table_changed_after_its_manifest_is_refused() {
        let d = dir("verify");
        std::fs::write(d.join("runs.csv"), "point,x\n0,1\n1,2\n").expect("write");
        let m = serde_json::json!({ "pioneer": "t", "tables": digests(&d).expect("digests") });
        std::fs::write(d.join("manifest.json"), m.to_string()).expect("write");
        verify(&d, "runs.csv").expect("as written");
        for damaged in ["point,x\n0,1\n", "", "0,1\n1,2\n", "point,x\n0,1\n1,3\n"] {
            std::fs::write(d.join("runs.csv"), damaged).expect("write");
            let e = verify(&d, "runs.csv").expect_err(damaged).to_string();
            assert!(e.contains("runs.csv") && e.contains("damaged"), "{e}");
        }
        assert!(verify(&d, "stats.csv").is_err(), "a table the manifest does not record");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn rows_cut_short_or_not_numbers_are_named_by_line_and_column() {
        let d = dir("rows");
        let p = d.join("t.csv");
        let read = |text: &str| -> Result<Vec<f64>> {
            std::fs::write(&p, text).expect("write");
            let t = Table::open(&p)?;
            let c = t.col("share")?;
            let mut v = Vec::new();
            t.rows(|r| {
                v.push(r.num(c)?);
                Ok(())
            })?;
            Ok(v)
        };
        assert_eq!(read("point,share\n0,0.5\n1,0.25\n").expect("fine"), vec![0.5, 0.25]);
        let e = read("point,share\n0,0.5\n1\n").expect_err("short").to_string();
        assert!(e.contains("t.csv:3") && e.contains("`share`") && e.contains("1 cells"), "{e}");
        let e = read("point,share\n0,0.5\n1,x\n").expect_err("text").to_string();
        assert!(e.contains("t.csv:3") && e.contains("`share`") && e.contains("`x`"), "{e}");
        let e = read("point,share\n0,0.5\n1,0.2").expect_err("no line end").to_string();
        assert!(e.contains("cut short"), "{e}");
        let e = read("").expect_err("empty").to_string();
        assert!(e.contains("empty"), "{e}");
        let e = read("point,other\n0,1\n").expect_err("no column").to_string();
        assert!(e.contains("`share`"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
