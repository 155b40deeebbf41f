//! Command-line interface (clap): `pioneer run | trace | ablate | bench | devices`.
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
    },
    /// Replay one run with the full event log and print one unit's process trace.
    Trace {
        scenario: PathBuf,
        /// Replicate index of the run to replay.
        #[arg(long, default_value_t = 0)]
        run: u32,
        /// Unit name (e.g. J) or index.
        #[arg(long)]
        unit: String,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        months: Option<u32>,
        /// Output folder for events.csv (default: out/<scenario>-trace-run<R>).
        #[arg(long)]
        out: Option<PathBuf>,
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
    },
    /// List the GPU adapters the GPU backend can use.
    Devices,
}
