//! Backends run a batch of runs for a number of months and return per-month aggregates and
//! the end state. The CPU backend is the reference; the GPU backend must match it bit for bit.

pub mod auto;
pub mod cpu;
pub mod gpu;

use crate::error::Result;
use crate::model::params::Params;
use crate::model::{Model, RunId};
use crate::state::BatchState;

/// What a batch produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutput {
    /// `[run][month][record]` with month 0 = the step of month 1.
    pub agg: Vec<u32>,
    /// Words per month record (`agg::record_len(k)`).
    pub record_len: usize,
    pub months: u32,
    /// State after the last month.
    pub state: BatchState,
}

impl BatchOutput {
    /// The record of run `r` in month `t` (1-based).
    pub fn record(&self, r: usize, t: u32) -> &[u32] {
        let at = (r * self.months as usize + t as usize - 1) * self.record_len;
        &self.agg[at..at + self.record_len]
    }
}

/// Called with the number of run-months completed since the last call.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// A way to run batches.
pub trait Backend {
    /// Short name for the manifest and messages (e.g. "cpu (rayon, 2 threads, avx2)").
    fn describe(&self) -> String;
    /// Run `runs` (each with `params[run.point]`) from the initial state `init` for `months`.
    fn run_batch(
        &self,
        m: &Model,
        params: &[Params],
        runs: &[RunId],
        init: BatchState,
        months: u32,
        progress: Progress,
    ) -> Result<BatchOutput>;
}
