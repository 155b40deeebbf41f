//! Observed adoption data (`pioneer run --observed FILE.csv`): read and checked, then set against
//! the simulated band year by year (RMSE of the share, the years to 10/50/90 % side by side).

use crate::error::{CsvInput, InputError};
use std::path::{Path, PathBuf};

/// An observed cumulative adoption curve: the share of units adopted by the end of each year.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub path: PathBuf,
    pub years: Vec<i32>,
    pub share: Vec<f64>,
    /// The line of each year's row.
    pub lines: Vec<usize>,
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
    let mut obs = Observed {
        path: path.to_path_buf(),
        years: Vec::new(),
        share: Vec::new(),
        lines: Vec::new(),
    };
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
                    format!("{raw}: a count of adopters is a whole number from 0 to the world's {units} units"),
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

/// One observed year beside the simulated share at the year's last month.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub year: i32,
    /// The month that ends the year (1 = the first month of `start_year`).
    pub month: u32,
    pub observed: f64,
    pub median: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Observed against simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// Root mean square of (observed − simulated median) over the observed years.
    pub rmse: f64,
    /// The first year at 10, 50 and 90 %: (observed, simulated median), None if never.
    pub years_to: [(Option<i32>, Option<i32>); 3],
}

/// The months a year's data speak for must lie in the run: `start_year` and `months` give its
/// last year.
pub fn check_years(obs: &Observed, start_year: i32, months: u32) -> Result<(), InputError> {
    let last = start_year + (months as i32 - 1) / 12;
    for (j, &y) in obs.years.iter().enumerate() {
        if y < start_year || y > last {
            return Err(InputError::new(format!(
                "year {y} is outside the run: start_year {start_year} and {months} months cover {start_year} to {last}"
            ))
            .file(&obs.path)
            .line(obs.lines[j])
            .field("year"));
        }
    }
    Ok(())
}

/// Compare `obs` with `share[r][t - 1]`, the simulated share of run r by the end of month t
/// (median and 5–95 % over runs, nearest rank), a year's last month standing for the year.
pub fn compare(obs: &Observed, start_year: i32, share: &[Vec<f64>]) -> Comparison {
    let (median, lo, hi) = crate::plot::quantiles(share);
    let months = median.len() as u32;
    let month_of = |y: i32| (((y - start_year + 1) * 12) as u32).min(months).max(1);
    let rows: Vec<Row> = obs
        .years
        .iter()
        .zip(&obs.share)
        .map(|(&year, &observed)| {
            let m = month_of(year) as usize - 1;
            Row {
                year,
                month: m as u32 + 1,
                observed,
                median: median[m],
                lo: lo[m],
                hi: hi[m],
            }
        })
        .collect();
    let rmse = (rows.iter().map(|r| (r.observed - r.median).powi(2)).sum::<f64>() / rows.len().max(1) as f64).sqrt();
    let year_of = |m: usize| start_year + m as i32 / 12;
    let years_to = [0.1, 0.5, 0.9].map(|x| {
        let o = obs.years.iter().zip(&obs.share).find(|(_, &s)| s >= x).map(|(&y, _)| y);
        let s = median.iter().position(|&v| v >= x).map(year_of);
        (o, s)
    });
    Comparison { rows, rmse, years_to }
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
        };
        let c = compare(&obs, 2014, &runs);
        assert_eq!(c.rmse, 0.0);
        assert_eq!(c.rows[1].month, 24);
        assert_eq!(c.years_to[1], (Some(2015), Some(2015)));
        let later = Observed {
            share: vec![0.0, 0.1, 0.2],
            ..obs
        };
        let c = compare(&later, 2014, &runs);
        assert!(c.rmse > 0.3, "{}", c.rmse);
        assert_eq!(c.years_to[1], (None, Some(2015)));
        assert!(check_years(&later, 2014, 36).is_ok());
        let e = check_years(&later, 2015, 24).expect_err("2014 is before the run");
        assert_eq!(e.field.as_deref(), Some("year"));
    }
}
