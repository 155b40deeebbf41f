//! What the server gives any one client, and all of them: connections, time to send headers,
//! silence on a socket, and joins (a class's code cannot be searched in a lesson).

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The bounds of one server, sized from its class (`Limits::for_class`).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Connections open at once (page loads and sockets), and from one address.
    pub connections: usize,
    pub per_address: usize,
    /// A client has this long to send a request's headers.
    pub header_timeout: Duration,
    /// A socket silent this long (no message, no answer to a ping) is closed; it is pinged every
    /// third of it.
    pub idle: Duration,
    /// Join attempts from one address: a burst, then one per `join_every`.
    pub joins_burst: f64,
    pub join_every: Duration,
    /// Wrong codes from everyone together: a burst, then one per `wrong_every`; while none is
    /// left, no join is tried at all (so the code cannot be found by trying more).
    pub wrong_burst: f64,
    pub wrong_every: Duration,
}

impl Limits {
    /// For a class of `seats` students: two connections each (a page and a reload), the
    /// teacher's pages, and room to spare.
    pub fn for_class(seats: usize) -> Limits {
        Limits {
            connections: 2 * seats + 32,
            per_address: 12,
            header_timeout: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            joins_burst: 6.0,
            join_every: Duration::from_secs(10),
            wrong_burst: 30.0,
            wrong_every: Duration::from_secs(2),
        }
    }
}

/// A token bucket: `burst` at once, one more every `every`.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(burst: f64, now: Instant) -> Bucket {
        Bucket { tokens: burst, last: now }
    }

    fn fill(&mut self, now: Instant, burst: f64, every: Duration) {
        let gained = now.saturating_duration_since(self.last).as_secs_f64() / every.as_secs_f64().max(1e-9);
        self.tokens = (self.tokens + gained).min(burst);
        self.last = now;
    }

    /// Seconds until one token is there.
    fn wait(&self, every: Duration) -> f64 {
        ((1.0 - self.tokens).max(0.0) * every.as_secs_f64()).ceil()
    }
}

/// The gate in front of `join`: each address's attempts, and everyone's wrong codes.
#[derive(Debug, Default)]
pub struct JoinGate {
    by_address: HashMap<IpAddr, Bucket>,
    wrong: Option<Bucket>,
}

/// Addresses remembered at most (a full table forgets the ones with a full bucket).
const ADDRESSES: usize = 10_000;

impl JoinGate {
    /// May `ip` try to join at `now`? An attempt is counted whatever its outcome.
    pub fn attempt(&mut self, ip: IpAddr, now: Instant, l: &Limits) -> Result<(), String> {
        let wrong = self.wrong.get_or_insert_with(|| Bucket::new(l.wrong_burst, now));
        wrong.fill(now, l.wrong_burst, l.wrong_every);
        if wrong.tokens < 1.0 {
            return Err(format!(
                "too many wrong codes on this network lately: try again in {} s",
                wrong.wait(l.wrong_every)
            ));
        }
        if self.by_address.len() >= ADDRESSES {
            self.by_address.retain(|_, b| {
                b.fill(now, l.joins_burst, l.join_every);
                b.tokens < l.joins_burst
            });
        }
        let b = self.by_address.entry(ip).or_insert_with(|| Bucket::new(l.joins_burst, now));
        b.fill(now, l.joins_burst, l.join_every);
        if b.tokens < 1.0 {
            return Err(format!("too many joins from this device: try again in {} s", b.wait(l.join_every)));
        }
        b.tokens -= 1.0;
        Ok(())
    }

    /// The attempt just made had a wrong code.
    pub fn wrong(&mut self, now: Instant, l: &Limits) {
        let wrong = self.wrong.get_or_insert_with(|| Bucket::new(l.wrong_burst, now));
        wrong.fill(now, l.wrong_burst, l.wrong_every);
        wrong.tokens = (wrong.tokens - 1.0).max(0.0);
    }
}

/// Connections open now, in all and by address.
#[derive(Debug, Default)]
pub struct Open {
    all: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One connection counted in `Open` until it is dropped (with the socket it became, if it was
/// upgraded).
#[derive(Debug)]
pub struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Open {
    /// A slot for a connection from `ip`, or why not.
    pub fn take(open: &Arc<Mutex<Open>>, ip: IpAddr, l: &Limits) -> Result<Slot, String> {
        let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
        if o.all >= l.connections {
            return Err(format!("{} connections open, the most this class allows", o.all));
        }
        let n = o.by_address.entry(ip).or_insert(0);
        if *n >= l.per_address {
            return Err(format!("{n} connections open from {ip}, the most one device may hold"));
        }
        *n += 1;
        o.all += 1;
        Ok(Slot { open: open.clone(), ip })
    }

    /// Connections open now.
    pub fn count(open: &Arc<Mutex<Open>>) -> usize {
        open.lock().unwrap_or_else(|e| e.into_inner()).all
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.all = o.all.saturating_sub(1);
        if let Some(n) = o.by_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                o.by_address.remove(&self.ip);
            }
        }
    }
}

/// A TCP stream that holds its connection's slot: the slot is given back when the stream is
/// closed, whether it served pages or became a socket.
pub struct Counted {
    pub tcp: tokio::net::TcpStream,
    pub slot: Slot,
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_are_limited_per_address_and_wrong_codes_for_everyone() {
        let l = Limits::for_class(36);
        let t0 = Instant::now();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().expect("ip"), "10.0.0.2".parse().expect("ip"));
        let mut g = JoinGate::default();
        // One address: a burst of 6, then one each 10 s.
        let passed = (0..20).filter(|_| g.attempt(a, t0, &l).is_ok()).count();
        assert_eq!(passed, 6);
        let e = g.attempt(a, t0, &l).expect_err("throttled");
        assert!(e.contains("try again in 10 s"), "{e}");
        assert!(g.attempt(a, t0 + Duration::from_secs(10), &l).is_ok());
        assert!(g.attempt(b, t0, &l).is_ok(), "another device is not held up");
        // Wrong codes from many addresses: 30, then one each 2 s, and then no join is tried.
        let mut g = JoinGate::default();
        let mut tried = 0;
        for i in 0..1000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            if g.attempt(ip, t0, &l).is_ok() {
                tried += 1;
                g.wrong(t0, &l);
            }
        }
        assert_eq!(tried, 30);
        let e = g.attempt(b, t0, &l).expect_err("everyone waits");
        assert!(e.contains("wrong codes"), "{e}");
        assert!(g.attempt(b, t0 + Duration::from_secs(2), &l).is_ok());
        // An hour of trying at the limit tries this many codes of the 24⁵ there are.
        let hour = l.wrong_burst + 3600.0 / l.wrong_every.as_secs_f64();
        assert!(hour / 24f64.powi(5) < 0.0003, "{hour} codes an hour");
    }

    #[test]
    fn connections_are_counted_until_dropped() {
        let mut l = Limits::for_class(1);
        l.connections = 3;
        l.per_address = 2;
        let open = Arc::new(Mutex::new(Open::default()));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().expect("ip"), "10.0.0.2".parse().expect("ip"));
        let s1 = Open::take(&open, a, &l).expect("first");
        let _s2 = Open::take(&open, a, &l).expect("second");
        assert!(Open::take(&open, a, &l).is_err(), "two per address");
        let _s3 = Open::take(&open, b, &l).expect("another address");
        assert!(Open::take(&open, b, &l).expect_err("full").contains("3 connections"));
        drop(s1);
        assert_eq!(Open::count(&open), 2);
        assert!(Open::take(&open, a, &l).is_ok());
    }
}
