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
/// legitimacy; with the legitimacy feedback cut (b_L = 0, and β0 = 1 so that the pitch no longer
/// depends on the unit's record) the gap goes.
///
/// A unit always takes up the most visible innovation first, so outside an experiment a unit
/// that has not adopted 0 must adopt it before 1, and part of any gap is that ordering. The test
/// removes it as an experiment would: in month 96 a pilot puts innovation 1 on the agenda of every
/// county at once, in a world where units differ in nothing else (same capacity, firms,
/// threshold and ambition), and compares the counties the pilot reached (idle or in need that
/// month; the replayed event log tells). Two other differences are switched off so that only
/// legitimacy and what it wins remain: performance gains (g_P = 0), which close an adopter's gap
/// so that after a failure it stops feeling needs (the waves of docs/model.md), and the ease of
/// a second innovation (b0 = −3: success is not near-certain, so legitimacy can matter).
#[test]
fn p4_legitimacy_carries_to_the_next_innovation() {
    let base = "months = 120\nreplicates = 48\nseed = 5\n[world]\nkind = \"china\"\nseed = 3\nprovinces = 8\nprefectures = 40\ncounties = 300\ncapacity = [0.6, 0.6]\nfirms = [0.5, 0.5]\n";
    let world = scenario(base).build().expect("builds").0.world;
    let counties: Vec<usize> = (0..world.len()).filter(|&i| world.level[i] == 2).collect();
    let names: Vec<String> = counties.iter().map(|&i| format!("\"{}\"", world.names[i])).collect();
    // Share of the pilot's counties adopting innovation 1 by month 120: (adopted 0 before, did not).
    let shares = |extra: &str| {
        let toml = format!(
            "{base}[[innovation]]\nname = \"a\"\n[[innovation]]\nname = \"b\"\navailable = 96\ndifficulty = 1.0\n[[pilot]]\ninnovation = \"b\"\nmonth = 96\nunits = [{}]\n[params]\ntheta_lo = 0.4\ntheta_hi = 0.4\nambition_lo = 0.7\nambition_hi = 0.7\ng_p = 0.0\nb0 = -3.0\n{extra}\n",
            names.join(",")
        );
        let ran = run(&scenario(&toml));
        let mut rates = [Rate::default(); 2];
        for r in 0..ran.runs() {
            let log = replay(&ran, r);
            for e in log.events.iter().filter(|e| e.month == 96 && e.what.starts_with("pilot")) {
                let i = e.unit as usize;
                let g = ran.adopted(r, 0, i).is_some_and(|m| m < 96) as usize;
                rates[g].add(ran.adopted(r, 1, i).is_some_and(|m| m <= 120));
            }
        }
        (rates[1], rates[0], rates[1].z_vs(&rates[0]))
    };
    let (with, without, z) = shares("");
    eprintln!("P4: pilot counties adopting 1 by month 120: adopters of 0 {with}, others {without}, z {z:.2}");
    assert!(
        with.trials > 500,
        "enough adopters of innovation 0 among the pilot's counties: {with}"
    );
    assert!(z > 3.0, "adopters of 0 adopt 1 sooner: {with} vs {without} (z = {z:.2})");
    let (with0, without0, z0) = shares("b_l = 0.0\nbeta0 = 1.0");
    let (gap, gap0) = (with.p() - without.p(), with0.p() - without0.p());
    eprintln!("P4, feedback cut: adopters of 0 {with0}, others {without0}, z {z0:.2}");
    assert!(
        z0.abs() < 2.0 && gap0.abs() < gap / 2.0,
        "with the legitimacy feedback cut the gap goes: {with0} vs {without0} (z = {z0:.2}; with feedback {gap:.3})"
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
            .map(|r| pioneer::output::summarise(&ran.model, &ran.out, r)[0].clone())
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

/// Fact 7 (v2): P4 is self-reinforcing within one innovation. In a world of equal capacity and
/// resistance, each rung reached raises B and L by more than the next rung's hurdle rises, so the
/// success rate per attempt holds up or rises from rung 2 to the last rung; with the loop cut
/// (λ_B = λ = B_bonus = 0) it falls, and the share of adopters who complete the ladder falls
/// sharply.
#[test]
fn fact7_the_loop_reinforces_itself_within_one_innovation() {
    let world = "capacity = [0.6, 0.6]\n";
    let go = |extra: &str| {
        let ran = run(&scenario(&small_china(
            240,
            12,
            &format!("{world}[params]\nresistance_lo = 0.5\nresistance_hi = 0.5\n{extra}"),
        )));
        let mut by_rung = [Rate::default(); 5];
        for r in 0..ran.runs() {
            for a in attempts(&replay(&ran, r)) {
                by_rung[a.rung as usize].add(a.reached);
            }
        }
        (by_rung, ran.complete(0))
    };
    let (on, complete_on) = go("");
    let (cut, complete_cut) = go("lambda_b = 0.0\nlambda = 0.0\nb_bonus = 0.0");
    eprintln!(
        "fact 7: success per attempt by rung 1..4, loop on {} {} {} {}; cut {} {} {} {}",
        on[1], on[2], on[3], on[4], cut[1], cut[2], cut[3], cut[4]
    );
    eprintln!("fact 7: complete ladders among adopters: on {complete_on}, cut {complete_cut}");
    let slope = |r: &[Rate; 5]| (r[4].p() - r[2].p(), (r[4].se().powi(2) + r[2].se().powi(2)).sqrt());
    let ((s_on, se_on), (s_cut, se_cut)) = (slope(&on), slope(&cut));
    assert!(
        s_on > -se_on,
        "with the loop, the last rung succeeds at least as often as the second: {s_on:+.3} ± {se_on:.3}"
    );
    assert!(
        s_cut < -3.0 * se_cut,
        "with the loop cut, later rungs fail more: {s_cut:+.3} ± {se_cut:.3}"
    );
    assert!(
        (s_on - s_cut) > 3.0 * (se_on.powi(2) + se_cut.powi(2)).sqrt(),
        "reaching a rung raises the chance of the next only with the loop: {s_on:+.3} vs {s_cut:+.3}"
    );
    assert!(
        complete_cut.p() < complete_on.p() / 2.0 && complete_on.z_vs(&complete_cut) > 5.0,
        "cutting the loop halves the complete ladders at least: {complete_on} vs {complete_cut}"
    );
}

/// Fact 8 (v2): "without the upper level's support, not one step" (寸步難行): with b_B = 0, or with
/// β0 = 0 and λ_B = 0, adopters pile up on the first rung and fewer complete the ladder.
#[test]
fn fact8_without_upper_backing_adopters_stay_shallow() {
    let go = |extra: &str| {
        let ran = run(&scenario(&small_china(240, 8, &format!("[params]\n{extra}"))));
        let mut first = Rate::default();
        for r in 0..ran.runs() {
            for i in 0..ran.units() {
                let d = ran.depth(r, 0, i);
                if d >= 1 {
                    first.add(d == 1);
                }
            }
        }
        (first, ran.complete(0))
    };
    let (first, complete) = go("");
    eprintln!("fact 8: default: on rung 1 {first}, complete {complete}");
    for extra in ["b_b = 0.0", "beta0 = 0.0\nlambda_b = 0.0"] {
        let (f, c) = go(extra);
        eprintln!("fact 8: {}: on rung 1 {f}, complete {c}", extra.replace('\n', ", "));
        assert!(
            f.p() > first.p() + 0.08 && f.z_vs(&first) > 5.0,
            "{extra}: more adopters stay on the first rung: {f} vs {first}"
        );
        assert!(
            c.p() < complete.p() * 0.7 && complete.z_vs(&c) > 5.0,
            "{extra}: fewer complete the ladder: {c} vs {complete}"
        );
    }
}

/// Fact 9 (v2): publicity matters. Within the same runs, the adopters whose leader had high μ
/// (top third) complete the ladder and are recognised more often than those with low μ (bottom
/// third; μ is drawn independently of every other trait); μ = 0 for all lowers the share of
/// complete ladders.
#[test]
fn fact9_publicity_deepens_and_gets_recognised() {
    let ran = run(&scenario(&small_china(240, 12, "")));
    let mut adopters: Vec<(u32, usize, usize)> = Vec::new();
    for r in 0..ran.runs() {
        for i in 0..ran.units() {
            if ran.adopted(r, 0, i).is_some() && ran.route(r, 0, i) != route::SEEDED {
                adopters.push((ran.ad_publicity(r, 0, i), r, i));
            }
        }
    }
    adopters.sort_unstable();
    let third = adopters.len() / 3;
    let recognised: Vec<std::collections::HashSet<u32>> = (0..ran.runs())
        .map(|r| {
            replay(&ran, r)
                .events
                .iter()
                .filter(|e| e.what.starts_with("recognised") && e.k == 0)
                .map(|e| e.unit)
                .collect()
        })
        .collect();
    let rates = |group: &[(u32, usize, usize)]| {
        let (mut complete, mut rec) = (Rate::default(), Rate::default());
        for &(_, r, i) in group {
            complete.add(ran.depth(r, 0, i) == ran.rungs(0));
            rec.add(recognised[r].contains(&(i as u32)));
        }
        (complete, rec)
    };
    let (lo_c, lo_r) = rates(&adopters[..third]);
    let (hi_c, hi_r) = rates(&adopters[adopters.len() - third..]);
    eprintln!("fact 9: complete: high μ {hi_c}, low μ {lo_c}; recognised: high μ {hi_r}, low μ {lo_r}");
    assert!(hi_c.z_vs(&lo_c) > 3.0, "high-μ leaders complete more ladders: {hi_c} vs {lo_c}");
    assert!(hi_r.z_vs(&lo_r) > 3.0, "high-μ leaders are recognised more often: {hi_r} vs {lo_r}");
    let silent = run(&scenario(&small_china(240, 12, "[params]\nmu_lo = 0.0\nmu_hi = 0.0\n")));
    let (c, c0) = (ran.complete(0), silent.complete(0));
    eprintln!("fact 9: complete ladders, default {c}, μ = 0 {c0}");
    assert!(c.z_vs(&c0) > 3.0, "without publicity fewer ladders are complete: {c} vs {c0}");
}

/// Fact 10 (v2): resistance. With φ = 0.8 everywhere instead of 0.2, adopters end shallower and
/// the later rungs (3 and 4) succeed less often per attempt, while rung 1 ("先易后難": the easy
/// part first) succeeds as often.
#[test]
fn fact10_resistance_makes_the_later_rungs_hard() {
    let go = |phi: f64| {
        let ran = run(&scenario(&small_china(
            240,
            12,
            &format!("[params]\nresistance_lo = {phi}\nresistance_hi = {phi}\n"),
        )));
        let (mut first, mut late) = (Rate::default(), Rate::default());
        for r in 0..ran.runs() {
            for a in attempts(&replay(&ran, r)) {
                match a.rung {
                    1 => first.add(a.reached),
                    3 | 4 => late.add(a.reached),
                    _ => {}
                }
            }
        }
        (ran.mean_depth(0), first, late)
    };
    let ((d_lo, se_lo), first_lo, late_lo) = go(0.2);
    let ((d_hi, se_hi), first_hi, late_hi) = go(0.8);
    eprintln!(
        "fact 10: φ 0.2 vs 0.8: mean depth {d_lo:.3} vs {d_hi:.3}; rung 1 {first_lo} vs {first_hi}; rungs 3–4 {late_lo} vs {late_hi}"
    );
    assert!(
        d_lo - d_hi > 3.0 * (se_lo.powi(2) + se_hi.powi(2)).sqrt(),
        "resistant units end shallower"
    );
    assert!(late_lo.z_vs(&late_hi) > 3.0, "the later rungs fail more often under resistance");
    assert!(first_lo.z_vs(&first_hi).abs() < 2.0, "rung 1 is as easy either way");
}

/// Fact 11 (v2): demonstration. Among adopters who learned their design (inventors are the
/// earliest adopters and earn full novelty, so they are left out), those whose source had reached
/// depth 2 reach depth 2 within 24 months of adopting more often than those whose source had not;
/// with b_demo = 0 the difference all but goes.
#[test]
fn fact11_a_proven_path_is_climbed_sooner() {
    use pioneer::state::outcome;
    let go = |extra: &str| {
        let ran = run(&scenario(&small_china(240, 12, &format!("[params]\n{extra}"))));
        let mut g = [Rate::default(); 2];
        for r in 0..ran.runs() {
            for i in 0..ran.units() {
                let Some(m) = ran.adopted(r, 0, i) else { continue };
                if m > 216 || !(route::NEIGHBOUR..=route::LEADER).contains(&ran.route(r, 0, i)) {
                    continue;
                }
                let deep = outcome::src_depth(ran.ad_extra(r, 0, i)) >= 2;
                g[deep as usize].add(ran.rung_month(r, 0, i, 2).is_some_and(|t| t <= m + 24));
            }
        }
        (g[1], g[0])
    };
    let (deep, shallow) = go("");
    let (deep0, shallow0) = go("b_demo = 0.0");
    eprintln!("fact 11: depth 2 within 24 months: source deep {deep} vs shallow {shallow}; b_demo = 0: {deep0} vs {shallow0}");
    let (gap, gap0) = (deep.p() - shallow.p(), deep0.p() - shallow0.p());
    assert!(deep.z_vs(&shallow) > 3.0, "a proven path is climbed sooner: {deep} vs {shallow}");
    assert!(
        gap0 < gap / 3.0,
        "without demonstration the difference all but goes: {gap0:.3} vs {gap:.3}"
    );
}

/// MODEL.md §7's band for the china baseline (16 runs, medians): first adoptions within a few
/// years, half of all units in 8–12 years, near saturation by 20; with depth, a third to a half
/// of adopters stays on the first rung for five years or more, and a quarter to a third completes
/// the ladder.
#[test]
fn the_china_baseline_tells_a_plausible_story() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let sc = pioneer::scenario::Scenario::load(&path).expect("baseline loads");
    let ran = run(&sc);
    let sums: Vec<_> = (0..ran.runs())
        .map(|r| pioneer::output::summarise(&ran.model, &ran.out, r)[0].clone())
        .collect();
    let median = |f: &dyn Fn(&pioneer::output::Summary) -> f64| {
        let mut v: Vec<f64> = sums.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let never = ran.out.months as f64 + 1.0;
    let t10 = median(&|s| s.t10.map_or(never, |m| m as f64));
    let t50 = median(&|s| s.t50.map_or(never, |m| m as f64));
    let final_share = median(&|s| s.final_share);
    let complete = median(&|s| s.complete_share);
    // Adopters by month 180 (five years left to watch) still on rung 1 five years on.
    let mut stay = Rate::default();
    for r in 0..ran.runs() {
        for i in 0..ran.units() {
            if let Some(m) = ran.adopted(r, 0, i).filter(|m| (1..=180).contains(m)) {
                stay.add(ran.rung_month(r, 0, i, 2).is_none_or(|t| t >= m + 60));
            }
        }
    }
    eprintln!("baseline: t10 {t10}, t50 {t50}, final share {final_share:.3}, complete {complete:.3}, on rung 1 for 5 years {stay}");
    assert!(t10 <= 60.0, "first adoptions within a few years: 10 % by month {t10}");
    assert!((96.0..=144.0).contains(&t50), "half of all units in 8–12 years: month {t50}");
    assert!(final_share >= 0.95, "near saturation by 20 years: {final_share:.3}");
    assert!(
        (1.0 / 3.0..=0.55).contains(&stay.p()),
        "a third to a half stays on rung 1 for five years: {stay}"
    );
    assert!(
        (0.25..=0.34).contains(&complete),
        "a quarter to a third completes the ladder: {complete:.3}"
    );
}
