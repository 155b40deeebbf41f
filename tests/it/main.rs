//! Integration tests of pioneer (one binary): facts of the model, determinism, scenarios, CLI.

mod analysis;
#[cfg(feature = "serve")]
mod browser;
mod calibrate;
mod charts;
mod cli;
mod cluster;
mod common;
#[cfg(feature = "serve")]
mod crowd;
mod damage;
mod determinism;
mod docs;
mod facts;
#[cfg(feature = "serve")]
mod formulas;
mod fuzz;
mod fuzz_csv;
mod fuzz_folders;
mod hardening;
mod holdout;
#[cfg(feature = "serve")]
mod limits;
mod population;
#[cfg(feature = "serve")]
mod resume;
mod room;
mod scenarios;
#[cfg(feature = "serve")]
mod serve;
mod sweep;
mod tables;
#[cfg(feature = "serve")]
mod teacher;
