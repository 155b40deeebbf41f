//! The `pioneer` binary: parse the command line, call the library, map errors to exit codes
//! (2 for bad input, 1 for anything else).

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use pioneer::app::{bench, devices, run, trace};
use std::io::IsTerminal;

fn main() {
    let cli = Cli::parse();
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
        Command::Trace {
            scenario,
            run,
            unit,
            seed,
            months,
            out,
        } => {
            let sc = pioneer::scenario::Scenario::load(&scenario)?;
            let names: Vec<String> = sc.spec.innovation.iter().map(|i| i.name.clone()).collect();
            let res = trace::trace(&trace::TraceArgs {
                scenario,
                run,
                unit,
                seed,
                months,
                out,
            })?;
            println!("{}", trace::describe(&res, &names));
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
            println!(
                "  one agent-month moves at least {:.0} bytes; at an assumed memory bandwidth of {} GB/s (--bandwidth-gbs) the floor is {:.3e} agent-months/s: measured = {:.2} % of it",
                r.bytes_per_agent_month, r.bandwidth_gbs, r.floor_agent_months_per_second, r.percent_of_floor
            );
        }
        Command::Devices => print!("{}", devices::devices()),
    }
    Ok(())
}
