//! China-like world: provinces, prefectures and counties (defaults 31, 333, 2844, k = 6).
//! Positions cluster around the parent; neighbours are the k nearest units of the same level.

use super::{Draws, World, NO_PARENT};
use crate::error::InputError;
use crate::model::{fixed, rng};

/// Largest offset of a prefecture from its province (each axis).
const PREFECTURE_SPREAD: f64 = 0.06;
/// Largest offset of a county from its prefecture (each axis).
const COUNTY_SPREAD: f64 = 0.02;

/// A three-level world: `provinces` at level 0, `prefectures` at level 1 and `counties` at
/// level 2, each level spread as evenly as possible over the one above in contiguous blocks.
pub fn china(provinces: usize, prefectures: usize, counties: usize, k: usize, draws: &Draws) -> Result<World, InputError> {
    if provinces == 0 {
        return Err(InputError::new("must be at least 1").field("world.provinces"));
    }
    if prefectures < provinces {
        return Err(InputError::new(format!(
            "{prefectures} prefectures for {provinces} provinces; every province needs at least \
             one prefecture, so prefectures must be at least provinces"
        ))
        .field("world.prefectures"));
    }
    if counties < prefectures {
        return Err(InputError::new(format!(
            "{counties} counties for {prefectures} prefectures; every prefecture needs at least \
             one county, so counties must be at least prefectures"
        ))
        .field("world.counties"));
    }
    if k == 0 {
        return Err(InputError::new("must be at least 1 (neighbours per unit)").field("world.neighbours"));
    }
    let n = provinces
        .checked_add(prefectures)
        .and_then(|n| n.checked_add(counties))
        .filter(|&n| n < NO_PARENT as usize)
        .ok_or_else(|| InputError::new(format!("too many units; at most {} in all", NO_PARENT - 1)).field("world.counties"))?;

    let key = draws.key();
    let mut w = World::default();
    w.names.reserve(n);
    for i in 0..provinces {
        let (x, y) = (unit(key, i, rng::stream::WORLD_X), unit(key, i, rng::stream::WORLD_Y));
        push(&mut w, draws, key, format!("P{:02}", i + 1), 0, NO_PARENT, x, y);
    }
    add_level(&mut w, draws, key, 1, 0, provinces, prefectures, 'C', PREFECTURE_SPREAD);
    add_level(&mut w, draws, key, 2, provinces, prefectures, counties, 'D', COUNTY_SPREAD);

    let mut edges = Vec::with_capacity(n * k);
    nearest(&w, 0, provinces, k, &mut edges);
    nearest(&w, provinces, provinces + prefectures, k, &mut edges);
    nearest(&w, provinces + prefectures, n, k, &mut edges);
    w.finish(&edges)?;
    Ok(w)
}

/// A uniform draw in [0,1] for unit `i` on `stream`.
fn unit(key: u32, i: usize, stream: u32) -> f64 {
    fixed::unit_q(rng::draw(key, i as u32, 0, stream)) as f64 / fixed::ONE as f64
}

#[allow(clippy::too_many_arguments)]
fn push(w: &mut World, draws: &Draws, key: u32, name: String, level: u32, parent: u32, x: f64, y: f64) {
    let i = w.len() as u32;
    w.names.push(name);
    w.level.push(level);
    w.parent.push(parent);
    w.x.push(x);
    w.y.push(y);
    w.capacity.push(draws.capacity(key, i));
    w.firms.push(draws.firms(key, i));
}

/// Append `count` units at `level` under the `n_parents` units starting at `first_parent`:
/// unit j goes to parent `j * n_parents / count` (contiguous blocks differing by at most one).
#[allow(clippy::too_many_arguments)]
fn add_level(
    w: &mut World,
    draws: &Draws,
    key: u32,
    level: u32,
    first_parent: usize,
    n_parents: usize,
    count: usize,
    letter: char,
    spread: f64,
) {
    let (mut last, mut within) = (usize::MAX, 0);
    for j in 0..count {
        let p = (j as u64 * n_parents as u64 / count as u64) as usize;
        if p != last {
            (last, within) = (p, 0);
        }
        within += 1;
        let parent = first_parent + p;
        let i = w.len();
        let dx = (2.0 * unit(key, i, rng::stream::WORLD_X) - 1.0) * spread;
        let dy = (2.0 * unit(key, i, rng::stream::WORLD_Y) - 1.0) * spread;
        let x = (w.x[parent] + dx).clamp(0.0, 1.0);
        let y = (w.y[parent] + dy).clamp(0.0, 1.0);
        let name = format!("{}-{letter}{within:02}", w.names[parent]);
        push(w, draws, key, name, level, parent as u32, x, y);
    }
}

/// Directed pairs from each unit in `start..end` to its `k` nearest units in that range
/// (Euclidean; ties go to the lower index). All pairs when the range has at most k + 1 units.
fn nearest(w: &World, start: usize, end: usize, k: usize, edges: &mut Vec<(u32, u32)>) {
    if end - start <= k + 1 {
        for i in start..end {
            for j in i + 1..end {
                edges.push((i as u32, j as u32));
            }
        }
        return;
    }
    // Bucket the units on a square grid of about k units per cell, then search rings of cells
    // outward until the ring is farther than the k-th best distance: the same answer as a scan
    // of every pair (ties still go to the lower index), in about O(n·k).
    let n = end - start;
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for i in start..end {
        x0 = x0.min(w.x[i]);
        y0 = y0.min(w.y[i]);
        x1 = x1.max(w.x[i]);
        y1 = y1.max(w.y[i]);
    }
    let side = ((n / k.max(1)) as f64).sqrt().ceil().max(1.0) as usize;
    let span = (x1 - x0).max(y1 - y0).max(1e-12);
    let cell_of = |v: f64, lo: f64| (((v - lo) / span * side as f64) as usize).min(side - 1);
    let mut cells: Vec<Vec<u32>> = vec![Vec::new(); side * side];
    for i in start..end {
        cells[cell_of(w.y[i], y0) * side + cell_of(w.x[i], x0)].push(i as u32);
    }
    let cell_w = span / side as f64;
    let mut best: Vec<(f64, u32)> = Vec::with_capacity(k + 1);
    for i in start..end {
        best.clear();
        let (xi, yi) = (w.x[i], w.y[i]);
        let (cx, cy) = (cell_of(xi, x0) as i64, cell_of(yi, y0) as i64);
        let mut ring = 0i64;
        loop {
            for gy in (cy - ring)..=(cy + ring) {
                for gx in (cx - ring)..=(cx + ring) {
                    let on_ring = (gy - cy).abs() == ring || (gx - cx).abs() == ring;
                    if !on_ring || gx < 0 || gy < 0 || gx >= side as i64 || gy >= side as i64 {
                        continue;
                    }
                    for &j in &cells[gy as usize * side + gx as usize] {
                        if j as usize == i {
                            continue;
                        }
                        let (dx, dy) = (w.x[j as usize] - xi, w.y[j as usize] - yi);
                        let d = dx * dx + dy * dy;
                        if best.len() == k && (d, j) >= best[k - 1] {
                            continue;
                        }
                        let at = best.partition_point(|&b| b < (d, j));
                        best.insert(at, (d, j));
                        best.truncate(k);
                    }
                }
            }
            // Every unit outside the rings searched so far is at least `ring * cell_w` away.
            let reach = ring as f64 * cell_w;
            if (best.len() == k && best[k - 1].0 < reach * reach) || ring as usize > side {
                break;
            }
            ring += 1;
        }
        edges.extend(best.iter().map(|&(_, j)| (i as u32, j)));
    }
}

/// The k nearest by scanning every pair (the reference the bucketed search must equal).
#[cfg(test)]
fn nearest_scan(w: &World, start: usize, end: usize, k: usize) -> Vec<(u32, u32)> {
    let mut edges = Vec::new();
    for i in start..end {
        let mut all: Vec<(f64, u32)> = (start..end)
            .filter(|&j| j != i)
            .map(|j| ((w.x[j] - w.x[i]).powi(2) + (w.y[j] - w.y[i]).powi(2), j as u32))
            .collect();
        all.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        edges.extend(all.iter().take(k).map(|&(_, j)| (i as u32, j)));
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(seed: u64) -> Draws {
        Draws {
            capacity: (10_000, 50_000),
            firms: (0, fixed::ONE),
            seed,
        }
    }

    fn default_world(seed: u64) -> World {
        china(31, 333, 2844, 6, &draws(seed)).expect("default china world")
    }

    #[test]
    fn counts_levels_and_parents() {
        let w = default_world(1);
        assert_eq!(w.len(), 31 + 333 + 2844);
        let count = |l: u32| w.level.iter().filter(|&&x| x == l).count();
        assert_eq!((count(0), count(1), count(2)), (31, 333, 2844));
        assert_eq!(w.n_levels(), 3);
        let mut children = vec![0usize; w.len()];
        for i in 0..w.len() {
            let p = w.parent[i];
            match w.level[i] {
                0 => assert_eq!(p, NO_PARENT),
                l => {
                    assert_eq!(w.level[p as usize], l - 1, "unit {i}");
                    children[p as usize] += 1;
                }
            }
        }
        // Even spread: 333 / 31 = 10.7, 2844 / 333 = 8.5.
        assert!((0..31).all(|p| (10..=11).contains(&children[p])));
        assert!((31..364).all(|p| (8..=9).contains(&children[p])));
        assert_eq!(w.names[0], "P01");
        assert_eq!(w.names[30], "P31");
        assert_eq!(w.names[31], "P01-C01");
        assert_eq!(w.names[364], "P01-C01-D01");
        assert_eq!(w.names[365], "P01-C01-D02");
        let mut names = w.names.clone();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), w.len());
        // Peer groups: provinces, then one per province and one per prefecture.
        assert_eq!(w.n_groups(), 1 + 31 + 333);
    }

    #[test]
    fn positions_cluster_around_parents() {
        let w = default_world(2);
        for i in 0..w.len() {
            assert!((0.0..=1.0).contains(&w.x[i]) && (0.0..=1.0).contains(&w.y[i]));
            let spread = match w.level[i] {
                0 => continue,
                1 => PREFECTURE_SPREAD,
                _ => COUNTY_SPREAD,
            };
            let p = w.parent[i] as usize;
            assert!((w.x[i] - w.x[p]).abs() <= spread + 1e-12);
            assert!((w.y[i] - w.y[p]).abs() <= spread + 1e-12);
        }
    }

    #[test]
    fn neighbours_symmetric_same_level_at_least_k() {
        let w = default_world(3);
        for i in 0..w.len() {
            let nb = w.neighbours(i);
            assert!(nb.len() >= 6, "unit {i} has {} neighbours", nb.len());
            assert!(nb.windows(2).all(|p| p[0] < p[1]));
            for &j in nb {
                assert_ne!(j as usize, i);
                assert_eq!(w.level[j as usize], w.level[i]);
                assert!(w.neighbours(j as usize).contains(&(i as u32)));
            }
        }
    }

    #[test]
    fn small_levels_are_fully_connected() {
        let w = china(2, 3, 3, 6, &draws(1)).expect("small world");
        assert_eq!(w.neighbours(0), &[1]);
        assert_eq!(w.neighbours(2), &[3, 4]);
        assert_eq!(w.names[4], "P02-C01");
        assert_eq!(w.names[7], "P02-C01-D01");
    }

    #[test]
    fn same_seed_same_world_and_draws_in_range() {
        let a = default_world(7);
        assert_eq!(a, default_world(7));
        let b = default_world(8);
        assert_ne!(a.capacity, b.capacity);
        assert_ne!(a.x, b.x);
        assert!(a.capacity.iter().all(|c| (10_000..=50_000).contains(c)));
        assert!(a.firms.iter().all(|&f| f <= fixed::ONE));
    }

    #[test]
    fn bucketed_search_equals_the_full_scan() {
        let w = china(5, 20, 400, 6, &draws(9)).expect("builds");
        for (a, b) in [(0usize, 5usize), (5, 25), (25, 425)] {
            let mut fast = Vec::new();
            nearest(&w, a, b, 6, &mut fast);
            if b - a > 7 {
                assert_eq!(fast, nearest_scan(&w, a, b, 6), "level {a}..{b}");
            }
        }
    }

    #[test]
    fn errors_name_the_field() {
        let d = draws(1);
        let field = |r: Result<World, InputError>| r.expect_err("should fail").field;
        assert_eq!(field(china(0, 1, 1, 6, &d)).as_deref(), Some("world.provinces"));
        assert_eq!(field(china(5, 4, 10, 6, &d)).as_deref(), Some("world.prefectures"));
        assert_eq!(field(china(2, 4, 3, 6, &d)).as_deref(), Some("world.counties"));
        assert_eq!(field(china(2, 4, 8, 0, &d)).as_deref(), Some("world.neighbours"));
    }
}
