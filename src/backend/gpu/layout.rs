//! How a batch is laid out in GPU buffers: packed state and world, the per-month layout block,
//! and how many runs fit in one chunk under the device's buffer limits.

use crate::model::agg;
use crate::model::params::Params;
use crate::model::Model;
use crate::state::{BatchState, COLUMN_COUNTS, RUNG_WORDS};
use bytemuck::{Pod, Zeroable};

/// Columns with one word per unit, per unit and innovation, `RUNG_WORDS` per unit and
/// innovation, and per innovation (`state::COLUMN_COUNTS`).
pub const UNIT_COLUMNS: usize = COLUMN_COUNTS.0;
pub const INNOV_COLUMNS: usize = COLUMN_COUNTS.1;
pub const RUNG_COLUMNS: usize = COLUMN_COUNTS.2;
pub const RUN_COLUMNS: usize = COLUMN_COUNTS.3;
/// All state columns.
pub const COLUMNS: usize = UNIT_COLUMNS + INNOV_COLUMNS + RUNG_COLUMNS + RUN_COLUMNS;
/// Words of one run's prelude in the scratch buffer (`PRE_LEN` in step.wgsl).
pub const PRE_LEN: usize = 10;

/// Mirror of `struct Layout` in shaders/step.wgsl: word offsets of every column and segment,
/// and the month being stepped. One copy per month in a uniform buffer (dynamic offset).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct GpuLayout {
    pub runs: u32,
    pub units: u32,
    pub innov: u32,
    pub month: u32,
    pub rec_len: u32,
    pub months: u32,
    /// State column offsets, in the order of `BatchState::columns()` (`c_p` .. `c_ex_v`).
    pub cols: [u32; COLUMNS],
    /// World segment offsets: level, parent, capacity, firms, nbr_start, nbr, group,
    /// group_start, group_members, mandate_mask, pilot_mask, sigmoid, room.
    pub world: [u32; WORLD_SEGMENTS],
    pub s_nbr_p: u32,
    pub s_prelude: u32,
    pub _pad: [u32; 2],
}

/// Segments of the world buffer (`GpuLayout::world`).
pub const WORLD_SEGMENTS: usize = 13;

/// The world, lever masks, logistic table and rooms in one word array, with segment offsets.
pub fn pack_world(m: &Model) -> (Vec<u32>, [u32; WORLD_SEGMENTS]) {
    let w = &m.world;
    let parts: [&[u32]; WORLD_SEGMENTS] = [
        &w.level,
        &w.parent,
        &w.capacity,
        &w.firms,
        &w.nbr_start,
        &w.nbr,
        &w.group,
        &w.group_start,
        &w.group_members,
        &m.mandate_mask,
        &m.pilot_mask,
        &m.sigmoid,
        &m.room,
    ];
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 1);
    let mut offs = [0u32; WORLD_SEGMENTS];
    for (o, part) in offs.iter_mut().zip(parts) {
        *o = out.len() as u32;
        out.extend_from_slice(part);
    }
    if out.is_empty() {
        out.push(0);
    }
    (out, offs)
}

/// Every column of `st` concatenated in `columns()` order, with the column offsets.
pub fn pack_state(st: &BatchState) -> (Vec<u32>, [u32; COLUMNS]) {
    let cols = st.columns();
    let mut out = Vec::with_capacity(cols.iter().map(|(_, c)| c.len()).sum());
    let mut offs = [0u32; COLUMNS];
    for (o, (_, col)) in offs.iter_mut().zip(cols) {
        *o = out.len() as u32;
        out.extend_from_slice(col);
    }
    (out, offs)
}

/// Split the packed words back into the columns of `st` (same shape as when packed).
pub fn unpack_state(words: &[u32], st: &mut BatchState) {
    let mut at = 0;
    for (_, col) in st.columns_mut() {
        let n = col.len();
        col.copy_from_slice(&words[at..at + n]);
        at += n;
    }
}

/// Bytes per run of each per-run buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunBytes {
    pub state: u64,
    pub scratch: u64,
    pub agg: u64,
    /// Work lists: recognition's count, candidates and picks; the leaving leaders' count and units.
    pub recog: u64,
}

impl RunBytes {
    pub fn new(units: usize, innov: usize, months: u32) -> Self {
        let (n, k) = (units as u64, innov as u64);
        RunBytes {
            state: 4 * (n * (UNIT_COLUMNS as u64 + (INNOV_COLUMNS + RUNG_COLUMNS * RUNG_WORDS) as u64 * k) + RUN_COLUMNS as u64 * k),
            scratch: 4 * (n + PRE_LEN as u64),
            agg: 4 * months as u64 * agg::record_len(innov) as u64,
            recog: 4 * (2 + 2 * n * k + n),
        }
    }
    /// The largest of the four (the one that decides how many runs fit in a buffer).
    pub fn largest(&self) -> u64 {
        self.state.max(self.scratch).max(self.agg).max(self.recog)
    }
}

/// Most runs per chunk so that no per-run buffer exceeds `limit` bytes (at least 0).
pub fn runs_per_chunk(rb: RunBytes, limit: u64) -> usize {
    (limit / rb.largest().max(1)) as usize
}

/// True when every parameter point agrees on the shape the state was built with.
pub fn shapes_agree(params: &[Params], units: usize, innov: usize) -> bool {
    params.iter().all(|p| p.n_units as usize == units && p.n_innov as usize == innov)
}

/// Unit columns phase B reads every month (age, tenure, ambition, θ, P, E, L, B, process word)
/// and writes (age, tenure, E, P, L, B, process word), besides the neighbour mean it reads.
pub const STEP_READS: usize = 9;
pub const STEP_WRITES: usize = 7;

/// What one agent-month moves to and from device memory in the common month: its process idle
/// or waiting, its leader staying. Each item is (what, bytes). The rule of the count:
/// - a unit's own words count once each way in each phase that touches them;
/// - a neighbour's P is read from the cache: a run's P column (4 bytes a unit, 13 KB for the
///   china world) stays in L2 while phase A gathers from it, so it is read from memory once; the
///   world's lists are shared by every run and stay cached;
/// - a run's own words (its prelude, its list counts, its month's record, written once) are
///   shared by its units.
///
/// Events move more: a stage change reads the innovation columns it needs, a rung reached writes
/// them, a leaving leader (about 1 in 60 a month in the baseline) is ranked and replaced in
/// phase C. They are not in the floor's count; `docs/performance.md` itemises them.
pub fn traffic(units: usize, innov: usize) -> [(&'static str, f64); 4] {
    let n = units.max(1) as f64;
    [
        (
            "phase A: the run's P column through the neighbour gathers, the mean written",
            4.0 + 4.0,
        ),
        (
            "phase B: unit words read and written, the mean read",
            ((STEP_READS + STEP_WRITES) * 4 + 4) as f64,
        ),
        (
            "the run's prelude and list counts, shared by its units",
            ((2 * PRE_LEN + 4) * 4) as f64 / n,
        ),
        (
            "the run's month record, written once, shared by its units",
            agg::record_len(innov) as f64 * 4.0 / n,
        ),
    ]
}

/// Bytes one agent-month moves at the least: the sum of `traffic`, which `pioneer bench` divides
/// into the bandwidth for its floor.
pub fn bytes_per_agent_month(units: usize, innov: usize) -> f64 {
    traffic(units, innov).iter().map(|(_, b)| b).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The floor's count is the sum of its items; the run's own words are shared by its units,
    /// so a bigger world moves fewer bytes per agent-month; the china baseline (3,208 units, one
    /// innovation) stays within issue 12's 100 bytes.
    #[test]
    fn traffic_sums_its_items_and_shares_the_runs_words() {
        let items = traffic(3208, 1);
        let sum: f64 = items.iter().map(|(_, b)| b).sum();
        assert_eq!(bytes_per_agent_month(3208, 1), sum);
        assert!(sum <= 100.0, "{sum}");
        assert!(bytes_per_agent_month(100, 1) > bytes_per_agent_month(10_000, 1));
        assert!(bytes_per_agent_month(3208, 8) > bytes_per_agent_month(3208, 1));
        assert!(items.iter().all(|(what, b)| !what.is_empty() && *b > 0.0));
    }

    /// The column counts used for chunking and the bandwidth floor, and the `c_*` fields of the
    /// shader's `struct Layout`, follow `BatchState::columns()` — the one list of columns.
    #[test]
    fn layout_follows_the_state_columns() {
        let (n, k) = (5usize, 3usize);
        let st = BatchState::zeroed(1, n, k);
        let cols = st.columns();
        let count = |len: usize| cols.iter().filter(|(_, c)| c.len() == len).count();
        assert_eq!(count(n), UNIT_COLUMNS);
        assert_eq!(count(n * k), INNOV_COLUMNS);
        assert_eq!(count(n * k * RUNG_WORDS), RUNG_COLUMNS);
        assert_eq!(count(k), RUN_COLUMNS);
        let src = super::super::SHADER_SOURCE;
        let body = src
            .split("struct Layout {")
            .nth(1)
            .and_then(|b| b.split('}').next())
            .expect("struct Layout in the shader");
        let fields: Vec<String> = body
            .lines()
            .filter_map(|l| l.trim().split(':').next())
            .filter(|f| f.starts_with("c_"))
            .map(|f| f.trim_start_matches("c_").to_string())
            .collect();
        let names: Vec<String> = cols.iter().map(|(name, _)| name.trim_end_matches('_').to_string()).collect();
        assert_eq!(fields, names);
        assert_eq!(std::mem::size_of_val(&<GpuLayout as Zeroable>::zeroed().cols) / 4, cols.len());
    }
}
