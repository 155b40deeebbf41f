//! The map of jurisdictions: units, hierarchy, neighbours (CSR) and peer groups.
//! Generators: `china` (real counts), `china-real` (the real map), `us-states`, `grid`
//! (classroom) and `file`.

mod china;
pub mod china_real;
mod file;
mod grid;
pub mod us_states;

pub use china::china;
pub use china_real::china_real;
pub use file::{from_bytes, from_files};
pub use grid::grid;
pub use us_states::us_states;

use crate::error::InputError;
use crate::model::{fixed, rng};

/// Parent of a root unit (its parent is the centre, which is not a unit).
pub const NO_PARENT: u32 = u32::MAX;
/// Largest peer group allowed (the promotion rank is exact integer arithmetic up to here).
pub const MAX_GROUP: usize = 65535;
/// Levels counted separately in the per-month output (deeper levels still run).
pub const MAX_LEVELS: usize = 4;
/// Most neighbours of one unit: the neighbour mean's sum of P/16 stays below 2^28.
pub const MAX_NEIGHBOURS: usize = 65536;
/// Deepest level a world may have (0 is the top).
pub const MAX_LEVEL: u32 = 31;

/// Ranges for unit attributes drawn when a world does not give them (Q16 bounds, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draws {
    pub capacity: (u32, u32),
    pub firms: (u32, u32),
    pub seed: u64,
}

impl Draws {
    /// Key of the world draws: the seed at the reserved point `u32::MAX`, replicate 0.
    pub fn key(&self) -> u32 {
        rng::run_key(self.seed, u32::MAX, 0)
    }
    /// Capacity of unit `unit`, uniform in `self.capacity` (bounds clamped to 1; lo > hi gives lo).
    pub fn capacity(&self, key: u32, unit: u32) -> u32 {
        let h = rng::draw(key, unit, 0, rng::stream::WORLD_CAPACITY);
        fixed::uniform_q(h, self.capacity.0.min(fixed::ONE), self.capacity.1.min(fixed::ONE))
    }
    /// Weight of enterprises of unit `unit`, uniform in `self.firms` (as for `capacity`).
    pub fn firms(&self, key: u32, unit: u32) -> u32 {
        let h = rng::draw(key, unit, 0, rng::stream::WORLD_FIRMS);
        fixed::uniform_q(h, self.firms.0.min(fixed::ONE), self.firms.1.min(fixed::ONE))
    }
}

/// A world shared by every run of a scenario. Indices are dense `0..n`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct World {
    /// Display name per unit (unique in generated worlds; the `name` column for file worlds,
    /// where two units may share one).
    pub names: Vec<String>,
    /// Unique id per unit (the `id` column of a file world; the name in generated worlds).
    pub ids: Vec<String>,
    /// 0 province, 1 prefecture, 2 county, ...
    pub level: Vec<u32>,
    /// Parent index or `NO_PARENT`.
    pub parent: Vec<u32>,
    /// Position (only for generation and output; never read by a step).
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Fiscal and administrative capacity c, Q16.
    pub capacity: Vec<u32>,
    /// Weight of enterprises f, Q16.
    pub firms: Vec<u32>,
    /// (v2) Resistance φ given by the world (a file world's `resistance` column), Q16; NEVER
    /// where it is drawn per run.
    pub resistance: Vec<u32>,
    /// The unit's room in the seed's institutional space (a file world's `room` column), Q16:
    /// the share of S(t) it finds (`model::rules::room_space`); ONE where the world does not say.
    pub room: Vec<u32>,
    /// CSR neighbours: unit i's neighbours are `nbr[nbr_start[i]..nbr_start[i+1]]`, sorted,
    /// symmetric, no self-loops, no duplicates.
    pub nbr_start: Vec<u32>,
    pub nbr: Vec<u32>,
    /// Peer group (same parent and level) of each unit.
    pub group: Vec<u32>,
    /// CSR of peer groups: group g's members are `group_members[group_start[g]..group_start[g+1]]`,
    /// sorted by unit index.
    pub group_start: Vec<u32>,
    pub group_members: Vec<u32>,
}

impl World {
    pub fn len(&self) -> usize {
        self.level.len()
    }
    pub fn is_empty(&self) -> bool {
        self.level.is_empty()
    }
    pub fn neighbours(&self, i: usize) -> &[u32] {
        &self.nbr[self.nbr_start[i] as usize..self.nbr_start[i + 1] as usize]
    }
    pub fn peers(&self, i: usize) -> &[u32] {
        let g = self.group[i] as usize;
        &self.group_members[self.group_start[g] as usize..self.group_start[g + 1] as usize]
    }
    pub fn n_groups(&self) -> usize {
        self.group_start.len().saturating_sub(1)
    }
    /// Index of the unit with this name, if any (the first, where names repeat).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
    /// The unit `key` names: its id, or a name that exactly one unit has. `Err` lists the ids
    /// of the units sharing the name (empty: no such unit).
    pub fn lookup(&self, key: &str) -> Result<usize, Vec<String>> {
        if let Some(i) = self.ids.iter().position(|id| id == key) {
            return Ok(i);
        }
        let hits: Vec<usize> = (0..self.len()).filter(|&i| self.names[i] == key).collect();
        match hits[..] {
            [i] => Ok(i),
            _ => Err(hits.iter().map(|&i| self.ids[i].clone()).collect()),
        }
    }
    /// Number of levels (1 + the deepest level).
    pub fn n_levels(&self) -> usize {
        self.level.iter().max().map_or(0, |&l| l as usize + 1)
    }
    /// True if `a` is `b` or one of `b`'s descendants.
    pub fn is_under(&self, a: usize, b: usize) -> bool {
        let mut cur = a as u32;
        let mut hops = 0;
        while cur != NO_PARENT && hops <= self.len() {
            if cur as usize == b {
                return true;
            }
            cur = self.parent[cur as usize];
            hops += 1;
        }
        false
    }

    /// Fill the neighbour CSR from an undirected edge list (symmetrised, deduplicated,
    /// self-loops dropped) and the peer groups from `parent` and `level`.
    pub fn finish(&mut self, edges: &[(u32, u32)]) -> Result<(), InputError> {
        let n = self.len();
        // Generators that do not give resistance leave it to be drawn per run; their names are
        // their ids;
        self.resistance.resize(n, crate::model::params::NEVER);
        // and the full room where they do not give it.
        self.room.resize(n, fixed::ONE);
        if self.ids.len() != n {
            self.ids = self.names.clone();
        }
        let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n];
        for &(a, b) in edges {
            if a != b {
                adj[a as usize].push(b);
                adj[b as usize].push(a);
            }
        }
        self.nbr_start = Vec::with_capacity(n + 1);
        self.nbr.clear();
        self.nbr_start.push(0);
        for (i, list) in adj.iter_mut().enumerate() {
            list.sort_unstable();
            list.dedup();
            if list.len() > MAX_NEIGHBOURS {
                return Err(InputError::new(format!(
                    "unit {} has {} neighbours; at most {MAX_NEIGHBOURS} (the neighbour mean sums P/16 in 32 bits)",
                    self.names[i],
                    list.len()
                ))
                .field("neighbours"));
            }
            self.nbr.extend_from_slice(list);
            self.nbr_start.push(self.nbr.len() as u32);
        }
        // Peer groups: key (parent, level), numbered in order of first member.
        let mut keys: std::collections::HashMap<(u32, u32), u32> = Default::default();
        let mut members: Vec<Vec<u32>> = Vec::new();
        self.group = Vec::with_capacity(n);
        for i in 0..n {
            let key = (self.parent[i], self.level[i]);
            let g = *keys.entry(key).or_insert_with(|| {
                members.push(Vec::new());
                members.len() as u32 - 1
            });
            members[g as usize].push(i as u32);
            self.group.push(g);
        }
        self.group_start = vec![0];
        self.group_members.clear();
        for m in &members {
            if m.len() > MAX_GROUP {
                return Err(InputError::new(format!(
                    "a peer group (same parent and level) has {} units; at most {} are allowed",
                    m.len(),
                    MAX_GROUP
                )));
            }
            self.group_members.extend_from_slice(m);
            self.group_start.push(self.group_members.len() as u32);
        }
        Ok(())
    }
}
