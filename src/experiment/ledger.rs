//! A sweep folder's record of itself: `sweep.json` (which sweep, which shard) and `ledger.csv`
//! (one line per finished block, appended after the block's files are in place).

use crate::error::{Error, InputError, Result};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `sweep.json`: what a sweep folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    /// `Sweep::identity`: equal for shards of one sweep and for a resumed sweep.
    pub identity: String,
    pub name: String,
    pub sweep_file: String,
    pub points: usize,
    /// `--points` as given to `pioneer sweep` (the sweep file's `points` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_flag: Option<usize>,
    pub replicates: u32,
    pub months: u32,
    pub seed: u64,
    pub blocks: usize,
    pub points_per_block: usize,
    /// Steps output: `run`, `mean` or `none`.
    pub steps: String,
    /// The event-history panel's period in months (`--panel`), if written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<u32>,
    /// This folder's shard `index/count` (1-based) and the blocks it runs.
    pub shard: Shard,
}

/// Most shards a sweep is split into (more than its blocks leaves some empty).
pub const MAX_SHARDS: usize = 1_000_000;

/// A deterministic share of a sweep's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
    pub first_block: usize,
    pub end_block: usize,
}

impl Shard {
    /// Shard `index` of `count` over `blocks` blocks: a contiguous range, as even as possible.
    pub fn new(index: usize, count: usize, blocks: usize) -> Shard {
        Shard {
            index,
            count,
            first_block: (index - 1) * blocks / count,
            end_block: index * blocks / count,
        }
    }

    /// Parse `I/N` (1 ≤ I ≤ N) for `blocks` blocks.
    pub fn parse(s: &str, blocks: usize) -> std::result::Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}`: give I/N, e.g. 3/8"))?;
        let (i, n): (usize, usize) = match (i.trim().parse(), n.trim().parse()) {
            (Ok(i), Ok(n)) => (i, n),
            _ => return Err(format!("`{s}`: I and N must be whole numbers, e.g. 3/8")),
        };
        if n == 0 || i == 0 || i > n {
            return Err(format!("`{s}`: allowed 1 ≤ I ≤ N"));
        }
        if n > MAX_SHARDS {
            return Err(format!("`{s}`: at most {MAX_SHARDS} shards"));
        }
        Ok(Shard::new(i, n, blocks))
    }
}

/// The tables a sweep writes, in order: each block has a part of each (steps and panel only
/// when asked for).
pub const TABLES: [&str; 5] = ["points", "runs", "stats", "steps", "panel"];

/// One finished block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub block: usize,
    pub first_point: usize,
    pub end_point: usize,
    /// Each table's part as written, by `TABLES`: its bytes and FNV-1a hash (None for a table
    /// not written; all None in the ledger of an earlier pioneer, which recorded none).
    pub parts: [Option<(u64, u64)>; 5],
}

impl Done {
    /// The check recorded for `table`'s part, if any.
    pub fn part(&self, table: &str) -> Option<(u64, u64)> {
        TABLES.iter().position(|t| *t == table).and_then(|i| self.parts[i])
    }

    /// The ledger's `parts` cell: `points=BYTES:HASH runs=…`.
    fn parts_cell(&self) -> String {
        TABLES
            .iter()
            .zip(&self.parts)
            .filter_map(|(t, p)| p.map(|(b, h)| format!("{t}={b}:{h:016x}")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Read a `parts` cell; None when it is not one.
    fn read_parts(cell: &str) -> Option<[Option<(u64, u64)>; 5]> {
        let mut parts = [None; 5];
        for item in cell.split_whitespace() {
            let (t, rest) = item.split_once('=')?;
            let (b, h) = rest.split_once(':')?;
            let i = TABLES.iter().position(|x| *x == t)?;
            parts[i] = Some((b.parse().ok()?, u64::from_str_radix(h, 16).ok()?));
        }
        Some(parts)
    }
}

/// Paths of a sweep folder.
pub fn info_path(dir: &Path) -> PathBuf {
    dir.join("sweep.json")
}
pub fn ledger_path(dir: &Path) -> PathBuf {
    dir.join("ledger.csv")
}
pub fn parts_dir(dir: &Path) -> PathBuf {
    dir.join("parts")
}
/// The part file of `table` for block b.
pub fn part(dir: &Path, table: &str, b: usize) -> PathBuf {
    parts_dir(dir).join(format!("{table}-{b:06}.csv"))
}

/// Read `sweep.json`, if the folder has one.
pub fn read_info(dir: &Path) -> Result<Option<SweepInfo>> {
    let p = info_path(dir);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::output::table::read_error(&p, e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| InputError::new(format!("not a pioneer sweep record: {e}")).file(&p).into())
}

/// Write `sweep.json` (atomically).
pub fn write_info(dir: &Path, info: &SweepInfo) -> Result<()> {
    let text = serde_json::to_string_pretty(info).map_err(|e| Error::Backend(format!("sweep.json: {e}")))?;
    crate::output::write_atomic(&info_path(dir), text.as_bytes())
}

pub const LEDGER_HEADER: &str = "block,first_point,end_point,parts\n";

/// The finished blocks recorded in a folder's ledger (none without a ledger).
pub fn read_ledger(dir: &Path) -> Result<Vec<Done>> {
    let p = ledger_path(dir);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::output::table::read_error(&p, e)),
    };
    // Only lines that end with a newline were written whole: a kill while a line was appended
    // leaves a piece after the last newline, which is not a finished block.
    let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
    let mut out = Vec::new();
    if !whole.is_empty() && !whole.starts_with(LEDGER_HEADER) {
        return Err(InputError::new(format!(
            "the first line is not `{}`; the folder was damaged: run the sweep again with --force",
            LEDGER_HEADER.trim_end()
        ))
        .file(&p)
        .line(1)
        .into());
    }
    for (n, line) in whole.lines().enumerate().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let num = |i: usize| cells.get(i).and_then(|x| x.trim().parse::<usize>().ok());
        let parts = match cells.get(3) {
            Some(c) => Done::read_parts(c),
            None => Some([None; 5]),
        };
        match (num(0), num(1), num(2), parts, cells.len()) {
            (Some(block), Some(first_point), Some(end_point), Some(parts), 3 | 4) if first_point < end_point => out.push(Done {
                block,
                first_point,
                end_point,
                parts,
            }),
            _ => {
                return Err(InputError::new(format!(
                    "`{line}` is not a finished block (block,first_point,end_point,parts); the folder was damaged: run the sweep again with --force"
                ))
                .file(&p)
                .line(n + 1)
                .into())
            }
        }
    }
    Ok(out)
}

/// Record a finished block (after its parts are in place), flushed to disk.
pub fn append_ledger(dir: &Path, d: Done) -> Result<()> {
    let p = ledger_path(dir);
    let new = !p.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .map_err(|e| Error::io(format!("cannot open {}", p.display()), e))?;
    let mut line = String::new();
    if new {
        line.push_str(LEDGER_HEADER);
    }
    line.push_str(&format!("{},{},{},{}\n", d.block, d.first_point, d.end_point, d.parts_cell()));
    f.write_all(line.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(format!("cannot write {}", p.display()), e))?;
    crate::output::put_in_place();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_block_once() {
        for blocks in [1, 7, 10, 64] {
            for count in 1..=9 {
                let mut seen = vec![0; blocks];
                for i in 1..=count {
                    let s = Shard::new(i, count, blocks);
                    for slot in &mut seen[s.first_block..s.end_block] {
                        *slot += 1;
                    }
                }
                assert!(seen.iter().all(|&x| x == 1), "{blocks} blocks, {count} shards: {seen:?}");
            }
        }
        assert!(Shard::parse("0/3", 5).is_err() && Shard::parse("4/3", 5).is_err() && Shard::parse("x", 5).is_err());
        assert_eq!(Shard::parse("2/2", 10), Ok(Shard::new(2, 2, 10)));
    }

    #[test]
    fn a_ledger_line_cut_short_does_not_count() {
        let dir = std::env::temp_dir().join(format!("pioneer-ledger-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        append_ledger(
            &dir,
            Done {
                block: 0,
                first_point: 0,
                end_point: 4,
                parts: [Some((10, 0xabc)), Some((20, 7)), None, None, None],
            },
        )
        .expect("append");
        append_ledger(
            &dir,
            Done {
                block: 1,
                first_point: 4,
                end_point: 8,
                parts: [None; 5],
            },
        )
        .expect("append");
        let read = read_ledger(&dir).expect("read");
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].part("runs"), Some((20, 7)), "the parts' checks read back");
        assert_eq!(read[0].part("stats"), None);
        let mut text = std::fs::read_to_string(ledger_path(&dir)).expect("read");
        text.push_str("2,8,1");
        std::fs::write(ledger_path(&dir), text).expect("write");
        assert_eq!(read_ledger(&dir).expect("read").len(), 2, "the cut line is not a finished block");
        // A whole line that is not a block is damage, refused with its line.
        for bad in ["2,8,x,\n", "2,8,8,\n", "2,8,12,runs=1\n", "2,8,12,runs=1:2 up=1:2\n"] {
            let mut t = std::fs::read_to_string(ledger_path(&dir)).expect("read");
            t.truncate(t.rfind('\n').map_or(0, |i| i + 1));
            std::fs::write(ledger_path(&dir), t + bad).expect("write");
            let e = read_ledger(&dir).expect_err(bad).to_string();
            assert!(e.contains("ledger.csv:4"), "{bad}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
