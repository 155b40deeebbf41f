//! Struct-of-arrays state of a batch of runs: `[run][unit]`, `[run][innovation][unit]`,
//! `[run][innovation][unit][rung word]` and `[run][innovation]` columns of plain `u32`.

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

/// The packed process word `proc_`: stage (bits 0–2), innovation (3–5), candidate route (6–8),
/// the mandated flag (9), the depth the candidate's source had reached (11–14), the depth a
/// mandate requires (15–18) and months in stage (20–31).
/// Mirrored in shaders/step.wgsl function by function (`proc_*`, `with_*`).
pub mod process {
    pub const MANDATED: u32 = 1 << 9;

    /// WGSL twin: `proc_stage`.
    #[inline(always)]
    pub fn stage(w: u32) -> u32 {
        w & 7
    }
    /// WGSL twin: `proc_innov`.
    #[inline(always)]
    pub fn innov(w: u32) -> u32 {
        (w >> 3) & 7
    }
    /// WGSL twin: `proc_route`.
    #[inline(always)]
    pub fn route(w: u32) -> u32 {
        (w >> 6) & 7
    }
    /// Depth the candidate's source had reached (`d_src`, 0..8). WGSL twin: `proc_src_depth`.
    #[inline(always)]
    pub fn src_depth(w: u32) -> u32 {
        (w >> 11) & 15
    }
    /// Depth a mandate requires of this process (0 when not mandated). WGSL twin: `proc_required`.
    #[inline(always)]
    pub fn required(w: u32) -> u32 {
        (w >> 15) & 15
    }
    /// Months in the current stage (saturates at 4095).
    #[inline(always)]
    pub fn months(w: u32) -> u32 {
        w >> 20
    }
    /// The bits of a source depth, for `pack`'s flags. WGSL twin: `with_src`.
    #[inline(always)]
    pub fn with_src(d: u32) -> u32 {
        d << 11
    }
    /// The bits of a required depth, for `pack`'s flags. WGSL twin: `with_required`.
    #[inline(always)]
    pub fn with_required(d: u32) -> u32 {
        d << 15
    }
    /// What a stage change keeps of a process: the mandated flag and the required depth.
    /// WGSL twin: `proc_carried`.
    #[inline(always)]
    pub fn carried(w: u32) -> u32 {
        w & (MANDATED | (15 << 15))
    }
    /// A new process word (months in stage 0); `flags` from `MANDATED`, `with_src`,
    /// `with_required`, `carried`. WGSL twin: `proc_pack`.
    #[inline(always)]
    pub fn pack(stage: u32, innov: u32, route: u32, flags: u32) -> u32 {
        stage | (innov << 3) | (route << 6) | flags
    }
    /// One more month in the same stage (saturating). WGSL twin: `proc_tick`.
    #[inline(always)]
    pub fn tick(w: u32) -> u32 {
        if w >> 20 == 0xFFF {
            w
        } else {
            w + (1 << 20)
        }
    }
    /// `tick(w)` where `cond` holds, else `w`, with no branch for a compiler to make of it (CPU
    /// only: the gate's `cond` is a draw, which a branch would mispredict).
    #[inline(always)]
    pub fn tick_if(w: u32, cond: bool) -> u32 {
        w + (((cond & (w >> 20 != 0xFFF)) as u32) << 20)
    }
}

/// What the adopting leader did and became, packed in the `ad_extra` column: the incentive at
/// adoption (bits 0–15), the fate at the first ranking after adopting (16–17) and the depth the
/// adopted design's source had reached (20–23). Mirrored in shaders/step.wgsl (`ad_*`).
pub mod outcome {
    /// The adopting leader has not been ranked yet.
    pub const PENDING: u32 = 0;
    pub const PROMOTED: u32 = 1;
    pub const NOT_PROMOTED: u32 = 2;
    /// Retired before the ranking, or a seeded design (no adopting leader): not counted.
    pub const RETIRED: u32 = 3;

    /// WGSL twin: `ad_pack`.
    #[inline(always)]
    pub fn pack(incentive: u32, fate: u32, src_depth: u32) -> u32 {
        incentive | (fate << 16) | (src_depth << 20)
    }
    #[inline(always)]
    pub fn incentive(x: u32) -> u32 {
        x & 0xFFFF
    }
    /// WGSL twin: `ad_fate`.
    #[inline(always)]
    pub fn fate(x: u32) -> u32 {
        (x >> 16) & 3
    }
    /// WGSL twin: `ad_with_fate`.
    #[inline(always)]
    pub fn with_fate(x: u32, fate: u32) -> u32 {
        (x & !(3 << 16)) | (fate << 16)
    }
    /// WGSL twin: `ad_src_depth`.
    #[inline(always)]
    pub fn src_depth(x: u32) -> u32 {
        (x >> 20) & 15
    }
}

/// Words per unit and innovation in the `rung_m` column: the month of each of up to 8 rungs,
/// two 16-bit months a word (0xFFFF: not reached).
pub const RUNG_WORDS: usize = 4;

macro_rules! columns {
    ($($unit:ident),* ; $($innov:ident),* ; $($rung:ident),* ; $($run:ident),*) => {
        /// State of a batch: every column is laid out run-major.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct BatchState {
            pub runs: usize,
            pub units: usize,
            pub innov: usize,
            $(pub $unit: Vec<u32>,)*
            $(pub $innov: Vec<u32>,)*
            $(pub $rung: Vec<u32>,)*
            $(pub $run: Vec<u32>,)*
        }

        /// One run's slice of every column.
        pub struct RunMut<'a> {
            $(pub $unit: &'a mut [u32],)*
            $(pub $innov: &'a mut [u32],)*
            $(pub $rung: &'a mut [u32],)*
            $(pub $run: &'a mut [u32],)*
        }

        impl BatchState {
            /// Words per run of a unit, an innovation-unit, a rung and an innovation column.
            fn widths(&self) -> (usize, usize, usize, usize) {
                let ku = self.innov * self.units;
                (self.units, ku, ku * RUNG_WORDS, self.innov)
            }

            /// A zeroed batch (callers fill it with `init`).
            pub fn zeroed(runs: usize, units: usize, innov: usize) -> Self {
                let ku = innov * units;
                BatchState {
                    runs, units, innov,
                    $($unit: vec![0; runs * units],)*
                    $($innov: vec![0; runs * ku],)*
                    $($rung: vec![0; runs * ku * RUNG_WORDS],)*
                    $($run: vec![0; runs * innov],)*
                }
            }

            /// Mutable views, one per run, for parallel stepping.
            pub fn runs_mut(&mut self) -> Vec<RunMut<'_>> {
                let (u, ku, rw, k) = self.widths();
                let (u, ku, rw, k) = (u.max(1), ku.max(1), rw.max(1), k.max(1));
                $(let mut $unit = self.$unit.chunks_mut(u);)*
                $(let mut $innov = self.$innov.chunks_mut(ku);)*
                $(let mut $rung = self.$rung.chunks_mut(rw);)*
                $(let mut $run = self.$run.chunks_mut(k);)*
                let mut out = Vec::with_capacity(self.runs);
                for _ in 0..self.runs {
                    out.push(RunMut {
                        $($unit: $unit.next().unwrap_or_default(),)*
                        $($innov: $innov.next().unwrap_or_default(),)*
                        $($rung: $rung.next().unwrap_or_default(),)*
                        $($run: $run.next().unwrap_or_default(),)*
                    });
                }
                out
            }

            /// Copy run `src` of `other` into run `dst` of `self` (same units and innovations).
            pub fn copy_run_from(&mut self, dst: usize, other: &BatchState, src: usize) {
                let (u, ku, rw, k) = self.widths();
                $(self.$unit[dst * u..(dst + 1) * u].copy_from_slice(&other.$unit[src * u..(src + 1) * u]);)*
                $(self.$innov[dst * ku..(dst + 1) * ku].copy_from_slice(&other.$innov[src * ku..(src + 1) * ku]);)*
                $(self.$rung[dst * rw..(dst + 1) * rw].copy_from_slice(&other.$rung[src * rw..(src + 1) * rw]);)*
                $(self.$run[dst * k..(dst + 1) * k].copy_from_slice(&other.$run[src * k..(src + 1) * k]);)*
            }

            /// The columns by name, in a fixed order (for upload and comparison).
            pub fn columns(&self) -> Vec<(&'static str, &[u32])> {
                vec![
                    $((stringify!($unit), &self.$unit[..]),)*
                    $((stringify!($innov), &self.$innov[..]),)*
                    $((stringify!($rung), &self.$rung[..]),)*
                    $((stringify!($run), &self.$run[..]),)*
                ]
            }

            /// The columns by name, mutable, in the same order as `columns`.
            pub fn columns_mut(&mut self) -> Vec<(&'static str, &mut Vec<u32>)> {
                vec![
                    $((stringify!($unit), &mut self.$unit),)*
                    $((stringify!($innov), &mut self.$innov),)*
                    $((stringify!($rung), &mut self.$rung),)*
                    $((stringify!($run), &mut self.$run),)*
                ]
            }
        }

        /// Columns of each kind: per unit, per innovation and unit, rung words, per innovation.
        pub const COLUMN_COUNTS: (usize, usize, usize, usize) = (
            [$(stringify!($unit)),*].len(),
            [$(stringify!($innov)),*].len(),
            [$(stringify!($rung)),*].len(),
            [$(stringify!($run)),*].len(),
        );
    };
}

columns!(
    // [run][unit]: performance, expectation, legitimacy, (v2) upper backing B, credit, P at term
    // start, need threshold, leader ambition and (v2) publicity μ, (v2) resistance φ and capacity
    // c, age and tenure (months), process word, candidate quality and variant.
    p, e, l, b, credit, p0, theta, ambition, mu, phi, cap, age, tenure, proc_, cand_q, cand_v;
    // [run][innovation][unit]: adoption month (of rung 1; NEVER if not), quality, variant, route,
    // (v2) depth, best recognition merit of the window and the month it was earned, the leader's
    // knowledge (quality, variant (0 = none), depth), and the adopting leader (`ad_leader`:
    // ambition | publicity << 16; `ad_extra`: see `outcome`).
    adopt_month, quality, variant, route, depth, merit, merit_m, know_q, know_v, know_d, ad_leader, ad_extra;
    // [run][innovation][unit][RUNG_WORDS]: (v2) the month of each rung reached.
    rung_m;
    // [run][innovation]: signal boost, exemplar unit (NEVER if none), its quality and variant.
    boost, ex_unit, ex_q, ex_v
);

impl BatchState {
    /// Join batches with the same units and innovations, runs in order.
    pub fn concat(parts: Vec<BatchState>) -> BatchState {
        let mut it = parts.into_iter();
        let Some(mut first) = it.next() else {
            return BatchState::zeroed(0, 0, 0);
        };
        let rest: Vec<BatchState> = it.collect();
        // Exact room once, so the joined state never holds twice its size while growing.
        for (c, (_, dst)) in first.columns_mut().into_iter().enumerate() {
            dst.reserve_exact(rest.iter().map(|p| p.columns()[c].1.len()).sum());
        }
        for part in rest {
            first.runs += part.runs;
            for ((_, dst), (_, src)) in first.columns_mut().into_iter().zip(part.columns()) {
                dst.extend_from_slice(src);
            }
        }
        first
    }

    /// Month in which unit `i` of run `r` reached rung `j` (1-based) of innovation `k`, or NEVER.
    pub fn rung_month(&self, r: usize, k: usize, i: usize, j: u32) -> u32 {
        let at = ((r * self.innov + k) * self.units + i) * RUNG_WORDS + ((j - 1) / 2) as usize;
        match (self.rung_m[at] >> (16 * ((j - 1) % 2))) & 0xFFFF {
            0xFFFF => NEVER,
            m => m,
        }
    }

    /// Mark everything "not adopted / no exemplar" (the neutral start before `init`).
    pub fn clear_adoptions(&mut self) {
        self.adopt_month.fill(NEVER);
        self.ex_unit.fill(NEVER);
        self.rung_m.fill(NEVER);
    }
}

#[cfg(test)]
mod tests {
    use super::process;

    #[test]
    fn tick_if_ticks_where_told_and_saturates_as_tick() {
        let full = 0xFFF << 20 | 3;
        for w in [0, 4, 1 << 20 | 2, 0xFFE << 20 | 1, full, u32::MAX] {
            assert_eq!(process::tick_if(w, true), process::tick(w), "{w:#x}");
            assert_eq!(process::tick_if(w, false), w, "{w:#x}");
        }
        assert_eq!(process::tick(full), full);
    }
}
