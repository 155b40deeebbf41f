//! The rayon backend: runs in parallel, each run's units stepped phase by phase with the rules.
//! Deterministic for any thread count: runs never share state and every draw is counter-based.

use super::{Backend, BatchOutput, Progress};
use crate::error::Result;
use crate::model::params::Params;
use crate::model::rng::Draws;
use crate::model::rules;
use crate::model::trace::{NoTrace, Tracer};
use crate::model::{agg, Model, RunId};
use crate::state::{process, stage, BatchState, RunMut};
use rayon::prelude::*;

/// The CPU backend, on rayon's global pool (or `threads` threads when set), with the fastest
/// build of the month this CPU runs (or `isa` when set).
#[derive(Debug, Clone, Default)]
pub struct Cpu {
    pub threads: Option<usize>,
    pub isa: Option<Isa>,
}

impl Backend for Cpu {
    fn describe(&self) -> String {
        let n = self.threads.unwrap_or_else(rayon::current_num_threads);
        format!("cpu (rayon, {n} threads, {})", self.isa.unwrap_or_else(Isa::detect).name())
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
        let isa = self.isa.unwrap_or_else(Isa::detect);
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
                    run_months_on(isa, m, prm, id.key, &mut run, out, 1, months, &mut NoTrace, progress);
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

/// Which build of the month `run_months` runs: the portable one, or the same source compiled for
/// AVX2, which the compiler vectorises (`step_common`, drift, scores, sums). Chosen at run time,
/// where the CPU has it. The results are the same bits: the step is integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    Portable,
    Avx2,
}

impl Isa {
    /// The fastest build this CPU runs.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Isa::Avx2;
        }
        Isa::Portable
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2 => "avx2",
        }
    }
}

/// Step one run through months `first..=last`, writing one record per month into `out`, with
/// the fastest build this CPU runs (`Isa::detect`).
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
    run_months_on(Isa::detect(), m, prm, key, run, out, first, last, tr, progress);
}

/// `run_months` with the build `isa`. Panics if the CPU cannot run it.
#[allow(clippy::too_many_arguments)]
pub fn run_months_on<T: Tracer>(
    isa: Isa,
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
    match isa {
        Isa::Portable => months(m, prm, key, run, out, first, last, tr, progress),
        Isa::Avx2 => {
            assert_eq!(Isa::detect(), Isa::Avx2, "this CPU cannot run the AVX2 build");
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has AVX2 (asserted above).
            unsafe {
                months_avx2(m, prm, key, run, out, first, last, tr, progress)
            }
        }
    }
}

/// `months` compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn months_avx2<T: Tracer>(
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
    months(m, prm, key, run, out, first, last, tr, progress);
}

/// The month's passes, inlined into each of `run_months_on`'s builds.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn months<T: Tracer>(
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
    let kn = prm.n_innov as usize;
    let rl = agg::record_len(kn);
    let span = rules::age_span(prm);
    // Per month: each unit's neighbour mean, incentive, gap and flags (`rules::step_common`), the
    // units that act and those whose leader leaves the post, the scores the rankings read.
    let (mut nbr, mut inc, mut gap) = (vec![0u32; n], vec![0u32; n], vec![0u32; n]);
    let mut flags = vec![0u8; n];
    let (mut busy, mut leaving, mut act) = (vec![0u32; n], vec![0u32; n], rules::Acting::new(n));
    let (mut every, mut scores) = (vec![0i32; n], vec![0i32; n]);
    let mut marks = vec![0u32; m.world.n_groups()];
    let mut tally = rules::Tally::of(m, prm, run);
    let draws = Draws::new(key, n);
    let mut p16 = Vec::with_capacity(n + 1);
    for t in first..=last {
        let rec = &mut out[(t - first) as usize * rl..(t - first + 1) as usize * rl];
        let pre = rules::prelude_run(prm, run, t);
        // Phase A and B in passes (see `rules::step_common`).
        rules::p_sixteenths(run.p, &mut p16);
        m.nbr_lists.means(&p16, run.p, &mut nbr);
        rules::step_common(m, prm, &pre, span, run, &nbr, &mut inc, &mut gap, &mut flags);
        // The busy and the leaving units, in order.
        let (n_busy, n_leaving) = rules::flagged(&flags, &mut busy, &mut leaving);
        let (busy, leaving) = (&busy[..n_busy], &leaving[..n_leaving]);
        // Grouped by stage, but for a tracer, whose events come in unit order.
        let act = rules::gate_draws(m, prm, &draws, &pre, run, busy, t, &mut act, !T::ON);
        for &i in act.into_iter().flatten() {
            let i = i as usize;
            let w0 = run.proc_[i];
            // A unit climbing a ladder may reach a rung: its depth before the step.
            let climbing = process::stage(w0) == stage::IMPLEMENT;
            let k = process::innov(w0) as usize;
            let d0 = if climbing { run.depth[k * n + i] } else { 0 };
            rules::step_process(m, prm, &draws, &pre, run, inc[i], gap[i], rec, i, t, tr);
            tally.moved(kn, w0, run.proc_[i]);
            if climbing && run.depth[k * n + i] != d0 {
                let at = k * n + i;
                tally.rung(m, prm, k, i, run.depth[at]);
                if run.adopt_month[at] == t {
                    rec[k * agg::PER_INNOV + agg::BY_ROUTE + run.route[at] as usize] += 1;
                }
            }
        }
        rules::drift_all(prm, run);
        // Phase C: the rankings, on the scores at the end of phase B.
        rules::rank_scores(m, prm, run, leaving, t, &mut marks, &mut every, &mut scores);
        for &i in leaving {
            let i = i as usize;
            let w0 = run.proc_[i];
            rules::tournament_unit(m, prm, &draws, run, &scores, span, &mut inc, rec, i, t, tr);
            tally.moved(kn, w0, run.proc_[i]);
        }
        tally.record(run, &inc, rec);
        rules::recognise_run(prm, run, rec, t, tr);
        if t.is_multiple_of(12) || t == last {
            progress(if t.is_multiple_of(12) { 12 } else { (t % 12) as u64 });
        }
    }
}
