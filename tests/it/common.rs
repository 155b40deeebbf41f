//! Shared helpers of the integration tests: build scenarios from TOML text and run them.

use pioneer::backend::cpu::Cpu;
use pioneer::backend::BatchOutput;
use pioneer::model::params::Params;
use pioneer::model::trace::EventLog;
use pioneer::model::{agg, init_batch, Model, RunId};
use pioneer::scenario::Scenario;
use std::path::Path;

pub fn scenario(toml: &str) -> Scenario {
    Scenario::parse(Path::new("test.toml"), toml.to_string()).expect("test scenario parses")
}

/// A small china-like world (300 counties) with one innovation, plus `extra` TOML.
pub fn small_china(months: u32, replicates: u32, extra: &str) -> String {
    format!(
        "months = {months}\nreplicates = {replicates}\nseed = 5\n[world]\nkind = \"china\"\nseed = 3\nprovinces = 8\nprefectures = 40\ncounties = 300\n{extra}"
    )
}

pub struct Ran {
    pub model: Model,
    pub params: Params,
    pub ids: Vec<RunId>,
    pub out: BatchOutput,
}

pub fn run(sc: &Scenario) -> Ran {
    let (model, params) = sc.build().expect("builds");
    let ids: Vec<RunId> = (0..sc.spec.replicates).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let out = pioneer::app::run::run_chunked(&Cpu::default(), &model, &[params], &ids, sc.spec.months, ids.len(), &|_| {}).expect("runs");
    Ran { model, params, ids, out }
}

/// Replay run `r` with the event log.
pub fn replay(ran: &Ran, r: usize) -> EventLog {
    let mut state = init_batch(&ran.model, &[ran.params], &ran.ids[r..r + 1]);
    let rl = agg::record_len(state.innov);
    let mut aggs = vec![0u32; ran.out.months as usize * rl];
    let mut log = EventLog::default();
    let mut views = state.runs_mut();
    pioneer::backend::cpu::run_months(
        &ran.model,
        &ran.params,
        ran.ids[r].key,
        &mut views[0],
        &mut aggs,
        1,
        ran.out.months,
        &mut log,
        &|_| {},
    );
    log
}

impl Ran {
    pub fn runs(&self) -> usize {
        self.ids.len()
    }
    pub fn units(&self) -> usize {
        self.model.world.len()
    }
    /// Sum over runs and months of a per-innovation counter.
    pub fn total(&self, k: usize, field: usize) -> u64 {
        (0..self.runs())
            .flat_map(|r| (1..=self.out.months).map(move |t| (r, t)))
            .map(|(r, t)| self.out.record(r, t)[k * agg::PER_INNOV + field] as u64)
            .sum()
    }
    /// Adopters of k at the end, summed over runs.
    pub fn final_adopters(&self, k: usize) -> u64 {
        (0..self.runs())
            .map(|r| self.out.record(r, self.out.months)[k * agg::PER_INNOV + agg::ADOPTERS] as u64)
            .sum()
    }
    /// Adoption month of (run, innovation, unit), or None.
    pub fn adopted(&self, r: usize, k: usize, i: usize) -> Option<u32> {
        let st = &self.out.state;
        let m = st.adopt_month[(r * st.innov + k) * st.units + i];
        (m != pioneer::model::params::NEVER).then_some(m)
    }
    pub fn route(&self, r: usize, k: usize, i: usize) -> u32 {
        let st = &self.out.state;
        st.route[(r * st.innov + k) * st.units + i]
    }
    /// Mean adoption share curve over runs, per month.
    pub fn mean_curve(&self, k: usize) -> Vec<f64> {
        (1..=self.out.months)
            .map(|t| {
                (0..self.runs())
                    .map(|r| self.out.record(r, t)[k * agg::PER_INNOV + agg::ADOPTERS] as f64)
                    .sum::<f64>()
                    / (self.runs() * self.units()) as f64
            })
            .collect()
    }
}
