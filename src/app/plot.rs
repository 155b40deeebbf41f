//! `pioneer plot`: draw a finished sweep's charts again from its tables.

use crate::error::{InputError, Result};
use crate::experiment::ledger;
use crate::output::table;
use std::path::Path;

/// `pioneer plot DIR`: the files written, relative to DIR.
pub fn plot(dir: &Path) -> Result<Vec<String>> {
    let info = ledger::read_info(dir)?.ok_or_else(|| InputError::new("not a sweep folder (no sweep.json)").file(dir))?;
    if !dir.join("runs.csv").is_file() || !dir.join("manifest.json").is_file() {
        return Err(
            InputError::new("the sweep is not finished (no runs.csv or manifest.json): `pioneer sweep … --resume` finishes it")
                .file(dir)
                .into(),
        );
    }
    // The tables are drawn only as the sweep wrote them.
    for t in ["points.csv", "runs.csv"] {
        table::verify(dir, t)?;
    }
    crate::plot::sweep::charts(dir, &info.name, info.months)
}
