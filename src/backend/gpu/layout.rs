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
    /// group_start, group_members, mandate_mask, pilot_mask, sigmoid.
    pub world: [u32; 12],
    pub s_nbr_p: u32,
    pub s_score: u32,
    pub s_prelude: u32,
    pub _pad: [u32; 2],
}

/// The world, lever masks and logistic table in one word array, with segment offsets.
pub fn pack_world(m: &Model) -> (Vec<u32>, [u32; 12]) {
    let w = &m.world;
    let parts: [&[u32]; 12] = [
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
    ];
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 1);
    let mut offs = [0u32; 12];
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
    /// Recognition work space: a count, the candidates and the picks.
    pub recog: u64,
}

impl RunBytes {
    pub fn new(units: usize, innov: usize, months: u32) -> Self {
        let (n, k) = (units as u64, innov as u64);
        RunBytes {
            state: 4 * (n * (UNIT_COLUMNS as u64 + (INNOV_COLUMNS + RUNG_COLUMNS * RUNG_WORDS) as u64 * k) + RUN_COLUMNS as u64 * k),
            scratch: 4 * (2 * n + PRE_LEN as u64),
            agg: 4 * months as u64 * agg::record_len(innov) as u64,
            recog: 4 * (1 + 2 * n * k),
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

/// Bytes one agent-month must move at the least, by the count documented in `pioneer bench`:
/// every unit column read and written once, every innovation column read once, the P and the
/// adoption month of each neighbour read once, the scratch words (neighbour mean, score)
/// written and read once, and the run's record words shared over its units.
pub fn bytes_per_agent_month(units: usize, innov: usize, mean_degree: f64) -> f64 {
    let k = innov as f64;
    let state = (UNIT_COLUMNS as f64 * 2.0 + INNOV_COLUMNS as f64 * k) * 4.0;
    let neighbours = mean_degree * (1.0 + k) * 4.0;
    let scratch = 2.0 * 2.0 * 4.0;
    let record = agg::record_len(innov) as f64 * 4.0 / units.max(1) as f64;
    state + neighbours + scratch + record
}

#[cfg(test)]
mod tests {
    use super::*;

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
