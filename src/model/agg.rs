//! Layout of the per-run, per-month aggregate record (plain `u32` counters and split sums).
//! Shared by both backends: `shaders/step.wgsl` uses the same offsets.

/// Counters per innovation.
pub const ADOPTERS: usize = 0;
/// Adopters by level 0..MAX_LEVELS.
pub const BY_LEVEL: usize = 1;
/// New adoptions by route (indexed by `route::*`).
pub const BY_ROUTE: usize = 5;
/// Units whose active process is this innovation, by stage need, agenda, design, implement.
pub const BY_STAGE: usize = 13;
/// (v2) Units at exactly depth 1..=8.
pub const DEPTH: usize = 17;
/// (v2) Units at the full depth of the ladder.
pub const COMPLETE: usize = 25;
/// (v2) Rung attempts that completed this month, and those of them that failed.
pub const RUNG_ATTEMPTS: usize = 26;
pub const RUNG_FAILURES: usize = 27;
/// Width of the per-innovation part.
pub const PER_INNOV: usize = 28;

/// Global counters after the per-innovation part (offsets from `global_base(k)`).
pub const IDLE: usize = 0;
/// Sums of Q16 values as two words: `lo = Σ (v & 255)`, `hi = Σ (v >> 8)`; Σ v = 256·hi + lo.
pub const SUM_P: usize = 1;
pub const SUM_E: usize = 3;
pub const SUM_L: usize = 5;
pub const SUM_I: usize = 7;
/// (v2) Upper backing B.
pub const SUM_B: usize = 9;
pub const PROMOTIONS: usize = 11;
pub const RECOGNITIONS: usize = 12;
pub const GLOBAL: usize = 13;

/// Words in one month's record for `k` innovations.
pub const fn record_len(k: usize) -> usize {
    PER_INNOV * k + GLOBAL
}

/// Offset of the global part.
pub const fn global_base(k: usize) -> usize {
    PER_INNOV * k
}

/// True for the words of a record of `k` innovations that count units in a state (adopters, by
/// level, by stage, by depth, complete, idle), false for the flows of the month (new adoptions by
/// route, rung attempts and failures, promotions, recognitions) and the sums. The GPU adds the
/// changes of a count and sums them over the months at the end. WGSL twin: `is_level`.
pub const fn is_level(w: usize, k: usize) -> bool {
    if w >= global_base(k) {
        return w == global_base(k) + IDLE;
    }
    let o = w % PER_INNOV;
    o < BY_ROUTE || (o >= BY_STAGE && o <= COMPLETE)
}

/// Add a column of Q16 values to a split sum at `at`. WGSL twin: `add_split`, one value at a
/// time (atomics).
#[inline]
pub fn add_split_column(rec: &mut [u32], at: usize, col: &[u32]) {
    let (lo, hi) = col.iter().fold((0u32, 0u32), |(lo, hi), &v| (lo + (v & 255), hi + (v >> 8)));
    rec[at] += lo;
    rec[at + 1] += hi;
}

/// The exact sum held in a split sum.
pub fn split_sum(rec: &[u32], at: usize) -> u64 {
    rec[at] as u64 + 256 * rec[at + 1] as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts of units in a state are levels; the month's flows and the sums are not.
    #[test]
    fn levels_are_the_counts_of_units_in_a_state() {
        let k = 3;
        for i in 0..k {
            let b = i * PER_INNOV;
            let levels: Vec<usize> = (ADOPTERS..BY_ROUTE).chain(BY_STAGE..=COMPLETE).map(|o| b + o).collect();
            for w in b..b + PER_INNOV {
                assert_eq!(is_level(w, k), levels.contains(&w), "word {w}");
            }
            assert!(!is_level(b + BY_ROUTE + 7, k) && !is_level(b + RUNG_ATTEMPTS, k) && !is_level(b + RUNG_FAILURES, k));
        }
        let g = global_base(k);
        assert!(is_level(g + IDLE, k));
        for o in [SUM_P, SUM_P + 1, SUM_E, SUM_L, SUM_I, SUM_B + 1, PROMOTIONS, RECOGNITIONS] {
            assert!(!is_level(g + o, k), "global word {o}");
        }
    }
}
