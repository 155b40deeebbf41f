//! Counter-based random draws: a draw is a hash of (run key, unit, month, stream), no state.
//! Mirrored in `shaders/rng.wgsl`; the stream numbers below are shared with the shaders.

/// The 32-bit mixer (lowbias32 by Chris Wellons). WGSL twin: `mix32`.
#[inline(always)]
pub fn mix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// The key of one run: depends on the seed, the parameter point and the replicate only,
/// never on where the run sits in a batch or shard.
pub fn run_key(seed: u64, point: u32, replicate: u32) -> u32 {
    let mut h = mix32(seed as u32 ^ 0x9e37_79b9);
    h = mix32(h ^ (seed >> 32) as u32);
    h = mix32(h ^ point.wrapping_mul(0x85eb_ca6b));
    mix32(h ^ replicate.wrapping_mul(0xc2b2_ae35) ^ 0x27d4_eb2f)
}

/// One 32-bit draw for `unit` in `month` on `stream` (stream id plus a sub-index times 256).
/// WGSL twin: `draw`.
#[inline(always)]
pub fn draw(key: u32, unit: u32, month: u32, stream: u32) -> u32 {
    draw_from(unit_seed(key, unit), month, stream)
}

/// The first half of `draw`: what a run's key gives one unit, the same every month.
#[inline(always)]
pub fn unit_seed(key: u32, unit: u32) -> u32 {
    mix32(key ^ unit.wrapping_mul(0x9e37_79b9))
}

/// The second half of `draw`, from the unit's `unit_seed`.
#[inline(always)]
pub fn draw_from(seed: u32, month: u32, stream: u32) -> u32 {
    mix32(seed ^ month.wrapping_mul(0x85eb_ca6b) ^ stream.wrapping_mul(0x27d4_eb2f))
}

/// A run's draws as the CPU takes them: every unit's `unit_seed` computed once, so that a draw
/// is one `mix32`, not two. `draw` gives the same number.
#[derive(Debug, Clone)]
pub struct Draws {
    seeds: Vec<u32>,
}

impl Draws {
    /// The draws of the run with this key, for units `0..n`.
    pub fn new(key: u32, n: usize) -> Self {
        Draws {
            seeds: (0..n as u32).map(|i| unit_seed(key, i)).collect(),
        }
    }

    /// `draw(key, unit, month, stream)`.
    #[inline(always)]
    pub fn draw(&self, unit: u32, month: u32, stream: u32) -> u32 {
        draw_from(self.seeds[unit as usize], month, stream)
    }
}

/// Stream ids: one per decision, so no two decisions share a draw.
pub mod stream {
    pub const NEED: u32 = 1;
    pub const AGENDA: u32 = 2;
    pub const LAPSE: u32 = 3;
    pub const DESIGN: u32 = 4;
    pub const QUALITY: u32 = 5;
    pub const IMPROVE: u32 = 6;
    pub const VISIBLE: u32 = 7;
    pub const IMPL_DONE: u32 = 8;
    pub const SUCCESS: u32 = 9;
    pub const LEADER_AGE: u32 = 10;
    pub const LEADER_AMBITION: u32 = 11;
    pub const TRANSFER: u32 = 12;
    pub const TRANSFER_PEER: u32 = 13;
    pub const DROP: u32 = 14;
    /// Sub-index: mandate number.
    pub const COMPLY: u32 = 15;
    /// (v2) Whether the leader pushes on to the next rung.
    pub const CONTINUE: u32 = 16;
    /// (v2) A new leader's publicity μ.
    pub const LEADER_PUBLICITY: u32 = 17;
    /// Whether the unit is closed to an innovation for the whole run (`closed_k`); drawn at
    /// month 0, sub-index: innovation number.
    pub const CLOSED: u32 = 18;
    // Initial state (drawn on the host, month 0).
    pub const INIT_THETA: u32 = 32;
    pub const INIT_AMBITION: u32 = 33;
    pub const INIT_TENURE: u32 = 34;
    pub const INIT_AGE: u32 = 35;
    pub const INIT_P: u32 = 36;
    pub const INIT_E: u32 = 37;
    pub const INIT_L: u32 = 38;
    pub const INIT_B: u32 = 39;
    pub const INIT_MU: u32 = 40;
    pub const INIT_PHI: u32 = 41;
    // World generation (host only; key from the world seed).
    pub const WORLD_CAPACITY: u32 = 64;
    pub const WORLD_FIRMS: u32 = 65;
    pub const WORLD_X: u32 = 66;
    pub const WORLD_Y: u32 = 67;

    /// A stream with a sub-index (e.g. the innovation or the mandate number). WGSL twin: `sub`.
    pub const fn sub(stream: u32, index: u32) -> u32 {
        stream | (index << 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_key_separates_points_and_replicates() {
        let a = run_key(1, 0, 0);
        assert_ne!(a, run_key(1, 0, 1));
        assert_ne!(a, run_key(1, 1, 0));
        assert_ne!(a, run_key(2, 0, 0));
        assert_eq!(a, run_key(1, 0, 0));
    }

    #[test]
    fn draws_are_the_draw_of_the_key() {
        for key in [0, 1, run_key(7, 0, 0), u32::MAX] {
            let draws = Draws::new(key, 300);
            for unit in (0..300).step_by(7) {
                for (month, stream) in [(0, stream::NEED), (1, stream::SUCCESS), (479, stream::sub(stream::COMPLY, 3))] {
                    assert_eq!(draws.draw(unit, month, stream), draw(key, unit, month, stream));
                }
            }
        }
    }

    #[test]
    fn draws_are_roughly_uniform() {
        let key = run_key(7, 0, 0);
        let mut buckets = [0u32; 16];
        for unit in 0..4096 {
            buckets[(draw(key, unit, 3, stream::NEED) >> 28) as usize] += 1;
        }
        for b in buckets {
            assert!((200..=312).contains(&b), "{buckets:?}");
        }
    }
}
