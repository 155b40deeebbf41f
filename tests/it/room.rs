//! Diffusions that stop short (issue 24, item 7): the room a unit finds in the institutional space,
//! by unit (a file world's `room` column) and by unit and innovation (`[[innovation]] closed`).

use crate::common::{bad, pioneer, run, scenario, temp, text, Ran};
use pioneer::model::rng::Draws;
use pioneer::model::rules::closed_to;
use pioneer::scenario::Scenario;
use pioneer::state::route;
use std::path::Path;

/// The bundled 50 states (one policy, 54 years, no mandate), with `extra` after its innovation's
/// `rungs = 1` line and `tail` at the end.
fn us_states(extra: &str, tail: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/us-states.toml");
    let text = std::fs::read_to_string(&path).expect("us-states.toml");
    assert!(text.contains("\nrungs = 1\n"), "us-states.toml's innovation has `rungs = 1`");
    let text = text.replacen("\nrungs = 1\n", &format!("\nrungs = 1\n{extra}"), 1) + tail;
    Scenario::parse(&path, text).expect("parses")
}

/// Whether unit i is closed to innovation k in run r.
fn closed(ran: &Ran, r: usize, k: usize, i: usize) -> bool {
    closed_to(&ran.params, &Draws::new(ran.ids[r].key, ran.units()), i, k)
}

/// Final share of run r (of the population).
fn final_share(ran: &Ran, r: usize) -> f64 {
    pioneer::output::summarise(&ran.model, &ran.out, r)[0].final_share
}

/// With `closed = 0.3` the states the draw closes never adopt, and the draw closes a share of
/// them within four binomial standard errors of 0.3; so the diffusion, which reaches nearly every
/// state when all are open, stalls near 0.7 and never beyond the open states. A federal mandate
/// still reaches a closed state.
#[test]
fn closed_units_stop_a_diffusion_short() {
    let open = run(&us_states("", ""));
    let n_runs = open.runs();
    let open_mean = (0..n_runs).map(|r| final_share(&open, r)).sum::<f64>() / n_runs as f64;
    assert!(open_mean > 0.95, "with every state open the policy reaches nearly all: {open_mean}");

    let ran = run(&us_states("closed = 0.3\n", ""));
    let states: Vec<usize> = (0..ran.units()).filter(|&i| ran.model.member[i]).collect();
    assert_eq!(states.len(), 50);
    let (mut n_closed, mut shares, mut open_shares) = (0usize, 0.0, 0.0);
    for r in 0..n_runs {
        let shut: Vec<usize> = states.iter().copied().filter(|&i| closed(&ran, r, 0, i)).collect();
        for &i in &shut {
            assert_eq!(ran.adopted(r, 0, i), None, "run {r}: state {i} is closed, yet adopted");
        }
        let adopters = states.iter().filter(|&&i| ran.adopted(r, 0, i).is_some()).count();
        assert!(
            adopters <= 50 - shut.len(),
            "run {r}: {adopters} adopters, beyond the {} open states",
            50 - shut.len()
        );
        assert_eq!(final_share(&ran, r), adopters as f64 / 50.0, "run {r}");
        n_closed += shut.len();
        shares += adopters as f64 / 50.0;
        open_shares += 1.0 - shut.len() as f64 / 50.0;
    }
    // The closed count is binomial(runs × 50, 0.3).
    let trials = (n_runs * 50) as f64;
    let sd = (trials * 0.3 * 0.7).sqrt();
    assert!(
        (n_closed as f64 - 0.3 * trials).abs() <= 4.0 * sd,
        "{n_closed} of {trials} closed, against 0.3 ± 4 sd ({sd:.1})"
    );
    let (mean, open_mean) = (shares / n_runs as f64, open_shares / n_runs as f64);
    // Nearly all the open states adopt, as nearly all do when every state is open.
    assert!(
        mean > open_mean - 0.05,
        "mean final share {mean} against the open states' {open_mean}"
    );

    // A federal mandate that every state obeys reaches the closed states too.
    let ordered = run(&us_states(
        "closed = 0.3\n",
        "\n[[mandate]]\nissuer = \"unit:USA\"\nmonth = 600\ndeadline = 648\ncompliance = 1.0\n",
    ));
    let mut mandated_closed = 0;
    for r in 0..n_runs {
        for &i in states.iter().filter(|&&i| closed(&ordered, r, 0, i)) {
            let a = ordered.adopted(r, 0, i);
            assert!(a.is_none_or(|m| m >= 600), "run {r}: closed state {i} adopted in month {a:?}");
            if a.is_some() {
                assert_eq!(ordered.route(r, 0, i), route::MANDATED, "run {r}: closed state {i}");
                mandated_closed += 1;
            }
        }
    }
    assert!(mandated_closed > 0, "the mandate reaches closed states");
}

/// A world of one province over 36 counties on a ring (each with its two neighbours on each
/// side), with a `room` column holding `room(c)` for county c.
fn ring(dir: &Path, room: impl Fn(usize) -> String) {
    let mut units = String::from("id,name,level,parent,x,y,room\np,Province,0,,0.5,0.5,\n");
    let mut edges = String::from("a,b\n");
    for c in 0..36 {
        let a = c as f64 / 36.0 * std::f64::consts::TAU;
        units.push_str(&format!(
            "c{c},County{c},1,p,{},{},{}\n",
            0.5 + 0.4 * a.cos(),
            0.5 + 0.4 * a.sin(),
            room(c)
        ));
        edges.push_str(&format!("c{c},c{}\nc{c},c{}\n", (c + 1) % 36, (c + 2) % 36));
    }
    std::fs::write(dir.join("units.csv"), units).expect("units.csv");
    std::fs::write(dir.join("edges.csv"), edges).expect("edges.csv");
}

/// The scenario of the ring world in `dir`, plus `extra`.
fn ring_scenario(dir: &Path, extra: &str) -> Scenario {
    let text = format!(
        "months = 240\nreplicates = 8\nseed = 4\n[world]\nkind = \"file\"\nunits = \"units.csv\"\nedges = \"edges.csv\"\n\
         [params]\nr_need = 0.5\n{extra}"
    );
    Scenario::parse(&dir.join("main.toml"), text).expect("ring scenario")
}

/// Counties of room 0 never adopt by themselves, though the same counties adopt with the full
/// room (the check can fail) and their room-1 neighbours adopt around them; a mandate still
/// reaches them. An empty cell is the full room.
#[test]
fn a_room_of_zero_keeps_a_unit_from_adopting_by_itself() {
    let dir = temp("room-ring");
    let shut = |c: usize| c.is_multiple_of(3);
    let county = |ran: &Ran, c: usize| ran.model.world.find(&format!("County{c}")).expect("county");
    let adopting = |ran: &Ran, i: usize| (0..ran.runs()).filter(|&r| ran.adopted(r, 0, i).is_some()).count();

    ring(&dir, |_| String::new());
    let full = run(&ring_scenario(&dir, ""));
    let shut_full: usize = (0..36).filter(|&c| shut(c)).map(|c| adopting(&full, county(&full, c))).sum();
    assert!(shut_full > 0, "with the full room the counties adopt");

    ring(&dir, |c| {
        if shut(c) {
            "0".into()
        } else if c % 3 == 1 {
            "1".into()
        } else {
            String::new()
        }
    });
    let ran = run(&ring_scenario(&dir, ""));
    for c in 0..36 {
        let i = county(&ran, c);
        if shut(c) {
            assert_eq!(ran.model.room[i], 0, "county {c}'s room");
            assert_eq!(adopting(&ran, i), 0, "county {c} has no room, yet adopted");
        } else {
            assert_eq!(ran.model.room[i], pioneer::model::fixed::ONE, "county {c}'s room");
        }
    }
    let others: usize = (0..36).filter(|&c| !shut(c)).map(|c| adopting(&ran, county(&ran, c))).sum();
    assert!(others > 0, "the counties with room adopt");

    let ordered = run(&ring_scenario(
        &dir,
        "[[mandate]]\nissuer = \"centre\"\nmonth = 200\ndeadline = 240\ncompliance = 1.0\n",
    ));
    for c in (0..36).filter(|&c| shut(c)) {
        let i = county(&ordered, c);
        for r in 0..ordered.runs() {
            if let Some(m) = ordered.adopted(r, 0, i) {
                assert!(m >= 200 && ordered.route(r, 0, i) == route::MANDATED, "run {r}: county {c}");
            }
        }
    }
    let mandated: usize = (0..36).filter(|&c| shut(c)).map(|c| adopting(&ordered, county(&ordered, c))).sum();
    assert!(mandated > 0, "the mandate reaches the counties without room");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A room that is not a share, and a `closed` out of range, are refused at their file, line and
/// field, with exit 2.
#[test]
fn a_bad_room_or_closed_is_refused() {
    let main = "[world]\nkind = \"file\"\nunits = \"units.csv\"\n";
    for (name, cell) in [
        ("room-high", "1.5"),
        ("room-word", "wide"),
        ("room-nan", "NaN"),
        ("room-neg", "-0.2"),
    ] {
        let units = format!("id,name,level,parent,x,y,room\np,P,0,,0,0,1\nc,C,1,p,0,0,{cell}\n");
        bad(
            name,
            &[("main.toml", main), ("units.csv", &units)],
            &[],
            &["units.csv:3", "`room`", &format!("room `{cell}`")],
        );
    }
    for (name, value) in [("closed-high", "1.5"), ("closed-neg", "-0.1"), ("closed-nan", "nan")] {
        bad(
            name,
            &[(
                "main.toml",
                &format!("[world]\nkind = \"grid\"\n[[innovation]]\nname = \"x\"\nclosed = {value}\n"),
            )],
            &[],
            &["main.toml:5", "innovation[0].closed"],
        );
    }
}

/// At the defaults the model steps the bits it stepped before: `closed = 0` set is the same as
/// `closed` left out, and a `room` column of ones and empty cells the same as no column.
#[test]
fn the_defaults_step_the_old_bits() {
    let g = "months = 120\nreplicates = 4\nseed = 2\n[world]\nkind = \"grid\"\n[[innovation]]\nname = \"a\"\n";
    let plain = run(&scenario(g));
    let zero = run(&scenario(&format!("{g}closed = 0\n")));
    assert_eq!(plain.out.agg, zero.out.agg);
    assert_eq!(plain.out.state, zero.out.state);
    assert!(plain.final_adopters(0) > 0, "the grid adopts");

    let dir = temp("room-defaults");
    ring(&dir, |_| String::new());
    let text = std::fs::read_to_string(dir.join("units.csv")).expect("units.csv");
    let bare: String = text
        .lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(a, _)| a).to_string() + "\n")
        .collect();
    std::fs::write(dir.join("units.csv"), bare).expect("units.csv");
    let without = run(&ring_scenario(&dir, ""));
    ring(&dir, |c| if c.is_multiple_of(2) { "1".into() } else { String::new() });
    let ones = run(&ring_scenario(&dir, ""));
    assert_eq!(without.out.agg, ones.out.agg);
    assert_eq!(without.out.state, ones.out.state);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pioneer sweep` varies `innovation.0.closed` like any field, though the resolved scenario
/// leaves it out at 0; the final share falls as it rises.
#[test]
fn a_sweep_varies_closed() {
    let dir = temp("room-sweep");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/us-states.toml");
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        format!(
            "name = \"closed\"\nbase = {:?}\nreplicates = 4\n[vary]\n\"innovation.0.closed\" = [0.0, 0.5]\n",
            base.display().to_string()
        ),
    )
    .expect("sweep.toml");
    let out = dir.join("out");
    let o = pioneer(&[
        "sweep",
        sweep.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let points = std::fs::read_to_string(out.join("points.csv")).expect("points.csv");
    assert_eq!(points, "point,innovation.0.closed\n0,0\n1,0.5\n");
    let runs = std::fs::read_to_string(out.join("runs.csv")).expect("runs.csv");
    let mut header = runs.lines().next().expect("header").split(',');
    let col = header.position(|h| h == "final_share").expect("final_share column");
    let mut mean = [0.0; 2];
    for line in runs.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        mean[cells[0].parse::<usize>().expect("point")] += cells[col].parse::<f64>().expect("share") / 4.0;
    }
    assert!(mean[1] < mean[0] - 0.3, "final share {mean:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
