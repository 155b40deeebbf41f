//! The `pioneer` binary: parse the command line, call the library, map errors to exit codes
//! (2 for bad input, 1 for anything else).

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use pioneer::app::{ablate, bench, devices, merge, plot, run, sweep, trace};
use std::io::IsTerminal;

fn main() {
    let cli = Cli::parse();
    quiet_headless_vulkan();
    if let Err(e) = dispatch(cli.command) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

fn dispatch(cmd: Command) -> pioneer::error::Result<()> {
    match cmd {
        Command::Run {
            scenario,
            replicates,
            seed,
            months,
            out,
            backend,
            units,
            threads,
            batch,
        } => {
            let res = run::run(&run::RunArgs {
                scenario,
                replicates,
                seed,
                months,
                out,
                backend,
                units,
                threads,
                batch,
                progress: std::io::stderr().is_terminal(),
            })?;
            println!("{}", run::text_summary(&res));
        }
        Command::Sweep {
            sweep,
            backend,
            out,
            replicates,
            months,
            shard,
            resume,
            force,
            steps,
            threads,
        } => {
            let res = sweep::sweep(&sweep::SweepArgs {
                sweep,
                backend,
                out,
                replicates,
                months,
                shard,
                resume,
                force,
                steps,
                threads,
                progress: std::io::stderr().is_terminal(),
            })?;
            println!("{}", sweep::describe(&res));
        }
        Command::Plot { dir } => {
            let files = plot::plot(&dir)?;
            println!("drew {} files in {}", files.len(), dir.join("charts").display());
        }
        Command::Merge { dirs, out } => {
            let points = merge::merge(&merge::MergeArgs { dirs, out: out.clone() })?;
            println!("merged {points} points into {}", out.display());
        }
        Command::Trace {
            scenario,
            run,
            point,
            unit,
            seed,
            months,
            out,
        } => {
            let res = trace::trace(&trace::TraceArgs {
                scenario,
                run,
                unit,
                seed,
                months,
                out,
                point,
            })?;
            println!("{}", trace::describe(&res));
        }
        Command::Ablate {
            scenario,
            replicates,
            seed,
            months,
            out,
            backend,
            threads,
            only,
        } => {
            let res = ablate::ablate(&ablate::AblateArgs {
                scenario,
                replicates,
                seed,
                months,
                out,
                backend,
                threads,
                only,
            })?;
            println!("{}", ablate::describe(&res));
        }
        Command::Bench {
            scenario,
            backend,
            runs,
            months,
            reps,
            threads,
            record,
            bandwidth_gbs,
        } => {
            let r = bench::bench(&bench::BenchArgs {
                scenario,
                backend,
                runs,
                months,
                reps,
                threads,
                record,
                bandwidth_gbs,
            })?;
            println!(
                "{}: {} runs × {} units × {} months, {} innovation(s) on {}: stepping {:.3} s (median of reps) = {:.3e} agent-months/s; end to end {:.2} s",
                r.scenario, r.runs, r.units, r.months, r.innovations, r.backend, r.step_seconds, r.agent_months_per_second, r.end_to_end_seconds
            );
            if r.backend.starts_with("gpu") {
                println!(
                    "  one agent-month moves at least {:.0} bytes; at an assumed memory bandwidth of {} GB/s (--bandwidth-gbs) the floor is {:.3e} agent-months/s: measured = {:.2} % of it",
                    r.bytes_per_agent_month, r.bandwidth_gbs, r.floor_agent_months_per_second, r.percent_of_floor
                );
            }
        }
        Command::Devices => print!("{}", devices::devices()),
    }
    Ok(())
}

/// Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" each time an adapter is
/// opened on a headless machine. Give them a private runtime folder when there is none; this runs
/// first, while the process has a single thread, so setting the variable is safe.
fn quiet_headless_vulkan() {
    let valid = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_dir());
    if valid {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("pioneer-runtime-{uid}"));
        if std::fs::create_dir_all(&dir).is_ok() && std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).is_ok() {
            std::env::set_var("XDG_RUNTIME_DIR", &dir);
        }
    }
}
