//! The kiosk at the seed hall's real size (issue 17 §5), in headless Chromium against a
//! real daemon running the example hall: pinyin initials find a named item among the 629
//! and the kiosk issues it, and the largest category lists every one of its items, each
//! reachable on screen. The oracle is the catalogue file the hall was built from
//! (kiosk-config/services.csv), read here, not the daemon's answer. Long lists come a page
//! of ten rows at a time: a search's every answer and a line's 599 items are walked with the
//! 下一页 key.

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

/// Walks a paged kiosk list (`#list` or `#results` with its pager) from its first page to
/// its last with the 下一页 key, checking on every page that each row lies wholly on the
/// screen where a tap lands on it, and returns every row's code in the order shown.
async fn walk_pages(b: &browser_support::Browser, list: &str, pager: &str) -> Vec<String> {
    let mut codes = Vec::new();
    let pages =
        b.eval(&format!("return Number(document.querySelector('{pager}').getAttribute('data-pages') || 1);")).await;
    let pages = pages.as_u64().expect("a page count");
    for page in 1..=pages {
        let seen = b
            .eval(&format!(
                "var bad = [], codes = [];
                 document.querySelectorAll('{list} [data-code]').forEach(function (row) {{
                   codes.push(row.getAttribute('data-code'));
                   row.scrollIntoView({{ block: 'center' }});
                   var r = row.getBoundingClientRect();
                   var inside = r.top >= 0 && r.bottom <= innerHeight && r.height > 40;
                   var hit = inside && document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                   if (!hit || !(hit === row || row.contains(hit))) bad.push(row.getAttribute('data-code'));
                 }});
                 return [codes, bad];"
            ))
            .await;
        assert_eq!(seen[1], json!([]), "rows a tap cannot reach on page {page} of {list}");
        let shown: Vec<String> = serde_json::from_value(seen[0].clone()).expect("codes");
        assert!(!shown.is_empty() && shown.len() <= 10, "page {page} of {list} holds 1 to 10 rows: {shown:?}");
        codes.extend(shown);
        let label = b.text(&format!("{pager} .k-page-no")).await;
        assert_eq!(label, format!("第 {page} / {pages} 页"));
        if page < pages {
            b.click(&format!("{pager} .k-page-next")).await;
            let next = page + 1;
            b.until(
                &format!("page {next} of {list}"),
                &format!("return document.querySelector('{pager}').getAttribute('data-page') === '{next}';"),
            )
            .await;
        }
    }
    codes
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_and_every_item_of_a_line_is_reachable_page_by_page() {
    let rows = csv_items();
    let bundles = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/bundles.csv"))
        .expect("bundles.csv");
    // The oracle of a search for 登记: the CSV's items and bundles with it in their name.
    let mut want_search: Vec<String> = bundles
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1).is_some_and(|n| n.contains("登记")))
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect();
    want_search.extend(rows.iter().filter(|r| r.1.contains("登记")).map(|r| r.0.clone()));
    assert!(want_search.len() > 150, "{} answers: more than two old caps of 60", want_search.len());

    let Some(b) = launch_exact("every_answer_and_every_item_of_a_line_is_reachable", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.type_into("#search", "登记").await;
    b.until("the results", &visible_js("#results [data-code]")).await;
    let head = b.text("#results-head").await;
    assert_eq!(head, format!("找到 {} 个事项", want_search.len()), "the count says every answer");
    // The visitor puts the keyboard away to read the answers and page through them.
    b.click("#kbd [data-key=\"hide\"]").await;
    b.until("the keyboard away", "return document.querySelector('#kbd').hidden;").await;
    b.screenshot("kiosk-catalog-search-pages").await;
    let mut got = walk_pages(&b, "#results", "#results-pager").await;
    b.screenshot("kiosk-catalog-search-last-page").await;
    got.sort();
    want_search.sort();
    assert_eq!(got, want_search, "every answer the count promises is on some page, once");
    // Full pinyin finds too, at full size: 导游证核发 first for "daoyouzheng".
    b.eval("var s = document.querySelector('#search'); s.value = ''; s.dispatchEvent(new Event('input'));").await;
    b.type_into("#search", "daoyouzheng").await;
    let first = b.until("a full-pinyin answer", "var r = document.querySelector('#results [data-code]'); return r && r.textContent.includes('导游证核发') && r.getAttribute('data-code');").await;
    let dyz = rows.iter().find(|r| r.1 == "导游证核发").expect("导游证核发");
    assert_eq!(first, json!(dyz.0));
    let pager_at_one = b.eval("return document.querySelector('#results-pager').getAttribute('data-page');").await;
    assert_eq!(pager_at_one, json!("1"), "a new search starts at its first page");

    // The comprehensive line (queue A) holds the CSV's 599 A items: 60 pages, all reachable.
    let want_a: Vec<String> = csv_items_of_queue("A");
    assert_eq!(want_a.len(), 599);
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.click("#queues [data-queue=\"A\"]").await;
    b.until("the line's list", &visible_js("#list [data-code]")).await;
    assert_eq!(b.text("#list-count").await, "599 项");
    b.screenshot("kiosk-catalog-line-first-page").await;
    let got = walk_pages(&b, "#list", "#list-pager").await;
    b.screenshot("kiosk-catalog-line-last-page").await;
    assert_eq!(got, want_a, "the line's 599 items in the catalogue's order, page by page");
    let last = want_a.last().expect("items");
    b.click(&format!("#list [data-code=\"{last}\"]")).await;
    b.until("the last item's view", &visible_js("#take")).await;
    b.close().await;
}

/// The codes of the CSV's items of `queue`, in order.
fn csv_items_of_queue(queue: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/services.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| l.split(',').nth(4) == Some(queue))
        .map(|l| l.split(',').next().unwrap_or_default().to_string())
        .collect()
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
    let title = b.text("#list-title").await;
    assert_eq!(title, category);
    // A visitor pages through: each row comes wholly onto the screen, uncovered, where a
    // tap lands on it, and the pages hold the CSV's items in its order.
    let shown = walk_pages(&b, "#list", "#list-pager").await;
    assert_eq!(shown, want, "the pages show the CSV's {n} items of {category}, in its order");
    b.screenshot("kiosk-catalog-category-bottom").await;
    let last = want.last().expect("items");
    b.click(&format!("#list [data-code=\"{last}\"]")).await;
    b.until("the last item's view", &visible_js("#take")).await;
    let wanted_name = &rows.iter().find(|r| r.0 == *last).expect("row").1;
    assert_eq!(&b.text("#item-title").await, wanted_name);
    b.close().await;
}

/// 一次性告知 and 承诺办结时限 (issue 17 §5): the kiosk's item card says the limit, and the
/// status page of an enterprise ticket lists the materials, the limit and its line.
#[tokio::test(flavor = "multi_thread")]
async fn the_item_card_and_the_status_page_say_the_materials_the_limit_and_the_line() {
    let Some(b) = launch_exact("the_item_card_and_the_status_page_say_the_limit", 1080, 1920, false).await else {
        return;
    };
    let d = Daemon::start().await;
    b.goto(&kiosk_url(d.addr, support::KIOSK, "")).await;
    b.until_kiosk_home().await;
    b.click("#categories [data-category=\"企业开办\"]").await;
    b.click("#list [data-code=\"SC-0001\"]").await;
    b.until("the item view", &visible_js("#take")).await;
    assert_eq!(b.text("#item-limit .k-fact-v").await, "1 个工作日内办结");
    b.screenshot("kiosk-item-limit").await;

    // An enterprise's ticket while its specialist is away: the enterprise queue.
    let b_item = d.api.item_in("B").await;
    let body = json!({ "code": "91510100MA6CAY4CLW", "service": b_item });
    let t = d.api.post("/api/v1/enterprise-tickets", Some(support::KIOSK), Some(body)).await;
    assert_eq!(t.status, 201, "{}", t.text);
    let catalog = d.api.catalog().await;
    let item = catalog["items"].as_array().and_then(|l| l.iter().find(|i| i["code"] == b_item.as_str()).cloned());
    let item = item.expect("the B item");
    let url = t.body["status_url"].as_str().expect("status_url");
    let url = if url.starts_with("http") { url.to_string() } else { format!("http://{}{url}", d.addr) };
    b.goto(&url).await;
    b.until("the materials", &visible_js("#material-list li")).await;
    let shown = b.eval("return Array.prototype.map.call(document.querySelectorAll('#material-list li'), function (l) { return l.textContent; });").await;
    assert_eq!(shown, item["materials"], "every material of the item, in its order");
    let days = item["limit_days"].as_u64().expect("a limit");
    let want = if days == 0 { "即办（当场办结）".to_string() } else { format!("{days} 个工作日内办结") };
    assert_eq!(b.text("#limit").await, want);
    let line = b.text("#enterprise-line").await;
    assert!(line.contains("企业服务区排队"), "{line}");
    b.screenshot("status-materials-limit-line").await;
    b.close().await;
}
