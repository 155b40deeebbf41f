//! `pioneer merge`: the shards of one sweep (folders of `pioneer sweep --shard I/N`) made into the
//! sweep's final tables, the same bytes as one unsharded sweep.

use super::sweep::{check_coverage, finalize};
use crate::error::{InputError, Result};
use crate::experiment::ledger::{self, Shard};
use crate::experiment::Sweep;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `pioneer merge`.
#[derive(Debug, Clone, Default)]
pub struct MergeArgs {
    pub dirs: Vec<PathBuf>,
    pub out: PathBuf,
}

/// `pioneer merge`; returns the number of points merged.
pub fn merge(a: &MergeArgs) -> Result<usize> {
    let t0 = Instant::now();
    if a.dirs.is_empty() {
        return Err(InputError::new("give the shard folders to merge").field("DIR").into());
    }
    let mut infos = Vec::new();
    for d in &a.dirs {
        let info = ledger::read_info(d)?.ok_or_else(|| {
            InputError::new("not a sweep folder (no sweep.json): give the --out folders of `pioneer sweep --shard I/N`").file(d)
        })?;
        if same_folder(d, &a.out) {
            return Err(InputError::new("the merged result needs its own folder, not one of the shards")
                .field("--out")
                .into());
        }
        infos.push(info);
    }
    let first = infos[0].clone();
    for (d, i) in a.dirs.iter().zip(&infos).skip(1) {
        if i.identity != first.identity {
            return Err(InputError::new(format!(
                "holds the sweep `{}` ({}), not the sweep of {} (`{}`, {}): shards of different sweeps do not merge",
                i.name,
                i.sweep_file,
                a.dirs[0].display(),
                first.name,
                first.sweep_file
            ))
            .file(d)
            .into());
        }
        if i.steps != first.steps {
            return Err(InputError::new(format!(
                "ran with --steps {}, {} with --steps {}",
                i.steps,
                a.dirs[0].display(),
                first.steps
            ))
            .file(d)
            .into());
        }
        if i.panel != first.panel {
            let said = |p: Option<u32>| p.map_or("without --panel".to_string(), |p| format!("with a panel of {p}-month periods"));
            return Err(
                InputError::new(format!("ran {}, {} {}", said(i.panel), a.dirs[0].display(), said(first.panel)))
                    .file(d)
                    .into(),
            );
        }
    }
    // The sweep itself says what each shard's record must hold: a record that disagrees
    // (a damaged or edited sweep.json) is refused before anything is sized from it.
    let sw = Sweep::load(
        Path::new(&first.sweep_file),
        Some(first.replicates),
        Some(first.months),
        first.points_flag,
    )
    .map_err(|e| InputError::new(format!("the sweep its record names cannot be read again: {e}")).file(ledger::info_path(&a.dirs[0])))?;
    if sw.identity() != first.identity {
        return Err(
            InputError::new("the sweep file or its base scenario changed since the shards ran; run them again")
                .file(&first.sweep_file)
                .into(),
        );
    }
    for (d, i) in a.dirs.iter().zip(&infos) {
        let want = [
            ("points", sw.n_points(), i.points),
            ("blocks", sw.blocks(), i.blocks),
            ("points_per_block", sw.points_per_block(), i.points_per_block),
            ("replicates", sw.replicates as usize, i.replicates as usize),
            ("months", sw.months as usize, i.months as usize),
        ];
        if let Some((field, w, h)) = want.iter().find(|(_, w, h)| w != h) {
            return Err(InputError::new(format!(
                "{h}, but the sweep it names has {w}: the shard's record was changed or damaged; run the shard again"
            ))
            .file(ledger::info_path(d))
            .field(*field)
            .into());
        }
        let s = &i.shard;
        if s.count == 0
            || s.index == 0
            || s.index > s.count
            || s.count > ledger::MAX_SHARDS
            || *s != Shard::new(s.index, s.count, sw.blocks())
        {
            return Err(InputError::new(format!(
                "shard {}/{} with blocks {}..{} is not a shard of this sweep's {} blocks: the shard's record was changed or damaged",
                s.index,
                s.count,
                s.first_block,
                s.end_block,
                sw.blocks()
            ))
            .file(ledger::info_path(d))
            .field("shard")
            .into());
        }
    }
    let mut sources = Vec::new();
    for d in &a.dirs {
        sources.push((d.clone(), ledger::read_ledger(d)?));
    }
    let shards: Vec<Shard> = infos.iter().map(|i| i.shard).collect();
    check_coverage(&first, &sources, &shards, 0..first.blocks)?;
    let mut me = first.clone();
    me.shard = Shard::new(1, 1, first.blocks);
    finalize(&sw, &me, &sources, &a.out, false, "merged from shards", t0)?;
    Ok(first.points)
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
