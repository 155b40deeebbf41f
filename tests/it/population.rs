//! Who can adopt (issue 24, item 2): `[world] population` names the units that adopt; the others
//! never adopt, never count in a share, and no lever reaches them.

use crate::common::{bad, run, scenario, Ran};
use pioneer::model::params::NEVER;

/// A grid of 36 districts under 3 parents (level 0), a centre mandate late in the run, and
/// `population` if given.
fn grid(population: &str) -> String {
    format!(
        "months = 120\nreplicates = 8\nseed = 11\n[world]\nkind = \"grid\"\n{population}\n\
         [[mandate]]\nissuer = \"centre\"\nmonth = 100\ndeadline = 120\ncompliance = 1.0\n"
    )
}

/// The runs in which unit i adopted innovation 0.
fn adopting_runs(ran: &Ran, i: usize) -> usize {
    let n = ran.out.state.units;
    (0..ran.runs()).filter(|&r| ran.out.state.adopt_month[r * n + i] != NEVER).count()
}

/// Without a population the parents adopt (so the check below can fail); with the districts as
/// the population they never do, even under a centre mandate that every district obeys; and
/// each share is of the 36 districts: the summary's, the outcomes' t50 and the steps' share.
#[test]
fn units_outside_the_population_never_adopt_nor_count() {
    let all = run(&scenario(&grid("")));
    let parents: Vec<usize> = (0..all.out.state.units).filter(|&i| all.model.world.level[i] == 0).collect();
    assert_eq!(parents.len(), 3);
    assert!(
        parents.iter().map(|&i| adopting_runs(&all, i)).sum::<usize>() > 0,
        "the parents adopt when every unit may"
    );
    let ran = run(&scenario(&grid("population = \"level:1\"")));
    assert_eq!((ran.model.population(), ran.out.state.units), (36, 39));
    for &i in &parents {
        assert_eq!(adopting_runs(&ran, i), 0, "parent {i} adopted");
        assert_eq!(ran.model.mandate_mask[i], 0, "the mandate reaches parent {i}");
    }
    assert!(
        (3..39).all(|i| ran.model.mandate_mask[i] == 1),
        "the mandate reaches every district"
    );
    let n = ran.out.state.units;
    for r in 0..ran.runs() {
        let adopters = (0..n).filter(|&i| ran.out.state.adopt_month[r * n + i] != NEVER).count();
        let s = &pioneer::output::summarise(&ran.model, &ran.out, r)[0];
        assert_eq!(s.final_share, adopters as f64 / 36.0, "run {r}: {adopters} of 36, not of 39");
        // t50: the first month with 18 of the 36 districts adopted.
        let t50 = (1..=ran.out.months).find(|&t| (0..n).filter(|&i| ran.out.state.adopt_month[r * n + i] <= t).count() >= 18);
        assert_eq!(s.t50, t50, "run {r}");
        let o = &pioneer::analysis::outcomes(&ran.model, &ran.out, r, &ran.params)[0];
        assert_eq!(o.t50, t50.map_or(121.0, f64::from), "run {r}");
        let mut values = Vec::new();
        let last = ran.out.record(r, ran.out.months);
        pioneer::output::step_values(&ran.model, last, 1, 0, &mut values);
        assert_eq!(
            values[..2],
            [adopters as f64, adopters as f64 / 36.0],
            "run {r}: steps.csv's adopters and share"
        );
    }
}

/// Every unit in the population is the default, and bit for bit the same as `population =
/// "all"`; a population of the parents alone leaves the districts idle.
#[test]
fn the_whole_world_is_the_default_population() {
    let plain = run(&scenario(&grid("")));
    let all = run(&scenario(&grid("population = \"all\"")));
    assert_eq!(plain.out.agg, all.out.agg);
    assert_eq!(plain.out.state, all.out.state);
    let top = run(&scenario(&grid("population = \"level:0\"")));
    assert_eq!(top.model.population(), 3);
    let n = top.out.state.units;
    let districts = (0..n).filter(|&i| top.model.world.level[i] == 1);
    assert_eq!(districts.map(|i| adopting_runs(&top, i)).sum::<usize>(), 0);
}

#[test]
fn a_bad_population_or_a_lever_outside_it_is_refused() {
    let g = "months = 12\n[world]\nkind = \"grid\"\n";
    for (name, extra, expect) in [
        (
            "population-word",
            "population = \"states\"\n",
            &["main.toml:4:", "world.population", "allowed `all`"][..],
        ),
        (
            "population-level",
            "population = \"level:5\"\n",
            &["world.population", "levels 0 to 1"],
        ),
        ("population-unit", "population = \"unit:Gotham\"\n", &["world.population", "Gotham"]),
        (
            "pilot-outside",
            "population = \"level:1\"\n[[pilot]]\nunits = [\"R1\"]\nmonth = 2\n",
            &["pilot[0].units", "outside the population"],
        ),
        (
            "seeded-outside",
            "population = \"level:1\"\n[[adopted]]\nunit = \"R2\"\nquality = 0.5\n",
            &["adopted[0].unit", "outside the population"],
        ),
    ] {
        bad(name, &[("main.toml", &format!("{g}{extra}"))], &[], expect);
    }
}
