//! `pioneer serve SCENARIO` (or `--resume DIR`): bind the classroom server, print the addresses,
//! the join code and the teacher's token, and serve until Ctrl-C or SIGTERM, the class saved.

use crate::app::load_scenario;
use crate::error::{Error, InputError, Result};
use crate::serve::classroom::Classroom;
use crate::serve::save;
use crate::serve::ws::{self, Clock, Game};
use std::path::PathBuf;

/// What `pioneer serve` is asked.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    /// A new class's scenario (`None` with `resume`).
    pub scenario: Option<PathBuf>,
    /// The folder of a saved class to continue.
    pub resume: Option<PathBuf>,
    /// With `resume`: give the teacher a new token.
    pub new_token: bool,
    pub port: u16,
    pub bind: String,
    /// Months a second (default `DEFAULT_SPEED`; a resumed class keeps its own).
    pub speed: Option<f64>,
    pub seed: Option<u64>,
    /// The class's folder (default `out/class-CODE`).
    pub out: Option<PathBuf>,
}

/// Months a second of a new class's clock.
pub const DEFAULT_SPEED: f64 = 2.0;

/// A short join code: five letters without look-alikes (24⁵ = 7,962,624 codes).
fn join_code() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    let t = ws::token();
    t.as_bytes()
        .chunks(2)
        .take(5)
        .map(|h| LETTERS[u8::from_str_radix(std::str::from_utf8(h).unwrap_or("0"), 16).unwrap_or(0) as usize % LETTERS.len()] as char)
        .collect()
}

/// The addresses students type: for a server bound to every interface, this machine's network
/// addresses (IPv4 first, loopback only when there is no other); else the one it is bound to.
pub fn join_addresses(bind: &str, port: u16) -> Vec<String> {
    let url = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V6(v6) => format!("http://[{v6}]:{port}/"),
        v4 => format!("http://{v4}:{port}/"),
    };
    let any = matches!(bind, "0.0.0.0" | "::" | "[::]");
    let mut ips: Vec<std::net::IpAddr> = match (any, bind.parse::<std::net::IpAddr>()) {
        (false, Ok(ip)) => vec![ip],
        (false, Err(_)) => return vec![format!("http://{bind}:{port}/")],
        (true, _) => if_addrs::get_if_addrs()
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.ip())
            .filter(|ip| !ip.is_loopback() && !matches!(ip, std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80))
            .collect(),
    };
    ips.sort_by_key(|ip| (ip.is_ipv6(), *ip));
    ips.dedup();
    if ips.is_empty() {
        ips.push(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    }
    ips.into_iter().map(url).collect()
}

/// The game a class starts with, and the teacher's token (the game keeps only its digest).
pub fn game(a: &ServeArgs) -> Result<(Game, String)> {
    let speed = speed(a)?.unwrap_or(DEFAULT_SPEED);
    let Some(scenario) = &a.scenario else {
        return Err(InputError::new("a scenario to play, or --resume DIR").field("SCENARIO").into());
    };
    // The class is run 0 of the seed; the scenario's replicates make the model's band behind it.
    let sc = load_scenario(scenario, None, a.seed, None)?;
    let seed = sc.spec.seed;
    let units = sc.planned()?.units;
    if units > 5000 {
        return Err(InputError::new(format!(
            "about {units} units: a class plays a world of at most 5,000 (the classroom, a grid or a file world)"
        ))
        .file(scenario)
        .field("world")
        .into());
    }
    let token = ws::token();
    let game = Game::new(
        Classroom::new(sc, seed, join_code())?,
        Clock {
            running: false,
            months_per_second: speed,
        },
        &token,
    );
    Ok((game, token))
}

/// `--speed` if given, checked.
fn speed(a: &ServeArgs) -> Result<Option<f64>> {
    match a.speed {
        Some(v) if !(ws::MIN_SPEED..=ws::MAX_SPEED).contains(&v) => {
            Err(
                InputError::new(format!("{v}: allowed {} to {} months a second", ws::MIN_SPEED, ws::MAX_SPEED))
                    .field("--speed")
                    .into(),
            )
        }
        v => Ok(v),
    }
}

/// The class to serve, the teacher's token where there is a new one to print, and its folder: a
/// new class (in a folder that holds no other), or the one saved in `--resume DIR`.
pub fn open(a: &ServeArgs) -> Result<(Game, Option<String>, PathBuf)> {
    if let Some(dir) = &a.resume {
        let mut g = save::resume(dir)?;
        if let Some(v) = speed(a)? {
            g.clock.months_per_second = v;
        }
        let token = a.new_token.then(ws::token);
        if let Some(t) = &token {
            g.teacher_hash = crate::serve::access::digest(t);
        }
        return Ok((g, token, dir.clone()));
    }
    let (game, token) = game(a)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("class-{}", game.class.code)));
    if out.join(save::FILE).exists() {
        return Err(InputError::new(format!(
            "{} holds a class ({}): continue it with `pioneer serve --resume {}`, or give a new folder",
            out.display(),
            save::FILE,
            out.display()
        ))
        .field("--out")
        .into());
    }
    // A folder the debrief may not replace is said now, not at the end of the lesson.
    if let crate::output::folder::Holds::Other(names) = crate::output::folder::holds(&out, "--out")? {
        return Err(InputError::new(format!(
            "{} holds files that are not a pioneer output ({}); give a new or empty folder",
            out.display(),
            names.join(", ")
        ))
        .field("--out")
        .into());
    }
    Ok((game, Some(token), out))
}

/// Ctrl-C or (on Unix) SIGTERM, as a service manager or `kill` stops a server.
async fn stopped() {
    #[cfg(unix)]
    if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `pioneer serve`: runs until Ctrl-C; `said` gets the lines to print once it listens.
pub fn serve(a: &ServeArgs, said: &dyn Fn(&str) -> Result<()>) -> Result<()> {
    let (game, token, out) = open(a)?;
    let addr = format!("{}:{}", a.bind, a.port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the server's runtime", e))?;
    // Each student is a socket: raise the open-file limit before listening (a failure leaves the
    // limit as it was, said on stderr; the class can still run).
    let files = match crate::serve::raise_file_limit() {
        Ok((soft, _)) if soft == u64::MAX => "open files: no limit".to_string(),
        Ok((soft, _)) => format!("open files: up to {soft}"),
        Err(e) => format!("open files: the limit could not be raised ({e})"),
    };
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            Error::from(InputError::new(format!("cannot listen on {addr}: {e}")).field(if a.port == 0 { "--bind" } else { "--port" }))
        })?;
        let local = listener.local_addr().map_err(|e| Error::io("no local address", e))?;
        let (code, name) = (game.class.code.clone(), game.class.scenario.name());
        let mut game = game;
        game.join = join_addresses(&a.bind, local.port());
        let students = game.join.join("  ");
        let month = game.class.month;
        let shared = crate::serve::Shared::new(game, out.clone());
        let host = if a.bind == "0.0.0.0" { "127.0.0.1".to_string() } else { a.bind.clone() };
        let teacher = match &token {
            Some(t) => format!("http://{host}:{}/teacher?token={t}", local.port()),
            None => format!(
                "http://{host}:{}/teacher with ?token= and the token printed when the class began (a browser that opened the class keeps it; --new-token gives a new one)",
                local.port()
            ),
        };
        let resumed = if a.resume.is_some() { format!(", resumed at month {month}") } else { String::new() };
        said(&format!(
            "pioneer classroom: {name}{resumed}\n  teacher:  {teacher}\n  students: {students}  code {code}\n  class:    {} (saved as it goes)\n  {files}\nCtrl-C ends the class.",
            out.display()
        ))?;
        crate::serve::run(listener, shared.clone(), stopped())
            .await
            .map_err(|e| Error::io("the server stopped", e))?;
        // The last of the class: saved, and its debrief written (the clock has stopped).
        let s = shared.clone();
        let month = tokio::task::spawn_blocking(move || -> Result<u32> {
            s.save_now()?;
            let g = s.game();
            if g.class.month > 0 {
                crate::serve::debrief::write(&g.class, &s.debrief_dir())?;
            }
            Ok(g.class.month)
        })
        .await
        .map_err(|e| Error::io("the last save", std::io::Error::other(e)))??;
        said(&format!(
            "the class is saved at month {month} in {dir}{debrief}; `pioneer serve --resume {dir}` continues it",
            dir = out.display(),
            debrief = if month > 0 { ", its debrief in debrief/" } else { "" },
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_plays_against_a_band_of_the_scenarios_replicates() {
        let a = ServeArgs {
            scenario: Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml"))),
            resume: None,
            new_token: false,
            port: 0,
            bind: "127.0.0.1".into(),
            speed: None,
            seed: None,
            out: None,
        };
        let (g, _) = game(&a).expect("a game");
        let (_, lo, hi) = &g.class.band;
        assert_eq!(hi.len(), 240);
        assert!(lo.iter().zip(hi).any(|(l, h)| h > l), "a band of replicates, not one run");
        let bad = ServeArgs { speed: Some(1000.0), ..a };
        assert!(game(&bad).is_err());
    }
}
