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
