//! Command-line interface (clap): `pioneer run | sweep | merge | plot | trace | ablate | bench |
//! devices`.
//! Flags override the scenario file; parsing only, the work is in `pioneer::app`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "pioneer",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PIONEER_GIT_HASH"), ")"),
    about = "How local-government innovations are born and spread: an agent-based model"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario's replicates and write steps.csv, summary.csv, a chart and manifest.json.
    Run {
        /// Scenario file (TOML), e.g. scenarios/baseline.toml.
        scenario: PathBuf,
        /// Number of runs (replicates); overrides the scenario.
        #[arg(long)]
        replicates: Option<u32>,
        /// Master seed; overrides the scenario.
        #[arg(long)]
        seed: Option<u64>,
        /// Months to simulate; overrides the scenario.
        #[arg(long)]
        months: Option<u32>,
        /// Output folder (default: out/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Backend: cpu, gpu or auto (auto: a hardware GPU adapter if there is one, else the CPU;
        /// PIONEER_ADAPTER=<name part> picks an adapter).
        #[arg(long, default_value = "auto")]
        backend: String,
        /// Also write units.csv (per unit and innovation: adoption month, route, quality, variant).
        #[arg(long)]
        units: bool,
        /// CPU threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Most runs per batch (default: all at once); results do not depend on it.
        #[arg(long)]
        batch: Option<usize>,
        /// Also write animation.gif: run 0 month by month (one frame a month, at most 240).
        #[arg(long)]
        animate: bool,
        /// Frames of the animation (implies --animate), spread evenly over the months.
        #[arg(long)]
        frames: Option<u32>,
        /// Observed adoption data (CSV `year,count` or `year,share`, cumulative, or events
        /// `unit,date`, one row per adopting unit) drawn over the
        /// first innovation's band, with the distance printed; needs `start_year` in the scenario.
        #[arg(long)]
        observed: Option<PathBuf>,
        /// Fit the yardsticks to the observed years up to YEAR (or `half`: the year by whose end
        /// half of the eventual adopters had adopted) and score every predictor's forecast of
        /// the years after.
        #[arg(long, value_name = "YEAR|half")]
        fit_until: Option<String>,
        /// Also write report.html: one self-contained page with the key numbers and every chart.
        #[arg(long)]
        report: bool,
        /// Also write the event-history panel (panel.csv and .parquet): one row per run, unit,
        /// innovation and period at risk, with covariates lagged a period; periods of a year
        /// (the default) or a month.
        #[arg(long, num_args = 0..=1, default_missing_value = "year", value_name = "year|month")]
        panel: Option<String>,
        /// Replay a class: the decision log `pioneer serve` wrote (decisions.csv), applied to run
        /// 0 on the CPU; needs --replicates 1 and the class's --seed.
        #[arg(long)]
        decisions: Option<PathBuf>,
    },
    /// Run a sweep file: every point × replicate, in blocks written as they finish; resumable,
    /// shardable, CSV and Parquet tables, charts.
    Sweep {
        /// Sweep file (TOML), e.g. scenarios/sweeps/incentive-space.toml.
        sweep: PathBuf,
        /// Backend: cpu, gpu or auto.
        #[arg(long, default_value = "auto")]
        backend: String,
        /// Output folder (default: out/<sweep name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replicates per point; overrides the sweep file.
        #[arg(long)]
        replicates: Option<u32>,
        /// Months; overrides the sweep file.
        #[arg(long)]
        months: Option<u32>,
        /// Points of the sampled design (base rows of a saltelli design); overrides the file.
        #[arg(long)]
        points: Option<usize>,
        /// Run only shard I of N (`pioneer merge` joins the shards' folders).
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Continue an interrupted sweep in its folder: run only the blocks not yet on disk.
        #[arg(long)]
        resume: bool,
        /// Replace what the output folder holds (a pioneer output only).
        #[arg(long)]
        force: bool,
        /// steps.csv per run (`run`, the default), per point over its replicates (`mean`), or none.
        #[arg(long)]
        steps: Option<String>,
        /// Also write the event-history panel (panel.csv and .parquet, rows labelled by point and
        /// replicate), periods of a year (the default) or a month.
        #[arg(long, num_args = 0..=1, default_missing_value = "year", value_name = "year|month")]
        panel: Option<String>,
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Draw a finished sweep's charts again (into DIR/charts).
    Plot {
        /// The sweep's output folder.
        dir: PathBuf,
    },
    /// Join the folders of a sweep's shards into the sweep's final tables.
    Merge {
        /// The shards' folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder for the merged sweep.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replay one run with the full event log and print one unit's process trace.
    Trace {
        /// Scenario file, or a sweep file with --point.
        scenario: PathBuf,
        /// Replicate index of the run to replay.
        #[arg(long, visible_alias = "replicate", default_value_t = 0)]
        run: u32,
        /// The file is a sweep: replay this point's run.
        #[arg(long)]
        point: Option<usize>,
        /// The sweep's points (as given to `sweep --points`).
        #[arg(long)]
        points: Option<usize>,
        /// Unit name (e.g. J) or index.
        #[arg(long)]
        unit: String,
        /// Replicates of the batch the run came from (as given to `run --replicates`).
        #[arg(long)]
        replicates: Option<u32>,
        /// Master seed (as given to `run --seed`); overrides the scenario.
        #[arg(long)]
        seed: Option<u64>,
        /// Months (as given to `run --months`); overrides the scenario.
        #[arg(long)]
        months: Option<u32>,
        /// Output folder for events.csv (default: out/<scenario>-trace-run<R>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also draw the unit's trace chart (trace-<unit>.png and .svg): stages and rungs,
        /// incentive, gap, threshold, legitimacy and upper backing, recognitions and leaders.
        #[arg(long)]
        chart: bool,
    },
    /// The event-history panel of a run or sweep (written with `--panel`): its size, and with
    /// --fit the discrete-time logit of adoption on the lagged covariates.
    Panel {
        /// A folder written by `pioneer run --panel` or `pioneer sweep --panel`.
        dir: PathBuf,
        /// Fit the logit (IRLS) and print coefficients, standard errors, z and p.
        #[arg(long)]
        fit: bool,
        /// The innovation (index) whose panel rows are used.
        #[arg(long, default_value_t = 0)]
        innovation: u32,
        /// Covariates to fit, comma-separated (default: the observable ones, see docs/analysis.md).
        #[arg(long, value_delimiter = ',')]
        covariates: Vec<String>,
        /// A sweep's panel: only this point's rows (default: every point's, pooled).
        #[arg(long)]
        point: Option<usize>,
    },
    /// Sobol first- and total-order indices (Saltelli and Jansen estimators, bootstrap
    /// intervals) of a `design = "saltelli"` sweep: runs the sweep file (or reads a finished
    /// sweep's folder), prints the indices, writes sensitivity.csv and sensitivity.png/.svg.
    Sensitivity {
        /// A sweep file with design = "saltelli", or the folder of a finished one.
        sweep: PathBuf,
        /// Base rows N of the design (N (k + 2) points); overrides the sweep file's `points`.
        #[arg(long)]
        n: Option<usize>,
        /// Replicates per point; overrides the sweep file.
        #[arg(long)]
        replicates: Option<u32>,
        /// Months; overrides the sweep file.
        #[arg(long)]
        months: Option<u32>,
        /// Backend: cpu, gpu or auto.
        #[arg(long, default_value = "auto")]
        backend: String,
        #[arg(long)]
        threads: Option<usize>,
        /// Output folder of the sweep (default: out/<sweep name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue an interrupted sweep in its folder.
        #[arg(long)]
        resume: bool,
        /// Replace what the output folder holds (a pioneer output only).
        #[arg(long)]
        force: bool,
        /// Metrics of runs.csv, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "t50,final_share,mean_depth")]
        metric: Vec<String>,
        /// The innovation (index) whose metrics are used.
        #[arg(long, default_value_t = 0)]
        innovation: u32,
    },
    /// Fit fields of a scenario to an observed adoption curve by ABC-SMC (sequential Monte Carlo
    /// with a falling tolerance): particles of every generation, the posterior, a pairs chart and
    /// the posterior-predictive band; resumable.
    Calibrate {
        /// Scenario file (TOML) with `start_year`, e.g. scenarios/baseline.toml.
        scenario: PathBuf,
        /// Observed adoption (CSV `year,count` or `year,share`, cumulative, or events `unit,date`).
        #[arg(long)]
        observed: PathBuf,
        /// A field and its uniform prior, `params.kappa=0.5..8`; repeat for each field.
        #[arg(long, required = true)]
        vary: Vec<String>,
        /// Particles per generation.
        #[arg(long, default_value_t = 200)]
        particles: usize,
        /// Generations (the first is drawn from the prior).
        #[arg(long, default_value_t = 5)]
        generations: usize,
        /// Runs per proposal; the distance is that of their mean curve (or, for events, of the
        /// share of them in which each unit had adopted by each year).
        #[arg(long, default_value_t = 1)]
        replicates: u32,
        /// What to fit: `curve` (RMSE of the share, the default), `events` (root Brier score of
        /// each unit's adopted-by-year; needs unit,date data), or weights `curve=1,events=1`.
        #[arg(long, value_name = "curve|events|curve=W,events=W")]
        distance: Option<String>,
        /// Fit on the observed years up to YEAR (or `half`: the year by whose end half of the
        /// eventual adopters had adopted) and score the forecast of the years after.
        #[arg(long, value_name = "YEAR|half")]
        fit_until: Option<String>,
        /// Each tolerance is this quantile of the last generation's distances.
        #[arg(long, default_value_t = 0.5)]
        quantile: f64,
        /// Most simulations for one generation (default 50 × particles).
        #[arg(long)]
        max_simulations: Option<usize>,
        /// Posterior draws run for the predictive band.
        #[arg(long, default_value_t = 100)]
        predictive: usize,
        /// The innovation (index) whose curve is fitted.
        #[arg(long, default_value_t = 0)]
        innovation: u32,
        /// Master seed; overrides the scenario.
        #[arg(long)]
        seed: Option<u64>,
        /// Months; overrides the scenario.
        #[arg(long)]
        months: Option<u32>,
        /// Backend: cpu, gpu or auto.
        #[arg(long, default_value = "auto")]
        backend: String,
        #[arg(long)]
        threads: Option<usize>,
        /// Output folder (default: out/<scenario name>-calibration).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue the calibration in its folder from its last finished generation.
        #[arg(long)]
        resume: bool,
        /// Replace what the output folder holds (a pioneer output only).
        #[arg(long)]
        force: bool,
    },
    /// The classroom: a live tournament in the browser where students play the local governments
    /// (prints the teacher's address with its token, and the students' join code).
    #[cfg(feature = "serve")]
    Serve {
        /// Scenario file (TOML) of at most 5,000 units, e.g. scenarios/classroom.toml.
        #[arg(required_unless_present = "resume")]
        scenario: Option<PathBuf>,
        /// Continue the class saved in folder DIR (its `--out`): the same code, the students'
        /// tokens and the teacher's, from the month it was saved at.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["scenario", "seed", "out"])]
        resume: Option<PathBuf>,
        /// With --resume: a new teacher's token (the old one no longer opens the class).
        #[arg(long, requires = "resume")]
        new_token: bool,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on (0.0.0.0: every network the machine is on, for students' laptops).
        #[arg(long, default_value = "0.0.0.0")]
        bind: String,
        /// Months a second while the clock runs (default 2; a resumed class keeps its own).
        #[arg(long)]
        speed: Option<f64>,
        /// Master seed; overrides the scenario.
        #[arg(long)]
        seed: Option<u64>,
        /// Folder of the class: class.json (kept as it goes), debrief/, archived logs (default
        /// out/class-CODE).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write DIR/report.html for a finished run or sweep: the scenario in brief, the key numbers
    /// and every chart, embedded in one page that needs nothing else.
    Report {
        /// A folder written by `pioneer run` or `pioneer sweep`.
        dir: PathBuf,
    },
    /// Switch each mechanism off in turn and show how the headline outcomes move (ablation.csv,
    /// ablation.md).
    Ablate {
        /// Scenario file (TOML), e.g. scenarios/baseline.toml.
        scenario: PathBuf,
        /// Replicates per mechanism (paired with the default's); overrides the scenario.
        #[arg(long)]
        replicates: Option<u32>,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        months: Option<u32>,
        /// Output folder (default: out/<scenario name>-ablation).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Backend: cpu, gpu or auto.
        #[arg(long, default_value = "auto")]
        backend: String,
        #[arg(long)]
        threads: Option<usize>,
        /// Only these mechanisms, by name or parameter (comma-separated), e.g. `publicity,b_phi`.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Measure agent-months per second (a benchmark, not a test).
    Bench {
        /// Scenario (default: the bundled china baseline).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Backend: cpu, gpu or auto.
        #[arg(long, default_value = "cpu")]
        backend: String,
        /// Runs in the batch.
        #[arg(long, default_value_t = 64)]
        runs: u32,
        #[arg(long)]
        months: Option<u32>,
        /// Timed repetitions (the median is reported).
        #[arg(long, default_value_t = 3)]
        reps: u32,
        #[arg(long)]
        threads: Option<usize>,
        /// Append the figures as a JSON line to this file.
        #[arg(long)]
        record: Option<PathBuf>,
        /// Assumed memory bandwidth of the device in GB/s, for the bandwidth floor (3000 ≈ H100).
        #[arg(long, default_value_t = 3000.0)]
        bandwidth_gbs: f64,
        /// Measure the scaling curves instead: agent-months/s against runs (1 … 65,536, on the
        /// scenario's world) and against units (grids of 100 … 1,000,000), as far as memory and
        /// --max-seconds allow; writes scaling.csv and scaling.png into --out.
        #[arg(long)]
        scaling: bool,
        /// With --scaling: runs of each grid world.
        #[arg(long, default_value_t = 16)]
        grid_runs: u32,
        /// With --scaling: a curve stops growing after a batch that took longer than this.
        #[arg(long, default_value_t = 30.0)]
        max_seconds: f64,
        /// With --scaling: the output folder (default: out/scaling-<backend>).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the GPU adapters the GPU backend can use, and the largest batch of a scenario that
    /// each of them and this host can take.
    Devices {
        /// Scenario whose batch is reckoned (default: the bundled china baseline).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Device memory in GiB, to reckon how many runs fit in it (wgpu does not tell it).
        #[arg(long)]
        memory_gib: Option<f64>,
    },
}
