//! The kiosk page (`/display/kiosk`) with a ticket printer, in headless Chromium against
//! a real daemon and a fake printer on loopback: out of paper, the ticket still shows and
//! a notice says the number is valid and to photograph or note it; the home screen warns
//! the next visitor; with paper back, "重新打印" prints the ticket again, marked as a
//! reprint, and the notice says to take it. The supervisor's page lists the fault among
//! its alerts meanwhile.

use crate::browser_support;
use crate::printer_support;
use crate::support;

use std::sync::Arc;

use browser_support::{launch_exact, Browser};
use printer_support::{FakePrinter, PAPER_OUT, READY};
use support::Daemon;

/// Takes a ticket for `code` (in `category`) from the home screen and waits for `number`.
async fn take(b: &Browser, category: &str, code: &str, number: &str) {
    b.click(&format!("#categories [data-category=\"{category}\"]")).await;
    b.click(&format!("#list [data-code=\"{code}\"]")).await;
    b.click("#take").await;
    let js = format!("return document.querySelector('#ticket-number').textContent.trim() === '{number}';");
    b.until(&format!("the ticket {number}"), &js).await;
}

fn notice_js(class: &str, text: &str) -> String {
    format!(
        "var n = document.querySelector('#printer-notice');
         return !!n && !n.hidden && n.getClientRects().length > 0 && n.classList.contains('{class}')
            && n.innerText.includes('{text}');"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kiosk_says_when_its_printer_is_out_of_paper_and_reprints_once_it_is_back() {
    let Some(b) = launch_exact("the_kiosk_says_when_its_printer_is_out_of_paper", 1080, 1920, false).await else {
        return;
    };
    let mut printer = FakePrinter::start(PAPER_OUT).await;
    let mut config = hallq::config::embedded_default().expect("the example hall loads");
    config.limits = hallq::config::RateLimits::OFF;
    crate::printer_support::printer_at_kiosk1(&mut config, printer.addr, 0);
    let d = Daemon::start_config(Arc::new(tempfile::tempdir().expect("a temp dir")), None, config).await;
    let code = d.api.item_in("A").await;
    let catalog = d.api.catalog().await;
    let item = catalog["items"].as_array().expect("items").iter().find(|i| i["code"] == code.as_str()).expect("item");
    let category = item["category"].as_str().expect("a category").to_string();

    b.goto(&format!("http://{}/display/kiosk?token={}", d.addr, support::KIOSK)).await;
    b.until_kiosk_home().await;
    take(&b, &category, &code, "A001").await;
    b.until("the paper-out notice", &notice_js("is-failed", "打印机缺纸")).await;
    let notice = b.text("#printer-notice").await;
    assert!(notice.contains("A001") && notice.contains("仍然有效") && notice.contains("拍照"), "{notice}");
    // The ticket itself is on screen as always, QR code included.
    b.until("the QR code", "var q = document.querySelector('#ticket-qr'); return q.complete && q.naturalWidth > 0;")
        .await;
    assert_eq!(b.text("#print").await, "重新打印");
    b.screenshot("kiosk-printer-paper-out").await;
    assert!(printer.try_job().is_none(), "nothing was sent to a printer without paper");

    // The supervisor's page shows the fault too, once, as an alert to acknowledge (the
    // printer's state and its alert are not two rows).
    let sup = launch_exact("the_supervisor_sees_the_printer_out_of_paper", 1366, 768, false).await.expect("a browser");
    sup.goto(&format!("http://{}/display/supervisor", d.addr)).await;
    sup.type_into("#login-user", "supervisor").await;
    sup.type_into("#login-password", support::PASSWORD).await;
    sup.click("#login-submit").await;
    sup.until(
        "the printer fault on the supervisor's page",
        "var all = document.querySelectorAll('#alert-list [data-kind=\"printer\"][data-kiosk=\"kiosk1\"]');
         var e = all[0];
         return all.length === 1 && e.dataset.status === 'paper_out' && e.innerText.includes('打印机缺纸')
           && !!e.querySelector('.sv-btn-ack');",
    )
    .await;
    sup.screenshot("supervisor-printer-paper-out").await;
    sup.close().await;

    // The next visitor is warned on the home screen.
    b.click("#done").await;
    b.until_kiosk_home().await;
    b.until(
        "the home banner",
        "var e = document.querySelector('#printer-banner'); return !e.hidden && e.innerText.includes('打印机缺纸');",
    )
    .await;
    b.screenshot("kiosk-printer-banner").await;

    // Paper is back: the visitor's reprint comes out, marked as one.
    take(&b, &category, &code, "A002").await;
    b.until("the paper-out notice", &notice_js("is-failed", "A002")).await;
    printer.set(READY);
    b.click("#print").await;
    let job = printer.next_job().await;
    assert!(job.text().contains("A002") && job.text().contains("补打"), "{}", job.text());
    b.until("the printed notice", &notice_js("is-printed", "请在出票口取走")).await;
    b.screenshot("kiosk-printer-printed").await;
    b.close().await;
}
