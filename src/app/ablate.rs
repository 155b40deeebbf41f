//! `pioneer ablate`: switch each mechanism of the model off in turn (its parameter at the neutral
//! value) and show how the headline outcomes move against the default, with replicate errors. A
//! mechanism the model leaves off by default (`SWITCHED_ON`) is switched on instead.

use super::budget::{self, Footprint};
use super::run::{backend, run_chunked};
use super::{load_scenario, make_dir};
use crate::analysis::{self, Outcomes, OUTCOMES};
use crate::error::{Error, InputError, Result};
use crate::model::params::Params;
use crate::model::{rng, RunId};
use crate::output::{self, csv_field};
use crate::scenario::InnovSpec;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One mechanism of MODEL.md §4 and the parameter values that switch it off.
#[derive(Debug, Clone, Copy)]
pub struct Mechanism {
    pub name: &'static str,
    /// The step of MODEL.md §4 it belongs to and what it does, in a few words.
    pub what: &'static str,
    /// The parameter values that switch it off (for one of `SWITCHED_ON`, on): a `[params]`
    /// field, or `innovation.FIELD` for that field of every innovation.
    pub off: &'static [(&'static str, f64)],
}

/// Every mechanism that a parameter can switch off, in the order of MODEL.md §4.
pub const MECHANISMS: &[Mechanism] = &[
    Mechanism {
        name: "neighbour gap",
        what: "4: behind the neighbours",
        off: &[("w_h", 0.0)],
    },
    Mechanism {
        name: "expectations",
        what: "3: E pulled toward the neighbours and the exemplar",
        off: &[("eta_e", 0.0)],
    },
    Mechanism {
        name: "parent pull",
        what: "6: a parent's adoption raises U",
        off: &[("pi", 0.0)],
    },
    Mechanism {
        name: "firms' demand",
        what: "6: firms' complaints raise D",
        off: &[("gamma_d", 0.0)],
    },
    Mechanism {
        name: "the pitch's base",
        what: "6: backing won by the pitch beyond the record (β0)",
        off: &[("beta0", 0.0)],
    },
    Mechanism {
        name: "exemplar visible",
        what: "7: learning from the recognised exemplar",
        off: &[("nu", 0.0)],
    },
    Mechanism {
        name: "improvement",
        what: "7: learners improve what they copy",
        off: &[("delta_max", 0.0)],
    },
    Mechanism {
        name: "legitimacy in success",
        what: "8: L raises a rung's success",
        off: &[("b_l", 0.0)],
    },
    Mechanism {
        name: "backing in success",
        what: "8: B raises a rung's success",
        off: &[("b_b", 0.0)],
    },
    Mechanism {
        name: "resistance",
        what: "8: later rungs harder in proportion to φ",
        off: &[("b_phi", 0.0)],
    },
    Mechanism {
        name: "demonstration",
        what: "8: rungs the source reached are easier",
        off: &[("b_demo", 0.0)],
    },
    Mechanism {
        name: "failure penalty",
        what: "8: a failed rung costs L and B",
        off: &[("pen_fail", 0.0)],
    },
    Mechanism {
        name: "novelty among peers",
        what: "9: the first among peers earns most",
        off: &[("kappa", 0.0)],
    },
    Mechanism {
        name: "legitimacy from success",
        what: "9: each rung raises L",
        off: &[("lambda", 0.0)],
    },
    Mechanism {
        name: "legitimacy from support",
        what: "9: each rung raises L by λ_U·U",
        off: &[("lambda_u", 0.0)],
    },
    Mechanism {
        name: "backing from success",
        what: "9: each rung raises B (the loop)",
        off: &[("lambda_b", 0.0)],
    },
    Mechanism {
        name: "publicity",
        what: "9, 12: μ amplifies L, B and merit",
        off: &[("mu_lo", 0.0), ("mu_hi", 0.0)],
    },
    Mechanism {
        name: "expanding power",
        what: "9: a complete ladder raises capacity",
        off: &[("lambda_c", 0.0)],
    },
    Mechanism {
        name: "backing fades",
        what: "10: B fades without news",
        off: &[("eps_b", 0.0)],
    },
    Mechanism {
        name: "legitimacy fades",
        what: "10: L decays",
        off: &[("eps_l", 0.0)],
    },
    Mechanism {
        name: "performance drifts",
        what: "10: P drifts down to its floor",
        off: &[("eps_p", 0.0)],
    },
    Mechanism {
        name: "performance in the score",
        what: "11: promotion rewards P − P0",
        off: &[("w_p", 0.0)],
    },
    Mechanism {
        name: "credit in the score",
        what: "11: promotion rewards credit C",
        off: &[("w_c", 0.0)],
    },
    Mechanism {
        name: "legitimacy in the score",
        what: "11: promotion rewards L",
        off: &[("w_l", 0.0)],
    },
    Mechanism {
        name: "leader transfers",
        what: "11: newcomers carry their old post's designs",
        off: &[("p_transfer", 0.0)],
    },
    Mechanism {
        name: "newcomers drop processes",
        what: "11: a new leader may drop the process",
        off: &[("p_drop", 0.0)],
    },
    Mechanism {
        name: "backing lost with a leader",
        what: "11: a new leader loses part of B",
        off: &[("b_loss", 0.0)],
    },
    Mechanism {
        name: "recognition",
        what: "12: the centre names good practice",
        off: &[("recog_every", 0.0)],
    },
    Mechanism {
        name: "legitimacy from recognition",
        what: "12: recognition raises L",
        off: &[("l_bonus", 0.0)],
    },
    Mechanism {
        name: "backing from recognition",
        what: "12: recognition raises B",
        off: &[("b_bonus", 0.0)],
    },
    Mechanism {
        name: "signal from recognition",
        what: "12: recognition raises u_k",
        off: &[("u_boost", 0.0)],
    },
];

/// Mechanisms the model leaves off by default, so that switching them off moves nothing: their
/// rows switch them on instead, at the value given, and come after `MECHANISMS`.
pub const SWITCHED_ON: &[Mechanism] = &[Mechanism {
    name: "closed units (switched on)",
    what: "5: units that find no room for an innovation never take it up by their own need",
    off: &[("innovation.closed", 0.3)],
}];

/// Every row of the table: the mechanisms switched off, then those switched on.
fn all() -> impl Iterator<Item = &'static Mechanism> {
    MECHANISMS.iter().chain(SWITCHED_ON)
}

/// Whether `m` is one of `SWITCHED_ON`.
fn switched_on(m: &Mechanism) -> bool {
    SWITCHED_ON.iter().any(|s| s.name == m.name)
}

/// True if the mechanism is `o`, by its name or one of its parameters (an innovation field by
/// its own name: `closed` for `innovation.closed`).
fn named(m: &Mechanism, o: &str) -> bool {
    m.name == o || m.off.iter().any(|(p, _)| *p == o || p.strip_prefix("innovation.") == Some(o))
}

/// The innovation field a row may set, by name (only `closed` so far).
fn innovation_field<'a>(inn: &'a mut InnovSpec, field: &str) -> Option<&'a mut f64> {
    match field {
        "closed" => Some(&mut inn.closed),
        _ => None,
    }
}

/// Options of `pioneer ablate`.
#[derive(Debug, Clone, Default)]
pub struct AblateArgs {
    pub scenario: PathBuf,
    pub replicates: Option<u32>,
    pub seed: Option<u64>,
    pub months: Option<u32>,
    pub out: Option<PathBuf>,
    pub backend: String,
    pub threads: Option<usize>,
    /// Only these mechanisms (by name or by one of their parameters); all when empty.
    pub only: Vec<String>,
}

/// The mechanisms `only` picks (by name or parameter), in table order; all when it is empty.
pub fn pick(only: &[String]) -> Result<Vec<&'static Mechanism>> {
    if only.is_empty() {
        return Ok(all().collect());
    }
    for o in only {
        if !all().any(|m| named(m, o)) {
            let names: Vec<&str> = all().map(|m| m.name).collect();
            return Err(InputError::new(format!(
                "no mechanism `{o}`; give a name or one of its parameters: {}",
                names.join(", ")
            ))
            .field("--only")
            .into());
        }
    }
    Ok(all().filter(|m| only.iter().any(|o| named(m, o))).collect())
}

/// The change of one outcome when a mechanism is off: paired over replicates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub default: f64,
    pub ablated: f64,
    pub delta: f64,
    pub se: f64,
}

impl Change {
    /// A clear change: more than three replicate standard errors (any change when the runs
    /// agree exactly on every replicate).
    pub fn clear(&self) -> bool {
        if self.se > 0.0 {
            self.delta.abs() > 3.0 * self.se
        } else {
            self.delta != 0.0
        }
    }
}

/// One row of the table: a mechanism (or the default), an innovation, and every outcome.
#[derive(Debug, Clone)]
pub struct Row {
    pub mechanism: &'static str,
    pub setting: String,
    pub innovation: usize,
    /// `None` when the scenario already has the mechanism off (for one of `SWITCHED_ON`, on at
    /// this setting).
    pub changes: Option<Vec<Change>>,
    /// The row switches a mechanism on (`SWITCHED_ON`).
    pub on: bool,
}

/// What `pioneer ablate` produced.
pub struct Ablation {
    pub scenario: String,
    pub replicates: u32,
    pub innovations: Vec<String>,
    /// Mean outcomes of the default runs, per innovation.
    pub defaults: Vec<[f64; 8]>,
    pub rows: Vec<Row>,
    pub out_dir: PathBuf,
    pub backend: String,
    /// Mechanisms switched off (all, or those of `--only`).
    pub mechanisms: usize,
}

fn setting(m: &Mechanism) -> String {
    m.off.iter().map(|(p, v)| format!("{p} = {v}")).collect::<Vec<_>>().join(", ")
}

/// `pioneer ablate`.
pub fn ablate(a: &AblateArgs) -> Result<Ablation> {
    let sc = load_scenario(&a.scenario, a.replicates, a.seed, a.months)?;
    let mechanisms = pick(&a.only)?;
    let reps = sc.spec.replicates;
    if reps < 2 {
        return Err(InputError::new("an ablation needs at least 2 replicates for its errors")
            .field("--replicates")
            .into());
    }
    // Every run's end state is kept until the outcomes are read: at most one point per
    // mechanism besides the scenario's own, checked before anything is built.
    let fp = Footprint::of(&sc)?;
    let runs = (mechanisms.len() as u64 + 1) * reps as u64;
    let need = fp.run_bytes(runs, reps as u64, false);
    budget::check(&sc, &fp, "replicates", runs, need, budget::FEWER_RUNS)?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(format!("{}-ablation", sc.name())));
    make_dir(&out_dir)?;
    let (model, prm0) = sc.build()?;
    let n = model.world.len();
    // Points: 0 is the scenario as it is; then each mechanism whose setting changes it.
    let mut params: Vec<Params> = vec![prm0];
    let mut active: Vec<Option<usize>> = Vec::new();
    for m in &mechanisms {
        let mut spec = sc.spec.clone();
        let mut changed = false;
        for &(p, v) in m.off {
            match p.strip_prefix("innovation.") {
                Some(f) => {
                    for inn in &mut spec.innovation {
                        let slot =
                            innovation_field(inn, f).ok_or_else(|| Error::Backend(format!("ablation: no innovation field `{f}`")))?;
                        changed |= *slot != v;
                        *slot = v;
                    }
                }
                None => {
                    changed |= spec.params.get(p) != Some(v);
                    spec.params.set(p, v);
                }
            }
        }
        if changed {
            // The model is the base's: a mechanism's setting lives in the parameter block.
            let point = sc.with_spec(spec)?;
            params.push(point.params(&point.spec.params, n)?);
            active.push(Some(params.len() - 1));
        } else {
            active.push(None);
        }
    }
    // Common random numbers: replicate r of every point uses the same key, so the differences
    // are paired and show the mechanism, not the draw.
    let ids: Vec<RunId> = (0..params.len() as u32)
        .flat_map(|p| {
            (0..reps).map(move |r| RunId {
                point: p,
                replicate: r,
                key: rng::run_key(sc.spec.seed, 0, r),
            })
        })
        .collect();
    let be = backend(&a.backend, a.threads)?;
    let months = sc.spec.months;
    let out = run_chunked(be.as_ref(), &model, &params, &ids, months, reps as usize, &|_| {})?;
    let kn = out.state.innov;
    // outcome[point][innovation][replicate]
    let per_point: Vec<Vec<Vec<Outcomes>>> = (0..params.len())
        .map(|p| {
            let mut by_k = vec![Vec::new(); kn];
            for r in 0..reps as usize {
                let run = p * reps as usize + r;
                for (k, o) in analysis::outcomes(&model, &out, run, &params[p]).into_iter().enumerate() {
                    by_k[k].push(o);
                }
            }
            by_k
        })
        .collect();
    let column = |p: usize, k: usize, j: usize| -> Vec<f64> { per_point[p][k].iter().map(|o| o.values()[j]).collect() };
    let defaults: Vec<[f64; 8]> = (0..kn)
        .map(|k| {
            let mut v = [0.0; 8];
            for (j, slot) in v.iter_mut().enumerate() {
                *slot = analysis::mean(&column(0, k, j));
            }
            v
        })
        .collect();
    let mut rows = Vec::new();
    for (m, point) in mechanisms.iter().zip(&active) {
        for (k, def) in defaults.iter().enumerate() {
            let changes = point.map(|p| {
                (0..OUTCOMES.len())
                    .map(|j| {
                        let (d, se) = analysis::paired(&column(0, k, j), &column(p, k, j));
                        Change {
                            default: def[j],
                            ablated: analysis::mean(&column(p, k, j)),
                            delta: d,
                            se,
                        }
                    })
                    .collect()
            });
            rows.push(Row {
                mechanism: m.name,
                setting: setting(m),
                innovation: k,
                changes,
                on: switched_on(m),
            });
        }
    }
    let res = Ablation {
        scenario: sc.name(),
        replicates: reps,
        innovations: sc.spec.innovation.iter().map(|i| i.name.clone()).collect(),
        defaults,
        rows,
        out_dir,
        backend: be.describe(),
        mechanisms: mechanisms.len(),
    };
    output::write_atomic(&res.out_dir.join("ablation.csv"), csv(&res).as_bytes())?;
    output::write_atomic(&res.out_dir.join("ablation.md"), table(&res).as_bytes())?;
    let manifest = serde_json::json!({
        "pioneer": env!("CARGO_PKG_VERSION"),
        "commit": env!("PIONEER_GIT_HASH"),
        "command": "ablate",
        "scenario_file": sc.path.display().to_string(),
        "scenario": sc.spec,
        "seed": sc.spec.seed,
        "replicates": reps,
        "months": months,
        "backend": res.backend,
        "pairing": "replicate r of every point uses the key of (seed, point 0, replicate r)",
        "files": ["ablation.csv", "ablation.md"],
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Backend(format!("manifest: {e}")))?;
    output::write_atomic(&res.out_dir.join("manifest.json"), text.as_bytes())?;
    Ok(res)
}

/// ablation.csv: one row per mechanism, innovation and outcome.
pub fn csv(res: &Ablation) -> String {
    let mut s = String::from("mechanism,setting,innovation,outcome,default,ablated,delta,se,clear\n");
    for row in &res.rows {
        for (j, name) in OUTCOMES.iter().enumerate() {
            let _ = write!(
                s,
                "{},{},{},{name},",
                csv_field(row.mechanism),
                csv_field(&row.setting),
                row.innovation
            );
            match &row.changes {
                Some(c) => {
                    let c = c[j];
                    let _ = writeln!(
                        s,
                        "{:.6},{:.6},{:.6},{:.6},{}",
                        c.default,
                        c.ablated,
                        c.delta,
                        c.se,
                        c.clear() as u8
                    );
                }
                None => {
                    let _ = writeln!(s, "{:.6},,,,", res.defaults[row.innovation][j]);
                }
            }
        }
    }
    s
}

fn cell(c: &Change, j: usize) -> String {
    let digits = if OUTCOMES[j] == "t50" || OUTCOMES[j] == "recognitions" {
        1
    } else {
        3
    };
    let s = format!("{:+.*} ± {:.*}", digits, c.delta, digits, c.se);
    if c.clear() {
        format!("**{s}**")
    } else {
        s
    }
}

/// The table as Markdown: the default's means, then each mechanism's changes (bold: clear, more
/// than three standard errors of the paired replicate differences).
pub fn table(res: &Ablation) -> String {
    let mut s = String::new();
    let multi = res.innovations.len() > 1;
    let _ = write!(s, "| mechanism switched off | setting |");
    if multi {
        s.push_str(" innovation |");
    }
    for o in OUTCOMES {
        let _ = write!(s, " Δ {o} |");
    }
    s.push_str(" moves |\n|---|---|");
    if multi {
        s.push_str("---|");
    }
    s.push_str(&"---|".repeat(OUTCOMES.len()));
    s.push_str("---|\n");
    for (k, d) in res.defaults.iter().enumerate() {
        let _ = write!(s, "| (default: means) | |");
        if multi {
            let _ = write!(s, " {} |", res.innovations[k]);
        }
        for (j, v) in d.iter().enumerate() {
            let digits = if OUTCOMES[j] == "t50" || OUTCOMES[j] == "recognitions" {
                1
            } else {
                3
            };
            let _ = write!(s, " {v:.digits$} |");
        }
        s.push_str(" |\n");
    }
    for row in &res.rows {
        let _ = write!(s, "| {} | `{}` |", row.mechanism, row.setting);
        if multi {
            let _ = write!(s, " {} |", res.innovations[row.innovation]);
        }
        match &row.changes {
            Some(c) => {
                for (j, ch) in c.iter().enumerate() {
                    let _ = write!(s, " {} |", cell(ch, j));
                }
                let moved: Vec<&str> = c
                    .iter()
                    .enumerate()
                    .filter(|(_, ch)| ch.clear())
                    .map(|(j, _)| OUTCOMES[j])
                    .collect();
                let _ = writeln!(
                    s,
                    " {} |",
                    if moved.is_empty() {
                        "nothing clearly".to_string()
                    } else {
                        moved.join(", ")
                    }
                );
            }
            None => {
                s.push_str(&" |".repeat(OUTCOMES.len()));
                s.push_str(if row.on {
                    " already so in this scenario |\n"
                } else {
                    " already off in this scenario |\n"
                });
            }
        }
    }
    s
}

/// The text `pioneer ablate` prints.
pub fn describe(res: &Ablation) -> String {
    let inert: Vec<&str> = res
        .rows
        .iter()
        .filter(|r| r.changes.as_ref().is_some_and(|c| !c.iter().any(Change::clear)))
        .map(|r| r.mechanism)
        .collect();
    let mut s = format!(
        "{}: {} mechanisms switched off in turn, {} paired replicates each, on {}\n\n{}\n",
        res.scenario,
        res.mechanisms,
        res.replicates,
        res.backend,
        table(res)
    );
    if inert.is_empty() {
        s.push_str("every mechanism moved at least one outcome clearly (more than 3 standard errors)\n");
    } else {
        let _ = writeln!(s, "moved nothing clearly here: {}", inert.join(", "));
    }
    let _ = write!(s, "wrote {}", res.out_dir.display());
    s
}
