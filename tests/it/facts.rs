//! The facts of MODEL.md §6, each a test on the CPU backend: small worlds, fixed seeds, enough
//! replicates that the effect is unmistakable, and a contrast that breaks the mechanism.

use crate::common::*;
use pioneer::model::agg;
use pioneer::state::route;

/// P1: ambition 0 everywhere, or gaps held at 0 → no needs and no adoption; both on → adoption.
#[test]
fn p1_need_needs_incentive_and_gap() {
    let needs_and_adopters = |extra: &str| {
        let ran = run(&scenario(&small_china(120, 4, &format!("[params]\n{extra}\n"))));
        (ran.total(0, agg::BY_STAGE), ran.final_adopters(0))
    };
    let (needs, adopters) = needs_and_adopters("");
    assert!(needs > 100 && adopters > 100, "both on: needs {needs}, adopters {adopters}");
    assert_eq!(
        needs_and_adopters("ambition_lo = 0.0\nambition_hi = 0.0"),
        (0, 0),
        "ambition 0 must mean no need"
    );
    assert_eq!(needs_and_adopters("gamma_g = 0.0"), (0, 0), "gaps held at 0 must mean no need");
}

/// P2: upper signal 0 (no schedule, no parent pull, no mandate) or demand 0 → no agenda.
#[test]
fn p2_agenda_needs_signal_and_demand() {
    let counts = |innov: &str, extra: &str| {
        let ran = run(&scenario(&small_china(
            120,
            4,
            &format!("[[innovation]]\nname = \"x\"\n{innov}\n[params]\n{extra}\n"),
        )));
        (ran.total(0, agg::BY_STAGE), ran.total(0, agg::BY_STAGE + 1), ran.final_adopters(0))
    };
    let (needs, agendas, adopters) = counts("", "");
    assert!(
        needs > 0 && agendas > 100 && adopters > 100,
        "both on: {needs} needs, {agendas} agenda-months, {adopters} adopters"
    );
    let (needs, agendas, adopters) = counts("signal = 0.0", "pi = 0.0");
    assert!(needs > 1000, "needs still arise without a signal: {needs}");
    assert_eq!((agendas, adopters), (0, 0), "no upper signal must mean no agenda");
    let (needs, agendas, adopters) = counts("", "d0 = 0.0\ngamma_d = 0.0");
    assert!(needs > 1000, "needs still arise without demand: {needs}");
    assert_eq!((agendas, adopters), (0, 0), "no external demand must mean no agenda");
}

/// P3: first adopters invent; learned adoptions dominate once exemplars exist; a learned design
/// is at least as good on average as its source — and without the improvement it is not.
#[test]
fn p3_learn_then_improve() {
    let ran = run(&scenario(&small_china(240, 8, "")));
    let (n, kn) = (ran.units(), 1);
    let mut first_invented = 0;
    let (mut learned_late, mut all_late) = (0u64, 0u64);
    let recog = 24;
    for r in 0..ran.runs() {
        let first = (0..n).filter_map(|i| ran.adopted(r, 0, i)).min().expect("some adoption");
        let firsts: Vec<usize> = (0..n).filter(|&i| ran.adopted(r, 0, i) == Some(first)).collect();
        if firsts.iter().all(|&i| ran.route(r, 0, i) == route::INVENTED) {
            first_invented += 1;
        }
        for i in 0..n {
            if ran.adopted(r, 0, i).is_some_and(|m| m > recog) {
                all_late += 1;
                let ro = ran.route(r, 0, i);
                if (route::NEIGHBOUR..=route::LEADER).contains(&ro) {
                    learned_late += 1;
                }
            }
        }
    }
    let _ = kn;
    assert_eq!(first_invented, ran.runs(), "the first adopters of every run invent");
    let share = learned_late as f64 / all_late as f64;
    assert!(
        share > 0.8,
        "after the first recognition, learned adoptions dominate: {share:.3} of {all_late}"
    );

    let quality_vs_source = |ran: &Ran| {
        let (mut q, mut s, mut k) = (0.0, 0.0, 0);
        for r in 0..4 {
            for e in replay(ran, r).events.iter().filter(|e| e.what.starts_with("design: learned")) {
                q += e.quality as f64;
                s += e.source_q as f64;
                k += 1;
            }
        }
        assert!(k > 500, "enough learned designs: {k}");
        (q / k as f64 / 65535.0, s / k as f64 / 65535.0)
    };
    let (q, s) = quality_vs_source(&ran);
    assert!(
        q >= s,
        "learned designs ({q:.4}) are on average at least as good as their sources ({s:.4})"
    );
    let flat = run(&scenario(&small_china(240, 8, "[params]\ndelta_max = 0.0\n")));
    let (q0, s0) = quality_vs_source(&flat);
    assert!(q0 < s0, "without improvement a copy is worse than its source: {q0:.4} vs {s0:.4}");
}

/// P4: units that adopted innovation 0 adopt innovation 1 sooner than units that did not, through
/// legitimacy; with the legitimacy feedback (b_L) at 0 the gap goes.
///
/// A unit always takes up the most visible innovation first, so outside an experiment a unit
/// that has not adopted 0 must adopt it before 1, and part of any gap is that ordering. The test
/// removes it as an experiment would: in month 96 a pilot puts innovation 1 on the agenda of every
/// county at once, in a world where units differ in nothing else (same capacity, firms,
/// threshold and ambition). Then adopters and non-adopters of 0 differ only in legitimacy.
#[test]
fn p4_legitimacy_carries_to_the_next_innovation() {
    let base = "months = 120\nreplicates = 48\nseed = 5\n[world]\nkind = \"china\"\nseed = 3\nprovinces = 8\nprefectures = 40\ncounties = 300\ncapacity = [0.6, 0.6]\nfirms = [0.5, 0.5]\n";
    let world = scenario(base).build().expect("builds").0.world;
    let counties: Vec<usize> = (0..world.len()).filter(|&i| world.level[i] == 2).collect();
    let names: Vec<String> = counties.iter().map(|&i| format!("\"{}\"", world.names[i])).collect();
    // Share of pilot units adopting innovation 1 within 24 months: (adopted 0 before, did not).
    let shares = |extra: &str| {
        let toml = format!(
            "{base}[[innovation]]\nname = \"a\"\n[[innovation]]\nname = \"b\"\navailable = 96\ndifficulty = 1.0\n[[pilot]]\ninnovation = \"b\"\nmonth = 96\nunits = [{}]\n[params]\ntheta_lo = 0.4\ntheta_hi = 0.4\nambition_lo = 0.7\nambition_hi = 0.7\n{extra}\n",
            names.join(",")
        );
        let ran = run(&scenario(&toml));
        let (mut got, mut count) = ([0u32; 2], [0u32; 2]);
        for r in 0..ran.runs() {
            for &i in &counties {
                let g = ran.adopted(r, 0, i).is_some_and(|m| m < 96) as usize;
                count[g] += 1;
                got[g] += ran.adopted(r, 1, i).is_some_and(|m| m <= 120) as u32;
            }
        }
        let p = [got[0] as f64 / count[0] as f64, got[1] as f64 / count[1] as f64];
        let pooled = (got[0] + got[1]) as f64 / (count[0] + count[1]) as f64;
        let se = (pooled * (1.0 - pooled) * (1.0 / count[0] as f64 + 1.0 / count[1] as f64)).sqrt();
        (p[1], p[0], (p[1] - p[0]) / se, count[1])
    };
    let (with, without, z, n) = shares("");
    assert!(n > 1000, "enough adopters of innovation 0 before the pilot: {n}");
    assert!(z > 3.0, "adopters of 0 adopt 1 sooner: {with:.3} vs {without:.3} (z = {z:.2})");
    let (with0, without0, z0, _) = shares("b_l = 0.0");
    assert!(
        z0.abs() < 2.0 && (with0 - without0).abs() < (with - without) / 2.0,
        "with b_L = 0 the gap goes: {with0:.3} vs {without0:.3} (z = {z0:.2}; with feedback {:.3})",
        with - without
    );
}

/// Bass fit of a cumulative adoption curve (shares per month): (p, q, m) from the discrete
/// regression n(t) = a + b·N(t−1) + c·N(t−1)².
fn bass(curve: &[f64]) -> (f64, f64, f64) {
    let mut x = vec![0.0];
    x.extend_from_slice(&curve[..curve.len() - 1]);
    let n: Vec<f64> = curve.iter().zip(&x).map(|(c, p)| c - p).collect();
    // Least squares on [1, N, N²].
    let mut ata = [[0.0f64; 3]; 3];
    let mut atb = [0.0f64; 3];
    for (&xi, &yi) in x.iter().zip(&n) {
        let row = [1.0, xi, xi * xi];
        for a in 0..3 {
            atb[a] += row[a] * yi;
            for b in 0..3 {
                ata[a][b] += row[a] * row[b];
            }
        }
    }
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&ata);
    let coef: Vec<f64> = (0..3)
        .map(|j| {
            let mut m = ata;
            for i in 0..3 {
                m[i][j] = atb[i];
            }
            det(&m) / d
        })
        .collect();
    let (a, b, c) = (coef[0], coef[1], coef[2]);
    let m = (-b - (b * b - 4.0 * a * c).sqrt()) / (2.0 * c);
    (a / m, -m * c, m)
}

/// Fact 5: the cumulative adoption curve is S-shaped: a Bass fit gives imitation q well above
/// innovation p. Units that do not interact (no learning, no neighbour gap, no pull of
/// expectations, no recognition boost) still show some q from the latency of the four stages,
/// so the same criterion (q > 12 p) must fail for them.
#[test]
fn s_curve_imitation_dominates() {
    let ran = run(&scenario(&small_china(240, 8, "")));
    let (p, q, m) = bass(&ran.mean_curve(0));
    assert!(m > 0.5 && p > 0.0, "a sensible fit: p {p:.5}, q {q:.4}, m {m:.3}");
    assert!(q > 12.0 * p, "imitation dominates: p {p:.5}, q {q:.4}");
    let alone = run(&scenario(&small_china(
        240,
        8,
        "[params]\nr_learn = 0.0\nw_h = 0.0\neta_e = 0.0\nu_boost = 0.0\n",
    )));
    let (p0, q0, m0) = bass(&alone.mean_curve(0));
    assert!(
        q0 < 12.0 * p0,
        "isolated units show no such imitation: p {p0:.5}, q {q0:.4}, m {m0:.3}"
    );
}

/// Fact 6 (Zhu 2014): a mandate saturates faster and leaves fewer variants than competition alone.
#[test]
fn mandate_saturates_faster_with_fewer_variants() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let load = |f: &str| {
        let mut sc = pioneer::scenario::Scenario::load(&dir.join(f)).expect("scenario loads");
        sc.spec.replicates = 8;
        run(&sc)
    };
    let (champ, mand) = (load("championship.toml"), load("mandate.toml"));
    let stats = |ran: &Ran| {
        let sums: Vec<_> = (0..ran.runs())
            .map(|r| pioneer::output::summarise(&ran.out, r)[0].clone())
            .collect();
        let t90: Vec<u32> = sums.iter().map(|s| s.t90.unwrap_or(ran.out.months + 1)).collect();
        let variants: Vec<usize> = sums.iter().map(|s| s.variants).collect();
        (t90, variants)
    };
    let (ct, cv) = stats(&champ);
    let (mt, mv) = stats(&mand);
    assert!(
        mt.iter().max() < ct.iter().min(),
        "every mandate run reaches 90 % before any championship run: {mt:?} vs {ct:?}"
    );
    assert!(
        mv.iter().max() < cv.iter().min(),
        "every mandate run leaves fewer variants: {mv:?} vs {cv:?}"
    );
}
