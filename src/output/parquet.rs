//! Parquet twins of the CSV tables (a sweep's, a run's panel, a calibration's particles),
//! converted from the finished CSV a batch of rows at a time: whole numbers `Int64`, real
//! numbers `Float64`, text `Utf8`, an empty cell null; row groups of a fixed row count (so the
//! file never depends on how the work was split); Snappy pages; and one footer of provenance,
//! built by [`footer`] for every caller (docs/sweeps.md, "Parquet").

use super::sweep::Kind;
use crate::error::{Error, Result};
use crate::experiment::Fnv;
use crate::scenario::Scenario;
use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per row group (and per batch read from the CSV).
pub const ROW_GROUP: usize = 65_536;

/// The pages' codec: Snappy, pure Rust (the `snap` crate), read by every Parquet reader; chosen
/// over LZ4_RAW and no compression on a sweep's tables (docs/sweeps.md gives the figures).
pub const CODEC: Compression = Compression::SNAPPY;

/// Where a table came from, for its footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The command that wrote the table: `run`, `sweep` or `calibrate`.
    pub command: &'static str,
    /// The seed of the runs.
    pub seed: u64,
    /// A fingerprint of what the results depend on: a sweep's or a calibration's identity (as
    /// in its `sweep.json` or `calibration.json`), or for a run [`scenario_hash`].
    pub scenario_hash: String,
    /// Keys of one command (a sweep's `sweep`: its name), after the common ones.
    pub extra: Vec<(String, String)>,
}

/// The footer's key-value metadata, the same keys in the same order for every table:
/// `pioneer` (the version), `commit` (the build's git hash), `command`, `seed`,
/// `scenario_hash`, then the command's own keys.
pub fn footer(p: &Provenance) -> Vec<(String, String)> {
    let mut v = vec![
        ("pioneer".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("commit".to_string(), env!("PIONEER_GIT_HASH").to_string()),
        ("command".to_string(), p.command.to_string()),
        ("seed".to_string(), p.seed.to_string()),
        ("scenario_hash".to_string(), p.scenario_hash.clone()),
    ];
    v.extend(p.extra.iter().cloned());
    v
}

/// A run's scenario hash: FNV-1a (64 bits, hex) of the resolved scenario (as `manifest.json`
/// writes it: the file with the command line's overrides) and the bytes of its world files.
pub fn scenario_hash(sc: &Scenario) -> String {
    let mut h = Fnv::default();
    h.add(env!("CARGO_PKG_VERSION").as_bytes());
    h.add(serde_json::to_string(&sc.spec).unwrap_or_default().as_bytes());
    for f in [&sc.spec.world.units, &sc.spec.world.edges].into_iter().flatten() {
        let p = sc.path.parent().unwrap_or(Path::new(".")).join(f);
        h.add(&std::fs::read(p).unwrap_or_default());
    }
    format!("{:016x}", h.0)
}

enum Column {
    Int(Int64Builder),
    F64(Float64Builder),
    Str(StringBuilder),
}

/// The writer's settings: fixed row groups, the codec, the footer.
fn properties(p: &Provenance) -> WriterProperties {
    let meta = footer(p).into_iter().map(|(k, v)| KeyValue::new(k, v)).collect();
    WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_compression(CODEC)
        .set_key_value_metadata(Some(meta))
        .build()
}

/// Convert the CSV at `csv` (a header row, then rows; no quoting needed) into Parquet at
/// `parquet` (written to `<name>.tmp` and renamed), typing each column by `kind(name)`, with the
/// footer of `prov`.
pub fn csv_to_parquet(csv: &Path, parquet: &Path, kind: &dyn Fn(&str) -> Kind, prov: &Provenance) -> Result<()> {
    let mut tmp = parquet.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let done = convert(csv, &tmp, parquet, kind, prov)
        .and_then(|()| std::fs::rename(&tmp, parquet).map_err(|e| Error::io(format!("cannot rename {} into place", tmp.display()), e)));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

fn convert(csv: &Path, tmp: &Path, parquet: &Path, kind: &dyn Fn(&str) -> Kind, prov: &Provenance) -> Result<()> {
    let fail_read = |e: std::io::Error| Error::io(format!("cannot read {}", csv.display()), e);
    let fail_write = |e: String| Error::Backend(format!("cannot write {}: {e}", parquet.display()));
    let file = std::fs::File::open(csv).map_err(fail_read)?;
    let mut lines = std::io::BufReader::new(file).lines();
    let header = lines.next().transpose().map_err(fail_read)?.unwrap_or_default();
    let names: Vec<&str> = header.split(',').collect();
    let kinds: Vec<Kind> = names.iter().map(|n| kind(n)).collect();
    let fields: Vec<Field> = names
        .iter()
        .zip(&kinds)
        .map(|(n, k)| match k {
            Kind::Int => Field::new(*n, DataType::Int64, false),
            Kind::OptInt => Field::new(*n, DataType::Int64, true),
            Kind::F64 => Field::new(*n, DataType::Float64, true),
            Kind::Str => Field::new(*n, DataType::Utf8, true),
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let out = std::fs::File::create(tmp).map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(properties(prov))).map_err(|e| fail_write(e.to_string()))?;
    let new_builders = || -> Vec<Column> {
        kinds
            .iter()
            .map(|k| match k {
                Kind::Int | Kind::OptInt => Column::Int(Int64Builder::with_capacity(ROW_GROUP)),
                Kind::F64 => Column::F64(Float64Builder::with_capacity(ROW_GROUP)),
                Kind::Str => Column::Str(StringBuilder::new()),
            })
            .collect()
    };
    let mut cols = new_builders();
    let mut rows = 0usize;
    let flush = |cols: &mut Vec<Column>, writer: &mut ArrowWriter<std::fs::File>| -> Result<()> {
        let arrays: Vec<ArrayRef> = cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Column::Int(b) => Arc::new(b.finish()),
                    Column::F64(b) => Arc::new(b.finish()),
                    Column::Str(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| fail_write(e.to_string()))?;
        writer.write(&batch).map_err(|e| fail_write(e.to_string()))
    };
    for (n, line) in lines.enumerate() {
        let line = line.map_err(fail_read)?;
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != cols.len() {
            return Err(fail_write(format!(
                "line {}: {} cells for {} columns",
                n + 2,
                cells.len(),
                cols.len()
            )));
        }
        for ((c, cell), name) in cols.iter_mut().zip(cells).zip(&names) {
            let bad = || fail_write(format!("line {}, column `{name}`: `{cell}` is not a number", n + 2));
            match c {
                Column::Int(b) if cell.is_empty() => b.append_null(),
                Column::Int(b) => b.append_value(cell.parse().map_err(|_| bad())?),
                Column::F64(b) if cell.is_empty() => b.append_null(),
                Column::F64(b) => b.append_value(cell.parse().map_err(|_| bad())?),
                Column::Str(b) if cell.is_empty() => b.append_null(),
                Column::Str(b) => b.append_value(cell),
            }
        }
        rows += 1;
        if rows == ROW_GROUP {
            flush(&mut cols, &mut writer)?;
            rows = 0;
        }
    }
    if rows > 0 {
        flush(&mut cols, &mut writer)?;
    }
    let file = writer.into_inner().map_err(|e| fail_write(e.to_string()))?;
    file.sync_all().map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))
}

/// Every row of a Parquet file as text cells (numbers as CSV prints them, null as empty), with
/// the column names: for tests and for `pioneer merge`'s checks.
pub fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    use arrow_array::{Array, Float64Array, Int64Array, StringArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let fail = |e: String| Error::Backend(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| fail(e.to_string()))?
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fail(e.to_string()))?;
        if names.is_empty() {
            names = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
        }
        for r in 0..batch.num_rows() {
            let row = batch
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(r) {
                        String::new()
                    } else if let Some(a) = c.as_any().downcast_ref::<Int64Array>() {
                        a.value(r).to_string()
                    } else if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
                        a.value(r).to_string()
                    } else if let Some(a) = c.as_any().downcast_ref::<StringArray>() {
                        a.value(r).to_string()
                    } else {
                        "?".to_string()
                    }
                })
                .collect();
            rows.push(row);
        }
    }
    Ok((names, rows))
}

/// The footer's key-value metadata of a Parquet file, in order, less the `ARROW:schema` key the
/// arrow writer adds of its own.
pub fn read_footer(path: &Path) -> Result<Vec<(String, String)>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let fail = |e: String| Error::Backend(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| fail(e.to_string()))?;
    let kv = reader.metadata().file_metadata().key_value_metadata().cloned().unwrap_or_default();
    Ok(kv
        .into_iter()
        .filter(|k| k.key != "ARROW:schema")
        .map(|k| (k.key, k.value.unwrap_or_default()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole numbers are signed (a difference never wraps), an empty cell is null in every kind,
    /// the footer holds the common keys, and the values read back as the CSV wrote them.
    #[test]
    fn a_table_reads_back_signed_with_nulls_and_its_footer() {
        let dir = std::env::temp_dir().join(format!("pioneer-parquet-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let csv = dir.join("t.csv");
        std::fs::write(&csv, "a,b,x,s\n10,,0.5,yes\n3,50,,\n").expect("write");
        let pq = dir.join("t.parquet");
        let kind = |c: &str| match c {
            "a" => Kind::Int,
            "b" => Kind::OptInt,
            "x" => Kind::F64,
            _ => Kind::Str,
        };
        let prov = Provenance {
            command: "run",
            seed: 7,
            scenario_hash: "00ff".into(),
            extra: vec![("sweep".into(), "s".into())],
        };
        csv_to_parquet(&csv, &pq, &kind, &prov).expect("convert");
        assert!(!dir.join("t.parquet.tmp").exists());
        let (names, rows) = read_rows(&pq).expect("read");
        assert_eq!(names, ["a", "b", "x", "s"]);
        assert_eq!(rows, [vec!["10", "", "0.5", "yes"], vec!["3", "50", "", ""]]);
        let file = std::fs::File::open(&pq).expect("open");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).expect("reader");
        let schema = reader.schema().clone();
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
        assert_eq!(schema.field(1).data_type(), &DataType::Int64);
        assert!(schema.field(3).is_nullable());
        let batch = reader.build().expect("build").next().expect("a batch").expect("batch");
        let a = batch.column(0).as_any().downcast_ref::<arrow_array::Int64Array>().expect("i64");
        assert_eq!(a.value(1) - a.value(0), -7, "3 − 10 in the table's own type");
        assert!(
            arrow_array::Array::is_null(batch.column(3).as_ref(), 1),
            "an empty text cell is null"
        );
        let keys: Vec<String> = read_footer(&pq).expect("footer").into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["pioneer", "commit", "command", "seed", "scenario_hash", "sweep"]);
        // A cell that is not a number is refused, naming the line and column, and leaves nothing.
        std::fs::write(&csv, "a,b,x,s\n1,2,3,t\nz,2,3,t\n").expect("write");
        let e = csv_to_parquet(&csv, &dir.join("u.parquet"), &kind, &prov).expect_err("refused");
        assert!(e.to_string().contains("line 3, column `a`"), "{e}");
        assert!(!dir.join("u.parquet").exists() && !dir.join("u.parquet.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
