//! The classroom's protocol: what a socket may say (JSON text frames), and `apply`, the pure
//! function that answers one message against the game, tested without a socket.

use super::classroom::{Classroom, Refusal};
pub use super::view::{student_view, teacher_view, world_view};
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
    /// Start again with `seed`: the students keep their units or leave (`students`, required:
    /// the page asks the teacher first); the old log is archived.
    Reset {
        seed: u64,
        students: Keep,
    },
    /// No new joins (`true`) or joins again (`false`).
    Lock {
        locked: bool,
    },
    /// The teacher removes a student: the unit is free, the token joins no more.
    Remove {
        student: u32,
    },
}

/// What a reset does with the students.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    Keep,
    Clear,
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
    /// The SHA-256 of the teacher's token (`access::digest`): the token is not kept.
    pub teacher_hash: String,
    /// The addresses students type to join (this machine's network addresses).
    pub join: Vec<String>,
    /// Which students have a page open now, and since when those without one have been gone.
    pub presence: Presence,
    /// Resets so far: a page that was sent another world is sent the new one, and each reset's
    /// old log is archived under its number.
    pub resets: u32,
}

impl Game {
    pub fn new(class: Classroom, clock: Clock, teacher_token: &str) -> Game {
        Game {
            class,
            clock,
            teacher_hash: super::access::digest(teacher_token),
            join: Vec::new(),
            presence: Presence::default(),
            resets: 0,
        }
    }

    /// `role` now speaks for `new`: the students' presence follows.
    pub fn speak_for(&mut self, role: &mut Role, new: Role) {
        if *role == new {
            return;
        }
        let id = |r: &Role, c: &Classroom| match r {
            Role::Student(t) => c.student(t).map(|s| s.id),
            _ => None,
        };
        if let Some(old) = id(role, &self.class) {
            self.presence.closed(old, std::time::Instant::now());
        }
        if let Some(now) = id(&new, &self.class) {
            self.presence.opened(now);
        }
        *role = new;
    }
}

/// How long a student's unit shows as away once they have no page open.
pub const AWAY_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// Students' open pages: by student id, the pages open and when the last one closed; and when
/// the server started (a student who has had no page since counts as gone from then).
#[derive(Debug)]
pub struct Presence {
    pages: std::collections::HashMap<u32, (u32, Option<std::time::Instant>)>,
    pub since: std::time::Instant,
}

impl Default for Presence {
    fn default() -> Self {
        Presence {
            pages: Default::default(),
            since: std::time::Instant::now(),
        }
    }
}

impl Presence {
    pub fn opened(&mut self, id: u32) {
        let e = self.pages.entry(id).or_insert((0, None));
        e.0 += 1;
        e.1 = None;
    }

    pub fn closed(&mut self, id: u32, now: std::time::Instant) {
        if let Some(e) = self.pages.get_mut(&id) {
            e.0 = e.0.saturating_sub(1);
            if e.0 == 0 {
                e.1 = Some(now);
            }
        }
    }

    /// (online, away) of student `id` at `now`: away once no page has been open for
    /// `AWAY_AFTER` (a student who never had a page, after a resume, counts from `since`).
    pub fn status(&self, id: u32, now: std::time::Instant, since: std::time::Instant) -> (bool, bool) {
        match self.pages.get(&id) {
            Some((n, _)) if *n > 0 => (true, false),
            Some((_, Some(t))) => (false, now.duration_since(*t) >= AWAY_AFTER),
            _ => (false, now.duration_since(since) >= AWAY_AFTER),
        }
    }

    /// A removed student's pages are forgotten.
    pub fn forget(&mut self, id: u32) {
        self.pages.remove(&id);
    }
}

/// What answering a message asks of the server besides the reply.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    Nothing,
    /// A month was stepped, or the class reset: every page is sent the new state.
    Broadcast,
    /// The class was reset: keep its old log as `name` in the class's folder, then broadcast.
    Archive {
        name: String,
        csv: String,
    },
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
            if !super::access::same(&super::access::digest(&token), &game.teacher_hash) {
                return Err(Refusal("wrong teacher token".into()));
            }
            game.speak_for(role, Role::Teacher);
            Ok((
                json!({"type": "hello", "role": "teacher", "code": game.class.code, "join": game.join}),
                After::Broadcast,
            ))
        }
        Msg::Join { code, name, unit } => {
            if *role != Role::Nobody {
                return Err(Refusal("this page already speaks for someone".into()));
            }
            let token = new_token();
            let s = game.class.join(&code, &name, unit, &token)?;
            let reply = json!({"type": "joined", "token": token, "unit": s.unit, "name": s.name});
            game.speak_for(role, Role::Student(token));
            Ok((reply, After::Broadcast))
        }
        Msg::Rejoin { token } => {
            let s = game.class.student(&token).ok_or_else(|| Refusal("unknown student token".into()))?;
            let reply = json!({"type": "joined", "token": token, "unit": s.unit, "name": s.name});
            game.speak_for(role, Role::Student(token));
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
        Msg::Reset { seed, students } => {
            teacher_only(role)?;
            let csv = game.class.log_csv();
            game.resets += 1;
            let name = format!("decisions-before-reset-{}.csv", game.resets);
            game.class.reset(seed, students == Keep::Keep);
            game.clock.running = false;
            Ok((
                json!({"type": "reset", "seed": seed, "students": students, "archived": name}),
                After::Archive { name, csv },
            ))
        }
        Msg::Lock { locked } => {
            teacher_only(role)?;
            game.class.locked = locked;
            Ok((json!({"type": "locked", "locked": locked}), After::Broadcast))
        }
        Msg::Remove { student } => {
            teacher_only(role)?;
            let s = game.class.remove(student)?;
            game.presence.forget(s.id);
            Ok((json!({"type": "removed", "student": student}), After::Broadcast))
        }
    }
}

/// A token bucket: `BURST` messages at once, `PER_SECOND` after (or a bound of its own).
pub struct RateLimit {
    tokens: f64,
    last: std::time::Instant,
    burst: f64,
    per_second: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit::new(BURST, PER_SECOND)
    }
}

impl RateLimit {
    pub fn new(burst: f64, per_second: f64) -> RateLimit {
        RateLimit {
            tokens: burst,
            last: std::time::Instant::now(),
            burst,
            per_second,
        }
    }

    /// The bound on a student's choices: a fifth above one a month at the fastest clock.
    pub fn for_choices() -> RateLimit {
        RateLimit::new(2.0 * MAX_SPEED, 1.2 * MAX_SPEED)
    }

    /// May one more message pass now?
    pub fn allow(&mut self) -> bool {
        let now = std::time::Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.per_second).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until one more message may pass.
    pub fn wait(&self) -> std::time::Duration {
        let tokens = self.tokens + self.last.elapsed().as_secs_f64() * self.per_second;
        std::time::Duration::from_secs_f64((1.0 - tokens).max(0.0) / self.per_second)
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
        Game::new(
            Classroom::new(sc, 1, "ABCD".into()).expect("builds"),
            Clock {
                running: false,
                months_per_second: 2.0,
            },
            "secret",
        )
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
        assert_eq!(teacher_view(&g)["depth"].as_array().map(Vec::len), Some(39));
        assert_eq!(world_view(&g)["names"].as_array().map(Vec::len), Some(39));
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
    fn a_student_without_a_page_shows_as_away_after_two_minutes() {
        let t0 = std::time::Instant::now();
        let mut p = Presence {
            since: t0,
            ..Presence::default()
        };
        let min = |m: u64| t0 + std::time::Duration::from_secs(60 * m);
        assert_eq!(p.status(0, min(1), t0), (false, false), "not yet two minutes since the start");
        assert_eq!(p.status(0, min(3), t0), (false, true), "never came, after a resume");
        p.opened(1);
        p.opened(1);
        p.closed(1, min(1));
        assert_eq!(p.status(1, min(9), t0), (true, false), "one page still open");
        p.closed(1, min(10));
        assert_eq!(p.status(1, min(11), t0), (false, false));
        assert_eq!(p.status(1, min(12), t0), (false, true));
        p.opened(1);
        assert_eq!(p.status(1, min(13), t0), (true, false), "back");
    }

    #[test]
    fn the_rate_limit_lets_a_burst_through_then_throttles() {
        let mut r = RateLimit::default();
        let passed = (0..100).filter(|_| r.allow()).count();
        assert!((20..=21).contains(&passed), "{passed}");
    }
}
