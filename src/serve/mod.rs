//! `pioneer serve`: the classroom, a live tournament in the browser where students play the units.
//! The game is `classroom`, the protocol `ws`; the server (axum, WebSockets) only schedules them.

pub mod access;
pub mod classroom;
pub mod debrief;
pub mod limits;
pub mod names;
pub mod save;
pub mod view;
pub mod ws;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use limits::Limits;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use ws::{After, Game, Msg, RateLimit, Role};

/// The pages, embedded: no CDN, nothing to install.
const STUDENT_PAGE: &str = include_str!("../../web/student.html");
const TEACHER_PAGE: &str = include_str!("../../web/teacher.html");
const STYLE: &str = include_str!("../../web/style.css");
const COMMON_JS: &str = include_str!("../../web/common.js");
const STUDENT_JS: &str = include_str!("../../web/student.js");
const TEACHER_JS: &str = include_str!("../../web/teacher.js");

/// What a page is told when the server stops (the close frame's reason, at most 123 bytes).
pub const STOPPED: &str = "the server stopped; the class is saved and goes on when it is back";

/// What every handler shares: the game behind one short lock, a channel that tells every socket
/// the state changed, and the log of refused messages.
pub struct Shared {
    pub game: Mutex<Game>,
    pub changed: broadcast::Sender<()>,
    pub refused: Mutex<Vec<String>>,
    /// What of the refusals stderr has been told (a flood is counted, not printed).
    said: Mutex<Said>,
    /// Where the debrief is written (`--out`).
    pub out: std::path::PathBuf,
    /// The bounds on clients, and what they hold now.
    pub limits: Limits,
    joins: Mutex<limits::JoinGate>,
    open: Arc<Mutex<limits::Open>>,
    /// The fingerprint of the class last saved (`save::FILE`), so that an unchanged class is
    /// not written again; held while writing.
    saved: Mutex<Option<u64>>,
    /// Set when the server stops: every socket is closed with a word to its page (the class is
    /// saved; the page retries until the server is back).
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    /// The server of `game`, its bounds sized from the class (`Limits::for_class`).
    pub fn new(game: Game, out: std::path::PathBuf) -> Arc<Shared> {
        let c = &game.class;
        let seats = (0..c.model.world.len()).filter(|&u| c.playable(u).is_ok()).count();
        let limits = Limits::for_class(seats.min(classroom::MAX_STUDENTS));
        Shared::with_limits(game, out, limits)
    }

    /// The server of `game` with `limits` of its own.
    pub fn with_limits(game: Game, out: std::path::PathBuf, limits: Limits) -> Arc<Shared> {
        let (changed, _) = broadcast::channel(64);
        Arc::new(Shared {
            game: Mutex::new(game),
            changed,
            refused: Mutex::new(Vec::new()),
            said: Mutex::new(Said::default()),
            out,
            limits,
            joins: Mutex::new(limits::JoinGate::default()),
            open: Arc::new(Mutex::new(limits::Open::default())),
            saved: Mutex::new(None),
            stopping: tokio::sync::watch::Sender::new(false),
        })
    }

    /// Save the class into its folder if it changed since the last save (the game's lock is
    /// held only to copy it): whether it was written.
    pub fn save_now(&self) -> crate::error::Result<bool> {
        // Held first, so that two saves (the second's and the last at the end) write in turn,
        // the later snapshot last.
        let mut last = self.saved.lock().unwrap_or_else(|e| e.into_inner());
        let saved = save::snapshot(&self.game());
        let text = save::text(&saved);
        let mut h = crate::experiment::Fnv::default();
        h.add(text.as_bytes());
        if *last == Some(h.0) {
            return Ok(false);
        }
        save::write(&text, &self.out)?;
        *last = Some(h.0);
        Ok(true)
    }

    /// Where the debrief is written: `debrief/` in the class's folder.
    pub fn debrief_dir(&self) -> std::path::PathBuf {
        self.out.join("debrief")
    }

    /// May a client at `ip` try to join now (`limits::JoinGate`)?
    fn may_join(&self, ip: std::net::IpAddr) -> Result<(), String> {
        let mut g = self.joins.lock().unwrap_or_else(|e| e.into_inner());
        g.attempt(ip, std::time::Instant::now(), &self.limits)
    }

    /// The join just tried had a wrong code.
    fn wrong_code(&self) {
        let mut g = self.joins.lock().unwrap_or_else(|e| e.into_inner());
        g.wrong(std::time::Instant::now(), &self.limits);
    }

    /// Connections open now (page loads and sockets).
    pub fn connections(&self) -> usize {
        limits::Open::count(&self.open)
    }

    /// The game, even if a handler panicked while holding it (its state is whole between
    /// messages).
    pub fn game(&self) -> std::sync::MutexGuard<'_, Game> {
        self.game.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refuse(&self, who: &str, why: &str) {
        let line = format!("{who}: {why}");
        let print = self
            .said
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .note(std::time::Instant::now(), &line);
        if let Some(text) = print {
            eprintln!("{text}");
        }
        let mut log = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() < 10_000 {
            log.push(line);
        }
    }
}

/// The refusals said on the server's stderr: the first of each second in full, the rest as one
/// count, so that a flood of bad messages prints a line or two a second, not a line each.
#[derive(Debug, Default)]
pub struct Said {
    since: Option<std::time::Instant>,
    counted: u64,
    latest: String,
}

impl Said {
    const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

    /// A refusal `line` at `now`: the text to print now, if any.
    pub fn note(&mut self, now: std::time::Instant, line: &str) -> Option<String> {
        if self.since.is_some_and(|t| now.duration_since(t) < Self::SECOND) {
            self.counted += 1;
            line.clone_into(&mut self.latest);
            return None;
        }
        let before = self.summary();
        self.since = Some(now);
        Some(before.map_or(String::new(), |b| b + "\n") + "pioneer serve: refused " + line)
    }

    /// The count of refusals not yet printed, once their second is over (the clock asks).
    pub fn flush(&mut self, now: std::time::Instant) -> Option<String> {
        if self.since.is_some_and(|t| now.duration_since(t) >= Self::SECOND) {
            self.since = None;
            return self.summary();
        }
        None
    }

    fn summary(&mut self) -> Option<String> {
        let n = std::mem::take(&mut self.counted);
        (n > 0).then(|| format!("pioneer serve: refused {n} more messages in a second (the latest: {})", self.latest))
    }
}

/// The routes: the student's page at `/`, the teacher's at `/teacher`, their assets, and the
/// socket at `/ws` (`access::PUBLIC`); the rest, the teacher's (`access::guard`).
pub fn router(shared: Arc<Shared>) -> Router {
    let asset = |body: &'static str, kind: &'static str| move || async move { ([(header::CONTENT_TYPE, kind)], body) };
    Router::new()
        .route("/", get(|| async { Html(STUDENT_PAGE) }))
        .route("/teacher", get(teacher_page))
        .route("/projector", get(|| async { Html(TEACHER_PAGE) }))
        .route("/join.svg", get(join_qr))
        .route("/style.css", get(asset(STYLE, "text/css")))
        .route("/common.js", get(asset(COMMON_JS, "text/javascript")))
        .route("/student.js", get(asset(STUDENT_JS, "text/javascript")))
        .route("/teacher.js", get(asset(TEACHER_JS, "text/javascript")))
        .route("/log.csv", get(decision_log))
        .route("/debrief/", get(debrief_index))
        .route("/debrief/{file}", get(debrief_file))
        .route("/ws", get(socket))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), access::guard))
        .with_state(shared)
}

/// The teacher's page. Asked for with `?token=` (the address `pioneer serve` prints), it keeps the
/// token in a cookie and sends the browser to `/teacher`, so the address bar, and a projected
/// page, show no secret; a wrong token is refused.
async fn teacher_page(State(shared): State<Arc<Shared>>, uri: axum::http::Uri) -> axum::response::Response {
    let Some(given) = access::query_token(&uri) else {
        return Html(TEACHER_PAGE).into_response();
    };
    let hash = shared.game().teacher_hash.clone();
    if !access::same(&access::digest(&given), &hash) {
        return refused(
            StatusCode::FORBIDDEN,
            "wrong teacher token: use the address `pioneer serve` printed".into(),
        )
        .into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/teacher".to_string()),
            (header::SET_COOKIE, access::set_cookie(&given)),
        ],
    )
        .into_response()
}

/// The join address as a QR code: the first of the machine's addresses, with the class's code, so
/// a phone's camera opens the student's page with the code filled in.
async fn join_qr(State(shared): State<Arc<Shared>>) -> Result<Page, Page> {
    let url = {
        let g = shared.game();
        format!("{}?code={}", g.join.first().map_or("/", String::as_str), g.class.code)
    };
    let code = qrcode::QrCode::new(url.as_bytes())
        .map_err(|e| refused(StatusCode::INTERNAL_SERVER_ERROR, format!("no QR code for {url}: {e}")))?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build();
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "image/svg+xml")], svg.into_bytes()))
}

/// The decision log as CSV: what `pioneer run SCENARIO --replicates 1 --seed S --decisions
/// decisions.csv` replays into the class's run.
async fn decision_log(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/csv")], shared.game().class.log_csv())
}

type Page = (StatusCode, [(header::HeaderName, &'static str); 1], Vec<u8>);

fn refused(code: StatusCode, why: String) -> Page {
    (code, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], why.into_bytes())
}

/// Write the debrief folder from the class as it stands (the guard let only the teacher here):
/// off the async threads.
async fn write_debrief(shared: &Arc<Shared>) -> Result<u32, Page> {
    let s = shared.clone();
    tokio::task::spawn_blocking(move || {
        let g = s.game();
        debrief::write(&g.class, &s.debrief_dir()).map_err(|e| refused(StatusCode::CONFLICT, e.to_string()))?;
        Ok(g.class.month)
    })
    .await
    .unwrap_or_else(|e| Err(refused(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())))
}

/// The debrief, written now into `--out`, and its files to download.
async fn debrief_index(State(shared): State<Arc<Shared>>) -> Result<Html<String>, Page> {
    let month = write_debrief(&shared).await?;
    use crate::app::report::esc;
    let mut h = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>pioneer classroom: debrief</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body><header><h1>Debrief, month {month}</h1></header><main><section><p>Written to <code>{}</code> on the teacher's machine. <code>pioneer run SCENARIO --replicates 1 --seed S --decisions decisions.csv</code> replays the class.</p><ul>",
        esc(&shared.debrief_dir().display().to_string())
    );
    for (file, what) in debrief::FILES {
        h.push_str(&format!("<li><a href=\"/debrief/{file}\" download>{file}</a>: {what}</li>"));
    }
    h.push_str("</ul><p><a id=\"report\" href=\"/debrief/report.html\">Open the report</a></p></section></main></body></html>");
    Ok(Html(h))
}

/// One file of the debrief folder (written first if it is not there yet).
async fn debrief_file(State(shared): State<Arc<Shared>>, UrlPath(file): UrlPath<String>) -> Result<Page, Page> {
    let Some((name, _)) = debrief::FILES.iter().find(|(f, _)| *f == file) else {
        return Err(refused(StatusCode::NOT_FOUND, format!("no {file} in a debrief")));
    };
    let path = shared.debrief_dir().join(name);
    if !path.exists() {
        write_debrief(&shared).await?;
    }
    let body = std::fs::read(&path).map_err(|e| refused(StatusCode::NOT_FOUND, format!("{}: {e}", path.display())))?;
    let kind = match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("png") => "image/png",
        _ => "text/csv; charset=utf-8",
    };
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, kind)], body))
}

async fn socket(
    ws: WebSocketUpgrade,
    headers: axum::http::HeaderMap,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    State(shared): State<Arc<Shared>>,
) -> impl IntoResponse {
    let cookie = access::cookie_token(&headers);
    ws.max_message_size(ws::MAX_MESSAGE)
        .max_frame_size(ws::MAX_MESSAGE)
        .on_upgrade(move |s| talk(s, shared, cookie, peer.ip()))
}

/// One socket: a task sends the state whenever it changes, the other reads messages; the first to
/// end stops the other. `cookie` is the teacher's cookie the page's upgrade carried: a teacher's
/// hello without a token is checked with it; `ip`, the client's address, bounds its joins.
async fn talk(socket: WebSocket, shared: Arc<Shared>, cookie: Option<String>, ip: std::net::IpAddr) {
    let (mut tx, mut rx) = socket.split();
    let role = Arc::new(Mutex::new(Role::Nobody));
    let (reply_tx, mut reply_rx) = tokio::sync::mpsc::channel::<String>(32);
    let mut changed = shared.changed.subscribe();
    let mut stopping = shared.stopping.subscribe();
    let sender = {
        let (shared, role) = (shared.clone(), role.clone());
        tokio::spawn(async move {
            // The resets whose world this page was sent (a teacher's page is sent it once, and
            // again after each reset).
            let mut world_of: Option<u32> = None;
            // A ping every third of the idle time: a live page answers, a dead one is closed.
            let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + shared.limits.idle / 3, shared.limits.idle / 3);
            loop {
                // Replies first: a page hears "hello" or "joined" before the views that follow.
                let texts = tokio::select! {
                    biased;
                    r = reply_rx.recv() => match r { Some(t) => vec![Message::Text(t.into())], None => break },
                    _ = ping.tick() => vec![Message::Ping(Default::default())],
                    // The server stops: "going away", and why, so the page says it and retries.
                    _ = stopping.changed() => {
                        let frame = axum::extract::ws::CloseFrame { code: 1001, reason: STOPPED.into() };
                        let _ = tx.send(Message::Close(Some(frame))).await;
                        break;
                    }
                    c = changed.recv() => match c {
                        Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {
                            let who = role.lock().unwrap_or_else(|e| e.into_inner()).clone();
                            let g = shared.game();
                            // Built under the game's lock, written out after it (other sockets' views, and the
                            // clock, need the lock meanwhile).
                            let views: Vec<serde_json::Value> = match who {
                                Role::Teacher if world_of != Some(g.resets) => {
                                    world_of = Some(g.resets);
                                    vec![ws::world_view(&g), ws::teacher_view(&g)]
                                }
                                Role::Teacher => vec![ws::teacher_view(&g)],
                                Role::Student(t) => match ws::student_view(&g, &t) {
                                    Some(v) => vec![v],
                                    // Removed by the teacher (or cleared by a reset): told once.
                                    None => {
                                        *role.lock().unwrap_or_else(|e| e.into_inner()) = Role::Nobody;
                                        vec![serde_json::json!({"type": "removed", "message": "the teacher removed you from the class"})]
                                    }
                                },
                                Role::Nobody => continue,
                            };
                            drop(g);
                            views.into_iter().map(|v| Message::Text(v.to_string().into())).collect()
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                };
                for m in texts {
                    if tx.send(m).await.is_err() {
                        return;
                    }
                }
            }
        })
    };
    let receiver = {
        let (shared, role) = (shared.clone(), role.clone());
        tokio::spawn(async move {
            let mut limit = RateLimit::default();
            // Choices have a bound of their own, above one a month at the fastest clock; one past
            // it waits, replaced by any later one, until the bound lets it through: a student
            // who decides every month is never refused, and a flood of choices is cut to the
            // latest.
            let mut choices = RateLimit::for_choices();
            let mut waiting: Option<Msg> = None;
            loop {
                let msg = tokio::select! {
                    // A socket silent past the idle time (not even a pong) is closed.
                    got = tokio::time::timeout(shared.limits.idle, rx.next()) => {
                        let Ok(Some(Ok(m))) = got else { break };
                        let text = match m {
                            Message::Text(t) => t.to_string(),
                            Message::Close(_) => break,
                            Message::Binary(_) => "\u{0}binary".to_string(),
                            _ => continue,
                        };
                        match serde_json::from_str::<Msg>(&text) {
                            Ok(m @ Msg::Choose { .. }) if choices.allow() => Ok(m),
                            Ok(m @ Msg::Choose { .. }) => {
                                waiting = Some(m);
                                continue;
                            }
                            _ if !limit.allow() => Err("too many messages: at most 10 a second".to_string()),
                            Ok(m) => Ok(m),
                            Err(e) => Err(format!("not a message of this class: {e}")),
                        }
                    }
                    _ = tokio::time::sleep(choices.wait()), if waiting.is_some() => match waiting.take() {
                        Some(m) if choices.allow() => Ok(m),
                        m => {
                            waiting = m;
                            continue;
                        }
                    },
                };
                let who = format!("{:?}", role.lock().unwrap_or_else(|e| e.into_inner()));
                let answer = msg.and_then(|m| answer(&shared, &role, cookie.as_deref(), ip, m));
                let (reply, after) = match answer {
                    Ok((v, after)) => (v.to_string(), after),
                    Err(why) => {
                        shared.refuse(&who, &why);
                        (serde_json::json!({"type": "error", "message": why}).to_string(), After::Nothing)
                    }
                };
                if reply_tx.send(reply).await.is_err() {
                    break;
                }
                if let After::Archive { name, csv } = &after {
                    archive(&shared, name, csv).await;
                }
                if after != After::Nothing {
                    let _ = shared.changed.send(());
                }
            }
        })
    };
    // The first task to end stops the other.
    let (mut sender, mut receiver) = (sender, receiver);
    tokio::select! {
        _ = &mut sender => receiver.abort(),
        _ = &mut receiver => sender.abort(),
    }
    // A student's page closed: their presence says so (and, in time, away).
    let mut r = role.lock().unwrap_or_else(|e| e.into_inner()).clone();
    shared.game().speak_for(&mut r, Role::Nobody);
    let _ = shared.changed.send(());
}

/// Answer one message of the socket speaking for `role`, from `ip`, whose upgrade carried the
/// teacher's `cookie` (a teacher's hello without a token is checked with it); joins pass the
/// gate first.
fn answer(
    shared: &Shared,
    role: &Mutex<Role>,
    cookie: Option<&str>,
    ip: std::net::IpAddr,
    mut msg: Msg,
) -> Result<(serde_json::Value, After), String> {
    if let (Msg::Teacher { token }, Some(c)) = (&mut msg, cookie) {
        if token.is_empty() {
            c.clone_into(token);
        }
    }
    let joining = matches!(msg, Msg::Join { .. });
    if joining {
        shared.may_join(ip)?;
    }
    let mut r = role.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let out = {
        let mut g = shared.game();
        ws::apply(&mut g, &mut r, msg, ws::token)
    };
    *role.lock().unwrap_or_else(|e| e.into_inner()) = r;
    if joining && out.as_ref().is_err_and(|e| e.0 == classroom::WRONG_CODE) {
        shared.wrong_code();
    }
    out.map_err(|e| e.0)
}

/// Keep a reset's old log as `name` in the class's folder (written whole, then renamed in).
async fn archive(shared: &Arc<Shared>, name: &str, csv: &str) {
    let path = shared.out.join(name);
    let csv = csv.to_string();
    let written = tokio::task::spawn_blocking(move || -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        crate::output::write_atomic(&path, csv.as_bytes()).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    if let Err(e) = written {
        eprintln!("pioneer serve: the old log was not archived as {name}: {e}");
    }
}

/// The clock: while running, a month every 1/speed seconds (a tokio interval, so stepping time
/// does not slow it), stepped off the async threads.
pub async fn clock(shared: Arc<Shared>) {
    let period = |speed: f64| std::time::Duration::from_secs_f64(1.0 / speed.clamp(ws::MIN_SPEED, ws::MAX_SPEED));
    let mut speed = shared.game().clock.months_per_second;
    let mut ticks = tokio::time::interval(period(speed));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        ticks.tick().await;
        let counted = shared
            .said
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush(std::time::Instant::now());
        if let Some(text) = counted {
            eprintln!("{text}");
        }
        let (running, now) = {
            let g = shared.game();
            (g.clock.running, g.clock.months_per_second)
        };
        if now != speed {
            speed = now;
            ticks = tokio::time::interval_at(tokio::time::Instant::now() + period(speed), period(speed));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        }
        if !running {
            continue;
        }
        let s = shared.clone();
        let stepped = tokio::task::spawn_blocking(move || {
            let mut g = s.game();
            // Paused since the tick: no month.
            if !g.clock.running {
                return false;
            }
            let stepped = g.class.step();
            if !stepped {
                g.clock.running = false;
            }
            true
        })
        .await
        .unwrap_or(false);
        if stepped {
            let _ = shared.changed.send(());
        }
    }
}

/// Save the class every second it changed (off the async threads); a failure is said on stderr
/// once a minute at most, and the class goes on.
async fn keep_saved(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut said: Option<std::time::Instant> = None;
    loop {
        every.tick().await;
        let s = shared.clone();
        let r = tokio::task::spawn_blocking(move || s.save_now()).await;
        if let Ok(Err(e)) = r {
            if said.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(60)) {
                eprintln!("pioneer serve: the class could not be saved: {e}");
                said = Some(std::time::Instant::now());
            }
        }
    }
}

/// Raise this process's limit of open files to its hard limit (each student is a socket: a class
/// of 200 under a soft limit of 1,024 leaves little for anything else), and say the limits after:
/// (soft, hard). Where the system has no such limit, both are `u64::MAX`.
pub fn raise_file_limit() -> std::io::Result<(u64, u64)> {
    rlimit::increase_nofile_limit(u64::MAX)?;
    if rlimit::Resource::NOFILE.is_supported() {
        rlimit::Resource::NOFILE.get()
    } else {
        Ok((u64::MAX, u64::MAX))
    }
}

/// Serve `shared` on `listener` until `stop` resolves: each connection in a slot of its own
/// (`limits::Open`, refused when the class's bound or its address's is reached), its headers
/// within `header_timeout`, its client's address known to the handlers (`ConnectInfo`).
pub async fn run(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use tower_service::Service;
    let ticking = tokio::spawn(clock(shared.clone()));
    let saving = tokio::spawn(keep_saved(shared.clone()));
    let app = router(shared.clone());
    let mut stop = std::pin::pin!(stop);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            got = listener.accept() => match got {
                Ok(c) => c,
                // Out of files or a client gone before it was accepted: the server goes on.
                Err(e) => {
                    shared.refuse("a connection", &format!("not accepted: {e}"));
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        while conns.try_join_next().is_some() {}
        let slot = match limits::Open::take(&shared.open, peer.ip(), &shared.limits) {
            Ok(slot) => slot,
            Err(why) => {
                shared.refuse(&peer.to_string(), &format!("connection closed: {why}"));
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let io = hyper_util::rt::TokioIo::new(limits::Counted { tcp, slot });
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            app.clone().call(req.map(axum::body::Body::new))
        });
        let header_timeout = shared.limits.header_timeout;
        conns.spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(io, service)
                .with_upgrades()
                .await;
        });
    }
    ticking.abort();
    saving.abort();
    // Every page is told, and its socket closed.
    shared.stopping.send_replace(true);
    // Page loads under way get a moment to finish; the sockets end with the process.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Said;

    #[test]
    fn the_file_limit_is_raised_to_the_hard_limit() {
        let (soft, hard) = super::raise_file_limit().expect("the limits");
        if hard != rlimit::INFINITY {
            assert_eq!(soft, hard, "the soft limit is raised to the hard one");
        }
        assert!(soft >= 256, "{soft}");
    }
    use std::time::{Duration, Instant};

    #[test]
    fn a_flood_of_refusals_prints_a_line_or_two_a_second() {
        let t0 = Instant::now();
        let mut said = Said::default();
        let mut printed = Vec::new();
        // 417,000 refusals over 18 s, as a flood did; the clock flushes every half second.
        for i in 0..417_000u64 {
            let now = t0 + Duration::from_micros(i * 18_000_000 / 417_000);
            printed.extend(said.note(now, &format!("socket: refusal {i}")));
            if i % 11_000 == 0 {
                printed.extend(said.flush(now));
            }
        }
        printed.extend(said.flush(t0 + Duration::from_secs(20)));
        let lines: Vec<&str> = printed.iter().flat_map(|p| p.lines()).collect();
        assert!(lines.len() <= 2 * 19, "{} lines", lines.len());
        // Nothing is lost: every refusal is printed or counted.
        let counted: u64 = lines
            .iter()
            .map(|l| {
                l.strip_prefix("pioneer serve: refused ")
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(1)
            })
            .sum();
        assert_eq!(counted, 417_000, "{lines:?}");
        assert!(lines[0].ends_with("refusal 0"), "the first is said in full: {}", lines[0]);
    }
}
