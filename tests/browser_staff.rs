//! The staff portal and the start page in headless Chromium (issue 15): one sign-in shared
//! by the supervisor, reports, audit, cases and admin pages, with a menu of the pages the
//! role may use and the user's display name; the admin page's header names the hall; a
//! clerk returns straight to the window they left open, after signing in again and after a
//! restart of the real binary; the start page shows demo credentials only while the hall
//! runs on them; `/favicon.ico` is served. Screenshots under target/screenshots/.

use crate::browser_support;
use crate::support;

use serde_json::Value;
use support::{Daemon, Process, PASSWORD};

/// The menu's page ids, in order.
const MENU_JS: &str =
    "return Array.from(document.querySelectorAll('#staff-menu a')).map(function (a) { return a.dataset.page; }).join(',');";

#[tokio::test(flavor = "multi_thread")]
async fn one_sign_in_serves_every_staff_page_through_a_menu_of_the_roles_pages() {
    let test = "one_sign_in_serves_every_staff_page_through_a_menu_of_the_roles_pages";
    let Some(b) = browser_support::launch(test, 1440, 900).await else {
        return;
    };
    let d = Daemon::start().await;
    let base = format!("http://{}", d.addr);
    // A clerk signed in at window 1: the supervisor page names them by display name.
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;

    b.goto(&format!("{base}/display/supervisor")).await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the supervisor page", "return !document.querySelector('#screen-main').hidden;").await;
    assert_eq!(b.until("the menu", MENU_JS).await, "supervisor,reports,audit,cases", "no admin page for a supervisor");
    assert_eq!(b.text("#user-name").await, "王芳", "the display name, not the login name");
    b.until(
        "the clerk by display name",
        "var w = document.querySelector('#window-grid [data-window=\"1\"]'); return w && w.innerText.indexOf('李明') >= 0;",
    )
    .await;
    b.screenshot("staff-supervisor-menu").await;

    // Through the menu: each page opens signed in, with the same menu.
    for page in ["reports", "audit", "cases"] {
        b.click(&format!("#staff-menu a[data-page=\"{page}\"]")).await;
        let js = format!(
            "return location.pathname === '/display/{page}' && document.querySelector('#login-form')
               && document.querySelector('#login-form').offsetParent === null
               && document.querySelector('#staff-menu a.is-here[data-page=\"{page}\"]') !== null;"
        );
        b.until(&format!("the {page} page, signed in"), &js).await;
        assert_eq!(b.eval(MENU_JS).await, "supervisor,reports,audit,cases");
        b.screenshot(&format!("staff-{page}-menu")).await;
    }
    // The admin page is not the supervisor's: it asks for an admin, and says so.
    b.goto(&format!("{base}/display/admin")).await;
    b.until("the admin page's refusal", "return !document.querySelector('#login-error').hidden;").await;

    // An admin signs in there: five pages, the hall's name in the header (not 政务服务中心).
    b.type_into("#login-user", "admin").await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    assert_eq!(b.until("the admin's menu", MENU_JS).await, "supervisor,reports,audit,cases,admin");
    b.until("the hall's name", "return document.querySelector('#hall-name').textContent === '青川区政务服务中心';")
        .await;
    b.until("the user list", "return document.querySelectorAll('#users tr').length > 10;").await;
    let row = b.text("#users tr[data-user=\"clerk1\"]").await;
    assert!(row.contains("李明（clerk1）"), "{row}");
    assert_eq!(b.text("#user-name").await, "赵强");
    b.screenshot("staff-admin-menu").await;
    // Signing out of one page signs out of all.
    b.click("#logout").await;
    b.until("the admin sign-in", "return document.querySelector('#login-form').offsetParent !== null;").await;
    b.goto(&format!("{base}/display/supervisor")).await;
    b.until("the supervisor sign-in", "return !document.querySelector('#screen-login').hidden;").await;
    assert_eq!(b.eval("return document.querySelectorAll('#staff-menu a').length;").await, Value::from(0));
    b.close().await;
}

/// Whether the page in the current tab shows its sign-in form.
const SIGN_IN_SHOWN_JS: &str = "return document.querySelector('#login-form').offsetParent !== null;";

/// Whether the page in the current tab is signed in: no sign-in form, the portal's menu.
const SIGNED_IN_JS: &str = "return document.querySelector('#login-form').offsetParent === null
    && document.querySelectorAll('#staff-menu a').length > 0;";

/// Issue 15: "Supervisor, reports, audit and cases each need their own sign-in". The
/// portal's sign-in was kept per tab, so a page opened in a new tab asked again. Now one
/// sign-in serves every tab of the browser; signing out in one, or a session the daemon
/// turns away (401) in one, returns every tab to its sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn one_sign_in_serves_every_tab_and_a_sign_out_or_a_refused_session_reaches_them_all() {
    let test = "one_sign_in_serves_every_tab_and_a_sign_out_or_a_refused_session_reaches_them_all";
    let Some(b) = browser_support::launch(test, 1440, 900).await else {
        return;
    };
    let d = Daemon::start().await;
    let base = format!("http://{}", d.addr);
    b.goto(&format!("{base}/display/supervisor")).await;
    let supervisor = b.tab().await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the supervisor page", "return !document.querySelector('#screen-main').hidden;").await;

    // New tabs open signed in.
    let reports = b.open_tab(&format!("{base}/display/reports")).await;
    b.until("the reports page signed in, in a new tab", SIGNED_IN_JS).await;
    let audit = b.open_tab(&format!("{base}/display/audit")).await;
    b.until("the audit page signed in, in a new tab", SIGNED_IN_JS).await;
    b.until("the audit page's rows", "return document.querySelectorAll('#rows tr').length > 0;").await;
    b.screenshot("staff-tab-audit-signed-in").await;

    // Signing out in the reports tab: every tab returns to its sign-in.
    b.switch_to(&reports).await;
    b.click("#logout").await;
    b.until("the reports sign-in", SIGN_IN_SHOWN_JS).await;
    for (tab, page) in [(&supervisor, "supervisor"), (&audit, "audit")] {
        b.switch_to(tab).await;
        b.until(&format!("the {page} tab back at its sign-in"), SIGN_IN_SHOWN_JS).await;
        assert_eq!(b.eval("return document.querySelectorAll('#staff-menu a').length;").await, Value::from(0));
    }
    b.screenshot("staff-tab-audit-signed-out").await;

    // Signing in again in the audit tab signs in the others.
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the audit page signed in", SIGNED_IN_JS).await;
    b.switch_to(&supervisor).await;
    b.until("the supervisor tab signed in again", "return !document.querySelector('#screen-main').hidden;").await;

    // The daemon ends the session (as an expiry or an admin would): the supervisor page's
    // next read is refused (401), and every tab returns to its sign-in.
    let token = b.eval("return JSON.parse(localStorage.getItem('hallq.staff')).token;").await;
    let token = token.as_str().expect("the shared session's token").to_string();
    let out = d.api.post("/api/v1/logout", Some(&token), None).await;
    assert_eq!(out.status, 200, "{}", out.text);
    b.until("the supervisor tab back at its sign-in", "return !document.querySelector('#screen-login').hidden;").await;
    for (tab, page) in [(&reports, "reports"), (&audit, "audit")] {
        b.switch_to(tab).await;
        b.until(&format!("the {page} tab back at its sign-in"), SIGN_IN_SHOWN_JS).await;
    }
    b.close().await;
}

/// A free port on loopback for a daemon that must come back at the same address.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("an address").port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clerk_returns_straight_to_the_open_window_after_a_sign_in_and_after_a_restart() {
    let test = "a_clerk_returns_straight_to_the_open_window_after_a_sign_in_and_after_a_restart";
    let Some(b) = browser_support::launch(test, 1366, 768).await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let config = || support::config_dir(support::without_rate_limits);
    let mut hallq = Process::spawn_with(data.path(), config(), &listen, "info,sled=warn", &[]).await;
    let base = format!("http://{}", hallq.addr);
    // Window 1 open and calling, from another browser (the API).
    let api = &hallq.api;
    let token = api.login("clerk1").await;
    api.window_ok(&token, "1", "open", None).await;
    let ticket = api.issue(&api.item_in("A").await).await;
    api.call_next(&token, "1").await;
    let number = ticket["number"].as_str().unwrap().to_string();

    // Signing in lands on the console of window 1, calling, not on "开启窗口".
    b.goto(&format!("{base}/display/clerk")).await;
    b.type_into("#login-user", "clerk1").await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.until(
        "the console of window 1",
        "return document.body.dataset.screen === 'console' && !document.querySelector('#screen-console').hidden;",
    )
    .await;
    b.until_clerk_number(&number).await;
    assert_eq!(b.eval("return document.querySelector('#screen-pick').hidden;").await, Value::Bool(true));

    // The daemon restarts on the same data directory and address: the page stays signed
    // in and on its window, and acts on it.
    assert_eq!(hallq.terminate().await.code(), Some(0));
    let hallq = Process::spawn_with(data.path(), config(), &listen, "info,sled=warn", &[]).await;
    b.goto(&format!("{base}/display/clerk")).await;
    b.until("the console after the restart", "return document.body.dataset.screen === 'console';").await;
    b.until_clerk_number(&number).await;
    b.until("serve enabled", "return !document.querySelector('[data-action=\"serve\"]').disabled;").await;
    b.click("[data-action=\"serve\"]").await;
    b.until("serving", "return document.querySelector('#ticket-panel').dataset.state === 'serving';").await;
    b.screenshot("clerk-after-restart").await;
    let w = hallq.api.get("/api/v1/windows/1", Some(&token)).await;
    assert_eq!(w.body["window"]["state"], "serving", "{}", w.text);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_start_page_shows_demo_credentials_only_while_the_hall_runs_on_them() {
    let test = "the_start_page_shows_demo_credentials_only_while_the_hall_runs_on_them";
    let Some(b) = browser_support::launch(test, 1280, 900).await else {
        return;
    };
    // The example hall: every password is the demo one.
    let d = Daemon::start().await;
    let icon = d.api.http.get(d.api.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    assert_eq!(&icon.bytes().await.unwrap()[..4], &[0, 0, 1, 0], "an ICO file");
    b.goto(&d.api.url("/")).await;
    b.until("the demo lines", "return document.querySelectorAll('.demo-cred').length >= 7;").await;
    let text = b.text("main").await;
    // The clerks: clerk1 … clerk12, the 助企服务 specialists zhuanyuan1 and zhuanyuan2, then
    // clerk13 … clerk60 of the window ranges.
    assert!(text.contains("演示账号 clerk1…clerk60，密码 demo"), "{text}");
    assert!(text.contains("演示令牌 demo-kiosk-1"), "{text}");
    let kiosk = b.eval("return document.querySelector('#kiosk-card').getAttribute('href');").await;
    assert_eq!(kiosk, "/display/kiosk?token=demo-kiosk-1");
    b.screenshot("index-demo").await;
    // An admin sets one password: the hall no longer runs on the demo ones; none is shown.
    let admin = d.api.login("admin").await;
    let r = d.api.post(
        "/api/v1/users/clerk5/password",
        Some(&admin),
        Some(serde_json::json!({ "password": "a real one!" })),
    );
    assert_eq!(r.await.status, 200);
    let demo = d.api.get("/api/v1/demo", None).await;
    assert_eq!(demo.body, serde_json::json!({ "in_use": false }), "{}", demo.text);

    // A hall with passwords of its own: no demo line, no token in a link.
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    let own = hallq::config::hash_password("not the demo one").expect("a hash");
    for u in &mut config.users {
        u.password_hash = own.clone();
    }
    let d2 = Daemon::start_config(std::sync::Arc::new(tempfile::tempdir().unwrap()), None, config).await;
    b.goto(&d2.api.url("/")).await;
    b.until("the window links", "return document.querySelectorAll('#window-links a').length === 60;").await;
    // The page asks until the daemon has checked the passwords; then it knows.
    support::guard("the daemon's answer", async {
        loop {
            let r = d2.api.get("/api/v1/demo", None).await;
            if r.body.get("pending").is_none() {
                assert_eq!(r.body, serde_json::json!({ "in_use": false }));
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let html = b.eval("return document.body.innerText;").await;
    let html = html.as_str().unwrap_or_default();
    assert!(!html.contains("demo") && !html.contains("演示"), "{html}");
    let kiosk = b.eval("return document.querySelector('#kiosk-card').getAttribute('href');").await;
    assert_eq!(kiosk, "/display/kiosk");
    let source = d2.api.http.get(d2.api.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!source.contains("demo-kiosk-1") && !source.contains("密码 demo"), "the page itself holds no credential");
    b.screenshot("index-no-demo").await;
    b.close().await;
}
