//! Who may fetch what: every route but the pages, their assets and the socket is the teacher's,
//! shown only for the teacher's token, which travels in a cookie so that no page shows it.
//!
//! The token may come as the `pioneer_teacher` cookie (set by the first visit to
//! `/teacher?token=…`, which then drops the token from the address), as `?token=` (a script's
//! `curl`) or as `Authorization: Bearer`. A route added later is the teacher's unless it is put in
//! `PUBLIC`.

use super::Shared;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The routes anyone on the network may fetch: the two pages, their assets, and the socket
/// (which checks every message itself).
pub const PUBLIC: [&str; 7] = ["/", "/teacher", "/style.css", "/common.js", "/student.js", "/teacher.js", "/ws"];

/// The cookie that carries the teacher's token.
pub const COOKIE: &str = "pioneer_teacher";

/// Equal strings, compared in time that depends only on their lengths (a token is not guessed a
/// byte at a time from the server's answer times).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The `token` of a request's query string, decoded as axum's `Query` decodes it.
pub fn query_token(uri: &axum::http::Uri) -> Option<String> {
    axum::extract::Query::<TokenQuery>::try_from_uri(uri).ok()?.0.token
}

/// The token in the `pioneer_teacher` cookie, if the request carries one.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('=').map(str::to_string))
}

/// Every token the request presents: cookie, query, bearer.
fn presented(req: &Request) -> Vec<String> {
    let h = req.headers();
    let bearer = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    [cookie_token(h), query_token(req.uri()), bearer].into_iter().flatten().collect()
}

/// The guard in front of every route: a route outside `PUBLIC` answers 403 unless the request
/// presents the teacher's token.
pub async fn guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if PUBLIC.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let hash = shared.game().teacher_hash.clone();
    if presented(&req).iter().any(|t| same(&digest(t), &hash)) {
        return next.run(req).await;
    }
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "this is the teacher's: open it from the teacher's page",
    )
        .into_response()
}

/// The SHA-256 of a token, as hex: what the game and its saved folder keep in place of the token.
pub fn digest(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `Set-Cookie` value that keeps the teacher's token for this server: for every path, never
/// readable by a page's script, never sent by another site's page.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_where_they_travel() {
        let uri = |u: &str| u.parse::<axum::http::Uri>().expect("uri");
        assert_eq!(query_token(&uri("/x?a=1&token=ab%2Fc+d")), Some("ab/c d".into()));
        assert_eq!(query_token(&uri("/x?token=")), Some(String::new()));
        assert_eq!(query_token(&uri("/x?tokens=1")), None);
        assert_eq!(query_token(&uri("/x")), None);
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; pioneer_teacher=t0k; b=2".parse().expect("header"));
        assert_eq!(cookie_token(&h), Some("t0k".into()));
        h.insert(header::COOKIE, "pioneer_teacherX=t".parse().expect("header"));
        assert_eq!(cookie_token(&h), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
