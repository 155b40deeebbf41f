//! The event log of a replayed run: every stage change with the values that decided it.
//! A `Tracer` with `ON = false` compiles away, so the batch path pays nothing for it.

use crate::state::stage;

/// One stage change (or leader / recognition event) of one unit in one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub month: u32,
    pub unit: u32,
    pub from: u32,
    pub to: u32,
    pub k: u32,
    /// Incentive I, gap g, threshold θ (Q16).
    pub incentive: u32,
    pub gap: u32,
    pub theta: u32,
    /// Upper signal U and demand D (Q16), when they decided.
    pub signal: u32,
    pub demand: u32,
    /// The probability of the decision (Q16), or the merit n·q for a recognition.
    pub prob: u32,
    /// Design source route (or the peer a new leader came from), its quality, the improvement.
    pub source: u32,
    pub source_q: u32,
    pub delta: u32,
    /// Candidate / adopted quality and variant.
    pub quality: u32,
    pub variant: u32,
    /// Legitimacy L after the event, and at the start of the month.
    pub legitimacy: u32,
    pub legitimacy_before: u32,
    /// (v2) The rung attempted or reached (for a need or an agenda: the rung it aims at; for a
    /// design: the depth its source had reached), its hurdle (signed Q16), resistance φ, upper
    /// backing B before and after, and the unit a learned design came from (NEVER: none).
    pub rung: u32,
    pub hurdle: i32,
    pub resistance: u32,
    pub backing_before: u32,
    pub backing: u32,
    pub source_unit: u32,
    /// At a ranking: the promotion score (signed Q16), its parts (performance gained, credit,
    /// legitimacy, each weighted), the peers scoring higher and the peer group's size.
    pub score: i32,
    pub parts: [i32; 3],
    pub higher: u32,
    pub peers: u32,
    pub what: &'static str,
}

impl Event {
    pub fn new(month: u32, unit: u32, from: u32, incentive: u32, gap: u32, theta: u32, legitimacy: u32) -> Self {
        Event {
            month,
            unit,
            from,
            to: from,
            k: 0,
            incentive,
            gap,
            theta,
            signal: 0,
            demand: 0,
            prob: 0,
            source: 0,
            source_q: 0,
            delta: 0,
            quality: 0,
            variant: 0,
            legitimacy,
            legitimacy_before: legitimacy,
            rung: 0,
            hurdle: 0,
            resistance: 0,
            backing_before: 0,
            backing: 0,
            source_unit: crate::model::params::NEVER,
            score: 0,
            parts: [0; 3],
            higher: 0,
            peers: 0,
            what: "",
        }
    }
    pub fn to(mut self, to: u32, what: &'static str) -> Self {
        self.to = to;
        self.what = what;
        self
    }
    pub fn from_name(&self) -> &'static str {
        stage::NAMES[self.from as usize]
    }
    pub fn to_name(&self) -> &'static str {
        stage::NAMES[self.to as usize]
    }
}

/// Receives events while a run is stepped, and may make a player's choices (the classroom): each
/// choice hook gets what the model drew and returns what happens. The tracers of batch runs keep
/// the model's draws, so their runs are the shaders' to the bit. The hooks answer without side
/// effects: the step does not ask them where no answer could change what happens (a design whose
/// draw completes neither a learned nor an invented design).
pub trait Tracer {
    /// False for the no-op tracer: event building is skipped at compile time.
    const ON: bool;
    fn event(&mut self, e: Event);
    /// Unit `i` in need: does the agenda form (`drawn`: the model's draw)?
    #[inline(always)]
    fn agenda(&mut self, _i: usize, drawn: bool) -> bool {
        drawn
    }
    /// Unit `i` designing with a source in sight: invent its own design instead of learning?
    #[inline(always)]
    fn invent(&mut self, _i: usize) -> bool {
        false
    }
    /// Unit `i` designing with a source in sight: the kinds of source (a bit per route) and the
    /// unit (NEVER: any) to learn from; None: the model's best.
    #[inline(always)]
    fn learn(&mut self, _i: usize) -> Option<(u32, u32)> {
        None
    }
    /// Unit `i` reached a rung it was not required to pass: push on to the next (`drawn`)?
    #[inline(always)]
    fn push(&mut self, _i: usize, drawn: bool) -> bool {
        drawn
    }
}

/// A player's standing choice at one decision: the model's draw, always, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    #[default]
    Model,
    Yes,
    No,
}

impl Choice {
    fn or(self, drawn: bool) -> bool {
        match self {
            Choice::Model => drawn,
            Choice::Yes => true,
            Choice::No => false,
        }
    }
}

/// Which visible source a player learns from: the model's best, the best of one kind, or one
/// unit's design (the model's best when none such is in sight that month).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Learn {
    #[default]
    Model,
    Neighbour,
    Exemplar,
    Parent,
    Leader,
    /// This unit's design, when it is in sight as a neighbour's, the exemplar's or the parent's.
    Unit(u32),
}

impl Learn {
    /// The kinds of source (a bit per route) and the unit (NEVER: any) a pick allows; None for
    /// the model's pick.
    pub fn pick(self) -> Option<(u32, u32)> {
        use crate::model::params::NEVER;
        use crate::state::route;
        let bit = |r: u32| 1u32 << r;
        match self {
            Learn::Model => None,
            Learn::Neighbour => Some((bit(route::NEIGHBOUR), NEVER)),
            Learn::Exemplar => Some((bit(route::EXEMPLAR), NEVER)),
            Learn::Parent => Some((bit(route::PARENT), NEVER)),
            Learn::Leader => Some((bit(route::LEADER), NEVER)),
            Learn::Unit(u) => Some((bit(route::NEIGHBOUR) | bit(route::EXEMPLAR) | bit(route::PARENT), u)),
        }
    }

    /// Its name in the decision log: model, neighbour, exemplar, parent, leader or `unit:N`.
    pub fn name(self) -> String {
        match self {
            Learn::Model => "model".into(),
            Learn::Neighbour => "neighbour".into(),
            Learn::Exemplar => "exemplar".into(),
            Learn::Parent => "parent".into(),
            Learn::Leader => "leader".into(),
            Learn::Unit(u) => format!("unit:{u}"),
        }
    }

    pub fn from_name(s: &str) -> Option<Learn> {
        match s {
            "model" => Some(Learn::Model),
            "neighbour" => Some(Learn::Neighbour),
            "exemplar" => Some(Learn::Exemplar),
            "parent" => Some(Learn::Parent),
            "leader" => Some(Learn::Leader),
            _ => s.strip_prefix("unit:").and_then(|u| u.parse().ok()).map(Learn::Unit),
        }
    }
}

/// What a player has chosen for a unit: the agenda, inventing rather than learning, which kind
/// of source to learn from, pushing on to the next rung, and the publicity μ (Q16; None: the
/// leader's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    pub agenda: Choice,
    pub invent: Choice,
    #[serde(default)]
    pub learn: Learn,
    pub push: Choice,
    pub publicity: Option<u32>,
}

/// Steps a run with players' policies (`policy[i]`, one per unit) over another tracer.
pub struct Played<'a, T: Tracer> {
    pub inner: T,
    pub policy: &'a [Policy],
}

impl<T: Tracer> Tracer for Played<'_, T> {
    const ON: bool = T::ON;
    fn event(&mut self, e: Event) {
        self.inner.event(e);
    }
    fn agenda(&mut self, i: usize, drawn: bool) -> bool {
        self.policy[i].agenda.or(drawn)
    }
    fn invent(&mut self, i: usize) -> bool {
        self.policy[i].invent.or(false)
    }
    fn push(&mut self, i: usize, drawn: bool) -> bool {
        self.policy[i].push.or(drawn)
    }
    fn learn(&mut self, i: usize) -> Option<(u32, u32)> {
        self.policy[i].learn.pick()
    }
}

/// The tracer of batch runs: records nothing.
pub struct NoTrace;

impl Tracer for NoTrace {
    const ON: bool = false;
    #[inline(always)]
    fn event(&mut self, _e: Event) {}
}

/// Collects every event in order.
#[derive(Default)]
pub struct EventLog {
    pub events: Vec<Event>,
}

impl Tracer for EventLog {
    const ON: bool = true;
    fn event(&mut self, e: Event) {
        self.events.push(e);
    }
}

/// Unit `i`'s incentive I and gap g at the end of a month, as the rules compute them from its
/// state then: what a replay reads beside the events (the trace chart, the event-history panel).
pub fn incentive_and_gap(m: &super::Model, prm: &super::params::Params, run: &crate::state::RunMut, i: usize) -> (u32, u32) {
    incentive_and_gap_of(m, prm, [run.p, run.e, run.ambition, run.age], i)
}

/// `incentive_and_gap` from one run's performance, expectation, ambition and age arrays.
pub fn incentive_and_gap_of(m: &super::Model, prm: &super::params::Params, [p, e, ambition, age]: [&[u32]; 4], i: usize) -> (u32, u32) {
    let nbr = super::rules::neighbour_mean(m, p, i);
    (
        super::rules::incentive(prm, super::rules::age_span(prm), ambition[i], age[i]),
        super::rules::gap(prm, p[i], e[i], nbr),
    )
}
