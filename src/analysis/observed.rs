//! Observed adoption data (`pioneer run --observed FILE.csv`): a curve or the units' adoption
//! events, read and checked, then set against the simulated band year by year.

pub use crate::analysis::compare::{compare, Comparison, Row};
use crate::error::{CsvInput, InputError};
use crate::model::Model;
use std::path::{Path, PathBuf};

/// An observed cumulative adoption curve: the share of units adopted by the end of each year.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub path: PathBuf,
    pub years: Vec<i32>,
    pub share: Vec<f64>,
    /// The line of each year's row (for events, of the year's first adoption, or of the last
    /// adoption before a year without one).
    pub lines: Vec<usize>,
    /// Read from `unit,date` events: each adopter's unit, year and month (1–12; 12 when only
    /// the year is given), in the file's order. None for a curve.
    pub events: Option<Vec<Event>>,
    /// The column that holds the years (`year`, or the events' date column).
    pub year_field: String,
}

impl Observed {
    /// No years yet, read from `path`, the years in its column `year_field`.
    fn empty(path: &Path, year_field: &str) -> Observed {
        Observed {
            path: path.to_path_buf(),
            years: Vec::new(),
            share: Vec::new(),
            lines: Vec::new(),
            events: None,
            year_field: year_field.to_string(),
        }
    }
}

/// One observed adoption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub unit: usize,
    pub year: i32,
    pub month: u32,
    pub line: usize,
}

/// Read observed data for `model`'s world: a curve (`year,count` or `year,share`, see `read`;
/// counts are of the population's units) or events, one row per adopting unit, `unit,date` (the
/// unit's id or name as in the world, a unit of the population; the date a year
/// or year-month, `1992` or `1992-07`; also spelt `state,adopt_year` as SPID's files are). A
/// unit not listed had not adopted by the last year given. The curve is derived from the
/// events: the share of the population's units adopted by the end of each year from the first
/// adoption's to the last's.
pub fn read_for(path: &Path, model: &Model) -> Result<Observed, InputError> {
    let src = CsvInput::read(path)?;
    let (_, headers) = src.reader()?;
    let unit_col = ["unit", "state", "name", "id"]
        .into_iter()
        .find(|c| headers.iter().any(|h| h.trim().eq_ignore_ascii_case(c)));
    match unit_col {
        Some(unit) => read_events(path, &src, unit, model),
        None => read(path, model.population()),
    }
}

fn read_events(path: &Path, src: &CsvInput, unit_name: &str, model: &Model) -> Result<Observed, InputError> {
    let world = &model.world;
    let (mut rdr, headers) = src.reader()?;
    let header_line = src.line(headers.position(), 1);
    let expected = "unit,date (one row per adopting unit: its id or name, and the year or year-month it adopted)";
    let unit_col = src.require(&headers, unit_name, expected)?;
    let date_name = ["date", "adopt_year", "year"]
        .into_iter()
        .find(|c| headers.iter().any(|h| h.trim().eq_ignore_ascii_case(c)))
        .ok_or_else(|| src.at(header_line, "date", format!("the header row must be {expected}")))?;
    let date_col = src.require(&headers, date_name, expected)?;
    let mut events: Vec<Event> = Vec::new();
    let mut seen = vec![0usize; world.len()];
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(|e| src.error(e, Some(&headers)))? {
        let line = src.line(rec.position(), events.len() + 2);
        let (unit_line, date_line) = (src.cell_line(&rec, unit_col), src.cell_line(&rec, date_col));
        let cell = |c: usize| rec.get(c).unwrap_or("").trim();
        let key = cell(unit_col);
        let unit = world.lookup(key).map_err(|ids| {
            let m = if ids.is_empty() {
                format!("`{key}`: no unit of the world has this id or name")
            } else {
                format!("`{key}`: {} units are named so (ids {}); give the id", ids.len(), ids.join(", "))
            };
            src.at(unit_line, unit_name, m)
        })?;
        if !model.member[unit] {
            return Err(src.at(
                unit_line,
                unit_name,
                format!("`{key}` is outside the scenario's population (world.population), which alone adopts"),
            ));
        }
        if seen[unit] != 0 {
            return Err(src.at(
                unit_line,
                unit_name,
                format!("`{key}` again (line {}): give each unit's first adoption once", seen[unit]),
            ));
        }
        let raw = cell(date_col);
        let (y, m) = match raw.split_once('-') {
            Some((y, m)) => (y, Some(m)),
            None => (raw, None),
        };
        let year = y.parse::<i32>().ok().filter(|y| (1000..=3000).contains(y));
        let month = match m {
            None => Some(12),
            Some(m) => m.parse::<u32>().ok().filter(|m| (1..=12).contains(m)),
        };
        let (Some(year), Some(month)) = (year, month) else {
            return Err(src.at(
                date_line,
                date_name,
                format!("`{raw}` is not a date: give a year (1992) or a year and month (1992-07)"),
            ));
        };
        seen[unit] = line;
        events.push(Event { unit, year, month, line });
    }
    if events.is_empty() {
        return Err(src.at(header_line + 1, unit_name, "no rows: give one row per adopting unit"));
    }
    let first = events.iter().map(|e| e.year).min().unwrap_or(0);
    let last = events.iter().map(|e| e.year).max().unwrap_or(0);
    let n = model.population() as f64;
    let mut obs = Observed::empty(path, date_name);
    // Each year's adoptions and its first adoption's line (0: none that year).
    let span = (last - first + 1) as usize;
    let (mut per_year, mut first_line) = (vec![0usize; span], vec![0usize; span]);
    for e in &events {
        let y = (e.year - first) as usize;
        per_year[y] += 1;
        if first_line[y] == 0 {
            first_line[y] = e.line;
        }
    }
    let (mut count, mut line) = (0usize, 0usize);
    for (y, (adopted, at)) in per_year.into_iter().zip(first_line).enumerate() {
        count += adopted;
        if at != 0 {
            line = at;
        }
        obs.years.push(first + y as i32);
        obs.share.push(count as f64 / n);
        obs.lines.push(line);
    }
    obs.events = Some(events);
    Ok(obs)
}

/// Read `year,count` or `year,share` rows (counts are divided by `units`); years ascending, the
/// curve never falling, shares 0 to 1, counts whole and at most `units`. Every error names the
/// file, the line and the column that holds the bad byte or value.
pub fn read(path: &Path, units: usize) -> Result<Observed, InputError> {
    let src = CsvInput::read(path)?;
    let (mut rdr, headers) = src.reader()?;
    let header_line = src.line(headers.position(), 1);
    let expected = "year,count (adopters by the end of the year) or year,share";
    let year_col = src.require(&headers, "year", expected)?;
    let (value_col, is_count) = match (src.find(&headers, "count")?, src.find(&headers, "share")?) {
        (Some(c), None) => (c, true),
        (None, Some(s)) => (s, false),
        (Some(_), Some(_)) => return Err(src.at(header_line, "share", "give `count` or `share`, not both")),
        (None, None) => {
            let found: Vec<&str> = headers.iter().collect();
            return Err(src.at(
                header_line,
                "count",
                format!("the header row must be {expected} (found: {})", found.join(",")),
            ));
        }
    };
    let field = if is_count { "count" } else { "share" };
    let mut obs = Observed::empty(path, "year");
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(|e| src.error(e, Some(&headers)))? {
        let line = src.line(rec.position(), obs.lines.len() + 2);
        let (year_line, value_line) = (src.cell_line(&rec, year_col), src.cell_line(&rec, value_col));
        let cell = |c: usize| rec.get(c).unwrap_or("");
        let year: i32 = cell(year_col)
            .parse()
            .map_err(|_| src.at(year_line, "year", format!("`{}` is not a year", cell(year_col))))?;
        let raw = cell(value_col);
        let v: f64 = raw
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| src.at(value_line, field, format!("`{raw}` is not a number")))?;
        // -0 is 0.
        let v = v + 0.0;
        let share = if is_count {
            if v < 0.0 || v.fract() != 0.0 || v > units as f64 {
                return Err(src.at(
                    value_line,
                    field,
                    format!("{raw}: a count of adopters is a whole number from 0 to the {units} units that can adopt"),
                ));
            }
            v / units as f64
        } else {
            if !(0.0..=1.0).contains(&v) {
                return Err(src.at(value_line, field, format!("{raw}: a share is from 0 to 1")));
            }
            v
        };
        if let (Some(&py), Some(&ps), Some(&pl)) = (obs.years.last(), obs.share.last(), obs.lines.last()) {
            if year == py {
                return Err(src.at(year_line, "year", format!("{year} again (line {pl}): give each year once")));
            }
            if year < py {
                return Err(src.at(
                    year_line,
                    "year",
                    format!("{year} after {py}: years must be given in increasing order"),
                ));
            }
            if share < ps {
                return Err(src.at(
                    value_line,
                    field,
                    format!(
                        "{raw} is less than the year before: the curve is cumulative (adopters by the end of each year), so it never falls"
                    ),
                ));
            }
        }
        obs.years.push(year);
        obs.share.push(share);
        obs.lines.push(line);
    }
    if obs.years.is_empty() {
        return Err(src.at(header_line + 1, "year", "no rows: give one row per year"));
    }
    Ok(obs)
}

/// The months a year's data speak for must lie in the run: `start_year` and `months` give its
/// last year.
pub fn check_years(obs: &Observed, start_year: i32, months: u32) -> Result<(), InputError> {
    let last = start_year + (months as i32 - 1) / 12;
    let years: Vec<(i32, usize)> = match &obs.events {
        Some(ev) => ev.iter().map(|e| (e.year, e.line)).collect(),
        None => obs.years.iter().copied().zip(obs.lines.iter().copied()).collect(),
    };
    for (y, line) in years {
        if y < start_year || y > last {
            return Err(InputError::new(format!(
                "year {y} is outside the run: start_year {start_year} and {months} months cover {start_year} to {last}"
            ))
            .file(&obs.path)
            .line(line)
            .field(obs.year_field.as_str()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, body: impl AsRef<[u8]>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pioneer-observed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join(name);
        std::fs::write(&p, body).expect("write");
        p
    }

    #[test]
    fn counts_and_shares_are_read_and_checked() {
        let o = read(&file("c.csv", "year,count\n2014,10\n2015,50\n"), 100).expect("reads");
        assert_eq!((o.years.clone(), o.share.clone()), (vec![2014, 2015], vec![0.1, 0.5]));
        let o = read(&file("s.csv", "Year,Share\n2014,0.25\n"), 100).expect("reads");
        assert_eq!(o.share, vec![0.25]);
        for (body, line, field) in [
            ("year,count\n2014,10\n2015,5\n", 3, "count"),
            ("year,count\n2014,101\n", 2, "count"),
            ("year,count\n2014,1.5\n", 2, "count"),
            ("year,share\n2015,0.1\n2014,0.2\n", 3, "year"),
            ("year,share\n2014,x\n", 2, "share"),
            ("year,share\nlast,0.1\n", 2, "year"),
            ("year,adopters\n2014,1\n", 1, "count"),
            ("year,share\n", 2, "year"),
            // A row cut short, or with a value too many: the column at fault, not `year`.
            ("year,share\n2014,0.1\n2015\n", 3, "share"),
            ("year,count\n2014\n", 2, "count"),
            ("year,share\n2014,0.1,9\n", 2, "share"),
            ("share,year\n0.1\n", 2, "year"),
            // Blank lines and a cell over two lines keep the lines true.
            ("year,share\n\n\n2014,x\n", 4, "share"),
            ("year,note,share\n2014,\"a\nb\",x\n", 3, "share"),
            ("year,share\n2014,0.1\n\n2015\n", 4, "share"),
            // Years given twice, not numbers, and values out of range.
            ("year,share\n2014,0.1\n2014,0.2\n", 3, "year"),
            ("year,share\n2014,nan\n", 2, "share"),
            ("year,share\n2014,inf\n", 2, "share"),
            ("year,share\n2014,-0.1\n", 2, "share"),
            ("year,count\n2014,-1\n", 2, "count"),
            ("year,count\n2014,1e400\n", 2, "count"),
            ("year,share\n99999999999,0.1\n", 2, "year"),
            // Headers: a column twice, both kinds, semicolons.
            ("year,share,Share\n2014,0.1,0.2\n", 1, "share"),
            ("year,count,share\n2014,1,0.1\n", 1, "share"),
            ("year;share\n2014;0.1\n", 1, "year"),
            ("\n\nyear,adopters\n2014,1\n", 3, "count"),
        ] {
            let e = read(&file("bad.csv", body), 100).expect_err(body);
            assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{body}: {e}");
            assert_eq!(e.file.as_deref(), Some(file("bad.csv", body).as_path()));
        }
        // A year on line 4 after blank lines is kept at line 4; -0 is 0.
        let o = read(&file("blank.csv", "year,share\n2014,-0\n\n2015,0.5\n"), 100).expect("reads");
        assert_eq!(o.lines, vec![2, 4]);
        assert!(o.share[0] == 0.0 && o.share[0].is_sign_positive());
    }

    #[test]
    fn broken_utf8_is_named_in_the_column_that_holds_it() {
        for (body, line, field) in [
            (&b"year,share\n2014,0.\xff1\n"[..], 2, "share"),
            (b"share,year\n0.\xff1,2014\n", 2, "share"),
            (b"year,share\n20\xff4,0.1\n", 2, "year"),
            (b"year,share\n2014,0.1\n\n2015,\xc3\n", 4, "share"),
            (b"year,sh\xffare\n2014,0.1\n", 1, "column 2"),
        ] {
            let e = read(&file("utf8.csv", body), 100).expect_err("broken UTF-8");
            assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{e}");
            assert!(e.message.contains("UTF-8"), "{e}");
        }
    }

    #[test]
    fn a_curve_equal_to_the_median_is_at_distance_zero() {
        // Two runs of 36 months; the median (lower middle, nearest rank) is the lower run.
        let low: Vec<f64> = (1..=36).map(|t| t as f64 / 40.0).collect();
        let high: Vec<f64> = low.iter().map(|v| (v + 0.1).min(1.0)).collect();
        let runs = vec![high, low.clone()];
        let obs = Observed {
            path: "o.csv".into(),
            years: vec![2014, 2015, 2016],
            share: vec![low[11], low[23], low[35]],
            lines: vec![2, 3, 4],
            events: None,
            year_field: "year".into(),
        };
        let c = compare(&obs, 2014, &runs, None);
        assert_eq!(c.rmse, 0.0);
        assert_eq!(c.rows[1].month, 24);
        assert_eq!(c.years_to[1], (Some(2015), Some(2015)));
        let later = Observed {
            share: vec![0.0, 0.1, 0.2],
            ..obs
        };
        let c = compare(&later, 2014, &runs, None);
        assert!(c.rmse > 0.3, "{}", c.rmse);
        assert_eq!(c.years_to[1], (None, Some(2015)));
        assert!(check_years(&later, 2014, 36).is_ok());
        let e = check_years(&later, 2015, 24).expect_err("2014 is before the run");
        assert_eq!(e.field.as_deref(), Some("year"));
    }

    fn states() -> Model {
        let units = file(
            "units.csv",
            "id,name,level,parent,x,y\n0,USA,0,,0,0\n1,Alabama,1,0,0,0\n2,Alaska,1,0,1,0\n3,Arizona,1,0,2,0\n9,Twin,1,0,3,0\n10,Twin,1,0,4,0\n",
        );
        let draws = crate::world::Draws {
            capacity: (0, 65536),
            firms: (0, 65536),
            seed: 1,
        };
        Model::new(crate::world::from_files(&units, None, &draws).expect("world"))
    }

    #[test]
    fn events_are_read_and_make_the_curve() {
        let w = states();
        let o = read_for(&file("e.csv", "state,adopt_year\nAlabama,1992\n3,1990-07\n"), &w).expect("reads");
        assert_eq!(o.years, vec![1990, 1991, 1992]);
        assert_eq!(o.share, vec![1.0 / 6.0, 1.0 / 6.0, 2.0 / 6.0]);
        assert_eq!(o.lines, vec![3, 3, 2]);
        let ev = o.events.as_ref().expect("events");
        assert_eq!(
            ev.iter().map(|e| (e.unit, e.year, e.month)).collect::<Vec<_>>(),
            vec![(1, 1992, 12), (3, 1990, 7)]
        );
        assert_eq!(o.year_field, "adopt_year");
        let o = read_for(&file("u.csv", "Unit,Date\nAlaska,2001-01\n"), &w).expect("reads");
        assert_eq!((o.years.clone(), o.year_field.as_str()), (vec![2001], "date"));
        // A curve file is still a curve, divided by the units that can adopt (all of them here).
        let c = read_for(&file("c.csv", "year,count\n2000,3\n"), &w).expect("reads");
        assert_eq!((c.share.clone(), c.events.is_none()), (vec![0.5], true));
        for (body, line, field, says) in [
            ("state,adopt_year\nAlabama,1992\nOhio,1993\n", 3, "state", "no unit"),
            ("state,adopt_year\nAlabama,1992\nAlabama,1993\n", 3, "state", "again (line 2)"),
            ("state,adopt_year\nAlabama,1992\n1,1993\n", 3, "state", "again"),
            ("state,adopt_year\nTwin,1992\n", 2, "state", "ids 9, 10"),
            ("state,adopt_year\nAlabama,19x2\n", 2, "adopt_year", "not a date"),
            ("unit,date\nAlabama,1992-13\n", 2, "date", "not a date"),
            ("unit,date\nAlabama,\n", 2, "date", "not a date"),
            ("unit,date\n\n", 2, "unit", "no rows"),
            ("unit,when\nAlabama,1992\n", 1, "date", "header"),
            ("unit,date\nAlabama\n", 2, "date", ""),
        ] {
            let e = read_for(&file("bad-e.csv", body), &w).expect_err(body);
            assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{body}: {e}");
            assert!(e.message.contains(says), "{body}: {e}");
        }
        // An adoption outside the run is named at its own line and column.
        let o = read_for(&file("late.csv", "state,adopt_year\nAlabama,1992\nAlaska,2030\n"), &w).expect("reads");
        let e = check_years(&o, 1990, 120).expect_err("2030 is after 1999");
        assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("adopt_year")), "{e}");
        assert!(check_years(&o, 1990, 41 * 12).is_ok());
    }

    /// With the states alone as the population, the shares are of the 5 states, and an adoption
    /// by the federal unit, or a count above 5, is refused.
    #[test]
    fn only_the_population_counts_and_adopts() {
        let mut m = states();
        let level = m.world.level.clone();
        m.set_population(|i| level[i] == 1);
        assert_eq!(m.population(), 5);
        let o = read_for(
            &file(
                "p.csv",
                "state,adopt_year
Alabama,1992
3,1990-07
",
            ),
            &m,
        )
        .expect("reads");
        assert_eq!(o.share, vec![0.2, 0.2, 0.4]);
        let e = read_for(
            &file(
                "p-usa.csv",
                "state,adopt_year
Alabama,1992
USA,1993
",
            ),
            &m,
        )
        .expect_err("USA");
        assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("state")), "{e}");
        assert!(e.message.contains("outside the scenario's population"), "{e}");
        assert_eq!(
            read_for(
                &file(
                    "p-c.csv",
                    "year,count
2000,5
"
                ),
                &m
            )
            .expect("reads")
            .share,
            vec![1.0]
        );
        let e = read_for(
            &file(
                "p-c6.csv",
                "year,count
2000,6
",
            ),
            &m,
        )
        .expect_err("6 of 5");
        assert!(e.message.contains("0 to the 5 units that can adopt"), "{e}");
    }
}
