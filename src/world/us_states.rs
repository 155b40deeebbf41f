//! `us-states`: the 50 US states under a federal unit, at their centroids, with their land
//! borders as neighbours; bundled from `scenarios/us-states/` (its README gives the sources).

use super::{file, Draws, World};
use crate::error::InputError;
use std::path::Path;

/// `scenarios/us-states/units.csv`: id, name, level, parent, longitude, latitude.
static UNITS: &[u8] = include_bytes!("../../scenarios/us-states/units.csv");
/// `scenarios/us-states/edges.csv`: the pairs of states sharing a land border.
static EDGES: &[u8] = include_bytes!("../../scenarios/us-states/edges.csv");

/// Units of the bundled world: the federal unit and the 50 states.
pub const UNITS_COUNT: u64 = 51;
/// Neighbour pairs of the bundled world (the edges.csv rows).
pub const EDGES_COUNT: u64 = 105;

/// The states; attributes the files do not give are drawn from `draws`.
pub fn us_states(draws: &Draws) -> Result<World, InputError> {
    file::from_bytes(
        (Path::new("us-states/units.csv (bundled)"), UNITS),
        (Path::new("us-states/edges.csv (bundled)"), EDGES),
        draws,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 50 states under the USA unit, each named once; 105 borders, none to the federal unit, to
    /// Alaska or to Hawaii; every state inside its longitude and latitude box.
    #[test]
    fn fifty_states_and_their_borders() {
        let w = us_states(&Draws {
            capacity: (0, 65536),
            firms: (0, 65536),
            seed: 1,
        })
        .expect("the bundled world reads");
        assert_eq!(w.len() as u64, UNITS_COUNT);
        assert_eq!(w.nbr.len() as u64, 2 * EDGES_COUNT);
        let usa = w.lookup("USA").expect("USA");
        assert_eq!((usa, w.level[usa]), (0, 0));
        for i in 1..w.len() {
            assert_eq!((w.level[i], w.parent[i] as usize), (1, usa), "{}", w.names[i]);
            assert!(
                (-180.0..=-66.0).contains(&w.x[i]) && (18.0..=72.0).contains(&w.y[i]),
                "{}",
                w.names[i]
            );
        }
        for name in ["USA", "Alaska", "Hawaii"] {
            assert!(w.neighbours(w.lookup(name).expect(name)).is_empty(), "{name} has no land border");
        }
        let ca = w.lookup("California").expect("California");
        let mut nbrs: Vec<&str> = w.neighbours(ca).iter().map(|&j| w.names[j as usize].as_str()).collect();
        nbrs.sort_unstable();
        assert_eq!(nbrs, ["Arizona", "Nevada", "Oregon"]);
    }
}
