//! The kiosk at the seed hall's real size (issue 17 §5), in headless Chromium against a
//! real daemon running the example hall: pinyin initials find a named item among the 629
//! and the kiosk issues it, and the largest category lists every one of its items, each
//! reachable on screen. The oracle is the catalogue file the hall was built from
//! (kiosk-config/services.csv), read here, not the daemon's answer.

use crate::browser_support;
use crate::support;

use std::path::Path;

use browser_support::{kiosk_url, launch_exact, visible_js};
use serde_json::json;
use support::Daemon;

/// `(code, name, category)` of every row of the example hall's CSV catalogue, in order.
fn csv_items() -> Vec<(String, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/services.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0].to_string(), cells[1].to_string(), cells[2].to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pinyin_initials_find_a_named_item_among_the_629_and_the_kiosk_issues_it() {
    let rows = csv_items();
    assert_eq!(rows.len(), 629);
    // 导游证核发: dǎo yóu zhèng hé fā. An item the old 90-item example did not have.
    let (code, name, _) = rows.iter().find(|r| r.1 == "导游证核发").expect("导游证核发 in the CSV").clone();
    let initials = "dyzhf";
    let Some(b) = launch_exact("pinyin_initials_find_a_named_item_among_the_629", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.click("#search").await;
    b.until("the on-screen keyboard", &visible_js("#kbd")).await;
    for key in initials.chars() {
        b.click(&format!("#kbd [data-key=\"{key}\"]")).await;
    }
    b.until(
        &format!("{code} in the results"),
        &format!("return !!document.querySelector('#results [data-code=\"{code}\"]');"),
    )
    .await;
    let first = b.eval("return document.querySelector('#results [data-code]').getAttribute('data-code');").await;
    assert_eq!(first, json!(code), "{name} is the first answer to {initials}");
    b.screenshot("kiosk-catalog-search").await;

    b.click(&format!("#results [data-code=\"{code}\"]")).await;
    b.until("the item view", &visible_js("#take")).await;
    assert_eq!(b.text("#item-title").await, name);
    b.click("#take").await;
    b.until("the ticket A001", "return document.querySelector('#ticket-number').textContent.trim() === 'A001';").await;

    // The clerk calls it: the ticket the kiosk issued is for this very item.
    let clerk = d.api.login("clerk3").await;
    d.api.window_ok(&clerk, "3", "open", None).await;
    let called = d.api.call_next(&clerk, "3").await;
    assert_eq!(called["number"], "A001");
    assert_eq!(called["services"], json!([code]), "{called}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_largest_category_lists_every_one_of_its_items_and_each_can_be_reached() {
    let rows = csv_items();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (_, _, cat) in &rows {
        match counts.iter_mut().find(|(c, _)| c == cat) {
            Some((_, n)) => *n += 1,
            None => counts.push((cat.clone(), 1)),
        }
    }
    let (category, n) = counts.iter().max_by_key(|(_, n)| *n).expect("categories").clone();
    assert_eq!((category.as_str(), n), ("企业开办", 62), "the CSV's largest category");
    let want: Vec<&str> = rows.iter().filter(|r| r.2 == category).map(|r| r.0.as_str()).collect();

    let Some(b) = launch_exact("the_largest_category_lists_every_one_of_its_items", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.click(&format!("#categories [data-category=\"{category}\"]")).await;
    b.until("the category's list", &visible_js("#list [data-code]")).await;
    b.screenshot("kiosk-catalog-category-top").await;
    let shown = b
        .eval("return Array.prototype.map.call(document.querySelectorAll('#list [data-code]'), function (r) { return r.getAttribute('data-code'); });")
        .await;
    assert_eq!(shown, json!(want), "the list shows the CSV's {n} items of {category}, in its order");
    let title = b.text("#list-title").await;
    assert_eq!(title, category);

    // A visitor scrolls: each row comes wholly into the screen, uncovered, where a tap lands
    // on it.
    let unreachable = b
        .eval(
            "var bad = [];
             document.querySelectorAll('#list [data-code]').forEach(function (row) {
               row.scrollIntoView({ block: 'center' });
               var r = row.getBoundingClientRect();
               var inside = r.top >= 0 && r.bottom <= innerHeight && r.height > 40;
               var hit = inside && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
               if (!hit || !(hit === row || row.contains(hit))) bad.push(row.getAttribute('data-code'));
             });
             return bad;",
        )
        .await;
    assert_eq!(unreachable, json!([]), "rows a tap cannot reach");
    b.screenshot("kiosk-catalog-category-bottom").await;
    let last = want.last().expect("items");
    b.click(&format!("#list [data-code=\"{last}\"]")).await;
    b.until("the last item's view", &visible_js("#take")).await;
    let wanted_name = &rows.iter().find(|r| r.0 == *last).expect("row").1;
    assert_eq!(&b.text("#item-title").await, wanted_name);
    b.close().await;
}
