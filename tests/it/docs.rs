//! Code and doc change together: every parameter in the code is in docs/model.md with its default.

use pioneer::scenario::params::PARAMS;

#[test]
fn docs_list_every_parameter_with_its_default() {
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/model.md")).expect("docs/model.md");
    for p in PARAMS {
        let d = if p.default.fract() == 0.0 {
            format!("{}", p.default as i64)
        } else {
            format!("{}", p.default)
        };
        let row = format!("| `{}` | {} |", p.name, d);
        assert!(doc.contains(&row), "docs/model.md lacks the row `{row}`");
    }
}

/// docs/model.md §8 carries the ablation tables as `pioneer ablate` makes them today (the china
/// baseline, and the scenarios where the mechanisms that move nothing there do move something),
/// and every mechanism that moves nothing clearly on the baseline moves something clearly there.
#[test]
fn docs_carry_the_ablation_tables_as_built() {
    use pioneer::app::ablate::{ablate, table, AblateArgs, Change};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/model.md")).expect("docs/model.md");
    let go = |file: &str, replicates: Option<u32>, only: &[&str]| {
        let res = ablate(&AblateArgs {
            scenario: root.join("scenarios").join(file),
            replicates,
            backend: "cpu".into(),
            out: Some(std::env::temp_dir().join(format!("pioneer-docs-ablate-{}-{file}", std::process::id()))),
            only: only.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .expect("ablation runs");
        let t = table(&res);
        assert!(
            doc.contains(&t),
            "docs/model.md lacks the ablation table of {file} as built today; rerun `pioneer ablate scenarios/{file}` and paste:\n{t}"
        );
        res
    };
    let base = go("baseline.toml", None, &[]);
    let elsewhere = [
        go("two-reforms.toml", None, &["lambda_c", "b_loss"]),
        go("remote.toml", None, &["p_transfer"]),
        go("classroom.toml", Some(200), &["l_bonus", "b_bonus"]),
    ];
    let moves = |c: &Option<Vec<Change>>| c.as_ref().is_some_and(|c| c.iter().any(Change::clear));
    for row in base.rows.iter().filter(|r| !moves(&r.changes)) {
        let shown = elsewhere
            .iter()
            .any(|res| res.rows.iter().any(|r| r.mechanism == row.mechanism && moves(&r.changes)));
        assert!(
            shown,
            "`{}` moves nothing clearly on the baseline, and no scenario of docs/model.md §8 shows it moving something",
            row.mechanism
        );
    }
}
