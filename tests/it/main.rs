//! Integration tests of pioneer (one binary): facts of the model, determinism, scenarios, CLI.

mod common;
mod facts;
