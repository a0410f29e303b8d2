//! The alert webhook's catch-up across a day boundary, through a real daemon and real
//! receivers on loopback: the notices owed when the daemon stopped include an alert of
//! yesterday raised before the webhook's mark and ended by today's opening after it. The
//! restarted daemon reads the records after the mark through the core's `apply`, from the
//! opening of the mark's day, and sends each owed notice once, with yesterday's values.

use crate::api_alerts::{alerts_until, hook_config, receiver};
use crate::support;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use serde_json::Value;
use support::{default_start_ms, Daemon};

const MIN: i64 = 60_000;

fn alert_of(body: &[u8]) -> Value {
    let body: Value = serde_json::from_slice(body).expect("a JSON body");
    body["alert"].clone()
}

/// Day one: alert 1 (queue A long) is delivered; alert 2 (window 12 paused) is refused
/// by the receiver again and again. Day two opens under the running daemon (ending both)
/// and raises alert 3; the daemon stops. Restarted on day two with a receiver that
/// answers: it owes 2 raised, 1 and 2 ended by the day, 3 raised, in log order, and
/// nothing else: not alert 1's raise, which was delivered, nor anything sent twice.
#[tokio::test]
async fn notices_owed_across_a_new_day_are_sent_after_a_restart_with_the_old_days_values() {
    let script: Vec<u16> = std::iter::once(200).chain(std::iter::repeat_n(500, 1_000)).collect();
    let (first, url) = receiver(&script).await;
    let data = Arc::new(tempfile::tempdir().unwrap());
    let t0 = default_start_ms();
    let clock = Arc::new(AtomicI64::new(t0));
    let d = Daemon::start_config(data, Some(clock), hook_config(url, 1_000)).await;
    let api = &d.api;
    let item = api.item_in("A").await;
    for _ in 0..3 {
        api.issue(&item).await;
    }
    assert_eq!(first.wait_for(1).await[0].delivery, "1-raised");
    let clerk = api.login("clerk12").await;
    api.window_ok(&clerk, "12", "open", None).await;
    api.window_ok(&clerk, "12", "pause", None).await;
    d.set_clock(t0 + 25 * MIN);
    // Refused: owed from here on (and alert 1's raise is behind the mark).
    assert_eq!(first.wait_for(2).await[1].delivery, "2-raised");
    d.set_clock(t0 + 24 * 60 * MIN);
    // A session does not outlive a day.
    let sup = api.login("supervisor").await;
    alerts_until(api, &sup, "?active=true", |l| l.is_empty()).await;
    for _ in 0..3 {
        api.issue(&item).await;
    }
    alerts_until(api, &sup, "?active=true", |l| l.len() == 1).await;
    let (data, clock) = d.stop().await;

    let (second, url) = receiver(&[]).await;
    let d = Daemon::start_config(data, clock, hook_config(url, 4)).await;
    let got = second.wait_for(4).await;
    let deliveries: Vec<&str> = got.iter().map(|g| g.delivery.as_str()).collect();
    assert_eq!(deliveries, ["2-raised", "1-cleared", "2-cleared", "3-raised"]);
    let raised = alert_of(&got[0].body);
    assert_eq!((raised["kind"].as_str(), raised["window"].as_str()), (Some("window_paused"), Some("12")));
    assert_eq!((raised["value"].as_u64(), raised["threshold"].as_u64()), (Some(25), Some(20)));
    assert_eq!(
        (raised["raised_at"].as_str(), raised["cleared_at"].as_str()),
        (Some("2026-03-10T10:25:00+08:00"), None)
    );
    assert_eq!(raised["ended_by_day"], false);
    for (g, kind, value, raised_at) in [
        (&got[1], "queue_waiting", 3, "2026-03-10T10:00:00+08:00"),
        (&got[2], "window_paused", 25, "2026-03-10T10:25:00+08:00"),
    ] {
        let body: Value = serde_json::from_slice(&g.body).unwrap();
        assert_eq!(body["type"], "alert_cleared", "{body}");
        let a = &body["alert"];
        assert_eq!((a["kind"].as_str(), a["value"].as_u64()), (Some(kind), Some(value)), "{a}");
        assert_eq!((a["ended_by_day"].as_bool(), a["raised_at"].as_str()), (Some(true), Some(raised_at)), "{a}");
        assert_eq!(a["cleared_at"], "2026-03-11T10:00:00+08:00", "ended at the new day's opening: {a}");
        assert!(a["text"].as_str().unwrap().contains("服务日结束"), "{a}");
    }
    let today = alert_of(&got[3].body);
    assert_eq!((today["kind"].as_str(), today["value"].as_u64()), (Some("queue_waiting"), Some(3)));
    assert_eq!(today["raised_at"], "2026-03-11T10:00:00+08:00");

    // What comes next is the next notice: nothing owed was sent twice.
    let clerk = d.api.login("clerk1").await;
    d.api.window_ok(&clerk, "1", "open", None).await;
    for _ in 0..2 {
        d.api.call_next(&clerk, "1").await;
        d.api.window_ok(&clerk, "1", "serve", None).await;
        d.api.window_ok(&clerk, "1", "done", None).await;
    }
    let got = second.wait_for(5).await;
    assert_eq!(got[4].delivery, "3-cleared", "{:?}", got.iter().map(|g| &g.delivery).collect::<Vec<_>>());
    assert_eq!(got.len(), 5);
    d.stop().await;
}
