//! Login throttling by (name, client address), with budgets that keep a flood of
//! invented names from costing rows, audit events, memory or Argon2 time.
//!
//! Three layers, cheapest first:
//! - a **client budget**: one address that fails [`CLIENT_FAILURES`] times in
//!   [`WINDOW_MS`], whatever names it tries, is refused (429) before any password work
//!   until the window passes;
//! - the stored **per-(name, client) throttle** (doubling back-off after five failures),
//!   keyed by [`throttle_key`]: keyed digests, so no name is stored as typed, and a
//!   guesser elsewhere cannot lock a user out from their own address;
//! - a **global budget for names that are no user's**: past [`UNKNOWN_FAILURES`] in a
//!   window (all addresses together), such a failure is answered like any other —
//!   401 after about the time a password check takes — but stores nothing and
//!   costs no Argon2 time, so a distributed flood cannot grow the database or starve
//!   real logins.
//!
//! The budgets live in the serving process (each server of a PostgreSQL deployment has
//! its own); the per-(name, client) throttle lives in the database and is shared.

use plumbline_store::audit::AuditKey;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

/// The budgets' window.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;
/// Failed logins one client address may make in a window, whatever the names.
pub const CLIENT_FAILURES: u32 = 50;
/// Failed logins for names that are no user's stored (row and audit event) per window,
/// across every address.
pub const UNKNOWN_FAILURES: u32 = 200;
/// Client addresses remembered before windows that ended are dropped.
const CLIENTS_KEPT: usize = 10_000;

/// Where a request came from: the peer address, or the last `X-Forwarded-For` hop
/// when the server is told a proxy of its own stands in front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    /// The client of a request with `headers`, connected from `peer`.
    pub fn of(
        headers: &axum::http::HeaderMap,
        peer: Option<SocketAddr>,
        trust_forwarded: bool,
    ) -> ClientAddr {
        if trust_forwarded {
            // The last hop is the one our own proxy appended; earlier ones are the
            // client's word.
            let forwarded = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back();
            if let Some(ip) = forwarded {
                return ClientAddr(ip.to_string());
            }
        }
        ClientAddr(peer.map_or_else(|| "unknown".to_owned(), |p| p.ip().to_string()))
    }
}

impl ClientAddr {
    /// The client of a request: its peer address as the server records it
    /// (`ConnectInfo`), or the forwarded one when trusted.
    pub fn of_request(
        extensions: &axum::http::Extensions,
        headers: &axum::http::HeaderMap,
        trust_forwarded: bool,
    ) -> ClientAddr {
        let peer = extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        ClientAddr::of(headers, peer, trust_forwarded)
    }
}

/// Lifts every throttle of the login `name` (as typed), from every address, audited as
/// `actor`'s `login.unlock`; the number lifted. The CLI and the API both call it.
pub async fn lift<S: plumbline_store::Store>(
    store: &S,
    actor: Option<plumbline_domain::UserId>,
    name: &str,
) -> plumbline_store::Result<u64> {
    let key = store.audit_trail().key();
    let known = store.user_by_name(name).await.is_ok();
    store
        .lift_login_throttle(
            actor,
            &name_digest(key, name),
            &audit_subject(key, name, known),
        )
        .await
}

/// The throttle digest of a login name: 128 bits of its HMAC under the audit key.
pub fn name_digest(key: &AuditKey, name: &str) -> String {
    key.mac(&[b"plumbline login name\n", name.as_bytes()])[..32].to_owned()
}

/// The stored throttle key of (name, client): `NAME_DIGEST/CLIENT_DIGEST`.
pub fn throttle_key(key: &AuditKey, name: &str, client: &ClientAddr) -> String {
    let client = key.mac(&[b"plumbline login client\n", client.0.as_bytes()]);
    format!("{}/{}", name_digest(key, name), &client[..32])
}

/// How the audit log names the subject of a failed login: the user, or the digest of a
/// name that is no user's (never the name as typed: it is often a password).
pub fn audit_subject(key: &AuditKey, name: &str, known: bool) -> String {
    if known {
        name.to_owned()
    } else {
        format!("unknown:{}", &name_digest(key, name)[..16])
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    start: i64,
    count: u32,
}

impl Window {
    fn current(&mut self, now: i64) -> &mut Self {
        if self.count == 0 || now - self.start >= WINDOW_MS {
            *self = Window {
                start: now,
                count: 0,
            };
        }
        self
    }
}

#[derive(Debug, Default)]
struct Budgets {
    clients: HashMap<String, Window>,
    unknown: Window,
}

/// The in-process budgets of a server.
#[derive(Debug)]
pub struct LoginGuard {
    budgets: Mutex<Budgets>,
    client_failures: u32,
    unknown_failures: u32,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard::with_budgets(CLIENT_FAILURES, UNKNOWN_FAILURES)
    }
}

/// What the guard says of a failed login for a name that is no user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownFailure {
    /// Within budget: record it (throttle row and audit event).
    Record,
    /// Over budget: answer as usual, store nothing.
    Drop,
}

impl LoginGuard {
    /// A guard allowing `client_failures` per address and `unknown_failures` stored
    /// failures for unknown names per window.
    pub fn with_budgets(client_failures: u32, unknown_failures: u32) -> LoginGuard {
        LoginGuard {
            budgets: Mutex::default(),
            client_failures,
            unknown_failures,
        }
    }

    fn budgets(&self) -> std::sync::MutexGuard<'_, Budgets> {
        // A panic while holding the lock cannot leave the counters inconsistent in a
        // way that matters; keep serving.
        self.budgets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Milliseconds until `client` may try again, if it spent its budget.
    pub fn client_blocked(&self, client: &ClientAddr, now: i64) -> Option<i64> {
        let budgets = self.budgets();
        let w = budgets.clients.get(&client.0)?;
        (now - w.start < WINDOW_MS && w.count >= self.client_failures)
            .then(|| w.start + WINDOW_MS - now)
    }

    /// Counts a failed login from `client`.
    pub fn client_failed(&self, client: &ClientAddr, now: i64) {
        let mut budgets = self.budgets();
        if budgets.clients.len() >= CLIENTS_KEPT && !budgets.clients.contains_key(&client.0) {
            budgets.clients.retain(|_, w| now - w.start < WINDOW_MS);
            if budgets.clients.len() >= CLIENTS_KEPT {
                // Every remembered window is live: forget the oldest half rather than
                // grow without bound.
                let mut starts: Vec<i64> = budgets.clients.values().map(|w| w.start).collect();
                starts.sort_unstable();
                let cut = starts[starts.len() / 2];
                budgets.clients.retain(|_, w| w.start > cut);
            }
        }
        budgets
            .clients
            .entry(client.0.clone())
            .or_default()
            .current(now)
            .count += 1;
    }

    /// Counts a failed login for a name that is no user's; says whether to store it.
    pub fn unknown_failed(&self, now: i64) -> UnknownFailure {
        let budget = self.unknown_failures;
        let mut budgets = self.budgets();
        let w = budgets.unknown.current(now);
        w.count = w.count.saturating_add(1);
        if w.count <= budget {
            UnknownFailure::Record
        } else {
            if w.count == budget + 1 {
                tracing::warn!(
                    "more than {budget} failed logins for unknown names in {} s: \
                     further ones are not recorded until the window passes",
                    WINDOW_MS / 1000
                );
            }
            UnknownFailure::Drop
        }
    }

    /// Whether the unknown-name budget is spent (so the password check can be skipped).
    pub fn unknown_spent(&self, now: i64) -> bool {
        let budget = self.unknown_failures;
        let mut budgets = self.budgets();
        budgets.unknown.current(now).count >= budget
    }
}

/// About how long one password verification takes, measured once: an answer that skips
/// the check waits this long so its timing does not tell a name that is no user's.
pub fn verification_time() -> Duration {
    static MEASURED: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *MEASURED.get_or_init(|| {
        let hash = crate::auth::hash_password("measure the verification time").unwrap_or_default();
        let start = std::time::Instant::now();
        let _ = crate::auth::verify_password("a different password", &hash);
        start.elapsed()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn keys_are_digests_shared_by_a_name_across_clients() {
        let a = ClientAddr("10.0.0.1".into());
        let b = ClientAddr("10.0.0.2".into());
        let ka = throttle_key(&key(), "alice", &a);
        let kb = throttle_key(&key(), "alice", &b);
        assert_ne!(ka, kb);
        let prefix = name_digest(&key(), "alice");
        assert!(ka.starts_with(&format!("{prefix}/")) && kb.starts_with(&format!("{prefix}/")));
        assert!(!ka.contains("alice") && !ka.contains("10.0.0.1"));
        assert_eq!(audit_subject(&key(), "alice", true), "alice");
        let unknown = audit_subject(&key(), "hunter2-typed-as-name", false);
        assert!(unknown.starts_with("unknown:") && !unknown.contains("hunter2"));
    }

    #[test]
    fn a_client_is_refused_after_its_budget_until_the_window_passes() {
        let g = LoginGuard::default();
        let c = ClientAddr("192.0.2.7".into());
        for _ in 0..CLIENT_FAILURES {
            assert_eq!(g.client_blocked(&c, 1_000), None);
            g.client_failed(&c, 1_000);
        }
        let wait = g.client_blocked(&c, 2_000).unwrap();
        assert_eq!(wait, WINDOW_MS - 1_000);
        assert_eq!(
            g.client_blocked(&ClientAddr("192.0.2.8".into()), 2_000),
            None
        );
        assert_eq!(g.client_blocked(&c, 1_000 + WINDOW_MS), None);
    }

    #[test]
    fn unknown_names_are_recorded_up_to_the_budget_then_dropped() {
        let g = LoginGuard::default();
        for _ in 0..UNKNOWN_FAILURES {
            assert_eq!(g.unknown_failed(5), UnknownFailure::Record);
        }
        assert!(g.unknown_spent(5));
        assert_eq!(g.unknown_failed(6), UnknownFailure::Drop);
        assert!(!g.unknown_spent(5 + WINDOW_MS));
        assert_eq!(g.unknown_failed(5 + WINDOW_MS), UnknownFailure::Record);
    }

    #[test]
    fn remembered_clients_stay_bounded() {
        let g = LoginGuard::default();
        for i in 0..(CLIENTS_KEPT as i64 * 2) {
            g.client_failed(&ClientAddr(format!("c{i}")), i);
        }
        assert!(g.budgets().clients.len() <= CLIENTS_KEPT);
    }

    #[test]
    fn forwarded_for_is_read_only_when_trusted() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4".parse().unwrap(),
        );
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(ClientAddr::of(&h, Some(peer), false).0, "127.0.0.1");
        assert_eq!(ClientAddr::of(&h, Some(peer), true).0, "198.51.100.4");
        assert_eq!(ClientAddr::of(&h, None, false).0, "unknown");
    }
}
