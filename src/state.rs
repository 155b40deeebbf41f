//! Struct-of-arrays state of a batch of runs: `[run][unit]` and `[run][innovation][unit]` columns.
//! Plain `u32` columns, castable with bytemuck for upload; `RunMut` is one run's mutable view.

use crate::model::params::NEVER;

/// Stage of a unit's one active process (bits 0–2 of `proc_`).
pub mod stage {
    pub const IDLE: u32 = 0;
    pub const NEED: u32 = 1;
    pub const AGENDA: u32 = 2;
    pub const DESIGN: u32 = 3;
    pub const IMPLEMENT: u32 = 4;
    pub const NAMES: [&str; 5] = ["idle", "need", "agenda", "design", "implement"];
}

/// How a design was obtained (the route of an adoption).
pub mod route {
    pub const NONE: u32 = 0;
    pub const INVENTED: u32 = 1;
    pub const NEIGHBOUR: u32 = 2;
    pub const EXEMPLAR: u32 = 3;
    pub const PARENT: u32 = 4;
    pub const LEADER: u32 = 5;
    pub const MANDATED: u32 = 6;
    /// Adopted before the simulation starts (scenario `[[adopted]]`).
    pub const SEEDED: u32 = 7;
    pub const COUNT: usize = 8;
    pub const NAMES: [&str; COUNT] = [
        "none",
        "invented",
        "neighbour",
        "exemplar",
        "parent",
        "leader",
        "mandated",
        "seeded",
    ];
}

/// The packed process word `proc_`: stage, innovation, candidate route, flags, months in stage.
/// WGSL twins in shaders/step.wgsl: `proc_stage`, `proc_innov`, `proc_route`, `proc_pack`, `proc_tick`.
pub mod process {
    pub const MANDATED: u32 = 1 << 9;
    pub const PILOT: u32 = 1 << 10;

    #[inline(always)]
    pub fn stage(w: u32) -> u32 {
        w & 7
    }
    #[inline(always)]
    pub fn innov(w: u32) -> u32 {
        (w >> 3) & 7
    }
    #[inline(always)]
    pub fn route(w: u32) -> u32 {
        (w >> 6) & 7
    }
    #[inline(always)]
    pub fn months(w: u32) -> u32 {
        w >> 16
    }
    /// A new process word (months in stage 0). WGSL twin: `proc_pack`.
    #[inline(always)]
    pub fn pack(stage: u32, innov: u32, route: u32, flags: u32) -> u32 {
        stage | (innov << 3) | (route << 6) | flags
    }
    /// One more month in the same stage (saturating). WGSL twin: `proc_tick`.
    #[inline(always)]
    pub fn tick(w: u32) -> u32 {
        if w >> 16 == 0xFFFF {
            w
        } else {
            w + (1 << 16)
        }
    }
}

macro_rules! columns {
    ($($unit:ident),* ; $($innov:ident),* ; $($run:ident),*) => {
        /// State of a batch: every column is laid out run-major.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct BatchState {
            pub runs: usize,
            pub units: usize,
            pub innov: usize,
            $(pub $unit: Vec<u32>,)*
            $(pub $innov: Vec<u32>,)*
            $(pub $run: Vec<u32>,)*
        }

        /// One run's slice of every column.
        pub struct RunMut<'a> {
            $(pub $unit: &'a mut [u32],)*
            $(pub $innov: &'a mut [u32],)*
            $(pub $run: &'a mut [u32],)*
        }

        impl BatchState {
            /// A zeroed batch (callers fill it with `init`).
            pub fn zeroed(runs: usize, units: usize, innov: usize) -> Self {
                BatchState {
                    runs, units, innov,
                    $($unit: vec![0; runs * units],)*
                    $($innov: vec![0; runs * innov * units],)*
                    $($run: vec![0; runs * innov],)*
                }
            }

            /// Mutable views, one per run, for parallel stepping.
            pub fn runs_mut(&mut self) -> Vec<RunMut<'_>> {
                let (u, ku, k) = (self.units.max(1), (self.innov * self.units).max(1), self.innov.max(1));
                $(let mut $unit = self.$unit.chunks_mut(u);)*
                $(let mut $innov = self.$innov.chunks_mut(ku);)*
                $(let mut $run = self.$run.chunks_mut(k);)*
                let mut out = Vec::with_capacity(self.runs);
                for _ in 0..self.runs {
                    out.push(RunMut {
                        $($unit: $unit.next().unwrap_or_default(),)*
                        $($innov: $innov.next().unwrap_or_default(),)*
                        $($run: $run.next().unwrap_or_default(),)*
                    });
                }
                out
            }

            /// Copy run `src` of `other` into run `dst` of `self` (same units and innovations).
            pub fn copy_run_from(&mut self, dst: usize, other: &BatchState, src: usize) {
                let (u, ku, k) = (self.units, self.innov * self.units, self.innov);
                $(self.$unit[dst * u..(dst + 1) * u].copy_from_slice(&other.$unit[src * u..(src + 1) * u]);)*
                $(self.$innov[dst * ku..(dst + 1) * ku].copy_from_slice(&other.$innov[src * ku..(src + 1) * ku]);)*
                $(self.$run[dst * k..(dst + 1) * k].copy_from_slice(&other.$run[src * k..(src + 1) * k]);)*
            }

            /// The columns by name, in a fixed order (for upload and comparison).
            pub fn columns(&self) -> Vec<(&'static str, &[u32])> {
                vec![$((stringify!($unit), &self.$unit[..]),)* $((stringify!($innov), &self.$innov[..]),)* $((stringify!($run), &self.$run[..]),)*]
            }

            /// The columns by name, mutable, in the same order as `columns`.
            pub fn columns_mut(&mut self) -> Vec<(&'static str, &mut Vec<u32>)> {
                vec![$((stringify!($unit), &mut self.$unit),)* $((stringify!($innov), &mut self.$innov),)* $((stringify!($run), &mut self.$run),)*]
            }
        }
    };
}

columns!(
    // [run][unit]: performance, expectation, legitimacy, credit, P at term start, need threshold,
    // leader ambition, age (months), tenure (months), process word, candidate quality and variant.
    p, e, l, credit, p0, theta, ambition, age, tenure, proc_, cand_q, cand_v;
    // [run][innovation][unit]: adoption month (NEVER if not), quality, variant, route,
    // merit n·q (for recognition), leader knowledge quality and variant (variant 0 = none).
    adopt_month, quality, variant, route, merit, know_q, know_v;
    // [run][innovation]: signal boost, exemplar unit (NEVER if none), its quality and variant,
    // adopters as of the start of the month.
    boost, ex_unit, ex_q, ex_v, adopters
);

impl BatchState {
    /// Join batches with the same units and innovations, runs in order.
    pub fn concat(parts: Vec<BatchState>) -> BatchState {
        let mut it = parts.into_iter();
        let Some(mut first) = it.next() else {
            return BatchState::zeroed(0, 0, 0);
        };
        for part in it {
            first.runs += part.runs;
            for ((_, dst), (_, src)) in first.columns_mut().into_iter().zip(part.columns()) {
                dst.extend_from_slice(src);
            }
        }
        first
    }

    /// Mark everything "not adopted / no exemplar" (the neutral start before `init`).
    pub fn clear_adoptions(&mut self) {
        self.adopt_month.fill(NEVER);
        self.ex_unit.fill(NEVER);
    }
}
