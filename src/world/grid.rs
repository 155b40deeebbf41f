//! Classroom world: a width × height grid of districts (4-neighbour) under a few parents,
//! each parent governing a vertical strip of whole columns.

use super::{Draws, World, NO_PARENT};
use crate::error::InputError;

/// `parents` units `R1..Rn` at level 0, then `width * height` districts `D<col>-<row>`
/// (1-based, row-major) at level 1. Columns are split into `parents` contiguous strips as
/// evenly as possible; a district's parent is its strip's. Adjacent strips' parents are
/// neighbours.
pub fn grid(width: usize, height: usize, parents: usize, draws: &Draws) -> Result<World, InputError> {
    if width == 0 {
        return Err(InputError::new("must be at least 1 (columns)").field("world.width"));
    }
    if height == 0 {
        return Err(InputError::new("must be at least 1 (rows)").field("world.height"));
    }
    if parents == 0 {
        return Err(InputError::new("must be at least 1").field("world.parents"));
    }
    if parents > width {
        return Err(InputError::new(format!(
            "{parents} parents for {width} columns; each parent governs a strip of whole \
             columns, so parents must be at most width"
        ))
        .field("world.parents"));
    }
    let n = width
        .checked_mul(height)
        .and_then(|c| c.checked_add(parents))
        .filter(|&n| n < NO_PARENT as usize)
        .ok_or_else(|| InputError::new(format!("too many units; at most {} in all", NO_PARENT - 1)).field("world.height"))?;

    // Strip s holds the columns c with c * parents / width == s: [start(s), start(s + 1)).
    let start = |s: usize| (s as u64 * width as u64).div_ceil(parents as u64) as usize;
    let key = draws.key();
    let mut w = World::default();
    w.names.reserve(n);
    let push = |w: &mut World, name: String, level: u32, parent: u32, x: f64, y: f64| {
        let i = w.len() as u32;
        w.names.push(name);
        w.level.push(level);
        w.parent.push(parent);
        w.x.push(x);
        w.y.push(y);
        w.capacity.push(draws.capacity(key, i));
        w.firms.push(draws.firms(key, i));
    };
    for s in 0..parents {
        let x = (start(s) + start(s + 1)) as f64 / 2.0 / width as f64;
        push(&mut w, format!("R{}", s + 1), 0, NO_PARENT, x, 0.5);
    }
    for row in 0..height {
        for col in 0..width {
            let strip = (col as u64 * parents as u64 / width as u64) as u32;
            let x = (col as f64 + 0.5) / width as f64;
            let y = (row as f64 + 0.5) / height as f64;
            push(&mut w, format!("D{}-{}", col + 1, row + 1), 1, strip, x, y);
        }
    }

    let cell = |col: usize, row: usize| (parents + row * width + col) as u32;
    let mut edges = Vec::with_capacity(parents + 2 * (n - parents));
    for s in 1..parents {
        edges.push(((s - 1) as u32, s as u32));
    }
    for row in 0..height {
        for col in 0..width {
            if col + 1 < width {
                edges.push((cell(col, row), cell(col + 1, row)));
            }
            if row + 1 < height {
                edges.push((cell(col, row), cell(col, row + 1)));
            }
        }
    }
    w.finish(&edges)?;
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(seed: u64) -> Draws {
        Draws {
            capacity: (0, 65535),
            firms: (1000, 2000),
            seed,
        }
    }

    #[test]
    fn sizes_names_and_positions() {
        let w = grid(5, 4, 2, &draws(1)).expect("grid");
        assert_eq!(w.len(), 2 + 20);
        assert_eq!(&w.names[..3], &["R1", "R2", "D1-1"]);
        // Row-major: column 3 row 2 is at 2 + (2 - 1) * 5 + (3 - 1).
        let i = w.find("D3-2").expect("D3-2");
        assert_eq!(i, 2 + 5 + 2);
        assert_eq!(w.level[i], 1);
        assert_eq!((w.x[i], w.y[i]), (2.5 / 5.0, 1.5 / 4.0));
        assert!(w.level[..2].iter().all(|&l| l == 0));
        assert!(w.parent[..2].iter().all(|&p| p == NO_PARENT));
        assert!(w.firms.iter().all(|f| (1000..=2000).contains(f)));
    }

    #[test]
    fn parent_strips_are_even_and_contiguous() {
        let w = grid(7, 3, 3, &draws(1)).expect("grid");
        for row in 0..3 {
            let strips: Vec<u32> = (0..7).map(|c| w.parent[3 + row * 7 + c]).collect();
            assert_eq!(strips, [0, 0, 0, 1, 1, 2, 2]);
        }
        // Parent at the centre of its strip: columns 0..3, 3..5, 5..7.
        assert_eq!((w.x[0], w.x[1], w.x[2]), (1.5 / 7.0, 4.0 / 7.0, 6.0 / 7.0));
        assert_eq!(w.neighbours(0), &[1]);
        assert_eq!(w.neighbours(1), &[0, 2]);
        // Peer groups: the parents, then one per strip.
        assert_eq!(w.n_groups(), 4);
        assert_eq!(w.peers(3).len(), 3 * 3);
    }

    #[test]
    fn four_neighbour_degrees() {
        let w = grid(4, 3, 1, &draws(1)).expect("grid");
        let deg = |name: &str| w.neighbours(w.find(name).expect("name")).len();
        assert_eq!(deg("D1-1"), 2);
        assert_eq!(deg("D4-3"), 2);
        assert_eq!(deg("D2-1"), 3);
        assert_eq!(deg("D2-2"), 4);
        assert!(w.neighbours(0).is_empty());
        for i in 1..w.len() {
            for &j in w.neighbours(i) {
                assert!(j >= 1 && w.neighbours(j as usize).contains(&(i as u32)));
            }
        }
    }

    #[test]
    fn same_seed_same_world() {
        assert_eq!(grid(6, 6, 3, &draws(5)), grid(6, 6, 3, &draws(5)));
        let a = grid(6, 6, 3, &draws(5)).expect("grid");
        let b = grid(6, 6, 3, &draws(6)).expect("grid");
        assert_ne!(a.capacity, b.capacity);
    }

    #[test]
    fn errors_name_the_field() {
        let d = draws(1);
        let field = |r: Result<World, InputError>| r.expect_err("should fail").field;
        assert_eq!(field(grid(0, 3, 1, &d)).as_deref(), Some("world.width"));
        assert_eq!(field(grid(3, 0, 1, &d)).as_deref(), Some("world.height"));
        assert_eq!(field(grid(3, 3, 0, &d)).as_deref(), Some("world.parents"));
        assert_eq!(field(grid(3, 3, 4, &d)).as_deref(), Some("world.parents"));
        assert!(grid(3, 3, 3, &d).is_ok());
    }
}
