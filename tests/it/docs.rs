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
