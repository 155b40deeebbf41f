//! Memory a command will hold, reckoned from the scenario's numbers before anything is built,
//! and the refusal that names the field or flag to change and what to do instead.

use crate::error::Result;
use crate::model::agg;
use crate::scenario::{Planned, Scenario};

/// Bytes of one steps.csv row as text (they run to about 150).
const STEPS_ROW: u64 = 256;
/// Bytes of one units.csv row as text (about 90).
const UNITS_ROW: u64 = 128;
/// Bytes of one panel.csv row as text (about 200).
const PANEL_ROW: u64 = 256;
/// Bytes of one trace event, held and then written as a row.
const EVENT: u64 = 512;
/// Bytes of a unit in the built world and model: names, ids, attributes, groups, masks.
const UNIT: u64 = 320;
/// Bytes of a neighbour link while the world is built (edge list, lists, CSR).
const LINK: u64 = 24;

/// What one scenario costs: its planned world and the size of each run.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub world: Planned,
    pub innov: u64,
    pub months: u64,
}

impl Footprint {
    /// The footprint of `sc` as it stands (flags applied).
    pub fn of(sc: &Scenario) -> Result<Footprint> {
        Ok(Footprint {
            world: sc.planned()?,
            innov: sc.spec.innovation.len().max(1) as u64,
            months: sc.spec.months as u64,
        })
    }

    /// The built world and model.
    pub fn world_bytes(&self) -> u64 {
        let w = &self.world;
        w.units
            .saturating_mul(UNIT + 16 * self.innov)
            .saturating_add(w.links.saturating_mul(LINK))
    }

    /// One run's state (live in a batch, or kept as its end state).
    pub fn state_bytes(&self) -> u64 {
        let (unit_cols, innov_cols, rung_cols, _) = crate::state::COLUMN_COUNTS;
        let per_innov = (innov_cols + rung_cols * crate::state::RUNG_WORDS) as u64;
        let per_unit = (unit_cols as u64 + per_innov * self.innov) * 4 + 8;
        self.world.units.saturating_mul(per_unit)
    }

    /// What one run holds while a batch is stepped and timed (`bench`, `bench --scaling`,
    /// `devices`): its state and records, twice (the batch's start and its end).
    pub fn batch_run_bytes(&self) -> u64 {
        self.state_bytes().saturating_add(self.records_bytes()).saturating_mul(2)
    }

    /// One run's monthly records.
    pub fn records_bytes(&self) -> u64 {
        self.months * agg::record_len(self.innov as usize) as u64 * 4
    }

    /// One run's steps.csv rows as text.
    pub fn steps_text(&self) -> u64 {
        self.months * self.innov * STEPS_ROW
    }

    /// One run's units.csv rows as text.
    pub fn units_text(&self) -> u64 {
        self.world.units.saturating_mul(self.innov * UNITS_ROW)
    }

    /// `runs` runs' event-history panel as text: at most a row per unit, innovation and period
    /// of `period` months.
    pub fn panel_text(&self, runs: u64, period: u32) -> u64 {
        let periods = self.months.div_ceil(period.max(1) as u64);
        runs.saturating_mul(self.world.units)
            .saturating_mul(self.innov)
            .saturating_mul(periods)
            .saturating_mul(PANEL_ROW)
    }

    /// At most this many events of one traced run: a few per unit, innovation and month.
    pub fn events_bytes(&self) -> u64 {
        self.world
            .units
            .saturating_mul(self.innov)
            .saturating_mul(self.months.min(64))
            .saturating_mul(EVENT)
    }

    /// `pioneer run`: the world, every run's end state, records and text (the chunk being run
    /// is copied once when it joins the others), plus the live chunk of `batch` runs.
    pub fn run_bytes(&self, runs: u64, batch: u64, units_csv: bool) -> u64 {
        let per_run = [
            self.state_bytes(),
            self.records_bytes(),
            self.steps_text(),
            self.months * 16 * self.innov,
            if units_csv { self.units_text() } else { 0 },
        ]
        .into_iter()
        .fold(0u64, u64::saturating_add);
        self.world_bytes()
            .saturating_add(runs.saturating_mul(per_run))
            .saturating_add(batch.min(runs).saturating_mul(self.state_bytes()))
    }
}

/// The memory a command may use: three quarters of this machine's.
pub fn allowed() -> u64 {
    memory_total() / 4 * 3
}

/// Memory this machine has (MemTotal), or 16 GiB when it cannot be read.
pub fn memory_total() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(16 << 30, |kb| kb * 1024)
}

pub fn gib(b: u64) -> f64 {
    b as f64 / (1u64 << 30) as f64
}

/// Refuse the world itself when building it alone would not fit, naming its largest field.
pub fn check_world(sc: &Scenario, fp: &Footprint) -> Result<()> {
    let (need, have) = (fp.world_bytes(), allowed());
    if need > have {
        return Err(sc
            .err(
                &fp.world.field,
                format!(
                    "a world of about {} units needs about {:.1} GiB to build, more than this machine's {:.1} GiB allows; use a smaller world",
                    fp.world.units,
                    gib(need),
                    gib(have)
                ),
            )
            .into());
    }
    Ok(())
}

/// Refuse a command whose runs would need more than `allowed()`, before anything is built:
/// `runs` runs of `fp` needing `need` bytes in all; the refusal names `field` (the scenario's
/// field, or the flag that set it) and `advice` says what to change.
pub fn check(sc: &Scenario, fp: &Footprint, field: &str, runs: u64, need: u64, advice: &str) -> Result<()> {
    check_world(sc, fp)?;
    let have = allowed();
    if need > have {
        return Err(sc
            .err(
                field,
                format!(
                    "{} runs × {} units × {} months need about {:.1} GiB, more than this machine's {:.1} GiB allows; {advice}",
                    runs,
                    fp.world.units,
                    fp.months,
                    gib(need),
                    gib(have)
                ),
            )
            .into());
    }
    Ok(())
}

/// The advice for a command that keeps every run in memory.
pub const FEWER_RUNS: &str = "use fewer replicates or months, or a smaller world (`pioneer sweep` streams any number of runs to disk)";

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(units: u64, months: u64) -> Footprint {
        Footprint {
            world: Planned {
                units,
                links: units.saturating_mul(12),
                field: "world.counties".into(),
            },
            innov: 1,
            months,
        }
    }

    #[test]
    fn kept_runs_count_whatever_the_batch() {
        // A smaller batch saves only the live chunk: every run's end state is kept.
        let f = fp(3208, 240);
        let all = f.run_bytes(1000, 1000, false);
        let chunked = f.run_bytes(1000, 64, false);
        assert!(chunked >= all / 2, "{chunked} vs {all}");
        assert!(f.run_bytes(1_000_000, 64, false) > 64 << 30);
    }

    #[test]
    fn sizes_grow_with_each_number() {
        let f = fp(1000, 100);
        assert!(fp(2000, 100).run_bytes(10, 10, false) > f.run_bytes(10, 10, false));
        assert!(fp(1000, 200).run_bytes(10, 10, false) > f.run_bytes(10, 10, false));
        assert!(f.run_bytes(20, 10, false) > f.run_bytes(10, 10, false));
        assert!(f.run_bytes(10, 10, true) > f.run_bytes(10, 10, false));
        assert!(fp(u64::MAX / 2, 65534).run_bytes(u64::MAX, 1, true) == u64::MAX);
    }
}
