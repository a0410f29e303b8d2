//! Roles, route by route: every route of the router (as listed in src/http/mod.rs) is
//! called with each caller's credentials — anonymous, a kiosk, the clerk who opened the
//! window, another clerk, a supervisor, an admin and a guide — and answers as the table
//! says. And
//! sessions end: at logout, when their time is up, and when an admin disables the user.

use crate::support;

use std::collections::BTreeSet;

use serde_json::{json, Value};
use support::{Api, Daemon, KIOSK};

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Kiosk,
    /// clerk1, who opened window 1.
    ClerkHere,
    /// clerk2, signed in and at window 2, calling window 1.
    ClerkElsewhere,
    Supervisor,
    Admin,
    /// guide1 (全程领办): no window, no supervision.
    Guide,
}

const EVERYONE: [Who; 7] =
    [Who::Anonymous, Who::Kiosk, Who::ClerkHere, Who::ClerkElsewhere, Who::Supervisor, Who::Admin, Who::Guide];
const USERS: &[Who] = &[Who::ClerkHere, Who::ClerkElsewhere, Who::Supervisor, Who::Admin, Who::Guide];

/// One row: a request and who may make it. Everyone else gets 401 (anonymous, or a token
/// the route does not know) or 403 (known, but not allowed).
struct Row {
    method: &'static str,
    /// The route as written in src/http/mod.rs.
    route: &'static str,
    /// The concrete path called.
    path: String,
    body: Option<Value>,
    allowed: &'static [Who],
}

fn row(method: &'static str, route: &'static str, path: impl Into<String>, allowed: &'static [Who]) -> Row {
    Row { method, route, path: path.into(), body: None, allowed }
}

/// Every route and window action, with the callers allowed. "Allowed" means the answer is
/// neither 401 nor 403: it may still be 404 or 409 when the hall's state says no.
fn table(ticket: &str, key: &str, code: &str) -> Vec<Row> {
    use Who::*;
    let mut rows = vec![
        row("GET", "/healthz", "/healthz", &EVERYONE),
        row("GET", "/metrics", "/metrics", &[Supervisor, Admin]),
        row("GET", "/api/v1/services", "/api/v1/services", &EVERYONE),
        row("GET", "/api/v1/hall", "/api/v1/hall", &EVERYONE),
        row("GET", "/api/v1/demo", "/api/v1/demo", &EVERYONE),
        row("GET", "/favicon.ico", "/favicon.ico", &EVERYONE),
        row("GET", "/api/v1/hours", "/api/v1/hours", &EVERYONE),
        row("GET", "/api/v1/stats", "/api/v1/stats", &[Supervisor, Admin]),
        Row {
            body: Some(json!({ "user": "supervisor", "password": "demo" })),
            ..row("POST", "/api/v1/login", "/api/v1/login", &EVERYONE)
        },
        row("POST", "/api/v1/users/{name}/disable", "/api/v1/users/clerk12/disable", &[Admin]),
        row("POST", "/api/v1/users/{name}/enable", "/api/v1/users/clerk12/enable", &[Admin]),
        Row {
            body: Some(json!({ "user": "clerk99", "role": "clerk", "password": "good-password" })),
            ..row("POST", "/api/v1/users", "/api/v1/users", &[Admin])
        },
        Row {
            body: Some(json!({ "password": "good-password" })),
            ..row("POST", "/api/v1/users/{name}/password", "/api/v1/users/clerk12/password", &[Admin])
        },
        Row {
            body: Some(json!({ "service": "SC-0001" })),
            ..row("POST", "/api/v1/tickets", "/api/v1/tickets", &[Kiosk])
        },
        row("GET", "/api/v1/tickets/{id}", format!("/api/v1/tickets/{ticket}"), &EVERYONE),
        // The visitor's actions take the ticket's key (`k`, from the kiosk's answer), whoever
        // sends it; the id alone, which staff see, lets no one act (evaluators: api_visitor_key).
        row("GET", "/api/v1/tickets/{id}/qr.svg", format!("/api/v1/tickets/{ticket}/qr.svg"), &[]),
        row("GET", "/api/v1/tickets/{id}/qr.svg", format!("/api/v1/tickets/{ticket}/qr.svg?k={key}"), &EVERYONE),
        Row {
            body: Some(json!({ "score": 5 })),
            ..row("POST", "/api/v1/tickets/{id}/rating", format!("/api/v1/tickets/{ticket}/rating"), &[])
        },
        Row {
            body: Some(json!({ "score": 5 })),
            ..row("POST", "/api/v1/tickets/{id}/rating", format!("/api/v1/tickets/{ticket}/rating?k={key}"), &EVERYONE)
        },
        row("POST", "/api/v1/tickets/{id}/rejoin", format!("/api/v1/tickets/{ticket}/rejoin"), &[]),
        row("POST", "/api/v1/tickets/{id}/rejoin", format!("/api/v1/tickets/{ticket}/rejoin?k={key}"), &EVERYONE),
        row("POST", "/api/v1/tickets/{id}/check-in", format!("/api/v1/tickets/{ticket}/check-in"), &[Kiosk]),
        row("POST", "/api/v1/tickets/{id}/cancel", format!("/api/v1/tickets/{ticket}/cancel"), &[]),
        row("POST", "/api/v1/tickets/{id}/cancel", format!("/api/v1/tickets/{ticket}/cancel?k={key}"), &EVERYONE),
        Row {
            body: Some(json!({ "service": "SC-0001", "day": "2026-03-11", "slot": "09:00", "phone": "13800000000" })),
            ..row("POST", "/api/v1/appointments", "/api/v1/appointments", &EVERYONE)
        },
        row("GET", "/api/v1/appointments/slots", "/api/v1/appointments/slots?day=2026-03-11", &EVERYONE),
        row("GET", "/api/v1/appointments/{code}", format!("/api/v1/appointments/{code}"), &EVERYONE),
        row("POST", "/api/v1/appointments/{code}/check-in", format!("/api/v1/appointments/{code}/check-in"), &[Kiosk]),
        row("POST", "/api/v1/appointments/{code}/cancel", format!("/api/v1/appointments/{code}/cancel"), &EVERYONE),
        // A clerk may read the windows they may open; clerk2 may open only window 2.
        row("GET", "/api/v1/windows/{w}", "/api/v1/windows/1", &[ClerkHere, Supervisor, Admin]),
        row("GET", "/ws/feed", "/ws/feed", &EVERYONE),
        // The example hall's kiosks have no printer: a reprint answers 409 no_printer.
        row("POST", "/api/v1/tickets/{id}/print", format!("/api/v1/tickets/{ticket}/print"), &[Kiosk]),
        row("GET", "/api/v1/kiosk/printer", "/api/v1/kiosk/printer", &[Kiosk]),
        row("GET", "/api/v1/printers", "/api/v1/printers", &[Supervisor, Admin]),
        row("GET", "/", "/", &EVERYONE),
        row("GET", "/t/{id}", format!("/t/{ticket}"), &EVERYONE),
        row("GET", "/display/static/{*name}", "/display/static/base.css", &EVERYONE),
        row("GET", "/display/{name}", "/display/lobby", &EVERYONE),
        row("GET", "/api/v1/voice", "/api/v1/voice", &EVERYONE),
        // Public: an unknown call-out's audio is 404 to everyone alike.
        row("GET", "/api/v1/voice/{file}", format!("/api/v1/voice/{}.wav", "0".repeat(32)), &EVERYONE),
        // Only window 1's evaluator tablet (tests/api_rating.rs) asks what to rate there.
        row("GET", "/api/v1/windows/{w}/rateable", "/api/v1/windows/1/rateable", &[]),
        row("GET", "/api/v1/cases", "/api/v1/cases", &[Supervisor, Admin]),
        Row {
            body: Some(json!({ "reached": true, "note": "test" })),
            ..row("POST", "/api/v1/cases/{id}/callback", "/api/v1/cases/C20260310-001/callback", &[Supervisor, Admin])
        },
        Row {
            body: Some(json!({ "note": "test" })),
            ..row("POST", "/api/v1/cases/{id}/rectify", "/api/v1/cases/C20260310-001/rectify", &[Supervisor, Admin])
        },
        // 办不成事 cases: supervisors, admins and the hall's handler (clerk12, none of these
        // callers; tests/api_escalation.rs lets the handler in).
        row("GET", "/api/v1/escalations", "/api/v1/escalations", &[Supervisor, Admin]),
        Row {
            body: Some(json!({ "reached": true, "note": "test" })),
            ..row(
                "POST",
                "/api/v1/escalations/{id}/callback",
                "/api/v1/escalations/E20260310-001/callback",
                &[Supervisor, Admin],
            )
        },
        Row {
            body: Some(json!({ "note": "test" })),
            ..row(
                "POST",
                "/api/v1/escalations/{id}/resolve",
                "/api/v1/escalations/E20260310-001/resolve",
                &[Supervisor, Admin],
            )
        },
        row("GET", "/api/v1/reports/escalations.csv", "/api/v1/reports/escalations.csv", &[Supervisor, Admin]),
        // 助企服务: an enterprise's log is its specialist's (zhuanyuan1, not among these
        // callers; tests/api_enterprise.rs lets them in) and the supervisors'.
        Row {
            body: Some(json!({ "code": "91510100MA6CAY4CLW", "service": "SC-0005" })),
            ..row("POST", "/api/v1/enterprise-tickets", "/api/v1/enterprise-tickets", &[Kiosk])
        },
        // A guide is no specialist: the enterprises are the specialists', supervisors' and admins'.
        row("GET", "/api/v1/enterprises", "/api/v1/enterprises", &[ClerkHere, ClerkElsewhere, Supervisor, Admin]),
        row("GET", "/api/v1/enterprises/{id}", "/api/v1/enterprises/E001", &[Supervisor]),
        Row {
            body: Some(json!({ "kind": "referral", "date": "2026-03-10", "note": "转介" })),
            ..row("POST", "/api/v1/enterprises/{id}/follow-ups", "/api/v1/enterprises/E001/follow-ups", &[Supervisor])
        },
        Row {
            body: Some(
                json!({ "id": "E200", "name": "新企业", "credit_code": "91110108551385082Q", "specialist": "zhuanyuan2" }),
            ),
            ..row("POST", "/api/v1/admin/enterprises", "/api/v1/admin/enterprises", &[Admin])
        },
        Row {
            body: Some(json!({ "specialist": "zhuanyuan2" })),
            ..row(
                "POST",
                "/api/v1/admin/enterprises/{id}/specialist",
                "/api/v1/admin/enterprises/E001/specialist",
                &[Admin],
            )
        },
        row("GET", "/api/v1/reports/enterprises.csv", "/api/v1/reports/enterprises.csv", &[Supervisor, Admin]),
        row("GET", "/api/v1/audit", "/api/v1/audit?date=2026-03-10", &[Supervisor, Admin]),
        row("GET", "/api/v1/audit.csv", "/api/v1/audit.csv", &[Supervisor, Admin]),
        row("GET", "/api/v1/admin", "/api/v1/admin", &[Admin]),
        row("GET", "/api/v1/admin/backup", "/api/v1/admin/backup", &[Admin]),
        Row {
            body: Some(json!({ "queues": ["A", "Y"] })),
            ..row("POST", "/api/v1/admin/windows/{w}/queues", "/api/v1/admin/windows/2/queues", &[Admin])
        },
        row("POST", "/api/v1/admin/windows/{w}/close", "/api/v1/admin/windows/9/close", &[Admin]),
        row("GET", "/api/v1/reports/scorecards", "/api/v1/reports/scorecards", &[Supervisor, Admin]),
        row("GET", "/api/v1/reports/scorecards.csv", "/api/v1/reports/scorecards.csv", &[Supervisor, Admin]),
        row("GET", "/api/v1/reports/day", "/api/v1/reports/day", &[Supervisor, Admin]),
        row(
            "GET",
            "/api/v1/reports/day/charts/{file}",
            "/api/v1/reports/day/charts/arrivals.svg",
            &[Supervisor, Admin],
        ),
        row("GET", "/api/v1/reports/day/tickets.csv", "/api/v1/reports/day/tickets.csv", &[Supervisor, Admin]),
        row("GET", "/api/v1/reports/day/figures.csv", "/api/v1/reports/day/figures.csv", &[Supervisor, Admin]),
        row("GET", "/api/v1/alerts", "/api/v1/alerts?active=true", &[Supervisor, Admin]),
        row("POST", "/api/v1/alerts/{id}/ack", "/api/v1/alerts/1/ack", &[Supervisor, Admin]),
        row("GET", "/api/v1/supervision", "/api/v1/supervision", &[Supervisor, Admin]),
        // 全程领办: a guide's own routes; the figures are the supervisors'.
        Row {
            body: Some(json!({ "service": "SC-0001" })),
            ..row("POST", "/api/v1/guide/tickets", "/api/v1/guide/tickets", &[Guide])
        },
        Row {
            body: Some(json!({ "number": "A001" })),
            ..row("POST", "/api/v1/guide/escorts", "/api/v1/guide/escorts", &[Guide])
        },
        row("POST", "/api/v1/guide/escorts/{number}/release", "/api/v1/guide/escorts/A001/release", &[Guide]),
        row("GET", "/api/v1/guide", "/api/v1/guide", &[Guide]),
        row("GET", "/api/v1/reports/guides.csv", "/api/v1/reports/guides.csv", &[Supervisor, Admin]),
        // Issue 17 §2: the week's stuck items are the supervisors'.
        row("GET", "/api/v1/reports/stuck", "/api/v1/reports/stuck", &[Supervisor, Admin]),
        row("GET", "/api/v1/reports/stuck.csv", "/api/v1/reports/stuck.csv", &[Supervisor, Admin]),
    ];
    // Window 1 is clerk1's: only clerk1 drives it. An admin may sit at a window of their
    // own (open answers 409 here: window 1 is taken), but not drive another's.
    rows.push(row("POST", "/api/v1/windows/{w}/{action}", "/api/v1/windows/1/open", &[ClerkHere, Admin]));
    for (action, body) in [
        ("next", None),
        ("call", Some(json!({ "number": "A001", "reason": "test" }))),
        ("recall", None),
        ("serve", None),
        ("done", None),
        ("done", Some(json!({ "outcome": "not_done", "reason": "policy" }))),
        ("no-show", None),
        ("transfer", Some(json!({ "queue": "A" }))),
        ("park", None),
        ("unpark", Some(json!({ "ticket": ticket }))),
        ("pause", None),
        ("resume", None),
    ] {
        let path = format!("/api/v1/windows/1/{action}");
        rows.push(Row { body, ..row("POST", "/api/v1/windows/{w}/{action}", path, &[ClerkHere]) });
    }
    // Last: they end what the rows above need (window 1 open, every session).
    rows.push(row("POST", "/api/v1/windows/{w}/{action}", "/api/v1/windows/1/close", &[ClerkHere]));
    rows.push(row("POST", "/api/v1/logout", "/api/v1/logout", USERS));
    rows
}

/// Every `.route("PATH", METHOD(...))` of src/http/mod.rs, as (method, path).
fn routes_of_the_router() -> BTreeSet<(String, String)> {
    let src = include_str!("../src/http/mod.rs");
    let mut out = BTreeSet::new();
    for line in src.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let rest = &line[".route(\"".len()..];
        let (path, rest) = rest.split_once('"').expect("a quoted path");
        let method = rest.trim_start_matches([',', ' ']).split('(').next().expect("a method");
        out.insert((method.to_uppercase(), path.to_string()));
    }
    out
}

#[test]
fn the_table_covers_every_route_of_the_router() {
    let routes = routes_of_the_router();
    assert!(routes.len() >= 25, "the route list was not read: {routes:?}");
    let rows = table("t", "k", "c");
    let covered: BTreeSet<(String, String)> =
        rows.iter().map(|r| (r.method.to_string(), r.route.to_string())).collect();
    let missing: Vec<_> = routes.difference(&covered).collect();
    assert!(missing.is_empty(), "routes with no row in the roles table: {missing:?}");
    let stale: Vec<_> = covered.difference(&routes).collect();
    assert!(stale.is_empty(), "rows for routes the router does not have: {stale:?}");
}

struct Callers {
    clerk_here: String,
    clerk_elsewhere: String,
    supervisor: String,
    admin: String,
    guide: String,
}

impl Callers {
    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Anonymous => None,
            Who::Kiosk => Some(KIOSK),
            Who::ClerkHere => Some(&self.clerk_here),
            Who::ClerkElsewhere => Some(&self.clerk_elsewhere),
            Who::Supervisor => Some(&self.supervisor),
            Who::Admin => Some(&self.admin),
            Who::Guide => Some(&self.guide),
        }
    }
}

async fn call(api: &Api, r: &Row, token: Option<&str>) -> support::Reply {
    let mut req = match r.method {
        "GET" => api.http.get(api.url(&r.path)),
        "POST" => api.http.post(api.url(&r.path)),
        other => panic!("no method {other} in the table"),
    };
    if let Some(b) = &r.body {
        req = req.json(b);
    }
    api.send(req, token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_each_role_as_the_table_says() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let issued = api.issue("SC-0001").await;
    let ticket = issued["id"].as_str().expect("an id").to_string();
    let key = issued["key"].as_str().expect("the visitor's key").to_string();
    let booking = api
        .post(
            "/api/v1/appointments",
            None,
            Some(json!({ "service": "SC-0001", "day": "2026-03-11", "slot": "10:00", "phone": "13900000000" })),
        )
        .await;
    assert_eq!(booking.status, 201, "{}", booking.text);
    let code = booking.body["code"].as_str().expect("a code").to_string();
    let callers = Callers {
        clerk_here: api.login("clerk1").await,
        clerk_elsewhere: api.login("clerk2").await,
        supervisor: api.login("supervisor").await,
        admin: api.login("admin").await,
        guide: api.login("guide1").await,
    };
    api.window_ok(&callers.clerk_here, "1", "open", None).await;
    api.window_ok(&callers.clerk_elsewhere, "2", "open", None).await;

    let mut wrong = Vec::new();
    for r in table(&ticket, &key, &code) {
        // The callers refused go first, while the hall's state would still let the action
        // through (a closed window answers 409 to anyone).
        let (allowed, refused): (Vec<Who>, Vec<Who>) = EVERYONE.iter().partition(|w| r.allowed.contains(w));
        for who in refused.into_iter().chain(allowed) {
            let reply = call(api, &r, callers.token(who)).await;
            let allowed = r.allowed.contains(&who);
            let ok = match (allowed, who) {
                (true, _) => reply.status != 401 && reply.status != 403 && reply.status < 500,
                (false, Who::Anonymous) => reply.status == 401,
                (false, _) => reply.status == 403,
            };
            if reply.status == 401 || reply.status == 403 {
                reply.error_code();
            }
            if !ok {
                wrong.push(format!("{} {} as {who:?}: {} {}", r.method, r.path, reply.status, reply.text));
            }
        }
    }
    assert!(wrong.is_empty(), "answers against the roles table:\n{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_logged_out_session_is_refused() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let (a, b) = (api.login("clerk1").await, api.login("clerk1").await);
    api.window_ok(&a, "1", "open", None).await;
    let out = api.post("/api/v1/logout", Some(&a), None).await;
    assert_eq!(out.status, 200, "{}", out.text);
    api.window(&a, "1", "next", None).await.assert_error(401, "unauthorized");
    api.post("/api/v1/logout", Some(&a), None).await.assert_error(401, "unauthorized");
    // The other session of the same user goes on.
    assert_eq!(api.window(&b, "1", "next", None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_expires_when_its_time_is_up() {
    let start = support::default_start_ms();
    let d = Daemon::start_with_clock(start).await;
    let api = &d.api;
    let token = api.login("supervisor").await;
    let ttl_ms = 43_200 * 1000;
    d.set_clock(start + ttl_ms - 1_000);
    assert_eq!(api.get("/api/v1/stats", Some(&token)).await.status, 200);
    d.set_clock(start + ttl_ms + 1_000);
    api.get("/api/v1/stats", Some(&token)).await.assert_error(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_disables_a_user_and_their_sessions_end() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let admin = api.login("admin").await;
    let clerk = api.login("clerk3").await;
    api.window_ok(&clerk, "3", "open", None).await;

    let r = api.post("/api/v1/users/clerk3/disable", Some(&admin), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["sessions_ended"], 1, "{}", r.text);
    api.window(&clerk, "3", "next", None).await.assert_error(401, "unauthorized");
    // A disabled user cannot log in again, even with the right password; a wrong one
    // still reads as a wrong one.
    let again = api.post("/api/v1/login", None, Some(json!({ "user": "clerk3", "password": "demo" }))).await;
    again.assert_error(403, "user_disabled");
    let wrong = api.post("/api/v1/login", None, Some(json!({ "user": "clerk3", "password": "nope" }))).await;
    wrong.assert_error(401, "bad_credentials");

    api.post("/api/v1/users/nobody/disable", Some(&admin), None).await.assert_error(404, "unknown_user");
    api.post("/api/v1/users/admin/disable", Some(&admin), None).await.assert_error(409, "cannot_disable_self");

    let r = api.post("/api/v1/users/clerk3/enable", Some(&admin), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let clerk = api.login("clerk3").await;
    // The disable closed window 3 (nothing may stay stranded at a window whose clerk
    // cannot sign in); back in, clerk3 opens it again and drives it.
    api.window(&clerk, "3", "next", None).await.assert_error(409, "window_closed");
    api.window_ok(&clerk, "3", "open", None).await;
    assert_eq!(api.window(&clerk, "3", "next", None).await.status, 200);
}
