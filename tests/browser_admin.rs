//! The admin page (`/display/admin`) in headless Chromium against a real daemon: a
//! supervisor is turned away; an admin sees every window with its clerk and every user;
//! force-closes a window a clerk left open, gives window 12 queue A as well, and disables a
//! user — each change visible through the API afterwards.

use crate::browser_support;
use crate::support;

use serde_json::json;
use support::Daemon;

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_closes_a_window_sets_queues_and_disables_a_user_from_the_page() {
    let test = "an_admin_closes_a_window_sets_queues_and_disables_a_user_from_the_page";
    let Some(b) = browser_support::launch(test, 1366, 900).await else {
        return;
    };
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let clerk = api.login("clerk5").await;
    api.window_ok(&clerk, "5", "open", None).await;
    let clerk1 = api.login("clerk1").await;
    api.window_ok(&clerk1, "1", "open", None).await;

    let base = format!("http://{}", d.addr);
    b.goto(&format!("{base}/display/admin")).await;
    // Confirmations answer yes in this test.
    b.eval("window.confirm = function () { return true; }; return true;").await;
    b.type_into("#login-user", "supervisor").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the supervisor to be turned away", "return !document.querySelector('#login-error').hidden;").await;
    assert_eq!(b.text("#login-error").await, "仅管理员可使用系统管理");

    b.eval("document.querySelector('#login-user').value = ''; return true;").await;
    b.type_into("#login-user", "admin").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the windows", "return document.querySelectorAll('#windows tr').length >= 12;").await;
    let row5 = b.text("#windows tr[data-window='5']").await;
    assert!(row5.contains("clerk5") && row5.contains("空闲"), "{row5}");
    // Staff by display name (hall.toml's), with the login name beside it.
    let row1 = b.text("#windows tr[data-window='1']").await;
    assert!(row1.contains("李明（clerk1）"), "{row1}");
    b.screenshot("admin-overview").await;
    // Sixty windows: a number finds its one window, "open only" the two open ones.
    let shown = "return Array.prototype.filter.call(document.querySelectorAll('#windows tr'), function (r) { return !r.hidden; })
                   .map(function (r) { return r.dataset.window; }).join(',');";
    b.type_into("#win-filter", "12").await;
    b.until("window 12 alone", &shown.replace(".join(',');", ".join(',') === '12';")).await;
    assert_eq!(b.text("#win-count").await, "显示 1 / 60");
    b.eval("var f = document.querySelector('#win-filter'); f.value = ''; f.dispatchEvent(new Event('input')); return true;").await;
    b.click("#win-open-only").await;
    assert_eq!(b.eval(shown).await, serde_json::json!("1,5"), "the open windows");
    b.screenshot("admin-open-only").await;
    b.click("#win-open-only").await;

    b.click("#windows tr[data-window='5'] .au-close").await;
    b.until(
        "window 5 closed",
        "var r = document.querySelector('#windows tr[data-window=\"5\"]');
         return r && r.querySelector('.au-state').dataset.state === 'closed';",
    )
    .await;
    api.window(&clerk, "5", "next", None).await.assert_error(409, "window_closed");

    b.click("#windows tr[data-window='12'] input[value='A']").await;
    b.click("#windows tr[data-window='12'] .au-save").await;
    b.until("the saved note", "return !document.querySelector('#admin-ok').hidden;").await;
    let admin = api.login("admin").await;
    let view = api.get("/api/v1/admin", Some(&admin)).await.body;
    let w12 = view["windows"].as_array().and_then(|ws| ws.iter().find(|w| w["id"] == "12")).expect("window 12");
    // The page sends the ticked queues in the hall's order.
    assert_eq!(w12["queues"], json!(["A", "Z"]), "{view}");

    b.click("#users tr[data-user='clerk7'] .au-disable").await;
    b.until(
        "clerk7 disabled",
        "var r = document.querySelector('#users tr[data-user=\"clerk7\"]');
         return r && r.querySelector('.au-state').dataset.state === 'disabled';",
    )
    .await;
    let login = api.post("/api/v1/login", None, Some(json!({ "user": "clerk7", "password": support::PASSWORD }))).await;
    login.assert_error(403, "user_disabled");
    // The admin's own row has no disable button.
    assert_eq!(b.eval("return document.querySelectorAll('#users tr[data-user=\"admin\"] .au-disable, #users tr[data-user=\"admin\"] .au-enable').length;").await, 0);
    // A role's word finds its users: the hall's guides.
    b.type_into("#user-filter", "导办").await;
    let guides =
        "return Array.prototype.filter.call(document.querySelectorAll('#users tr'), function (r) { return !r.hidden; })
                    .map(function (r) { return r.dataset.user; }).join(',');";
    let shown = b.eval(guides).await;
    let listed: Vec<String> = view["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["role"] == "guide")
        .map(|u| u["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!listed.is_empty(), "the example hall has guides");
    assert_eq!(shown, json!(listed.join(",")), "the guides and no one else");
    b.screenshot("admin-after-changes").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_adds_a_clerk_and_resets_a_password_from_the_page() {
    let test = "an_admin_adds_a_clerk_and_resets_a_password_from_the_page";
    let Some(b) = browser_support::launch(test, 1366, 1400).await else {
        return;
    };
    let d = Daemon::start_with_clock(support::default_start_ms()).await;
    let api = &d.api;
    let base = format!("http://{}", d.addr);
    b.goto(&format!("{base}/display/admin")).await;
    b.type_into("#login-user", "admin").await;
    b.type_into("#login-password", support::PASSWORD).await;
    b.click("#login-submit").await;
    b.until("the users", "return document.querySelectorAll('#users tr').length >= 14;").await;

    // A refused name says why, and adds nobody.
    b.type_into("#new-user", "Clerk 13").await;
    b.type_into("#new-password", "clerk61-pass").await;
    b.click("#add-user").await;
    b.until("the refusal", "return !document.querySelector('#users-manage-error').hidden;").await;
    assert!(b.text("#users-manage-error").await.contains("小写字母"), "the name rule is shown");
    assert_eq!(
        b.eval("return document.querySelector('#new-password').value;").await,
        "",
        "the password field is emptied"
    );

    b.eval("document.querySelector('#new-user').value = ''; return true;").await;
    b.type_into("#new-user", "clerk61").await;
    b.type_into("#new-password", "clerk61-pass").await;
    b.eval("document.querySelector('#new-role').value = 'clerk'; return true;").await;
    b.click("#add-user").await;
    b.until("clerk61 listed", "return !!document.querySelector('#users tr[data-user=\"clerk61\"]');").await;
    assert!(b.text("#users-manage-ok").await.contains("clerk61"));
    let r = api.post("/api/v1/login", None, Some(json!({ "user": "clerk61", "password": "clerk61-pass" }))).await;
    assert_eq!((r.status, r.body["role"].clone()), (200, json!("clerk")), "{}", r.text);
    b.screenshot("admin-user-added").await;

    // The row's 重置密码 fills in the name and puts the cursor on the new password.
    b.click("#users tr[data-user='clerk61'] .au-reset").await;
    assert_eq!(b.eval("return document.querySelector('#reset-user').value;").await, json!("clerk61"));
    assert_eq!(b.eval("return document.activeElement.id;").await, json!("reset-password"));
    b.type_into("#reset-password", "clerk61-newpass").await;
    b.click("#reset-submit").await;
    b.until("the reset note", "return document.querySelector('#users-manage-ok').textContent.indexOf('重置') >= 0;")
        .await;
    let old = api.post("/api/v1/login", None, Some(json!({ "user": "clerk61", "password": "clerk61-pass" }))).await;
    old.assert_error(401, "bad_credentials");
    let new = api.post("/api/v1/login", None, Some(json!({ "user": "clerk61", "password": "clerk61-newpass" }))).await;
    assert_eq!(new.status, 200, "{}", new.text);
    b.screenshot("admin-password-reset").await;
    b.close().await;
}
