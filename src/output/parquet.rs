//! Parquet twins of the sweep tables, converted from the finished CSV a batch of rows at a time
//! (row groups of a fixed row count, so the file never depends on how the sweep was split).

use super::sweep::Kind;
use crate::error::{Error, Result};
use arrow_array::builder::{Float64Builder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

/// Rows per row group (and per batch read from the CSV).
pub const ROW_GROUP: usize = 65_536;

enum Column {
    U32(UInt32Builder),
    F64(Float64Builder),
    Str(StringBuilder),
}

/// Convert the CSV at `csv` (a header row, then rows; no quoting needed) into Parquet at
/// `parquet`, typing each column by `kind(name)`; `meta` goes into the footer.
pub fn csv_to_parquet(csv: &Path, parquet: &Path, kind: &dyn Fn(&str) -> Kind, meta: &[(String, String)]) -> Result<()> {
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
            Kind::U32 => Field::new(*n, DataType::UInt32, false),
            Kind::OptU32 => Field::new(*n, DataType::UInt32, true),
            Kind::F64 => Field::new(*n, DataType::Float64, true),
            Kind::Str => Field::new(*n, DataType::Utf8, false),
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_key_value_metadata(Some(meta.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone())).collect()))
        .build();
    let mut tmp = parquet.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let out = std::fs::File::create(&tmp).map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
    let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).map_err(|e| fail_write(e.to_string()))?;
    let new_builders = || -> Vec<Column> {
        kinds
            .iter()
            .map(|k| match k {
                Kind::U32 | Kind::OptU32 => Column::U32(UInt32Builder::with_capacity(ROW_GROUP)),
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
                    Column::U32(b) => Arc::new(b.finish()),
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
        for (c, cell) in cols.iter_mut().zip(cells) {
            let bad = || fail_write(format!("line {}: `{cell}` is not a number", n + 2));
            match c {
                Column::U32(b) if cell.is_empty() => b.append_null(),
                Column::U32(b) => b.append_value(cell.parse().map_err(|_| bad())?),
                Column::F64(b) if cell.is_empty() => b.append_null(),
                Column::F64(b) => b.append_value(cell.parse().map_err(|_| bad())?),
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
    file.sync_all()
        .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, parquet).map_err(|e| Error::io(format!("cannot rename {} into place", tmp.display()), e))
}

/// Every row of a Parquet file as text cells (numbers as CSV prints them, null as empty), with
/// the column names: for tests and for `pioneer merge`'s checks.
pub fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    use arrow_array::{Array, Float64Array, StringArray, UInt32Array};
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
                    } else if let Some(a) = c.as_any().downcast_ref::<UInt32Array>() {
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
