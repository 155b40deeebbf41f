//! World from your own CSV files: units.csv (`id,name,level,parent,x,y[,capacity,firms,resistance,room]`)
//! and an optional edges.csv (`a,b`); every problem names the file, line and column.

use std::collections::HashMap;
use std::path::Path;

use csv::StringRecord;

use super::{Draws, World, NO_PARENT};
use crate::error::{CsvInput, InputError};
use crate::model::fixed;

const UNIT_COLUMNS: &str = "id,name,level,parent,x,y (and optionally capacity,firms,resistance,room)";
const EDGE_COLUMNS: &str = "a,b";

/// Read a world: units in file order, ids resolved for parents and edges. Columns are found
/// by header name (trimmed, any case); cells are trimmed. An empty `name` falls back to the id;
/// an absent `capacity`/`firms` column, or an empty cell, is drawn from `draws`; an absent
/// `resistance` is drawn per run (scenario `resistance_lo`/`resistance_hi`); an absent `room`
/// (the unit's room in the institutional space) is 1, the whole space.
pub fn from_files(units: &Path, edges: Option<&Path>, draws: &Draws) -> Result<World, InputError> {
    let units_src = Source::read(units)?;
    let edges_src = edges.map(Source::read).transpose()?;
    build(units_src, edges_src, draws)
}

/// A world from CSV text already in memory (the bundled `china-real` world); `units.0` and
/// `edges.0` name the files in messages.
pub fn from_bytes(units: (&Path, &[u8]), edges: (&Path, &[u8]), draws: &Draws) -> Result<World, InputError> {
    let units_src = Source::new(units.0, units.1.to_vec());
    let edges_src = Source::new(edges.0, edges.1.to_vec());
    build(units_src, Some(edges_src), draws)
}

fn build(units_src: Source, edges_src: Option<Source>, draws: &Draws) -> Result<World, InputError> {
    let units = units_src.path;
    let (mut w, index) = read_units(units_src, draws)?;
    let pairs = match edges_src {
        Some(src) => read_edges(src, &index)?,
        None => Vec::new(),
    };
    w.finish(&pairs).map_err(|e| match e.file {
        Some(_) => e,
        None => e.file(units),
    })?;
    Ok(w)
}

/// A CSV file read whole (world files are small), for exact line numbers; its errors are
/// placed by the readers' shared helper.
type Source<'a> = CsvInput<'a>;

/// A finite number, or the message saying what is allowed.
fn real(cell: &str, name: &str) -> Result<f64, String> {
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(format!(
            "{name} `{cell}` is not a number; give a finite decimal number such as 0.25"
        )),
    }
}

/// A number in [0,1] as Q16, or the message saying what is allowed.
fn share(cell: &str, name: &str) -> Result<u32, String> {
    match cell.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(fixed::q16(v)),
        _ => Err(format!(
            "{name} `{cell}` is not a number in [0,1]; give a decimal such as 0.5, or leave \
             the cell empty to draw it"
        )),
    }
}

/// A unit's room in [0,1] as Q16, or the message saying what is allowed.
fn room(cell: &str) -> Result<u32, String> {
    match cell.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(fixed::q16(v)),
        _ => Err(format!(
            "room `{cell}` is not a number in [0,1]; give the share of the institutional space \
             the unit finds, such as 0.5 (0: it never innovates by itself), or leave the cell \
             empty for 1"
        )),
    }
}

fn read_units(src: Source, draws: &Draws) -> Result<(World, HashMap<String, u32>), InputError> {
    let path = src.path;
    let (mut rdr, headers) = src.reader()?;
    if headers.is_empty() {
        return Err(InputError::new(format!(
            "the file is empty; it needs a header row naming the columns {UNIT_COLUMNS}, \
             then one row per unit"
        ))
        .file(path)
        .line(1));
    }
    let col = |name| src.require(&headers, name, UNIT_COLUMNS);
    let (c_id, c_name, c_level) = (col("id")?, col("name")?, col("level")?);
    let (c_parent, c_x, c_y) = (col("parent")?, col("x")?, col("y")?);
    let (c_cap, c_firms) = (src.find(&headers, "capacity")?, src.find(&headers, "firms")?);
    let c_phi = src.find(&headers, "resistance")?;
    let c_room = src.find(&headers, "room")?;

    let key = draws.key();
    let mut w = World::default();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut ids: Vec<String> = Vec::new();
    let mut parent_ids: Vec<String> = Vec::new();
    let mut lines: Vec<usize> = Vec::new();
    let mut rec = StringRecord::new();
    while rdr.read_record(&mut rec).map_err(|e| src.error(e, Some(&headers)))? {
        let line = src.line(rec.position(), lines.len() + 2);
        let at = |field: &str, msg: String| InputError::new(msg).file(path).line(line).field(field);
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let i = ids.len() as u32;
        if i == NO_PARENT - 1 {
            return Err(at("id", format!("too many units; at most {}", NO_PARENT - 1)));
        }

        let id = cell(c_id);
        if id.is_empty() {
            return Err(at("id", "empty id; every unit needs a non-empty id".into()));
        }
        if let Some(&j) = index.get(id) {
            return Err(at(
                "id",
                format!(
                    "duplicate id `{id}`: already used on line {}; ids must be unique",
                    lines[j as usize]
                ),
            ));
        }
        let level = cell(c_level)
            .parse::<u32>()
            .ok()
            .filter(|&l| l <= super::MAX_LEVEL)
            .ok_or_else(|| {
                at(
                    "level",
                    format!(
                        "level `{}` is not an integer from 0 to {} (0 for the top level, 1 below it, ...)",
                        cell(c_level),
                        super::MAX_LEVEL
                    ),
                )
            })?;
        let x = real(cell(c_x), "x").map_err(|m| at("x", m))?;
        let y = real(cell(c_y), "y").map_err(|m| at("y", m))?;
        let capacity = match c_cap.map(cell).filter(|s| !s.is_empty()) {
            Some(s) => share(s, "capacity").map_err(|m| at("capacity", m))?,
            None => draws.capacity(key, i),
        };
        let firms = match c_firms.map(cell).filter(|s| !s.is_empty()) {
            Some(s) => share(s, "firms").map_err(|m| at("firms", m))?,
            None => draws.firms(key, i),
        };
        let resistance = match c_phi.map(cell).filter(|s| !s.is_empty()) {
            Some(s) => share(s, "resistance").map_err(|m| at("resistance", m))?,
            None => crate::model::params::NEVER,
        };
        let room = match c_room.map(cell).filter(|s| !s.is_empty()) {
            Some(s) => room(s).map_err(|m| at("room", m))?,
            None => fixed::ONE,
        };
        let name = match cell(c_name) {
            "" => id,
            name => name,
        };

        index.insert(id.to_string(), i);
        ids.push(id.to_string());
        w.ids.push(id.to_string());
        parent_ids.push(cell(c_parent).to_string());
        lines.push(line);
        w.names.push(name.to_string());
        w.level.push(level);
        w.x.push(x);
        w.y.push(y);
        w.capacity.push(capacity);
        w.firms.push(firms);
        w.resistance.push(resistance);
        w.room.push(room);
    }
    if ids.is_empty() {
        return Err(InputError::new(format!(
            "no units: the file has a header row but no unit rows; give one row per unit \
             ({UNIT_COLUMNS})"
        ))
        .file(path)
        .line(src.line(headers.position(), 1) + 1)
        .field("id"));
    }

    // Parents may come before or after their children in the file.
    let lookup = |i: usize| index.get(&parent_ids[i]).map(|&p| p as usize);
    for i in 0..ids.len() {
        let pid = &parent_ids[i];
        let at = |msg: String| InputError::new(msg).file(path).line(lines[i]).field("parent");
        if pid.is_empty() {
            if w.level[i] != 0 {
                return Err(at(format!(
                    "empty parent for a unit at level {}; only level-0 units may have no parent: \
                     give the id of its parent unit, or level 0",
                    w.level[i]
                )));
            }
            w.parent.push(NO_PARENT);
            continue;
        }
        let p = lookup(i).ok_or_else(|| {
            at(format!(
                "unknown parent id `{pid}`; parent must be the id of a unit in this file, \
                 or empty for a top unit"
            ))
        })?;
        if p == i {
            return Err(at(format!(
                "unit `{pid}` is its own parent; give a unit at a lower level, or leave \
                 parent empty for a top unit"
            )));
        }
        if w.level[p] >= w.level[i] {
            // Does the chain of parents come back here?
            let mut chain = vec![ids[i].as_str()];
            let mut cur = p;
            while chain.len() <= ids.len() {
                chain.push(&ids[cur]);
                if cur == i {
                    break;
                }
                match lookup(cur) {
                    Some(next) => cur = next,
                    None => break,
                }
            }
            if cur == i {
                return Err(at(format!(
                    "parent cycle: {}; each chain of parents must end at a top unit (empty \
                     parent), with levels decreasing on the way up",
                    chain.join(" -> ")
                )));
            }
            return Err(at(format!(
                "parent `{pid}` (line {}) has level {}, not lower than this unit's level {}; \
                 a parent's level must be lower than its child's",
                lines[p], w.level[p], w.level[i]
            )));
        }
        w.parent.push(p as u32);
    }
    // Peer groups (same parent and level) are ranked exactly only up to MAX_GROUP units.
    let mut groups: HashMap<(u32, u32), usize> = HashMap::new();
    for i in 0..ids.len() {
        let n = groups.entry((w.parent[i], w.level[i])).or_insert(0);
        *n += 1;
        if *n > super::MAX_GROUP {
            let whose = match parent_ids[i].as_str() {
                "" => "the top units".to_string(),
                pid => format!("the units under `{pid}`"),
            };
            return Err(InputError::new(format!(
                "{whose} at level {} are more than {} (this is the {}th); a peer group (same \
                 parent and level) may have at most {} units: split it under more parents",
                w.level[i],
                super::MAX_GROUP,
                *n,
                super::MAX_GROUP
            ))
            .file(path)
            .line(lines[i])
            .field("parent"));
        }
    }
    Ok((w, index))
}

fn read_edges(src: Source, index: &HashMap<String, u32>) -> Result<Vec<(u32, u32)>, InputError> {
    let path = src.path;
    let (mut rdr, headers) = src.reader()?;
    let c_a = src.require(&headers, "a", EDGE_COLUMNS)?;
    let c_b = src.require(&headers, "b", EDGE_COLUMNS)?;
    let mut pairs = Vec::new();
    let mut rec = StringRecord::new();
    while rdr.read_record(&mut rec).map_err(|e| src.error(e, Some(&headers)))? {
        let line = src.line(rec.position(), pairs.len() + 2);
        let end = |field: &str, c: usize| {
            let id = rec.get(c).unwrap_or("");
            index.get(id).copied().ok_or_else(|| {
                let what = if id.is_empty() {
                    "empty id".to_string()
                } else {
                    format!("unknown unit id `{id}`")
                };
                InputError::new(format!("{what}; an edge must join two ids from the units file"))
                    .file(path)
                    .line(line)
                    .field(field)
            })
        };
        let (a, b) = (end("a", c_a)?, end("b", c_b)?);
        if a == b {
            return Err(InputError::new(format!(
                "self-loop: both ends are `{}`; an edge must join two different units",
                rec.get(c_a).unwrap_or("")
            ))
            .file(path)
            .line(line)
            .field("b"));
        }
        pairs.push((a, b));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const DRAWS: Draws = Draws {
        capacity: (100, 200),
        firms: (300, 400),
        seed: 9,
    };

    /// A fresh folder for one test, removed when dropped.
    struct Dir(PathBuf);

    impl Dir {
        fn new(test: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!("pioneer-world-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            Dir(dir)
        }
        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).expect("write temp file");
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const GOOD: &str = "id,name,level,parent,x,y,capacity,firms
BJ,Beijing,0,,0.5,0.5,0.5,
HD,Haidian,1,BJ,0.4,0.6,,1
SH,Shanghai,0,,0.9,0.3,1,0
PD,Pudong,1,SH,0.95,0.3,0,0.25
";

    /// The error of a units file (with a good edges file), or of an edges file.
    fn units_err(test: &str, units: &str) -> InputError {
        let dir = Dir::new(test);
        let path = dir.write("units.csv", units);
        let err = from_files(&path, None, &DRAWS).expect_err("should fail");
        assert_eq!(err.file.as_deref(), Some(path.as_path()));
        err
    }

    fn edges_err(test: &str, edges: &str) -> InputError {
        let dir = Dir::new(test);
        let units = dir.write("units.csv", GOOD);
        let path = dir.write("edges.csv", edges);
        let err = from_files(&units, Some(&path), &DRAWS).expect_err("should fail");
        assert_eq!(err.file.as_deref(), Some(path.as_path()));
        err
    }

    fn at(err: &InputError, line: usize, field: &str) {
        assert_eq!(err.line, Some(line), "{err}");
        assert_eq!(err.field.as_deref(), Some(field), "{err}");
    }

    #[test]
    fn good_world() {
        let dir = Dir::new("good");
        let units = dir.write("units.csv", GOOD);
        let edges = dir.write("edges.csv", "a,b\nBJ,SH\nHD,PD\nSH,BJ\nPD,HD\n");
        let w = from_files(&units, Some(&edges), &DRAWS).expect("good world");
        assert_eq!(w.names, ["Beijing", "Haidian", "Shanghai", "Pudong"]);
        assert_eq!(w.level, [0, 1, 0, 1]);
        assert_eq!(w.parent, [NO_PARENT, 0, NO_PARENT, 2]);
        assert_eq!((w.x[3], w.y[3]), (0.95, 0.3));
        assert_eq!(w.capacity[0], fixed::q16(0.5));
        assert!((100..=200).contains(&w.capacity[1]));
        assert_eq!(&w.capacity[2..], &[fixed::ONE, 0]);
        assert!((300..=400).contains(&w.firms[0]));
        assert_eq!(&w.firms[1..], &[fixed::ONE, 0, fixed::q16(0.25)]);
        assert_eq!(w.neighbours(0), &[2]);
        assert_eq!(w.neighbours(1), &[3]);
        assert_eq!(w.neighbours(3), &[1]);
        assert_eq!(w.n_groups(), 3);
    }

    #[test]
    fn drawn_columns_forward_parents_and_loose_format() {
        // No capacity/firms columns, other column order, a parent after its child, spaces,
        // upper-case headers, an empty name (falls back to the id) and a blank line.
        let dir = Dir::new("drawn");
        let units = dir.write("units.csv", "Y, X ,ID,Level,Parent,Name\n0.1,0.2,c,1,p,\n\n0.3,0.4, p ,0,,Prov\n");
        let a = from_files(&units, None, &DRAWS).expect("world");
        assert_eq!(a.names, ["c", "Prov"]);
        assert_eq!(a.parent, [1, NO_PARENT]);
        assert_eq!((a.x[0], a.y[0]), (0.2, 0.1));
        assert!(a.capacity.iter().all(|c| (100..=200).contains(c)));
        assert!(a.firms.iter().all(|f| (300..=400).contains(f)));
        assert!(a.neighbours(0).is_empty());
        assert_eq!(a, from_files(&units, None, &DRAWS).expect("world"));
        let other = Draws {
            capacity: (0, fixed::ONE),
            ..DRAWS
        };
        assert_ne!(a.capacity, from_files(&units, None, &other).expect("world").capacity);
    }

    #[test]
    fn missing_column() {
        let err = units_err("missing", "id,name,level,parent,y\nA,A,0,,0.5\n");
        at(&err, 1, "x");
        assert!(err.message.contains("missing column `x`"), "{err}");
        at(&edges_err("missing-b", "a,c\nBJ,SH\n"), 1, "b");
    }

    #[test]
    fn empty_id() {
        at(&units_err("empty-id", "id,name,level,parent,x,y\nA,A,0,,0,0\n,B,0,,0,0\n"), 3, "id");
    }

    #[test]
    fn duplicate_id() {
        let err = units_err("dup", "id,name,level,parent,x,y\nA,A,0,,0,0\nB,B,0,,0,0\nA,C,0,,0,0\n");
        at(&err, 4, "id");
        assert!(err.message.contains("line 2"), "{err}");
    }

    #[test]
    fn bad_level() {
        at(&units_err("level", "id,name,level,parent,x,y\nA,A,-1,,0,0\n"), 2, "level");
        at(&units_err("level2", "id,name,level,parent,x,y\nA,A,1.5,,0,0\n"), 2, "level");
    }

    #[test]
    fn bad_position() {
        at(&units_err("x", "id,name,level,parent,x,y\nA,A,0,,east,0\n"), 2, "x");
        at(&units_err("y", "id,name,level,parent,x,y\nA,A,0,,0,\n"), 2, "y");
        at(&units_err("y-nan", "id,name,level,parent,x,y\nA,A,0,,0,NaN\n"), 2, "y");
    }

    #[test]
    fn bad_capacity_and_firms() {
        let head = "id,name,level,parent,x,y,capacity,firms\n";
        at(&units_err("cap", &format!("{head}A,A,0,,0,0,1.5,0\n")), 2, "capacity");
        at(&units_err("cap-neg", &format!("{head}A,A,0,,0,0,-0.1,0\n")), 2, "capacity");
        at(&units_err("firms", &format!("{head}A,A,0,,0,0,0.5,lots\n")), 2, "firms");
    }

    /// A `room` column: each cell a share in [0,1] as Q16, an empty cell the whole room (1), as
    /// is a world without the column; anything else refused at its line.
    #[test]
    fn room_column() {
        let dir = Dir::new("room");
        let units = dir.write(
            "units.csv",
            "id,name,level,parent,x,y,room\nA,A,0,,0,0,0\nB,B,1,A,0,0,0.25\nC,C,1,A,0,0,\n",
        );
        let w = from_files(&units, None, &DRAWS).expect("world");
        assert_eq!(w.room, [0, fixed::q16(0.25), fixed::ONE]);
        let plain = dir.write("plain.csv", GOOD);
        assert!(from_files(&plain, None, &DRAWS)
            .expect("world")
            .room
            .iter()
            .all(|&r| r == fixed::ONE));
        let head = "id,name,level,parent,x,y,room\nA,A,0,,0,0,1\n";
        for (test, cell) in [
            ("room-high", "1.5"),
            ("room-neg", "-0.1"),
            ("room-word", "open"),
            ("room-nan", "NaN"),
            ("room-inf", "inf"),
        ] {
            let err = units_err(test, &format!("{head}B,B,1,A,0,0,{cell}\n"));
            at(&err, 3, "room");
            assert!(err.to_string().contains(&format!("room `{cell}`")), "{err}");
        }
    }

    #[test]
    fn blank_lines_count() {
        let err = units_err("blank", "id,name,level,parent,x,y\nA,A,0,,0,0\n\n\nB,B,x,,0,0\n");
        at(&err, 5, "level");
    }

    #[test]
    fn crlf_bom_quotes_and_header_line() {
        let dir = Dir::new("crlf");
        let text = "\u{feff}id,name,level,parent,x,y\r\n\r\nA,\"two\r\nlines\",0,,0,0\r\nB,B,0,,0,zz\r\n";
        let path = dir.write("units.csv", text);
        let err = from_files(&path, None, &DRAWS).expect_err("should fail");
        at(&err, 5, "y");
        let path = dir.write("units.csv", "\n\nid,name,level,parent,x\nA,A,0,,0\n");
        let err = from_files(&path, None, &DRAWS).expect_err("should fail");
        at(&err, 3, "y");
        let path = dir.write("units.csv", "\u{feff}id,name,level,parent,x,y\r\nA,A,0,,0,0\r\n");
        let w = from_files(&path, None, &DRAWS).expect("world with BOM and CRLF");
        assert_eq!(w.names, ["A"]);
    }

    #[test]
    fn unknown_parent() {
        let err = units_err("parent", "id,name,level,parent,x,y\nA,A,0,,0,0\nB,B,1,A,0,0\nC,C,1,Z,0,0\n");
        at(&err, 4, "parent");
        assert!(err.message.contains("unknown parent id `Z`"), "{err}");
    }

    #[test]
    fn parent_level_not_lower() {
        let err = units_err("parent-level", "id,name,level,parent,x,y\nA,A,0,,0,0\nC,C,1,A,0,0\nB,B,1,C,0,0\n");
        at(&err, 4, "parent");
        assert!(err.message.contains("not lower"), "{err}");
        // A top unit is at level 0.
        let err = units_err("top-level", "id,name,level,parent,x,y\nA,A,1,,0,0\nB,B,2,A,0,0\n");
        at(&err, 2, "parent");
        assert!(err.message.contains("only level-0 units"), "{err}");
        let err = units_err("deep-level", "id,name,level,parent,x,y\nA,A,0,,0,0\nB,B,32,A,0,0\n");
        at(&err, 3, "level");
    }

    #[test]
    fn parent_cycle() {
        let err = units_err("cycle", "id,name,level,parent,x,y\nA,A,1,B,0,0\nB,B,1,C,0,0\nC,C,1,A,0,0\n");
        at(&err, 2, "parent");
        assert!(err.message.contains("cycle: A -> B -> C -> A"), "{err}");
        let err = units_err("self-parent", "id,name,level,parent,x,y\nA,A,1,A,0,0\n");
        at(&err, 2, "parent");
        assert!(err.message.contains("its own parent"), "{err}");
    }

    #[test]
    fn edge_to_missing_unit() {
        let err = edges_err("edge-missing", "a,b\nBJ,SH\nBJ,XX\n");
        at(&err, 3, "b");
        assert!(err.message.contains("unknown unit id `XX`"), "{err}");
        at(&edges_err("edge-empty", "a,b\n,SH\n"), 2, "a");
    }

    #[test]
    fn self_loop_edge() {
        let err = edges_err("self-loop", "a,b\nBJ,SH\nHD,HD\n");
        at(&err, 3, "b");
        assert!(err.message.contains("self-loop"), "{err}");
    }

    #[test]
    fn ragged_row() {
        let err = units_err("ragged", "id,name,level,parent,x,y\nA,A,0,,0,0\nB,B,0,,0\n");
        at(&err, 3, "y");
        // Too many: named at the last column, on the line of the first extra value.
        at(&units_err("long", "id,name,level,parent,x,y\nA,\"A\nB\",0,,0,0,7\n"), 3, "y");
        at(&edges_err("edge-short", "a,b\nBJ,SH\n\nHD\n"), 4, "b");
    }

    #[test]
    fn broken_utf8_is_named_at_its_line_and_column() {
        let dir = Dir::new("utf8");
        let path = dir.0.join("units.csv");
        std::fs::write(&path, b"id,name,level,parent,x,y\nA,\"Bei\njing\xff\",0,,0,0\n").expect("write");
        let err = from_files(&path, None, &DRAWS).expect_err("broken UTF-8");
        at(&err, 3, "name");
        assert!(err.message.contains("UTF-8"), "{err}");
    }

    #[test]
    fn a_column_named_twice_is_refused() {
        at(&units_err("twice", "id,name,level,parent,x,y,X\nA,A,0,,0,0,1\n"), 1, "x");
        at(
            &units_err("twice-opt", "id,name,level,parent,x,y,firms,Firms\nA,A,0,,0,0,1,0\n"),
            1,
            "firms",
        );
    }

    #[test]
    fn unreadable_file() {
        let dir = Dir::new("unreadable");
        let path = dir.0.join("nope.csv");
        let err = from_files(&path, None, &DRAWS).expect_err("should fail");
        assert_eq!(err.file.as_deref(), Some(path.as_path()));
        assert!(err.message.contains("cannot read"), "{err}");
        let units = dir.write("units.csv", GOOD);
        let err = from_files(&units, Some(&path), &DRAWS).expect_err("should fail");
        assert_eq!(err.file.as_deref(), Some(path.as_path()));
    }

    #[test]
    fn empty_units_file() {
        let err = units_err("header-only", "id,name,level,parent,x,y\n");
        assert!(err.message.contains("no units"), "{err}");
        let err = units_err("empty", "");
        assert_eq!(err.line, Some(1), "{err}");
        assert!(err.message.contains("empty"), "{err}");
    }
}
