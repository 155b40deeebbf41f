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

/// One rung attempt that completed (reached or failed), from a replayed run's event log.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub rung: u32,
    pub reached: bool,
}

/// Every rung attempt of a replayed run.
pub fn attempts(log: &EventLog) -> Vec<Attempt> {
    log.events
        .iter()
        .filter(|e| ["adopted", "deepened", "completed", "failed"].iter().any(|p| e.what.starts_with(p)))
        .map(|e| Attempt {
            rung: e.rung,
            reached: !e.what.starts_with("failed"),
        })
        .collect()
}

/// Successes and trials, with the share and its binomial standard error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    pub hits: u64,
    pub trials: u64,
}

impl Rate {
    pub fn add(&mut self, hit: bool) {
        self.hits += hit as u64;
        self.trials += 1;
    }
    pub fn p(&self) -> f64 {
        self.hits as f64 / self.trials.max(1) as f64
    }
    pub fn se(&self) -> f64 {
        let p = self.p();
        (p * (1.0 - p) / self.trials.max(1) as f64).sqrt()
    }
    /// z of the difference self − other (unpooled).
    pub fn z_vs(&self, other: &Rate) -> f64 {
        (self.p() - other.p()) / (self.se().powi(2) + other.se().powi(2)).sqrt().max(1e-12)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} ({}/{})", self.p(), self.hits, self.trials)
    }
}

impl Ran {
    /// Depth of (run, innovation, unit) at the end.
    pub fn depth(&self, r: usize, k: usize, i: usize) -> u32 {
        let st = &self.out.state;
        st.depth[(r * st.innov + k) * st.units + i]
    }
    /// Rungs of innovation k.
    pub fn rungs(&self, k: usize) -> u32 {
        self.params.innov[k].rungs
    }
    /// Month unit i reached rung j of k in run r, or None.
    pub fn rung_month(&self, r: usize, k: usize, i: usize, j: u32) -> Option<u32> {
        let m = self.out.state.rung_month(r, k, i, j);
        (m != pioneer::model::params::NEVER).then_some(m)
    }
    /// The `ad_extra` word of (run, innovation, unit): the adopting leader's incentive, fate and
    /// the design's source depth (`pioneer::state::outcome`).
    pub fn ad_extra(&self, r: usize, k: usize, i: usize) -> u32 {
        let st = &self.out.state;
        st.ad_extra[(r * st.innov + k) * st.units + i]
    }
    /// The adopting leader's publicity μ (Q16).
    pub fn ad_publicity(&self, r: usize, k: usize, i: usize) -> u32 {
        let st = &self.out.state;
        st.ad_leader[(r * st.innov + k) * st.units + i] >> 16
    }
    /// Adopters of k (at the end, over all runs) and those of them at full depth.
    pub fn complete(&self, k: usize) -> Rate {
        let mut c = Rate::default();
        for r in 0..self.runs() {
            for i in 0..self.units() {
                let d = self.depth(r, k, i);
                if d >= 1 {
                    c.add(d == self.rungs(k));
                }
            }
        }
        c
    }
    /// Mean depth of the adopters of k at the end, over all runs, with its standard error.
    pub fn mean_depth(&self, k: usize) -> (f64, f64) {
        let d: Vec<f64> = (0..self.runs())
            .flat_map(|r| (0..self.units()).map(move |i| (r, i)))
            .map(|(r, i)| self.depth(r, k, i) as f64)
            .filter(|&d| d >= 1.0)
            .collect();
        let n = d.len() as f64;
        let m = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, (var / n).sqrt())
    }
}

/// Run the real binary in the crate's folder.
pub fn pioneer(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// A fresh temporary folder for one test.
pub fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pioneer-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// What the binary printed, stdout then stderr.
pub fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Write `files` into a fresh folder, run `pioneer run main.toml`, and check the failure.
pub fn bad(name: &str, files: &[(&str, &str)], extra: &[&str], expect: &[&str]) {
    let dir = temp(name);
    for (f, body) in files {
        std::fs::write(dir.join(f), body).expect("write");
    }
    let out = dir.join("out");
    let scenario = dir.join("main.toml");
    let mut args = vec!["run", scenario.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    let o = pioneer(&args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: exit code 2 for bad input:\n{t}");
    for e in expect {
        assert!(t.contains(e), "{name}: the message names `{e}`:\n{t}");
    }
    assert_eq!(
        t.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "{name}: one clear line:\n{t}"
    );
    assert!(!t.contains("panicked") && !t.contains("RUST_BACKTRACE"), "{name}: no panic:\n{t}");
    for f in ["steps.csv", "summary.csv", "manifest.json"] {
        assert!(!out.join(f).exists(), "{name}: no {f} left behind");
    }
}

/// A test that cannot run here (`why`): a failure when the variable `require` is "1" (CI sets
/// it), else a skip said on stderr (not `eprintln!`, which the test harness captures), never a
/// silent pass.
pub fn skip_unless_required(require: &str, why: &str) {
    if std::env::var(require).as_deref() == Ok("1") {
        panic!("{require}=1 but {why}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why} (set {require}=1 to make this a failure)");
}

/// splitmix64: a small seeded generator for the fuzzers, so every case can be told again from
/// its number.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    /// Flip one byte of `b` (possibly into invalid UTF-8); nothing if `b` is empty.
    pub fn flip_byte(&mut self, b: &mut [u8]) {
        if !b.is_empty() {
            let i = self.below(b.len());
            b[i] ^= (1 + self.below(255)) as u8;
        }
    }
    /// Cut `b` at a random length (0 to all of it).
    pub fn truncate(&mut self, b: &mut Vec<u8>) {
        let n = self.below(b.len() + 1);
        b.truncate(n);
    }
    /// Insert one to six random bytes at a random place of `b`.
    pub fn insert_junk(&mut self, b: &mut Vec<u8>) {
        let at = self.below(b.len() + 1);
        let junk: Vec<u8> = (0..1 + self.below(6)).map(|_| self.next() as u8).collect();
        b.splice(at..at, junk);
    }
}

/// A caught panic as the failure a fuzzer reports: `panic: MESSAGE`.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    let m = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    format!("panic: {m}")
}

/// Copy the folder `from` to `to` (replaced), subfolders included.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("dir").filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}
