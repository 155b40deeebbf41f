//! # pioneer: how local-government innovations are born and spread
//!
//! An agent-based model (MODEL.md, documented as built in `docs/model.md`) of thousands of local
//! governments that feel a need to innovate, win an agenda, learn or invent a design, implement
//! it, earn legitimacy and compete for promotion, month by month.
//!
//! Map of the crate:
//! - [`model`]: the rules, pure: Q16 fixed point, counter-based draws, one function per phase.
//! - [`world`]: units, hierarchy, neighbours; `china`, `grid` and `file` generators.
//! - [`state`]: struct-of-arrays batch state, `[run][unit]` columns.
//! - [`backend`]: run a batch: `cpu` (rayon) or `gpu` (wgpu compute shaders, `shaders/*.wgsl`),
//!   bit-identical to each other and for any thread count, batch split or chunking.
//! - [`scenario`]: TOML files → validated model and parameters; [`experiment`]: sweep files →
//!   parameter points (grids, Latin hypercubes, Sobol designs).
//! - [`output`]: steps/summary/units CSV, manifest, written atomically; [`plot`]: charts.
//! - [`analysis`]: pure statistics on results (headline outcomes, paired comparisons).
//! - [`app`]: the commands behind the `pioneer` binary.

pub mod analysis;
pub mod app;
pub mod backend;
pub mod error;
pub mod experiment;
pub mod model;
pub mod output;
pub mod plot;
pub mod scenario;
#[cfg(feature = "serve")]
pub mod serve;
pub mod state;
pub mod world;
