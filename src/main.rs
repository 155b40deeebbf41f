//! The `pioneer` binary: parse the command line, call the library, map errors to exit codes
//! (0 for success and for a closed output pipe, 2 for bad input, 1 for anything else).

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use pioneer::app::{ablate, bench, calibrate, devices, merge, panel, plot, report, run, sensitivity, sweep, trace};
use pioneer::error::Error;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    quiet_headless_vulkan();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        // `pioneer trace … | head`: the reader has what it wanted.
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the input held: control characters are shown escaped.
            let text: String = e
                .to_string()
                .chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            let _ = writeln!(std::io::stderr().lock(), "error: {text}");
            ExitCode::from(e.exit_code().clamp(1, 255) as u8)
        }
    }
}

/// Print to standard output through a locked writer; a failure (a closed pipe) is an error.
fn say(text: &str) -> pioneer::error::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("cannot write to standard output", e))
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
            animate,
            frames,
            observed,
            fit_until,
            report,
            panel,
            decisions,
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
                animate,
                frames,
                observed,
                fit_until,
                report,
                panel,
                decisions,
            })?;
            say(&format!("{}\n", run::text_summary(&res)))?;
        }
        Command::Sweep {
            sweep,
            backend,
            out,
            replicates,
            months,
            points,
            shard,
            resume,
            force,
            steps,
            panel,
            threads,
        } => {
            let res = sweep::sweep(&sweep::SweepArgs {
                sweep,
                backend,
                out,
                replicates,
                months,
                points,
                points_flag: None,
                shard,
                resume,
                force,
                steps,
                panel,
                threads,
                progress: std::io::stderr().is_terminal(),
            })?;
            say(&format!("{}\n", sweep::describe(&res)))?;
        }
        Command::Panel {
            dir,
            fit,
            innovation,
            covariates,
            point,
        } => {
            let r = panel::panel(&dir, innovation, fit, &covariates, point)?;
            say(&format!("{}\n", panel::describe(&r)))?;
        }
        Command::Sensitivity {
            sweep,
            n,
            replicates,
            months,
            backend,
            threads,
            out,
            resume,
            force,
            metric,
            innovation,
        } => {
            let dir = if sweep.is_dir() {
                sensitivity::refuse_sweep_flags(n, replicates, months, out.as_deref(), resume)?;
                sweep
            } else {
                let res = pioneer::app::sweep::sweep(&pioneer::app::sweep::SweepArgs {
                    sweep,
                    backend,
                    out,
                    replicates,
                    months,
                    points: n,
                    points_flag: Some("--n"),
                    resume,
                    force,
                    steps: Some("none".into()),
                    threads,
                    progress: std::io::stderr().is_terminal(),
                    ..Default::default()
                })?;
                say(&format!("{}\n", pioneer::app::sweep::describe(&res)))?;
                res.out_dir
            };
            let r = sensitivity::sensitivity(&dir, &metric, innovation)?;
            say(&format!("{}\n", sensitivity::describe(&r)))?;
        }
        Command::Calibrate {
            scenario,
            observed,
            vary,
            particles,
            generations,
            replicates,
            distance,
            fit_until,
            quantile,
            max_simulations,
            predictive,
            innovation,
            seed,
            months,
            backend,
            threads,
            out,
            resume,
            force,
        } => {
            let r = calibrate::calibrate(&calibrate::CalibrateArgs {
                scenario,
                observed,
                vary,
                particles,
                generations,
                replicates,
                distance,
                fit_until,
                quantile,
                max_simulations,
                predictive,
                innovation,
                seed,
                months,
                backend,
                threads,
                out,
                resume,
                force,
                progress: std::io::stderr().is_terminal(),
            })?;
            say(&format!("{}\n", calibrate::describe(&r)))?;
        }
        #[cfg(feature = "serve")]
        Command::Serve {
            scenario,
            resume,
            new_token,
            port,
            bind,
            speed,
            seed,
            out,
        } => {
            pioneer::app::serve::serve(
                &pioneer::app::serve::ServeArgs {
                    scenario,
                    resume,
                    new_token,
                    port,
                    bind,
                    speed,
                    out,
                    seed,
                },
                &|s| say(&format!("{s}\n")),
            )?;
        }
        Command::Report { dir } => {
            let path = report::report(&dir)?;
            say(&format!("wrote {}\n", path.display()))?;
        }
        Command::Plot { dir } => {
            let files = plot::plot(&dir)?;
            say(&format!("drew {} files in {}\n", files.len(), dir.join("charts").display()))?;
        }
        Command::Merge { dirs, out } => {
            let points = merge::merge(&merge::MergeArgs { dirs, out: out.clone() })?;
            say(&format!("merged {points} points into {}\n", out.display()))?;
        }
        Command::Trace {
            scenario,
            run,
            point,
            points,
            unit,
            replicates,
            seed,
            months,
            out,
            chart,
        } => {
            let res = trace::trace(&trace::TraceArgs {
                scenario,
                run,
                unit,
                replicates,
                seed,
                months,
                out,
                point,
                points,
                chart,
            })?;
            say(&format!("{}\n", trace::describe(&res)))?;
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
            say(&format!("{}\n", ablate::describe(&res)))?;
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
            scaling,
            grid_runs,
            max_seconds,
            out,
        } => {
            let args = bench::BenchArgs {
                scenario,
                backend,
                runs,
                months,
                reps,
                threads,
                record,
                bandwidth_gbs,
            };
            if scaling {
                let out = out.unwrap_or_else(|| std::path::PathBuf::from(format!("out/scaling-{}", args.backend)));
                let s = pioneer::app::scaling::scaling(&pioneer::app::scaling::ScalingArgs {
                    months: args.months.unwrap_or(12),
                    bench: args,
                    grid_runs,
                    max_seconds,
                    out,
                })?;
                for p in &s.points {
                    say(&format!(
                        "  {:>5}: {:>6} runs × {:>8} units × {} months: {:.3} s = {:.3e} agent-months/s; state {:.0} bytes per unit-run, {:.1} MiB for the batch\n",
                        p.curve,
                        p.runs,
                        p.units,
                        p.months,
                        p.step_seconds,
                        p.agent_months_per_second,
                        p.state_bytes_per_unit_run,
                        p.batch_state_bytes as f64 / (1u64 << 20) as f64
                    ))?;
                }
                for why in &s.stopped {
                    say(&format!("  {why}\n"))?;
                }
                for f in &s.files {
                    say(&format!("  wrote {}\n", f.display()))?;
                }
                return Ok(());
            }
            let r = bench::bench(&args)?;
            say(&format!(
                "{}: {} runs × {} units × {} months, {} innovation(s) on {}: stepping {:.3} s (median of reps) = {:.3e} agent-months/s; end to end {:.2} s\n",
                r.scenario, r.runs, r.units, r.months, r.innovations, r.backend, r.step_seconds, r.agent_months_per_second, r.end_to_end_seconds
            ))?;
            say(&format!(
                "  state: {:.0} bytes per unit-run ({:.1} MiB for the batch)\n",
                r.state_bytes_per_unit_run,
                r.state_bytes_per_unit_run * r.units as f64 * r.runs as f64 / (1u64 << 20) as f64
            ))?;
            if r.backend.starts_with("gpu") {
                say(&format!(
                    "  one agent-month moves at least {:.0} bytes; at an assumed memory bandwidth of {} GB/s (--bandwidth-gbs) the floor is {:.3e} agent-months/s: measured = {:.2} % of it\n",
                    r.bytes_per_agent_month, r.bandwidth_gbs, r.floor_agent_months_per_second, r.percent_of_floor
                ))?;
            }
        }
        Command::Devices { scenario, memory_gib } => say(&devices::devices(scenario.as_ref(), memory_gib)?)?,
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
