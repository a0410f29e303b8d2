//! An admin's changes without editing hall.toml, black-box: the queues a window serves
//! (dispatch follows them, and they hold across restarts and into the next day's
//! snapshot), closing a window its clerk left open (refused while it holds a ticket), the
//! admin overview, bad input, and the audit trail of each change.

use crate::support;

use serde_json::{json, Value};
use support::{shanghai_ms, Daemon};

async fn admin_view(d: &Daemon, token: &str) -> Value {
    let r = d.api.get("/api/v1/admin", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

fn window<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["windows"].as_array().and_then(|ws| ws.iter().find(|w| w["id"] == id)).expect("the window is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_windows_queues_set_by_an_admin_steer_dispatch_and_hold_across_restart_and_days() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let item = d.api.item_in("A").await;
    d.api.issue(&item).await;
    let clerk = d.api.login("clerk12").await;
    d.api.window_ok(&clerk, "12", "open", None).await;
    // Window 12 serves Z only: the A ticket is not its to call.
    assert!(d.api.window_ok(&clerk, "12", "next", None).await["ticket"].is_null());

    let admin = d.api.login("admin").await;
    let path = "/api/v1/admin/windows/12/queues";
    let r = d.api.post(path, Some(&admin), Some(json!({ "queues": ["Z", "A"] }))).await;
    assert_eq!((r.status, r.body["queues"].clone()), (200, json!(["Z", "A"])), "{}", r.text);
    assert_eq!(d.api.call_next(&clerk, "12").await["number"], "A001");
    let hall = d.api.get("/api/v1/hall", None).await.body;
    let shown = hall["windows"].as_array().and_then(|ws| ws.iter().find(|w| w["id"] == "12")).expect("window 12");
    assert_eq!(shown["queues"], json!(["Z", "A"]), "displays see the new queues: {hall}");

    for (body, status, code) in [
        (json!({ "queues": [] }), 400, "bad_queues"),
        (json!({ "queues": ["A", "A"] }), 400, "bad_queues"),
        (json!({ "queues": ["a b"] }), 400, "bad_queues"),
        (json!({ "queues": ["Q9"] }), 404, "unknown_queue"),
        (json!({ "queue": "A" }), 400, "bad_json"),
    ] {
        d.api.post(path, Some(&admin), Some(body)).await.assert_error(status, code);
    }
    let r = d.api.post("/api/v1/admin/windows/99/queues", Some(&admin), Some(json!({ "queues": ["A"] }))).await;
    r.assert_error(404, "unknown_window");
    d.api.post(path, Some(&clerk), Some(json!({ "queues": ["A"] }))).await.assert_error(403, "forbidden");

    let d = d.restart().await;
    let admin = d.api.login("admin").await;
    assert_eq!(window(&admin_view(&d, &admin).await, "12")["queues"], json!(["Z", "A"]));
    // The next day opens (a snapshot is written); after another restart, from it.
    d.set_clock(shanghai_ms(2026, 3, 11, 8, 30, 0));
    let admin = d.api.login("admin").await;
    let d = d.restart().await;
    let admin2 = d.api.login("admin").await;
    assert_eq!(window(&admin_view(&d, &admin2).await, "12")["queues"], json!(["Z", "A"]));
    drop(admin);

    // Back to hall.toml's queues.
    let r = d.api.post("/api/v1/admin/windows/12/queues", Some(&admin2), Some(json!({ "queues": ["Z"] }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = d.restart().await;
    let admin = d.api.login("admin").await;
    assert_eq!(window(&admin_view(&d, &admin).await, "12")["queues"], json!(["Z"]));
    let page = d.api.get("/api/v1/audit?date=2026-03-10&action=set_queues", Some(&admin)).await.body;
    let entries = page["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{page}");
    assert_eq!((&entries[0]["user"], &entries[0]["window"]), (&json!("admin"), &json!("12")));
    assert!(entries[0]["detail"].as_str().is_some_and(|t| t.contains("Z") && t.contains("A")), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_closes_a_window_its_clerk_left_open_and_its_ticket_goes_back_in_line() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let item = d.api.item_in("A").await;
    let ticket = d.api.issue(&item).await;
    let clerk = d.api.login("clerk5").await;
    d.api.window_ok(&clerk, "5", "open", None).await;
    let admin = d.api.login("admin").await;
    let view = admin_view(&d, &admin).await;
    assert_eq!((&window(&view, "5")["state"], &window(&view, "5")["clerk"]), (&json!("open"), &json!("clerk5")));
    let clerk5 = view["users"].as_array().and_then(|u| u.iter().find(|u| u["name"] == "clerk5")).expect("clerk5");
    assert_eq!((&clerk5["role"], &clerk5["disabled"]), (&json!("clerk"), &json!(false)));

    d.api.call_next(&clerk, "5").await;
    let close = "/api/v1/admin/windows/5/close";
    let r = d.api.post(close, Some(&admin), None).await;
    assert_eq!(
        (r.status, r.body["state"].clone(), r.body["clerk"].clone()),
        (200, json!("closed"), Value::Null),
        "{}",
        r.text
    );
    // The ticket the window held waits again, at the head of its queue.
    let id = ticket["id"].as_str().expect("an id");
    let t = d.api.ticket(id).await.body;
    assert_eq!((&t["status"], &t["window"], &t["ahead"]), (&json!("waiting"), &Value::Null, &json!(0)), "{t}");
    // Closed already: nothing more happens.
    assert_eq!(d.api.post(close, Some(&admin), None).await.status, 200);
    d.api.window(&clerk, "5", "next", None).await.assert_error(409, "window_closed");
    d.api.window_ok(&clerk, "5", "open", None).await;
    let sup = d.api.login("supervisor").await;
    d.api.post(close, Some(&sup), None).await.assert_error(403, "forbidden");

    let page = d.api.get("/api/v1/audit?date=2026-03-10&window=5", Some(&admin)).await.body;
    let acts: Vec<(Value, Value)> =
        page["entries"].as_array().expect("entries").iter().map(|e| (e["user"].clone(), e["action"].clone())).collect();
    let expected: Vec<(Value, Value)> =
        [("clerk5", "open"), ("clerk5", "call"), ("admin", "force_close"), ("clerk5", "open")]
            .iter()
            .map(|(u, a)| (json!(u), json!(a)))
            .collect();
    assert_eq!(acts, expected, "{page}");
}

async fn login_with(d: &Daemon, user: &str, password: &str) -> support::Reply {
    d.api.post("/api/v1/login", None, Some(json!({ "user": user, "password": password }))).await
}

fn listed<'a>(view: &'a Value, name: &str) -> Option<&'a Value> {
    view["users"].as_array().and_then(|us| us.iter().find(|u| u["name"] == name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_adds_a_clerk_who_logs_in_at_once_and_after_a_restart() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let admin = d.api.login("admin").await;
    let body = json!({ "user": "clerk61", "role": "clerk", "password": "first-pass-61" });
    let r = d.api.post("/api/v1/users", Some(&admin), Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (&r.body["name"], &r.body["role"], &r.body["source"]),
        (&json!("clerk61"), &json!("clerk"), &json!("admin"))
    );
    assert!(!r.text.contains("first-pass-61") && !r.text.contains("argon2"), "neither password nor hash: {}", r.text);

    let r = login_with(&d, "clerk61", "first-pass-61").await;
    assert_eq!((r.status, r.body["role"].clone()), (200, json!("clerk")), "{}", r.text);
    let clerk = r.body["token"].as_str().expect("a token").to_string();
    // An added clerk may open any window.
    d.api.window_ok(&clerk, "7", "open", None).await;
    login_with(&d, "clerk61", "wrong-password").await.assert_error(401, "bad_credentials");
    let view = admin_view(&d, &admin).await;
    let row = listed(&view, "clerk61").expect("the admin page lists the added user");
    assert_eq!((&row["disabled"], &row["source"]), (&json!(false), &json!("admin")));
    assert_eq!(listed(&view, "clerk1").expect("hall.toml's users too")["source"], "hall_toml");

    // The log keeps the user: after a restart they still log in, and an admin can disable
    // and reset them like a user of hall.toml.
    let d = d.restart().await;
    assert_eq!(login_with(&d, "clerk61", "first-pass-61").await.status, 200);
    let admin = d.api.login("admin").await;
    let r =
        d.api.post("/api/v1/users/clerk61/password", Some(&admin), Some(json!({ "password": "second-pass-61" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    login_with(&d, "clerk61", "first-pass-61").await.assert_error(401, "bad_credentials");
    assert_eq!(login_with(&d, "clerk61", "second-pass-61").await.status, 200);
    assert_eq!(d.api.post("/api/v1/users/clerk61/disable", Some(&admin), None).await.status, 200);
    login_with(&d, "clerk61", "second-pass-61").await.assert_error(403, "user_disabled");
    assert_eq!(d.api.post("/api/v1/users/clerk61/enable", Some(&admin), None).await.status, 200);

    // The audit names the admin for the add and the reset, and shows no hash.
    let page = d.api.get("/api/v1/audit?date=2026-03-10", Some(&admin)).await;
    let acts: Vec<(Value, Value)> = page.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "add_user" || e["action"] == "reset_password")
        .map(|e| (e["user"].clone(), e["action"].clone()))
        .collect();
    assert_eq!(
        acts,
        vec![(json!("admin"), json!("add_user")), (json!("admin"), json!("reset_password"))],
        "{}",
        page.text
    );
    assert!(!page.text.contains("argon2") && !page.text.contains("pass-61"), "{}", page.text);
    // The added clerk's own actions carry the role the admin gave (not in hall.toml).
    let opened = page.body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["user"] == "clerk61" && e["action"] == "open")
        .unwrap_or_else(|| panic!("the added clerk's open is audited: {}", page.text))
        .clone();
    assert_eq!(opened["role"], "clerk", "{opened}");
    let csv = d.api.get("/api/v1/audit.csv?date=2026-03-10&user=clerk61", Some(&admin)).await.text;
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(!rows.is_empty() && rows.iter().all(|l| l.contains(",clerk61,") && l.contains("窗口人员")), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_password_reset_ends_the_users_other_sessions_and_works_for_hall_toml_users() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let admin = d.api.login("admin").await;
    let clerk = d.api.login("clerk2").await;
    let r =
        d.api.post("/api/v1/users/clerk2/password", Some(&admin), Some(json!({ "password": "clerk2-new-pass" }))).await;
    assert_eq!((r.status, r.body["sessions_ended"].clone()), (200, json!(1)), "{}", r.text);
    d.api.window(&clerk, "2", "open", None).await.assert_error(401, "unauthorized");
    login_with(&d, "clerk2", "demo").await.assert_error(401, "bad_credentials");
    assert_eq!(login_with(&d, "clerk2", "clerk2-new-pass").await.status, 200);
    // An admin resetting their own password stays signed in.
    let r =
        d.api.post("/api/v1/users/admin/password", Some(&admin), Some(json!({ "password": "admin-new-pass" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(d.api.get("/api/v1/admin", Some(&admin)).await.status, 200);
    let d = d.restart().await;
    assert_eq!(login_with(&d, "clerk2", "clerk2-new-pass").await.status, 200, "the reset holds across a restart");
    assert_eq!(login_with(&d, "admin", "admin-new-pass").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_new_users_and_passwords_are_refused_each_with_its_error_and_nothing_changes() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let admin = d.api.login("admin").await;
    let ok = |name: &str| json!({ "user": name, "role": "clerk", "password": "good-password" });
    let first = d.api.post("/api/v1/users", Some(&admin), Some(ok("clerk61"))).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let before = admin_view(&d, &admin).await["users"].clone();
    let long = "a".repeat(33);
    let huge = "p".repeat(257);
    for (body, status, code) in [
        (ok("clerk1"), 409, "user_exists"),
        (ok("Clerk1"), 400, "bad_user_name"),
        (ok("clerk61"), 409, "user_exists"),
        (ok("admin"), 409, "user_exists"),
        (ok("x"), 400, "bad_user_name"),
        (ok(&long), 400, "bad_user_name"),
        (ok("1clerk"), 400, "bad_user_name"),
        (ok("王小明"), 400, "bad_user_name"),
        (ok("a b"), 400, "bad_user_name"),
        (json!({ "user": "clerk14", "role": "boss", "password": "good-password" }), 400, "bad_role"),
        (json!({ "user": "clerk14", "role": "clerk", "password": "short" }), 400, "password_too_short"),
        (json!({ "user": "clerk14", "role": "clerk", "password": huge }), 400, "password_too_long"),
        (json!({ "user": "clerk14", "role": "clerk" }), 400, "bad_json"),
        (json!({ "user": "clerk14", "role": "clerk", "password": "good-password", "windows": ["1"] }), 400, "bad_json"),
    ] {
        d.api.post("/api/v1/users", Some(&admin), Some(body)).await.assert_error(status, code);
    }
    let path = "/api/v1/users/clerk3/password";
    d.api.post(path, Some(&admin), Some(json!({ "password": "short" }))).await.assert_error(400, "password_too_short");
    let r =
        d.api.post("/api/v1/users/nobody/password", Some(&admin), Some(json!({ "password": "good-password" }))).await;
    r.assert_error(404, "unknown_user");
    assert_eq!(admin_view(&d, &admin).await["users"], before, "nothing changed");
    assert_eq!(login_with(&d, "clerk3", "demo").await.status, 200, "clerk3's password is unchanged");
    login_with(&d, "clerk14", "good-password").await.assert_error(401, "bad_credentials");

    // Only admins.
    for who in ["clerk1", "supervisor"] {
        let token = d.api.login(who).await;
        d.api.post("/api/v1/users", Some(&token), Some(ok("clerk15"))).await.assert_error(403, "forbidden");
        let r = d.api.post("/api/v1/users/clerk3/password", Some(&token), Some(json!({ "password": "good-password" })));
        r.await.assert_error(403, "forbidden");
    }
    d.api.post("/api/v1/users", None, Some(ok("clerk15"))).await.assert_error(401, "unauthorized");
    login_with(&d, "clerk15", "good-password").await.assert_error(401, "bad_credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_hall_toml_later_names_an_added_user_its_role_wins_and_the_admins_password_stays() {
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let admin = d.api.login("admin").await;
    let body = json!({ "user": "zhangwei", "role": "clerk", "password": "zhangwei-pass" });
    assert_eq!(d.api.post("/api/v1/users", Some(&admin), Some(body)).await.status, 201);
    let (data, clock) = d.stop().await;

    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let hash = hallq::config::hash_password("toml-password").expect("a hash");
    let name = hallq::core::model::UserName::parse("zhangwei").expect("a user name");
    let window = hallq::core::model::WindowId::parse("3").expect("a window id");
    config.users.push(hallq::config::UserDef {
        name,
        role: hallq::config::Role::Supervisor,
        password_hash: hash,
        windows: vec![window],
        display_name: None,
    });
    let d = Daemon::start_config(data, clock, config).await;
    let r = login_with(&d, "zhangwei", "zhangwei-pass").await;
    assert_eq!(
        (r.status, r.body["role"].clone(), r.body["windows"].clone()),
        (200, json!("supervisor"), json!(["3"])),
        "{}",
        r.text
    );
    login_with(&d, "zhangwei", "toml-password").await.assert_error(401, "bad_credentials");
    let admin = d.api.login("admin").await;
    let view = admin_view(&d, &admin).await;
    let rows: Vec<&Value> =
        view["users"].as_array().expect("users").iter().filter(|u| u["name"] == "zhangwei").collect();
    assert_eq!(rows.len(), 1, "listed once: {view}");
    assert_eq!((&rows[0]["role"], &rows[0]["source"]), (&json!("supervisor"), &json!("hall_toml")));
}

/// `GET /api/v1/demo`'s answer once known: the start-up argon2 checks answer "pending"
/// meanwhile.
async fn demo(api: &support::Api) -> Value {
    support::guard("the demo answer", async {
        loop {
            let r = api.get("/api/v1/demo", None).await;
            assert_eq!(r.status, 200, "{}", r.text);
            if r.body.get("pending").is_none() {
                return r.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await
}

/// The engine's count of reads it answered, from `/metrics`.
async fn engine_queries(d: &Daemon) -> u64 {
    let m = d.api.get("/metrics", Some(support::METRICS_TOKEN)).await.text;
    let line = m.lines().find(|l| l.starts_with("hallq_engine_queries_total ")).unwrap_or_default();
    line.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("the metric is exported")
}

/// Issue 15 (second round): `GET /api/v1/demo` asked the engine for the staff on every
/// request, so anyone could keep the engine busy with it. Now the staff is asked once; a
/// flood costs the engine nothing, and an admin's reset still ends the demo at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_answer_costs_the_engine_one_read_and_ends_with_an_admins_reset() {
    let d = Daemon::start().await;
    assert_eq!(demo(&d.api).await["in_use"], true);
    let before = engine_queries(&d).await;
    for _ in 0..300 {
        assert_eq!(demo(&d.api).await["password"], "demo");
    }
    let after = engine_queries(&d).await;
    // The metrics scrape itself is no engine read; a stray one of the daemon's own may be.
    assert!(after - before <= 2, "300 demo answers cost the engine {} reads", after - before);

    let admin = d.api.login("admin").await;
    let r = d.api.post("/api/v1/users/clerk5/password", Some(&admin), Some(json!({ "password": "a real one!" }))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(demo(&d.api).await, json!({ "in_use": false }), "gone at once after the reset");
    let (data, _) = d.stop().await;
    // And after a restart, which asks the staff afresh.
    let d = Daemon::start_on(data, None).await;
    assert_eq!(demo(&d.api).await, json!({ "in_use": false }));
}
