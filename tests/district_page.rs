//! The district dashboard (`/display/district`) in headless Chromium against two hall
//! daemons and the district over a real `nats-server -js`: a district supervisor signs
//! in and sees a card per hall with the hall's name and the waiting count its own API
//! reports, following a ticket live; a stopped hall's card turns red and offline; the
//! day's charts have a bar per hall, and a referral from town-a to town-b shows as one
//! sent by town-a and one taken in by town-b. Screenshots at 1920x1080 and at a phone's width under
//! target/screenshots/.

use serde_json::{json, Value};

use crate::browser_support;
use crate::district_feed::{screen, sign_in, District};
use crate::district_view::{agrees, district_dir, district_login, issue, start_hall};
use crate::support::nats::Nats;
use crate::support::*;

/// What a hall's own API says: its name and how many wait.
async fn own(hall: &Daemon) -> (String, u64) {
    let snapshot = hall.api.get("/api/v1/hall", None).await;
    assert_eq!(snapshot.status, 200, "{}", snapshot.text);
    let waiting =
        snapshot.body["queues"].as_array().expect("queues").iter().filter_map(|q| q["waiting"].as_u64()).sum();
    let name = snapshot.body["hall"]["name"].as_str().or(snapshot.body["name"].as_str()).map(str::to_string);
    (name.unwrap_or_else(|| panic!("no hall name in {}", snapshot.text)), waiting)
}

/// A script: the card of `id` as the page shows it.
fn card_js(id: &str) -> String {
    format!(
        "var c = document.querySelector('.ds-hall[data-hall=\"{id}\"]'); if (!c) return null;
         var figs = {{}}; c.querySelectorAll('.ds-figs div').forEach(function (d) {{
           figs[d.querySelector('dt').textContent] = d.querySelector('dd').textContent; }});
         return {{ name: c.querySelector('.ds-hall-name').textContent, online: c.dataset.online, red: c.dataset.red,
                  pill: c.querySelector('.ds-pill').textContent, waiting: figs['等候人数'],
                  border: getComputedStyle(c).borderTopColor }};"
    )
}

/// Signs in on the dashboard (a wrong password first) and waits for each hall's card to
/// show the hall's name and the waiting count of the hall's own API, calm.
async fn sign_in_and_see(b: &browser_support::Browser, halls: &[(&str, &Daemon)]) {
    b.type_into("#login-user", "district-super").await;
    b.type_into("#login-password", "wrong").await;
    b.click("#login-submit").await;
    b.until("a wrong password refused", "return !document.querySelector('#login-error').hidden;").await;
    b.eval("document.querySelector('#login-password').value = ''; return true;").await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    // The district may still be catching up when the page first reads it (the tickets
    // issued before a window opened raised queue_unstaffed, cleared by the opening): each
    // card comes to the hall's own state, calm, and stays so.
    for &(id, hall) in halls {
        let (name, waiting) = own(hall).await;
        let want = format!("{}", waiting);
        let seen = b
            .until(
                &format!("{id}'s card as the hall says, calm"),
                &format!("var c = (function () {{ {} }})(); return c && c.waiting === '{want}' && c.online === 'yes' && c.red === 'no' ? c : null;", card_js(id)),
            )
            .await;
        assert_eq!(seen["name"], name.as_str(), "{id}: {seen}");
        assert_eq!(seen["red"], "no", "{id} is calm: {seen}");
    }
}

/// The page on a phone: one column, nothing wider than the screen; screenshots.
async fn on_a_phone(b: &browser_support::Browser) {
    let metrics = json!({ "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true });
    b.cdp("Emulation.setDeviceMetricsOverride", metrics).await;
    let wide = b.eval("return document.documentElement.scrollWidth;").await;
    assert!(wide.as_u64().is_some_and(|w| w <= 390), "the page is {wide} px wide on a 390 px phone");
    let shot = b.screenshot("district-dashboard-phone").await;
    eprintln!("screenshot {}", shot.display());
    b.eval("document.querySelector('.ds-compare').scrollIntoView(); return true;").await;
    let shot = b.screenshot("district-dashboard-phone-charts").await;
    eprintln!("screenshot {}", shot.display());
}

/// Town-a's clerk refers the visitor at window 1 to town-b: the referrals chart shows one
/// sent by town-a and one taken in by town-b, and the district's one in its title.
async fn referred_on_the_page(b: &browser_support::Browser, ta: &Daemon, clerk: &str) {
    ta.api.call_next(clerk, "1").await;
    let ask = json!({ "to_hall": "town-b", "reason": "需属地办理" });
    let sent = ta.api.post("/api/v1/windows/1/refer", Some(clerk), Some(ask)).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let shown = b
        .until(
            "the referral in the chart",
            "var c = document.querySelector('[data-chart=\"referrals\"]'); if (!c) return null;
             var a = c.querySelector('[data-hall=\"town-a\"]'), b = c.querySelector('[data-hall=\"town-b\"]');
             return a && b && a.dataset.sent === '1' && b.dataset.received === '1'
               ? { a: a.querySelector('.ds-bar-val').textContent, b: b.querySelector('.ds-bar-val').textContent,
                   total: c.querySelector('#referrals-total').textContent } : null;",
        )
        .await;
    assert_eq!((shown["a"].as_str(), shown["b"].as_str()), (Some("1 / 0"), Some("0 / 1")), "{shown}");
    assert_eq!(shown["total"], "全区 1 件", "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_supervisor_sees_every_hall_live_and_a_stopped_one_red() {
    let test = "a_district_supervisor_sees_every_hall_live_and_a_stopped_one_red";
    let Some(nats) = Nats::start_or_skip(test) else { return };
    let Some(b) = browser_support::launch_page(test, 1920, 1080).await else { return };
    let dir = district_dir(&nats, 6);
    let (ta, tb) = (start_hall(&dir, "town-a", None).await, start_hall(&dir, "town-b", None).await);
    let (sa, sb) = (ta.api.login("super").await, tb.api.login("super").await);
    // The dashboard is the district's: a hall does not serve it (its sign-in could never work).
    ta.api.get("/display/district", None).await.assert_error(404, "not_found");
    issue(&ta, "ZX-0001", 4).await;
    issue(&tb, "ZX-0002", 2).await;
    // Both halls with an open window: tickets waiting with none open are an alert
    // (queue_unstaffed), and the halls start calm.
    let clerk_a = ta.api.login("clerk1").await;
    ta.api.window_ok(&clerk_a, "1", "open", None).await;
    let clerk = tb.api.login("clerk1").await;
    tb.api.window_ok(&clerk, "1", "open", None).await;
    tb.api.call_next(&clerk, "1").await;
    let data = tempfile::tempdir().expect("a temp dir");
    let district = District::start(&dir, &data).await;
    let token = district_login(&district.api).await;
    agrees(&district.api, &token, &[("town-a", &ta, &sa), ("town-b", &tb, &sb)]).await;

    // The browser's address holds every screen it may, signed in (the feed refuses the
    // page's): the page polls and shows the halls all the same; once they go, it goes live.
    let mut taken = Vec::new();
    for _ in 0..hallq::district::feed::SCREENS_PER_ADDRESS_MAX {
        let mut held = screen(district.addr, 1).await.expect("a screen within the bound");
        sign_in(&mut held, &token).await;
        taken.push(held);
    }
    let base = format!("http://{}", district.addr);
    b.goto(&format!("{base}/display/district")).await;
    sign_in_and_see(&b, &[("town-a", &ta), ("town-b", &tb)]).await;
    assert_eq!(b.eval("return document.querySelector('#feed-state').dataset.state;").await, "polling");
    drop(taken);
    b.until("the feed live", "return document.querySelector('#feed-state').dataset.state === 'live';").await;
    b.until("five charts of two bars", "return document.querySelectorAll('.ds-chart .ds-bar').length === 10;").await;
    let csv_button = b.text("#csv").await;
    assert!(csv_button.contains("CSV"), "{csv_button}");

    // A ticket at town-a reaches the page live.
    ta.api.issue("ZX-0001").await;
    let (_, waiting) = own(&ta).await;
    let want = json!(waiting.to_string());
    b.until(
        "town-a's new ticket",
        &format!("var c = (function () {{ {} }})(); return c && c.waiting === {want};", card_js("town-a")),
    )
    .await;
    // And the day's chart of tickets, read again after new tickets.
    let issued = ta.api.get("/api/v1/stats", Some(&sa)).await.body["total"]["issued"].to_string();
    b.until(
        "town-a's tickets in the chart",
        &format!(
            "var v = document.querySelector('[data-chart=\"issued\"] [data-hall=\"town-a\"] .ds-bar-val');
                  return v && v.textContent === '{issued}';"
        ),
    )
    .await;
    referred_on_the_page(&b, &ta, &clerk_a).await;
    let shot = b.screenshot("district-dashboard-1920").await;
    eprintln!("screenshot {}", shot.display());

    // town-b stops: its card turns red and offline (online_seconds = 6); town-a stays calm.
    tb.stop().await;
    let seen = b
        .until(
            "town-b red and offline",
            &format!(
                "var c = (function () {{ {} }})(); return c && c.online === 'no' && c.red === 'yes' ? c : null;",
                card_js("town-b")
            ),
        )
        .await;
    assert_eq!(seen["pill"], "离线", "{seen}");
    assert_eq!(seen["border"], "rgb(192, 38, 45)", "the danger colour: {seen}");
    let a = b.eval(&card_js("town-a")).await;
    assert_eq!((a["online"].clone(), a["red"].clone()), (Value::from("yes"), Value::from("no")), "{a}");
    let shot = b.screenshot("district-dashboard-1920-offline").await;
    eprintln!("screenshot {}", shot.display());

    on_a_phone(&b).await;
    b.close().await;
    district.stop().await;
    ta.stop().await;
}
