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
    for want in ["baseline", "championship", "classroom", "jdistrict", "mandate"] {
        assert!(seen.iter().any(|s| s == want), "scenarios/{want}.toml is missing: {seen:?}");
    }
}

/// The jdistrict story: in most runs J learns (from a neighbour such as F), improves the design
/// into its own variant, adopts it and is recognised.
#[test]
fn jdistrict_retells_the_case() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/jdistrict.toml");
    let sc = pioneer::scenario::Scenario::load(&path).expect("loads");
    let ran = run(&sc);
    let j = ran.model.world.find("J").expect("J exists");
    let mut story = 0;
    for r in 0..ran.runs() {
        let log = replay(&ran, r);
        let mine: Vec<_> = log.events.iter().filter(|e| e.unit as usize == j && e.k == 0).collect();
        let pos = |p: &str| mine.iter().position(|e| e.what.starts_with(p));
        let (Some(need), Some(agenda), Some(design), Some(adopt)) = (pos("need"), pos("agenda"), pos("design: learned"), pos("adopted"))
        else {
            continue;
        };
        let learned = mine[design];
        let recognised = mine.iter().any(|e| e.what.starts_with("recognised"));
        if need < agenda && agenda < design && design < adopt && learned.quality > learned.source_q && recognised {
            story += 1;
        }
    }
    assert!(
        story * 2 > ran.runs(),
        "J's story (need → agenda → learned and improved → adopted → recognised) in {story} of {} runs",
        ran.runs()
    );
}
