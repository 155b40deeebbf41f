//! Every file in scenarios/ parses, builds and runs a few months.

use crate::common::*;

#[test]
fn every_bundled_scenario_runs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("scenarios/ exists") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let mut sc = pioneer::scenario::Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        sc.spec.months = sc.spec.months.min(12);
        sc.spec.replicates = 2;
        let ran = run(&sc);
        assert_eq!(
            ran.out.agg.len(),
            2 * sc.spec.months as usize * ran.out.record_len,
            "{}",
            path.display()
        );
        seen.push(path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
    }
    seen.sort();
    for want in ["baseline", "championship", "classroom", "jdistrict", "mandate", "us-states"] {
        assert!(seen.iter().any(|s| s == want), "scenarios/{want}.toml is missing: {seen:?}");
    }
}

/// The jdistrict story (MODEL.md v2): in most runs J feels the need, wins the agenda and with it
/// the district head's backing (the pitch raises B), learns F's window (depth 1) and improves it,
/// adopts it and climbs beyond F's depth, is recognised, and its director is promoted at the end
/// of his term.
#[test]
fn jdistrict_retells_the_case() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/jdistrict.toml");
    let sc = pioneer::scenario::Scenario::load(&path).expect("loads");
    let ran = run(&sc);
    let j = ran.model.world.find("J").expect("J exists") as u32;
    let f = ran.model.world.find("F").expect("F exists") as u32;
    let mut story = 0;
    for r in 0..ran.runs() {
        let log = replay(&ran, r);
        let mine: Vec<_> = log.events.iter().filter(|e| e.unit == j).collect();
        let pos = |p: &str| mine.iter().position(|e| e.what.starts_with(p));
        let (Some(need), Some(agenda), Some(design), Some(adopt), Some(leader)) =
            (pos("need"), pos("agenda"), pos("design: learned"), pos("adopted"), pos("leader"))
        else {
            continue;
        };
        let pitch = mine[agenda];
        let learned = mine[design];
        let beyond = ran.depth(r, 0, j as usize) >= 2;
        let recognised = mine[adopt..].iter().any(|e| e.what.starts_with("recognised"));
        let promoted = mine[leader].what.starts_with("leader: promoted");
        if need < agenda
            && agenda < design
            && design < adopt
            && adopt < leader
            && pitch.backing > pitch.backing_before
            && learned.source_unit == f
            && learned.rung == 1
            && learned.quality > learned.source_q
            && beyond
            && recognised
            && promoted
        {
            story += 1;
        }
    }
    eprintln!("J's story in {story} of {} runs", ran.runs());
    assert!(
        story * 2 > ran.runs(),
        "J's story (need → agenda with the pitch → learned from F and improved → adopted → beyond F's depth → recognised → promoted) in {story} of {} runs",
        ran.runs()
    );
}

/// The bundled US states (issue 24, item 3): 50 states under the federal unit, which is outside
/// the population, so it never adopts, even where a federal mandate reaches every state; every
/// share is of the 50 states, and a state's events are read by its name.
#[test]
fn the_us_states_adopt_and_the_federal_unit_does_not() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/us-states.toml");
    let mut sc = pioneer::scenario::Scenario::load(&path).expect("loads");
    sc.spec.replicates = 4;
    let ran = run(&sc);
    let w = &ran.model.world;
    let usa = w.lookup("USA").expect("USA");
    assert_eq!((w.len(), ran.model.population(), ran.model.member[usa]), (51, 50, false));
    let n = w.len();
    for r in 0..ran.runs() {
        assert_eq!(ran.out.state.adopt_month[r * n + usa], pioneer::model::params::NEVER, "run {r}");
        let adopters = (0..n)
            .filter(|&i| ran.out.state.adopt_month[r * n + i] != pioneer::model::params::NEVER)
            .count();
        let s = &pioneer::output::summarise(&ran.model, &ran.out, r)[0];
        assert!(adopters > 25, "run {r}: the policy spreads over 54 years ({adopters})");
        assert_eq!(s.final_share, adopters as f64 / 50.0, "run {r}");
    }
    let dir = temp("us-states-events");
    let events = dir.join("e.csv");
    std::fs::write(&events, "state,adopt_year\nCalifornia,1990\nNew York,1992\n6,1992\n").expect("write");
    let o = pioneer::analysis::observed::read_for(&events, &ran.model).expect("reads");
    assert_eq!((o.years.clone(), o.share.clone()), (vec![1990, 1991, 1992], vec![0.02, 0.02, 0.06]));
    std::fs::write(&events, "state,adopt_year\nUSA,1990\n").expect("write");
    let e = pioneer::analysis::observed::read_for(&events, &ran.model).expect_err("the federal unit");
    assert!(e.message.contains("outside the scenario's population"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
