//! The commands behind the `pioneer` binary: run, sweep, merge, trace, ablate, bench and devices,
//! as library calls.
//! The binary parses flags (src/cli.rs) and maps errors to exit codes; the work is here.

pub mod ablate;
pub mod bench;
pub mod budget;
pub mod calibrate;
pub mod devices;
pub mod merge;
pub mod panel;
pub mod plot;
pub mod report;
pub mod run;
pub mod scaling;
pub mod sensitivity;
#[cfg(feature = "serve")]
pub mod serve;
pub mod signals;
pub mod sweep;
pub mod trace;

use crate::error::{InputError, Result};
use crate::scenario::Scenario;
use std::path::Path;

/// Load a scenario and apply the command-line overrides (flags win over the file).
pub fn load_scenario(path: &Path, replicates: Option<u32>, seed: Option<u64>, months: Option<u32>) -> Result<Scenario> {
    let mut sc = Scenario::load(path)?;
    if let Some(r) = replicates {
        if r == 0 {
            return Err(InputError::new("must be at least 1").field("--replicates").into());
        }
        sc.spec.replicates = r;
        sc.set_by_flag("replicates");
    }
    if let Some(s) = seed {
        sc.spec.seed = s;
        sc.set_by_flag("seed");
    }
    if let Some(m) = months {
        if m == 0 || m > crate::scenario::MAX_MONTHS {
            return Err(InputError::new(format!("{m}: allowed 1 to {}", crate::scenario::MAX_MONTHS))
                .field("--months")
                .into());
        }
        sc.spec.months = m;
        sc.set_by_flag("months");
    }
    Ok(sc)
}

/// Create the output folder (`--out`), before any work.
pub fn make_dir(dir: &Path) -> Result<()> {
    crate::output::folder::create(dir, "--out")
}
