// Counter-based random draws: a draw is a hash of (run key, unit, month, stream), no state.
// Rust twin: src/model/rng.rs (the stream numbers below must equal rng::stream::*).

const S_NEED: u32 = 1u;
const S_AGENDA: u32 = 2u;
const S_LAPSE: u32 = 3u;
const S_DESIGN: u32 = 4u;
const S_QUALITY: u32 = 5u;
const S_IMPROVE: u32 = 6u;
const S_VISIBLE: u32 = 7u;
const S_IMPL_DONE: u32 = 8u;
const S_SUCCESS: u32 = 9u;
const S_LEADER_AGE: u32 = 10u;
const S_LEADER_AMBITION: u32 = 11u;
const S_TRANSFER: u32 = 12u;
const S_TRANSFER_PEER: u32 = 13u;
const S_DROP: u32 = 14u;
const S_COMPLY: u32 = 15u;
const S_CONTINUE: u32 = 16u;
const S_LEADER_PUBLICITY: u32 = 17u;
const S_CLOSED: u32 = 18u;

// Rust twin: model::rng::mix32 (lowbias32; WGSL u32 multiplication wraps like wrapping_mul)
fn mix32(x: u32) -> u32 {
    var h = x;
    h = h ^ (h >> 16u);
    h = h * 0x7feb352du;
    h = h ^ (h >> 15u);
    h = h * 0x846ca68bu;
    h = h ^ (h >> 16u);
    return h;
}

// Rust twin: model::rng::draw
fn draw(key: u32, unit: u32, month: u32, stream: u32) -> u32 {
    let h = mix32(key ^ (unit * 0x9e3779b9u));
    return mix32(h ^ (month * 0x85ebca6bu) ^ (stream * 0x27d4eb2fu));
}

// Rust twin: model::rng::stream::sub
fn sub(stream: u32, index: u32) -> u32 {
    return stream | (index << 8u);
}
