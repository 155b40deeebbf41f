//! The class's debrief: its played run written as `pioneer run` writes a run (the usual CSVs,
//! charts and report), with the class's own tables — decisions, rankings, students' traces.

use super::classroom::{lever_text, Classroom};
use crate::app::report::esc;
use crate::app::run::{write_outputs_with, RunResult};
use crate::backend::BatchOutput;
use crate::error::{Error, InputError, Result};
use crate::model::{agg, RunId};
use crate::output::csv_plain as plain;
use crate::plot::{Band, Points};
use std::fmt::Write as _;
use std::path::Path;

/// The files a debrief folder offers for download, with what each holds.
pub const FILES: [(&str, &str); 8] = [
    (
        "report.html",
        "the report: the run in brief, key numbers, the class and every chart",
    ),
    ("decisions.csv", "every decision and lever, replayable with pioneer run --decisions"),
    (
        "rankings.csv",
        "every ranking of a student's unit and every promotion, with the score's parts",
    ),
    ("traces.csv", "each student's trace: every event of their unit while they held it"),
    ("steps.csv", "the run month by month"),
    ("summary.csv", "the run's summary"),
    ("units.csv", "every unit at the end"),
    ("class-vs-model.png", "the class's curve over the model's band"),
];

/// Write the debrief of `class` as played so far into `dir` (replaced whole, as `pioneer run`
/// replaces its folder).
pub fn write(class: &Classroom, dir: &Path) -> Result<()> {
    let months = class.month;
    if months == 0 {
        return Err(InputError::new("nothing to debrief before the first month").into());
    }
    let staged = crate::output::folder::Staged::begin(dir, "--out")?;
    let mut sc = class.scenario.clone();
    sc.spec.months = months;
    sc.spec.replicates = 1;
    sc.spec.seed = class.seed;
    let records: Vec<u32> = (1..=months).flat_map(|t| class.record(t).iter().copied()).collect();
    let res = RunResult {
        scenario: sc,
        model: class.model.clone(),
        params: vec![class.params],
        ids: vec![RunId::new(class.seed, 0, 0)],
        output: BatchOutput {
            agg: records,
            record_len: agg::record_len(class.params.n_innov as usize),
            months,
            state: class.state().clone(),
        },
        out_dir: dir.to_path_buf(),
        backend: "cpu (a class, played live)".into(),
        seconds: 0.0,
        observed: None,
    };
    write_outputs_with(&res, true, None, None, true, staged, |d| class_files(class, d))
}

fn class_files(class: &Classroom, dir: &Path) -> Result<()> {
    let put = |name: &str, body: &str| crate::output::write_atomic(&dir.join(name), body.as_bytes());
    put("decisions.csv", &class.log_csv())?;
    let mut s = String::from("month,unit,name,student,promoted,rank,peers,score,performance_gained,credit,legitimacy,depth\n");
    for r in &class.rankings {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{:.4},{:.4},{:.4},{:.4},{}",
            r.month,
            r.unit,
            plain(&r.name),
            plain(r.student.as_deref().unwrap_or("")),
            r.promoted,
            r.rank,
            r.peers,
            r.score,
            r.performance,
            r.credit,
            r.legitimacy,
            r.depth
        );
    }
    put("rankings.csv", &s)?;
    let mut s = String::from("month,student,name,unit,what,legitimacy,backing,rung\n");
    for l in &class.traces {
        let name = class.names.get(l.student as usize).map_or("", String::as_str);
        let _ = writeln!(
            s,
            "{},{},{},{},{},{:.4},{:.4},{}",
            l.month,
            l.student,
            plain(name),
            l.unit,
            plain(&l.what),
            l.legitimacy,
            l.backing,
            l.rung
        );
    }
    put("traces.csv", &s)?;
    chart(class, dir)?;
    put("class.html", &fragment(class))
}

/// The class's curve (year ends) over the model's band for the same scenario and seed.
fn chart(class: &Classroom, dir: &Path) -> Result<()> {
    let (median, lo, hi) = class.band.clone();
    let band = Band {
        name: "the model alone (median, 5–95 %)".into(),
        months: (1..=median.len() as u32).collect(),
        median,
        lo,
        hi,
    };
    let curve = class.curve(0);
    let mut months: Vec<u32> = (12..=class.month).step_by(12).collect();
    if months.last() != Some(&class.month) {
        months.push(class.month);
    }
    let points = Points {
        name: "this class".into(),
        share: months.iter().map(|&t| curve[t as usize - 1]).collect(),
        months,
        fits: Vec::new(),
        fitted_until: None,
    };
    let title = format!("{}: this class against the model alone", class.scenario.name());
    crate::plot::diffusion_chart_observed(&dir.join("class-vs-model"), &title, &[band], Some(&points))
        .map_err(|e| Error::Backend(e.to_string()))
}

/// The class's section of the report (HTML, every name escaped): the levers, the promotions and
/// each student's trace.
pub fn fragment(class: &Classroom) -> String {
    let rho = crate::model::fixed::to_f64(class.params.rho);
    let mut h = String::new();
    let n = class.model.population() as f64;
    let adopted = class.curve(0).last().copied().unwrap_or(0.0);
    let median = class.band.0.get(class.month as usize - 1).copied().unwrap_or(f64::NAN);
    let _ = writeln!(
        h,
        "<p>{} students, {} months played, seed {}. By month {} this class had {:.0} % of its {} units adopting; the model alone, {:.0} % (median of its replicates).</p>",
        class.students.len(),
        class.month,
        class.seed,
        class.month,
        adopted * 100.0,
        n,
        median * 100.0
    );
    if !class.log.levers.is_empty() {
        h.push_str("<h3>The teacher's levers</h3>\n<ul>\n");
        for p in &class.log.levers {
            let _ = writeln!(
                h,
                "<li>month {}: {}</li>",
                p.month,
                esc(&lever_text(&p.lever, &class.model.world.names))
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h3>Who was promoted, and why</h3>\n");
    if class.rankings.is_empty() {
        h.push_str("<p>No term has ended yet.</p>\n");
    } else {
        h.push_str("<table>\n<tr><th>month</th><th>unit</th><th>student</th><th>verdict and why</th></tr>\n");
        for r in &class.rankings {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.month,
                esc(&r.name),
                esc(r.student.as_deref().unwrap_or("")),
                esc(&r.why(rho))
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h3>Each student's trace</h3>\n");
    for s in &class.students {
        let lines: Vec<_> = class.traces.iter().filter(|l| l.student == s.id).collect();
        let decisions = class.log.decisions.iter().filter(|d| d.student == s.id).count();
        let _ = writeln!(
            h,
            "<details><summary>{} — {} ({})</summary>\n<ol>",
            esc(&s.name),
            esc(&class.model.world.names[s.unit]),
            [(decisions, "decision"), (lines.len(), "event")]
                .map(|(n, what)| format!("{n} {what}{}", if n == 1 { "" } else { "s" }))
                .join(", ")
        );
        for l in lines {
            let _ = writeln!(
                h,
                "<li>month {}: {} <small>(L {:.2}, B {:.2})</small></li>",
                l.month,
                esc(&l.what),
                l.legitimacy,
                l.backing
            );
        }
        h.push_str("</ol></details>\n");
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::play::Lever;
    use crate::model::trace::{Choice, Learn, Policy};
    use crate::scenario::Scenario;

    #[test]
    fn a_whole_class_is_debriefed_as_a_run_with_the_class_beside_it() {
        let sc = Scenario::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml"))).expect("classroom");
        let mut c = Classroom::new(sc, 3, "ABCD".into()).expect("builds");
        let dir = std::env::temp_dir().join(format!("pioneer-debrief-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(write(&c, &dir).is_err(), "nothing to debrief at month 0");
        c.join("ABCD", "Ann", None, "a").expect("joins");
        c.join("ABCD", "Bo <b>", None, "b").expect("joins");
        let eager = Policy {
            agenda: Choice::Yes,
            learn: Learn::Neighbour,
            push: Choice::Yes,
            ..Policy::default()
        };
        c.choose("a", eager).expect("chooses");
        for t in 1..=240 {
            if t == 60 {
                c.lever(Lever::Mandate { depth: 2, months: 48 }).expect("pulls");
            }
            c.step();
        }
        write(&c, &dir).expect("writes");
        for (f, _) in FILES {
            assert!(dir.join(f).exists(), "{f}");
        }
        let report = std::fs::read_to_string(dir.join("report.html")).expect("report");
        assert!(report.contains("<h2>The class</h2>"));
        assert!(report.contains("a mandate: every unit to rung 2 within 48 months"));
        assert!(report.contains("Bo &lt;b&gt;"), "names escaped");
        assert!(!report.contains("Bo <b>"));
        let rankings = std::fs::read_to_string(dir.join("rankings.csv")).expect("rankings");
        assert_eq!(rankings.lines().count(), c.rankings.len() + 1);
        let steps = std::fs::read_to_string(dir.join("steps.csv")).expect("steps");
        assert_eq!(steps.lines().count(), 241, "a row a month");
        let log = crate::model::play::read_log(
            &dir.join("decisions.csv"),
            c.model.world.len(),
            &c.scenario.build().expect("builds").1,
            240,
        )
        .expect("reads");
        assert_eq!(log, c.log);
        if std::env::var_os("PIONEER_KEEP_DEBRIEF").is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
