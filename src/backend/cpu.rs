//! The rayon backend: runs in parallel, each run's units stepped phase by phase with the rules.
//! Deterministic for any thread count: runs never share state and every draw is counter-based.

use super::{Backend, BatchOutput, Progress};
use crate::error::Result;
use crate::model::params::Params;
use crate::model::rules;
use crate::model::trace::{NoTrace, Tracer};
use crate::model::{agg, Model, RunId};
use crate::state::{BatchState, RunMut};
use rayon::prelude::*;

/// The CPU backend, on rayon's global pool (or `threads` threads when set).
#[derive(Debug, Clone, Default)]
pub struct Cpu {
    pub threads: Option<usize>,
}

impl Backend for Cpu {
    fn describe(&self) -> String {
        let n = self.threads.unwrap_or_else(rayon::current_num_threads);
        format!("cpu (rayon, {n} threads)")
    }

    fn run_batch(
        &self,
        m: &Model,
        params: &[Params],
        runs: &[RunId],
        init: BatchState,
        months: u32,
        progress: Progress,
    ) -> Result<BatchOutput> {
        let work = |mut state: BatchState| {
            let rl = agg::record_len(state.innov);
            let mut aggs = vec![0u32; runs.len() * months as usize * rl];
            let views = state.runs_mut();
            views
                .into_par_iter()
                .zip(aggs.par_chunks_mut((months as usize * rl).max(1)))
                .zip(runs.par_iter())
                .for_each(|((mut run, out), id)| {
                    let prm = &params[id.point as usize];
                    run_months(m, prm, id.key, &mut run, out, 1, months, &mut NoTrace, progress);
                });
            BatchOutput {
                agg: aggs,
                record_len: rl,
                months,
                state,
            }
        };
        match self.threads {
            Some(t) => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .map_err(|e| crate::error::Error::Backend(format!("cannot start {t} threads: {e}")))?;
                Ok(pool.install(|| work(init)))
            }
            None => Ok(work(init)),
        }
    }
}

/// Step one run through months `first..=last`, writing one record per month into `out`.
#[allow(clippy::too_many_arguments)]
pub fn run_months<T: Tracer>(
    m: &Model,
    prm: &Params,
    key: u32,
    run: &mut RunMut,
    out: &mut [u32],
    first: u32,
    last: u32,
    tr: &mut T,
    progress: Progress,
) {
    let n = prm.n_units as usize;
    let rl = agg::record_len(prm.n_innov as usize);
    let mut nbr_p = vec![0u32; n];
    let mut scores = vec![0i32; n];
    for t in first..=last {
        let rec = &mut out[(t - first) as usize * rl..(t - first + 1) as usize * rl];
        let pre = rules::prelude_run(prm, run, t);
        for (i, slot) in nbr_p.iter_mut().enumerate() {
            *slot = rules::neighbour_mean(m, run.p, i);
        }
        for i in 0..n {
            rules::step_unit(m, prm, key, &pre, run, &nbr_p, &mut scores, rec, i, t, tr);
        }
        for i in 0..n {
            rules::tournament_unit(m, prm, key, run, &scores, rec, i, t, tr);
        }
        rules::recognise_run(prm, run, rec, t, tr);
        if t.is_multiple_of(12) || t == last {
            progress(if t.is_multiple_of(12) { 12 } else { (t % 12) as u64 });
        }
    }
}
