//! `china-real`: the mainland's real provinces, prefecture- and county-level units at their
//! longitude and latitude, bundled from cpca 0.5.5's table by `scripts/china-real.py`.

use super::{file, Draws, World};
use crate::error::InputError;
use std::path::Path;

/// `scenarios/china-real/units.csv`: adcode, name, level, parent, longitude, latitude.
static UNITS: &[u8] = include_bytes!("../../scenarios/china-real/units.csv");
/// `scenarios/china-real/edges.csv`: 6 nearest of the same level, and units sharing a parent.
static EDGES: &[u8] = include_bytes!("../../scenarios/china-real/edges.csv");

/// Units of the bundled world (the units.csv rows).
pub const UNITS_COUNT: u64 = 3210;
/// Neighbour pairs of the bundled world (the edges.csv rows).
pub const EDGES_COUNT: u64 = 20300;

/// The real map; attributes the files do not give are drawn from `draws`.
pub fn china_real(draws: &Draws) -> Result<World, InputError> {
    file::from_bytes(
        (Path::new("china-real/units.csv (bundled)"), UNITS),
        (Path::new("china-real/edges.csv (bundled)"), EDGES),
        draws,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        china_real(&Draws {
            capacity: (0, 65536),
            firms: (0, 65536),
            seed: 1,
        })
        .expect("the bundled world reads")
    }

    #[test]
    fn counts_parents_and_positions() {
        let w = world();
        assert_eq!(w.len() as u64, UNITS_COUNT);
        let at = |l: u32| w.level.iter().filter(|&&v| v == l).count();
        assert_eq!((at(0), at(1), at(2)), (31, 334, 2845));
        assert_eq!(w.nbr.len() as u64, 2 * EDGES_COUNT);
        for i in 0..w.len() {
            let p = w.parent[i];
            if w.level[i] == 0 {
                assert_eq!(p, super::super::NO_PARENT, "{}", w.names[i]);
            } else {
                assert!((p as usize) < w.len() && w.level[p as usize] < w.level[i], "{}", w.names[i]);
            }
            // China's bounding box, the Nansha islands included.
            assert!((73.0..=136.0).contains(&w.x[i]) && (3.0..=54.0).contains(&w.y[i]), "{}", w.names[i]);
        }
        // Xiamen's Huli district, under Xiamen, under Fujian.
        let huli = w.lookup("350206").expect("Huli");
        let xm = w.parent[huli] as usize;
        assert_eq!((w.names[huli].as_str(), w.names[xm].as_str()), ("湖里区", "厦门市"));
        assert_eq!(w.names[w.parent[xm] as usize], "福建省");
    }
}
