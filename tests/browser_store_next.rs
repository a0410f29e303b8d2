//! Store-next (issue 17 §4) in headless Chromium against a real daemon: the clerk at
//! window 5 arms 办结即叫 with its key (A), which calls the first number waiting at once,
//! serves and finishes; the next number is
//! called in the same step, with no press of 叫号, and the lobby shows it; 办结并叫号 (J)
//! does the same unarmed. Screenshots under target/screenshots/store-next-*.png.

use crate::browser_support;
use crate::support;

use browser_support::Browser;
use serde_json::Value;
use support::Daemon;

async fn until_panel(b: &Browser, state: &str) {
    let js = format!(
        "return document.querySelector('#ticket-panel').dataset.state === '{state}'
            && !document.querySelector('.ck-act.is-busy');"
    );
    b.until(&format!("the window to be {state}"), &js).await;
}

/// Presses `key` on the console, as the clerk's keyboard does.
async fn press(b: &Browser, key: &str) {
    let js = format!(
        "document.dispatchEvent(new KeyboardEvent('keydown', {{ key: '{key}', bubbles: true }})); return true;"
    );
    b.eval(&js).await;
}

async fn lobby_shows(b: &Browser, number: &str) {
    let js = format!("return document.querySelector('#current-number').textContent.trim() === '{number}';");
    b.until(&format!("the lobby to show {number}"), &js).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_armed_window_calls_the_next_number_when_the_clerk_finishes_and_the_lobby_shows_it() {
    let test = "an_armed_window_calls_the_next_number_when_the_clerk_finishes_and_the_lobby_shows_it";
    let Some(b) = browser_support::launch(test, 1280, 800).await else {
        return;
    };
    let d = Daemon::start().await;
    let base = format!("http://{}", d.addr);
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(d.api.issue("SC-0001").await["number"].as_str().expect("a number").to_string());
    }
    b.open_clerk_window(&base, "clerk5", support::PASSWORD, "5").await;
    let console = b.tab().await;
    press(&b, "a").await;
    b.until(
        "store-next to be armed",
        "return document.querySelector('[data-action=\"store-next\"]').classList.contains('is-armed');",
    )
    .await;
    assert!(b.text("#store-next-state").await.contains("已开启"), "the key says it is on");
    // Armed at an idle window with numbers waiting, it never idles: the first is called at
    // once, with no press of 叫号.
    b.until_clerk_number(&numbers[0]).await;
    b.click("[data-action=\"serve\"]").await;
    until_panel(&b, "serving").await;
    b.screenshot("store-next-armed").await;

    let lobby = b.open_tab(&format!("{base}/display/lobby")).await;
    b.until("the lobby to be live", "return document.querySelector('#conn-state').dataset.state === 'live';").await;
    b.switch_to(&console).await;
    b.click("[data-action=\"done\"]").await;
    // No press of 叫号: the finish called the next.
    b.until_clerk_number(&numbers[1]).await;
    until_panel(&b, "calling").await;
    b.screenshot("store-next-called").await;
    b.switch_to(&lobby).await;
    lobby_shows(&b, &numbers[1]).await;
    b.screenshot("store-next-lobby").await;

    // Disarmed, 办结并叫号 (J) finishes and calls in one press.
    b.switch_to(&console).await;
    press(&b, "a").await;
    b.until(
        "store-next to be off",
        "return !document.querySelector('[data-action=\"store-next\"]').classList.contains('is-armed');",
    )
    .await;
    b.click("[data-action=\"serve\"]").await;
    until_panel(&b, "serving").await;
    press(&b, "j").await;
    b.until_clerk_number(&numbers[2]).await;
    let w = d.api.get("/api/v1/windows/5", Some(&d.api.login("clerk5").await)).await;
    assert_eq!(w.body["window"]["store_next"], Value::Bool(false), "{}", w.text);
    assert_eq!(w.body["ticket"]["number"], numbers[2].as_str(), "{}", w.text);
    b.close().await;
}
