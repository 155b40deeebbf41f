//! `pioneer serve SCENARIO`: bind the classroom server, print the addresses, the join code and the
//! teacher's token, and serve until Ctrl-C.

use crate::app::load_scenario;
use crate::error::{Error, InputError, Result};
use crate::serve::classroom::Classroom;
use crate::serve::ws::{self, Clock, Game};
use std::path::PathBuf;

/// What `pioneer serve` is asked.
#[derive(Debug, Clone)]
pub struct ServeArgs {
    pub scenario: PathBuf,
    pub port: u16,
    pub bind: String,
    pub speed: f64,
    pub seed: Option<u64>,
    /// The debrief's folder (default `out/class-CODE`).
    pub out: Option<PathBuf>,
}

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
    if !(ws::MIN_SPEED..=ws::MAX_SPEED).contains(&a.speed) {
        return Err(InputError::new(format!(
            "{}: allowed {} to {} months a second",
            a.speed,
            ws::MIN_SPEED,
            ws::MAX_SPEED
        ))
        .field("--speed")
        .into());
    }
    // The class is run 0 of the seed; the scenario's replicates make the model's band behind it.
    let sc = load_scenario(&a.scenario, None, a.seed, None)?;
    let seed = sc.spec.seed;
    let units = sc.planned()?.units;
    if units > 5000 {
        return Err(InputError::new(format!(
            "about {units} units: a class plays a world of at most 5,000 (the classroom, a grid or a file world)"
        ))
        .file(&a.scenario)
        .field("world")
        .into());
    }
    let token = ws::token();
    let game = Game::new(
        Classroom::new(sc, seed, join_code())?,
        Clock {
            running: false,
            months_per_second: a.speed,
        },
        &token,
    );
    Ok((game, token))
}

/// `pioneer serve`: runs until Ctrl-C; `said` gets the lines to print once it listens.
pub fn serve(a: &ServeArgs, said: &dyn Fn(&str) -> Result<()>) -> Result<()> {
    let (game, token) = game(a)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("class-{}", game.class.code)));
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
        let shared = crate::serve::Shared::new(game, out.clone());
        let host = if a.bind == "0.0.0.0" { "127.0.0.1".to_string() } else { a.bind.clone() };
        said(&format!(
            "pioneer classroom: {name}\n  teacher:  http://{host}:{}/teacher?token={token}\n  students: {students}  code {code}\n  debrief:  {}\n  {files}\nCtrl-C ends the class.",
            local.port(),
            out.display()
        ))?;
        crate::serve::run(listener, shared, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Error::io("the server stopped", e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_plays_against_a_band_of_the_scenarios_replicates() {
        let a = ServeArgs {
            scenario: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml")),
            port: 0,
            bind: "127.0.0.1".into(),
            speed: 2.0,
            seed: None,
            out: None,
        };
        let (g, _) = game(&a).expect("a game");
        let (_, lo, hi) = &g.class.band;
        assert_eq!(hi.len(), 240);
        assert!(lo.iter().zip(hi).any(|(l, h)| h > l), "a band of replicates, not one run");
        let bad = ServeArgs { speed: 1000.0, ..a };
        assert!(game(&bad).is_err());
    }
}
