//! The classroom's protocol: what a socket may say (JSON text frames), and `apply`, the pure
//! function that answers one message against the game, tested without a socket.

use super::classroom::{Classroom, Refusal};
use crate::model::play::Lever;
use crate::model::trace::{Choice, Learn, Policy};
use serde::Deserialize;
use serde_json::{json, Value};

/// Largest message a client may send, in bytes.
pub const MAX_MESSAGE: usize = 4096;
/// Messages a client may send in a burst, and per second after it.
pub const BURST: f64 = 20.0;
pub const PER_SECOND: f64 = 10.0;
/// Fastest and slowest clock, in months per second.
pub const MAX_SPEED: f64 = 50.0;
pub const MIN_SPEED: f64 = 0.1;

/// What a client may say.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Msg {
    /// The teacher's page, with the token `pioneer serve` printed.
    Teacher {
        token: String,
    },
    /// A new student with the class code and a name (and a unit, if the teacher assigned one).
    Join {
        code: String,
        name: String,
        #[serde(default)]
        unit: Option<usize>,
    },
    /// A student coming back with their token: the same unit.
    Rejoin {
        token: String,
    },
    /// A student's policy: each choice `model`, `yes` or `no`; publicity `low`, `medium`, `high`
    /// or `model`.
    Choose {
        agenda: Choice,
        invent: Choice,
        /// Which kind of visible source to learn from (`model`: the best in sight).
        #[serde(default)]
        learn: Learn,
        push: Choice,
        publicity: String,
    },
    /// A teacher's lever by its log name (`space`, `signal`, `mandate`, `pilot`, `recognise`) and
    /// value (a share; `depth months`; unit numbers), pulled before the next month.
    Lever {
        lever: String,
        #[serde(default)]
        value: String,
    },
    /// The teacher moves a student to a free unit.
    Assign {
        student: u32,
        unit: usize,
    },
    /// The teacher's controls (empty structs, so that unknown fields are refused).
    Start {},
    Pause {},
    Step {},
    Speed {
        months_per_second: f64,
    },
    Reset {
        seed: u64,
    },
}

/// Who a socket speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Nobody,
    Teacher,
    Student(String),
}

/// The clock the teacher drives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    pub running: bool,
    pub months_per_second: f64,
}

/// The game and its clock, behind one lock.
pub struct Game {
    pub class: Classroom,
    pub clock: Clock,
    pub teacher_token: String,
}

/// What answering a message asks of the server besides the reply.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    Nothing,
    /// A month was stepped, or the class reset: every page is sent the new state.
    Broadcast,
}

/// The publicity levels a student picks from (the server never takes a client's number).
pub fn publicity(level: &str) -> Result<Option<u32>, Refusal> {
    crate::model::play::publicity_level(level).ok_or_else(|| Refusal(format!("publicity `{level}`: allowed model, low, medium or high")))
}

/// A new token: 128 bits from the OS, as hex.
pub fn token() -> String {
    let mut b = [0u8; 16];
    // Without the OS's randomness there is no safe token; the server cannot run.
    getrandom::fill(&mut b).expect("the OS gives random bytes");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Answer `msg` from a socket speaking for `role` (which a hello changes): the reply to send back,
/// and what else to do. A refusal is an error reply; the socket and the game go on.
pub fn apply(game: &mut Game, role: &mut Role, msg: Msg, new_token: impl FnOnce() -> String) -> Result<(Value, After), Refusal> {
    let teacher_only = |role: &Role| {
        if *role == Role::Teacher {
            Ok(())
        } else {
            Err(Refusal("only the teacher's page controls the class".into()))
        }
    };
    match msg {
        Msg::Teacher { token } => {
            if !super::access::same(&token, &game.teacher_token) {
                return Err(Refusal("wrong teacher token".into()));
            }
            *role = Role::Teacher;
            Ok((
                json!({"type": "hello", "role": "teacher", "code": game.class.code}),
                After::Broadcast,
            ))
        }
        Msg::Join { code, name, unit } => {
            if *role != Role::Nobody {
                return Err(Refusal("this page already speaks for someone".into()));
            }
            let s = game.class.join(&code, &name, unit, new_token())?;
            let reply = json!({"type": "joined", "token": s.token, "unit": s.unit, "name": s.name});
            *role = Role::Student(s.token.clone());
            Ok((reply, After::Broadcast))
        }
        Msg::Rejoin { token } => {
            let s = game.class.student(&token).ok_or_else(|| Refusal("unknown student token".into()))?;
            let reply = json!({"type": "joined", "token": s.token, "unit": s.unit, "name": s.name});
            *role = Role::Student(token);
            Ok((reply, After::Broadcast))
        }
        Msg::Choose {
            agenda,
            invent,
            learn,
            push,
            publicity: level,
        } => {
            let Role::Student(token) = role else {
                return Err(Refusal("join the class first".into()));
            };
            let policy = Policy {
                agenda,
                invent,
                learn,
                push,
                publicity: publicity(&level)?,
            };
            game.class.choose(token, policy)?;
            Ok((json!({"type": "chosen", "from_month": game.class.month + 1}), After::Nothing))
        }
        Msg::Lever { lever, value } => {
            teacher_only(role)?;
            let c = &mut game.class;
            let lever = Lever::parse(&lever, &value, c.model.world.len(), c.params.innov[0].rungs).map_err(Refusal)?;
            c.lever(lever)?;
            Ok((json!({"type": "lever", "from_month": c.month + 1}), After::Broadcast))
        }
        Msg::Assign { student, unit } => {
            teacher_only(role)?;
            game.class.assign(student, unit)?;
            Ok((json!({"type": "assigned", "student": student, "unit": unit}), After::Broadcast))
        }
        Msg::Start {} => {
            teacher_only(role)?;
            game.clock.running = true;
            Ok((json!({"type": "clock", "running": true}), After::Broadcast))
        }
        Msg::Pause {} => {
            teacher_only(role)?;
            game.clock.running = false;
            Ok((json!({"type": "clock", "running": false}), After::Broadcast))
        }
        Msg::Step {} => {
            teacher_only(role)?;
            let stepped = game.class.step();
            Ok((
                json!({"type": "stepped", "month": game.class.month}),
                if stepped { After::Broadcast } else { After::Nothing },
            ))
        }
        Msg::Speed { months_per_second } => {
            teacher_only(role)?;
            if !(MIN_SPEED..=MAX_SPEED).contains(&months_per_second) {
                return Err(Refusal(format!("speed: {MIN_SPEED} to {MAX_SPEED} months a second")));
            }
            game.clock.months_per_second = months_per_second;
            Ok((json!({"type": "clock", "months_per_second": months_per_second}), After::Broadcast))
        }
        Msg::Reset { seed } => {
            teacher_only(role)?;
            game.class.reset(seed);
            game.clock.running = false;
            Ok((json!({"type": "reset", "seed": seed}), After::Broadcast))
        }
    }
}

/// The teacher's view: the month, the clock, every unit (position, depth, adoption, student), the
/// curve, and the leaderboard of the tournament.
pub fn teacher_view(game: &Game) -> Value {
    let c = &game.class;
    let rho = crate::model::fixed::to_f64(c.params.rho);
    let w = &c.model.world;
    let units: Vec<Value> = (0..w.len())
        .map(|i| {
            let (m, d) = c.unit_depth(i);
            let student = c.students.iter().find(|s| s.unit == i).map(|s| s.name.clone());
            json!({"name": w.names[i], "x": w.x[i], "y": w.y[i], "level": w.level[i], "adopted": m, "depth": d, "student": student})
        })
        .collect();
    let mut board: Vec<(f64, usize)> = (0..w.len())
        .filter(|&i| w.level[i] == w.level.iter().copied().max().unwrap_or(0))
        .map(|i| (c.score(i), i))
        .collect();
    board.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let leaderboard: Vec<Value> = board
        .iter()
        .take(10)
        .map(|&(s, i)| {
            let student = c.students.iter().find(|st| st.unit == i).map(|st| st.name.clone());
            json!({"name": w.names[i], "score": s, "student": student, "depth": c.unit_depth(i).1})
        })
        .collect();
    json!({
        "type": "month",
        "month": c.month,
        "months": c.months(),
        "start_year": c.scenario.spec.start_year,
        "running": game.clock.running,
        "months_per_second": game.clock.months_per_second,
        "code": c.code,
        "seed": c.seed,
        "rungs": c.params.innov[0].rungs,
        "units": units,
        "curve": c.curve(0),
        "band": {"median": c.band.0, "lo": c.band.1, "hi": c.band.2},
        "events": c.events.iter().rev().take(8).collect::<Vec<_>>(),
        "leaderboard": leaderboard,
        "students": c.students.iter().map(|s| json!({"id": s.id, "name": s.name, "unit": s.unit, "unit_name": w.names[s.unit]})).collect::<Vec<_>>(),
        "decisions": c.log.decisions.len(),
        "levers": levers_view(c),
        "routes": routes_view(c),
        "rankings": c.rankings.iter().rev().take(8).map(|r| json!({"month": r.month, "name": r.name, "student": r.student, "promoted": r.promoted, "why": r.why(rho)})).collect::<Vec<_>>(),
        "promotions": c.rankings.iter().filter(|r| r.promoted).count(),
        "over": c.month >= c.months(),
    })
}

/// The routes of the adoptions so far (of the class's innovation): how many units got their
/// design each way.
fn routes_view(c: &Classroom) -> Value {
    use crate::state::route;
    let st = c.state();
    let mut counts = [0u32; route::COUNT];
    for i in 0..c.model.world.len() {
        if st.adopt_month[i] != crate::model::params::NEVER {
            counts[(st.route[i] as usize).min(route::COUNT - 1)] += 1;
        }
    }
    let routes: Vec<Value> = (1..route::COUNT)
        .filter(|&r| counts[r] > 0)
        .map(|r| json!({"route": route::NAMES[r], "units": counts[r]}))
        .collect();
    Value::Array(routes)
}

/// The levers in force and waiting: space and signal this month, the mandates and pilots of the
/// run (the scenario's and the teacher's), and what the next month will pull.
fn levers_view(c: &Classroom) -> Value {
    use crate::model::fixed::to_f64;
    let t = c.month.max(1);
    let p = &c.params;
    let mandates: Vec<Value> = p.mandates[..p.n_mandates as usize]
        .iter()
        .map(|m| json!({"from": m.start, "to": m.deadline, "depth": m.depth}))
        .collect();
    let pilots: Vec<Value> = p.pilots[..p.n_pilots as usize]
        .iter()
        .enumerate()
        .map(|(at, pl)| {
            let units = (0..c.model.world.len()).filter(|&u| c.model.pilot_mask[u] & (1 << at) != 0).count();
            json!({"month": pl.month, "units": units})
        })
        .collect();
    json!({
        "space": to_f64(p.space.at(t)),
        "signal": to_f64(p.innov[0].signal.at(t)),
        "mandates": mandates,
        "pilots": pilots,
        "pending": c.pending_levers().iter().map(|l| super::classroom::lever_text(l, &c.model.world.names)).collect::<Vec<_>>(),
    })
}

/// A student's view: the month and their unit's panel.
pub fn student_view(game: &Game, token: &str) -> Option<Value> {
    let s = game.class.student(token)?;
    // The student's story, newest first.
    let trace: Vec<String> = game
        .class
        .traces
        .iter()
        .rev()
        .filter(|l| l.student == s.id)
        .take(12)
        .map(|l| format!("month {}: {}", l.month, l.what))
        .collect();
    Some(json!({
        "type": "unit",
        "month": game.class.month,
        "months": game.class.months(),
        "running": game.clock.running,
        "student": s.name,
        "panel": game.class.unit_view(s.unit),
        "rankings": game.class.rankings.iter().filter(|r| r.unit == s.unit && r.student.as_deref() == Some(s.name.as_str())).map(|r| r.why(crate::model::fixed::to_f64(game.class.params.rho))).collect::<Vec<_>>(),
        "trace": trace,
    }))
}

/// A token bucket: `BURST` messages at once, `PER_SECOND` after.
pub struct RateLimit {
    tokens: f64,
    last: std::time::Instant,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            tokens: BURST,
            last: std::time::Instant::now(),
        }
    }
}

impl RateLimit {
    /// May one more message pass now?
    pub fn allow(&mut self) -> bool {
        let now = std::time::Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * PER_SECOND).min(BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn game() -> Game {
        let sc = Scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/classroom.toml"
        )))
        .expect("classroom");
        Game {
            class: Classroom::new(sc, 1, "ABCD".into()).expect("builds"),
            clock: Clock {
                running: false,
                months_per_second: 2.0,
            },
            teacher_token: "secret".into(),
        }
    }

    fn msg(text: &str) -> Msg {
        serde_json::from_str(text).expect(text)
    }

    #[test]
    fn roles_are_kept_apart() {
        let mut g = game();
        let mut anon = Role::Nobody;
        assert!(apply(&mut g, &mut anon, msg(r#"{"type":"step"}"#), || "x".into()).is_err());
        assert!(apply(&mut g, &mut anon, msg(r#"{"type":"teacher","token":"guess"}"#), || "x".into()).is_err());
        let mut teacher = Role::Nobody;
        apply(&mut g, &mut teacher, msg(r#"{"type":"teacher","token":"secret"}"#), || "x".into()).expect("teacher");
        let (_, after) = apply(&mut g, &mut teacher, msg(r#"{"type":"step"}"#), || "x".into()).expect("steps");
        assert_eq!((after, g.class.month), (After::Broadcast, 1));
        let mut ann = Role::Nobody;
        let (r, _) = apply(&mut g, &mut ann, msg(r#"{"type":"join","code":"ABCD","name":"Ann"}"#), || {
            "tokA".into()
        })
        .expect("joins");
        assert_eq!(r["token"], "tokA");
        assert!(
            apply(&mut g, &mut ann, msg(r#"{"type":"pause"}"#), || "x".into()).is_err(),
            "a student cannot pause"
        );
        assert!(
            apply(&mut g, &mut ann, msg(r#"{"type":"join","code":"ABCD","name":"Again"}"#), || "x"
                .into())
            .is_err()
        );
        let named = r#"{"type":"choose","agenda":"yes","invent":"model","learn":{"unit":3},"push":"no","publicity":"high"}"#;
        apply(&mut g, &mut ann, msg(named), || "x".into()).expect("chooses a unit to learn from");
        assert_eq!(g.class.pending_decision("tokA").map(|p| p.learn), Some(Learn::Unit(3)));
        assert!(
            apply(&mut g, &mut ann, msg(&named.replace(":3}", ":99999}")), || "x".into()).is_err(),
            "no such unit"
        );
        let choose = r#"{"type":"choose","agenda":"yes","invent":"model","push":"no","publicity":"high"}"#;
        apply(&mut g, &mut ann, msg(choose), || "x".into()).expect("chooses");
        assert!(
            apply(&mut g, &mut ann, msg(&choose.replace("high", "0.7")), || "x".into()).is_err(),
            "no numbers from clients"
        );
        apply(&mut g, &mut teacher, msg(r#"{"type":"step"}"#), || "x".into()).expect("steps");
        let unit = g.class.student("tokA").expect("ann").unit;
        assert_eq!(g.class.policy(unit).agenda, Choice::Yes);
        let mut again = Role::Nobody;
        let (r, _) = apply(&mut g, &mut again, msg(r#"{"type":"rejoin","token":"tokA"}"#), || "x".into()).expect("rejoins");
        assert_eq!(r["unit"], unit);
        assert!(serde_json::from_str::<Msg>(r#"{"type":"step","extra":1}"#).is_err());
        assert!(
            apply(&mut g, &mut teacher, msg(r#"{"type":"speed","months_per_second":1e9}"#), || "x"
                .into())
            .is_err()
        );
        assert_eq!(teacher_view(&g)["units"].as_array().map(Vec::len), Some(39));
        assert_eq!(student_view(&g, "tokA").expect("view")["panel"]["unit"], unit);
    }

    #[test]
    fn the_teachers_view_counts_every_adopter_by_its_route() {
        let mut g = game();
        while g.class.step() {}
        let v = teacher_view(&g);
        let routes = v["routes"].as_array().expect("routes");
        let sum: u64 = routes.iter().map(|r| r["units"].as_u64().expect("count")).sum();
        let adopters = g.class.record(240)[crate::model::agg::ADOPTERS] as u64;
        assert!(adopters > 0);
        assert_eq!(sum, adopters);
        assert!(routes.iter().all(|r| r["route"] != "none"));
    }

    #[test]
    fn the_rate_limit_lets_a_burst_through_then_throttles() {
        let mut r = RateLimit::default();
        let passed = (0..100).filter(|_| r.allow()).count();
        assert!((20..=21).contains(&passed), "{passed}");
    }
}
