/* hallq — kiosk.js: the self-service ticket kiosk (/display/kiosk?token=…).
 *
 * Home: queues (with live waiting counts from the feed), categories → items, bundles
 * (一件事) and a search over the whole catalogue by Chinese name or pinyin initials, with an
 * on-screen letter keyboard. An item shows its materials and an optional priority class;
 * "取号" issues a ticket (POST /api/v1/tickets with the kiosk token from the URL and one
 * idempotency key per take, so a double tap never prints twice). The ticket shows the
 * number, queue, people ahead, expected wait, materials, time and a QR code to the status
 * page, and prints on 80 mm paper. 60 s without a touch returns home (?idle=N changes it);
 * it asks every 10 s whether the hall issues now (?hours_poll=N changes it).
 * Errors in plain words. The check-in panel (预约签到, kiosk-checkin.js) uses window.HallqKiosk.
 *
 * The kiosk tells the truth: while the hall issues no tickets (before opening, the lunch
 * break, after closing, a rest day or holiday of the hall calendar; GET /api/v1/hours,
 * asked every HOURS_POLL_MS) the home screen says so and when it opens, and 取号 is off.
 * The appointment queue's card and items lead to check-in, never to a walk-in ticket. The
 * ticket says its priority class, a bundle's steps, and the hall's real missed-number rule
 * (rejoin_min from the catalogue). The take button stays on screen (sticky) however long
 * the materials list.
 */
(function () {
  "use strict";

  var params = new URLSearchParams(location.search);
  // Seconds without a touch before the kiosk returns home: 60, or ?idle=N (at least 5).
  var IDLE_MS = Math.max(5, Number(params.get("idle")) || 60) * 1000;
  // How often the kiosk asks whether the hall issues now: a visitor at the opening time
  // waits at most this long for the closed notice to go. 10 s, or ?hours_poll=N (at least 1).
  var HOURS_POLL_MS = Math.max(1, Number(params.get("hours_poll")) || 10) * 1000;
  var DICT = {
    zh: {
      subtitle: "自助取号", offline: "网络连接中断，正在重新连接…", search_ph: "搜索事项：输入名称或拼音首字母，如 gtgsh", queues_h: "按业务类型取号",
      cats_h: "按事项类别", bundles_h: "一件事 · 集成办理", back: "返回", materials_h: "请准备以下材料", priority_h: "优先服务（可选）",
      take: "取号", ticket_ok: "取号成功", your_number: "您的号码", ahead: "前面等候", eta: "预计等候", qr_hint: "扫码查看排队进度",
      qr_sub: "叫号时手机提醒 · 办结后评价", issued: "取号时间", ticket_note: "请留意大厅叫号屏及语音广播，过号需重新取号。", print: "打印", finish: "完成",
      ok: "知道了", issuing: "正在出号…", waiting_n: "等候 {n} 人", items_n: "{n} 项",
      bundle_items: "{n} 个事项 · 一次取号", people: "{n} 人", minutes: "{n} 分钟", prio_none: "普通",
      results_n: "找到 {n} 个事项", page_prev: "上一页", page_next: "下一页", page_n: "第 {x} / {y} 页", f_limit: "承诺时限", limit_days: "{n} 个工作日内办结", limit_now: "即办（当场办结）", no_results: "没有找到相关事项，请换个关键词，或咨询大厅工作人员", f_queue: "办理队列", f_dept: "办理部门",
      f_minutes: "办理时长", f_waiting: "当前等候", f_items: "包含事项", bundle_tag: "一件事", countdown: "{n} 秒后自动返回首页",
      kbd_clear: "清空", kbd_hide: "收起", err_unauth: "本机未授权，请联系工作人员", err_closed: "当前不在取号时间，请在办公时间内前来取号。如有疑问请咨询工作人员。",
      err_network: "网络连接中断，暂时无法取号。请稍后再试，或联系工作人员。", err_busy: "系统繁忙，请稍后再试。", err_maint: "系统维护中，暂时无法取号，请联系工作人员。",
      err_item: "此事项暂时无法取号，请咨询大厅工作人员。", err_catalog: "事项目录加载失败，正在重试…", err_other: "取号没有成功，请再试一次，或联系工作人员。",
      err_full: "今日号源已发完，请改日再来，或咨询大厅工作人员。",
      ticket_note_rejoin: "请留意大厅叫号屏及语音广播。过号后 {n} 分钟内可扫码重新排队（号码不变），超时需重新取号。",
      prio_ticket: "优先 · {name}", steps_h: "办理步骤（同一号码依次办理）", appt_sub: "已预约？请点此签到取票",
      closed_break: "午休时间，暂停取号", closed_before: "尚未开始取号", closed_after: "今日取号已结束",
      closed_rest_day: "今天休息，不办理取号", closed_when: "{when} 开始取号", closed_hours: "取号时间：每个工作日 {hours}",
      closed_checkin: "已预约的群众可点击“预约签到”签到取票", take_closed: "暂停取号", today: "今天", tomorrow: "明天",
      date_md: "{m}月{d}日（{w}）", week: "周日 周一 周二 周三 周四 周五 周六", hours_sep: "、"
    },
    en: {
      subtitle: "Self-service tickets", offline: "Connection lost, reconnecting…",
      search_ph: "Search: name or pinyin initials, e.g. gtgsh", queues_h: "Take a number by service line",
      cats_h: "Browse by category", bundles_h: "One-stop bundles (一件事)", back: "Back",
      materials_h: "Please prepare", priority_h: "Priority service (optional)", take: "Take a number",
      ticket_ok: "Here is your ticket", your_number: "Your number", ahead: "Ahead of you", eta: "Expected wait",
      qr_hint: "Scan to follow your place", qr_sub: "Get notified when called · rate afterwards", issued: "Issued",
      ticket_note: "Watch the lobby screen and listen for your number; a missed number needs a new ticket.",
      print: "Print", finish: "Done", ok: "OK", issuing: "Issuing your ticket…", waiting_n: "{n} waiting",
      items_n: "{n} services", bundle_items: "{n} services · one ticket", people: "{n}",
      minutes: "{n} min", prio_none: "Standard", results_n: "{n} services found", page_prev: "Previous", page_next: "Next", page_n: "Page {x} of {y}", f_limit: "Time limit", limit_days: "Done within {n} working days", limit_now: "Done on the spot",
      no_results: "Nothing found. Try another word, or ask our staff.", f_queue: "Service line",
      f_dept: "Department", f_minutes: "Takes about", f_waiting: "Waiting now", f_items: "Includes",
      bundle_tag: "Bundle", countdown: "Back to the start in {n} s", kbd_clear: "Clear", kbd_hide: "Hide",
      err_unauth: "This kiosk is not authorised. Please ask a member of staff.",
      err_closed: "Tickets are not being issued at this time. Please come back during opening hours.",
      err_network: "The network is down, so no ticket can be issued. Please try again shortly or ask our staff.",
      err_busy: "The system is busy. Please try again in a moment.",
      err_maint: "The system is under maintenance. Please ask a member of staff.",
      err_item: "This service cannot be ticketed right now. Please ask our staff.",
      err_catalog: "Could not load the services; retrying…",
      err_other: "The ticket could not be issued. Please try again or ask our staff.",
      err_full: "All of today's tickets have been issued. Please come back another day or ask our staff.",
      ticket_note_rejoin: "Watch the lobby screen and listen for your number. Missed it? Within {n} minutes you can rejoin the line from the QR code page, keeping your number; after that, take a new ticket.",
      prio_ticket: "Priority · {name}", steps_h: "Steps (one number, in this order)", appt_sub: "Booked? Check in here",
      closed_break: "Lunch break: no tickets now", closed_before: "Not open yet", closed_after: "Closed for today",
      closed_rest_day: "Closed today (rest day or holiday)", closed_when: "Tickets from {when}",
      closed_hours: "Tickets on working days {hours}", closed_checkin: "Booked visitors can still check in (预约签到)",
      take_closed: "Closed now", today: "today", tomorrow: "tomorrow", date_md: "{w} {m}/{d}",
      week: "Sun Mon Tue Wed Thu Fri Sat", hours_sep: ", "
    }
  };

  // English names of the usual priority classes; others show as the hall wrote them.
  var PRIORITY_EN = { elderly: "Senior", disabled: "Disability", military: "Military / veteran", pregnant: "Pregnant" };
  var I18N = window.HallqI18n;
  var t = I18N.t;

  var token = params.get("token") || "";
  var cat = null;            // the catalogue
  var items = {};            // code → item
  var bundles = {};          // id → bundle
  var queueNames = {};       // queue id → name
  var live = {};             // queue id → {waiting, eta}
  var view = "home";
  var listCtx = null;        // {kind: "cat"|"queue", key}
  var itemFrom = "home";     // the view the item was opened from
  var chosen = null;         // {code, bundle: bool}
  var priority = null;
  var takeKey = null;        // idempotency key of the current take intent
  var inFlight = false;
  var lastTouch = Date.now();
  var hours = null;          // the last answer of /api/v1/hours

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function randomKey() {
    var b = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  /* ---------- views ---------- */

  function show(name) {
    view = name;
    ["home", "list", "item", "ticket", "checkin", "enterprise"].forEach(function (v) { $("view-" + v).hidden = v !== name; });
    if (name !== "home") hideKeyboard();
    $("main").scrollTop = 0;
    window.scrollTo(0, 0);
    updateCountdown();
  }

  function goHome() {
    $("search").value = "";
    renderSearch();
    hideKeyboard();
    closeError();
    chosen = null; priority = null; takeKey = null;
    homeHooks.forEach(function (fn) { fn(); });
    show("home");
    refreshHall();
    refreshHours();
  }

  /* ---------- home ---------- */

  function waitingText(q) {
    var l = live[q];
    if (!l) return "";
    var s = t("waiting_n", { n: l.waiting });
    if (l.none || l.eta != null) s += " · " + I18N.wait(l.eta, l.none ? "no_open_window" : null);
    return s;
  }

  function itemsOfQueue(q) { return cat.items.filter(function (i) { return i.queue === q; }); }
  function itemsOfCat(c) { return cat.items.filter(function (i) { return i.category === c; }); }

  // A button with attributes, children (elements, or [class, text] pairs) and a click.
  function button(cls, attr, kids, onClick) {
    var b = el("button", cls);
    b.type = "button";
    Object.keys(attr).forEach(function (k) { b.setAttribute(k, attr[k]); });
    kids.forEach(function (k) { if (k) b.appendChild(Array.isArray(k) ? el("span", k[0], k[1]) : k); });
    b.addEventListener("click", onClick);
    return b;
  }

  function fill(box, nodes) {
    box.textContent = "";
    nodes.forEach(function (n) { if (n) box.appendChild(n); });
  }

  // The queue of bookings (预约): its visitors check in with their code; a walk-in
  // ticket there would never be matched to the booking.
  function apptQueue() { return cat && cat.appointments ? cat.appointments.queue : null; }
  function openCheckin() { $("checkin-open").click(); }

  function renderHome() {
    if (!cat) return;
    $("hall-name").textContent = cat.hall.name;
    fill($("queues"), cat.queues.map(function (q) {
      var list = itemsOfQueue(q.id), appt = q.id === apptQueue();
      if (!list.length && !appt) return null;
      var body = el("span", "k-queue-body");
      body.appendChild(el("span", "k-queue-name", q.name));
      body.appendChild(el("span", "k-queue-wait" + (appt ? " is-appt" : ""), appt ? t("appt_sub") : waitingText(q.id)));
      return button("k-queue", { "data-queue": q.id }, [["k-queue-letter", q.prefix], body], function () {
        if (appt) openCheckin();
        else if (list.length === 1) openItem(list[0].code, false, "home");
        else openList("queue", q.id);
      });
    }));
    fill($("categories"), cat.categories.map(function (c) {
      var name = typeof c === "string" ? c : c.name, n = itemsOfCat(name).length;
      return n ? button("k-cat", { "data-category": name }, [["k-cat-name", name], ["k-cat-count", t("items_n", { n: n })]],
        function () { openList("cat", name); }) : null;
    }));
    fill($("bundles"), cat.bundles.map(function (bd) {
      return button("k-bundle", { "data-code": bd.id }, [["k-bundle-tag", t("bundle_tag")], ["k-bundle-name", bd.name],
        ["k-bundle-sub", t("bundle_items", { n: bd.items.length })]], function () { openItem(bd.id, true, "home"); });
    }));
  }

  function updateQueueCounts() {
    var nodes = document.querySelectorAll(".k-queue");
    for (var i = 0; i < nodes.length; i++) {
      var q = nodes[i].getAttribute("data-queue");
      if (q !== apptQueue()) nodes[i].querySelector(".k-queue-wait").textContent = waitingText(q);
    }
    if (view === "item" && chosen) renderFacts();
  }

  /* ---------- lists and search ---------- */

  function itemButton(it, isBundle) {
    var main = el("span", "k-row-main");
    main.appendChild(el("span", "k-row-name", it.name));
    main.appendChild(el("span", "k-row-meta", isBundle ? t("bundle_items", { n: it.items.length })
      : [it.department, queueNames[it.queue]].filter(Boolean).join(" · ")));
    var code = isBundle ? it.id : it.code;
    return button("k-row" + (isBundle ? " is-bundle" : ""), { "data-code": code },
      [main, isBundle && ["k-row-tag", t("bundle_tag")], ["k-row-go", "›"]],
      function () { openItem(code, isBundle, view); });
  }

  function openList(kind, key) {
    listCtx = { kind: kind, key: key };
    renderList();
    show("list");
  }

  // Ten rows a page: on the portrait kiosk they fill the screen above its keys, and a
  // service line of 500 items is never 500 buttons (kiosk-pager.js).
  var PAGE_ROWS = 10;
  var listPager = null, resultsPager = null, searched = "";
  function pagers() {
    if (!listPager) listPager = HallqPager.make($("list"), $("list-pager"), PAGE_ROWS, t);
    if (!resultsPager) resultsPager = HallqPager.make($("results"), $("results-pager"), PAGE_ROWS, t);
  }

  function renderList() {
    if (!listCtx) return;
    pagers();
    var list = listCtx.kind === "cat" ? itemsOfCat(listCtx.key) : itemsOfQueue(listCtx.key);
    $("list-title").textContent = listCtx.kind === "cat" ? listCtx.key : queueNames[listCtx.key];
    $("list-count").textContent = t("items_n", { n: list.length });
    var same = listPager.ctx === listCtx;
    listPager.ctx = listCtx;
    listPager.show(list, function (it) { return itemButton(it, false); }, same ? listPager.page : 0);
  }

  function score(entry, q) {
    var name = entry.name, ini = (entry.initials || "").toLowerCase(), py = entry.pinyin || "";
    if (name.indexOf(q) === 0 || ini.indexOf(q) === 0 || py.indexOf(q) === 0) return 0;
    if (name.indexOf(q) >= 0 || ini.indexOf(q) >= 0 || py.indexOf(q) >= 0) return 1;
    var code = (entry.code || entry.id || "").toLowerCase();
    return code.indexOf(q) >= 0 ? 2 : -1;
  }

  function renderSearch() {
    var q = $("search").value.trim().toLowerCase().replace(/\s+/g, "");
    $("search-clear").hidden = !q;
    $("home-browse").hidden = !!q;
    $("search-results").hidden = !q;
    if (!q) searched = "";
    if (!q || !cat) return;
    var found = [];
    cat.bundles.forEach(function (b) { var s = score(b, q); if (s >= 0) found.push([s, b, true]); });
    cat.items.forEach(function (i) { var s = score(i, q); if (s >= 0) found.push([s, i, false]); });
    found.sort(function (a, b) { return a[0] - b[0]; });
    $("results-head").textContent = found.length ? t("results_n", { n: found.length }) : t("no_results");
    // Every answer is reachable: the pager shows all of them, ten a page; a new query
    // starts at its first page, a language change keeps the page.
    pagers();
    resultsPager.show(found, function (f) { return itemButton(f[1], f[2]); }, q === searched ? resultsPager.page : 0);
    searched = q;
  }

  /* ---------- on-screen keyboard ---------- */

  function key(k, label, cls, i18n) {
    var b = el("button", "k-key" + (cls ? " " + cls : ""), label);
    b.type = "button";
    b.setAttribute("data-key", k);
    if (i18n) b.setAttribute("data-i18n", i18n);
    return b;
  }

  function buildKeyboard() {
    var box = $("kbd-rows");
    ["qwertyuiop", "asdfghjkl", "zxcvbnm", ""].forEach(function (r, i) {
      var row = el("div", "k-kbd-row");
      r.split("").forEach(function (ch) { row.appendChild(key(ch, ch.toUpperCase())); });
      if (i === 2) row.appendChild(key("back", "⌫", "k-key-wide"));
      if (i === 3) {
        row.appendChild(key("clear", t("kbd_clear"), "k-key-action", "kbd_clear"));
        row.appendChild(key("hide", t("kbd_hide"), "k-key-action", "kbd_hide"));
      }
      box.appendChild(row);
    });
    var kbd = $("kbd");
    kbd.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep the caret
    kbd.addEventListener("click", function (e) {
      var k = e.target.closest("[data-key]");
      if (!k) return;
      var key = k.getAttribute("data-key"), s = $("search");
      if (key === "hide") { hideKeyboard(); s.blur(); return; }
      if (key === "clear") s.value = "";
      else if (key === "back") s.value = s.value.slice(0, -1);
      else s.value += key;
      renderSearch();
    });
  }
  function showKeyboard() { $("kbd").hidden = false; document.body.classList.add("kbd-open"); }
  function hideKeyboard() { $("kbd").hidden = true; document.body.classList.remove("kbd-open"); }

  /* ---------- item ---------- */

  function openItem(code, isBundle, from) {
    if (!isBundle && items[code] && items[code].queue === apptQueue()) { openCheckin(); return; }
    chosen = { code: code, bundle: isBundle };
    itemFrom = from === "item" ? "home" : from;
    priority = null;
    takeKey = null;
    renderItem();
    show("item");
  }

  function chosenEntry() { return chosen.bundle ? bundles[chosen.code] : items[chosen.code]; }
  function materialsOf(codes) {
    var seen = {}, out = [];
    codes.forEach(function (c) {
      ((items[c] && items[c].materials) || []).forEach(function (m) { if (!seen[m]) { seen[m] = 1; out.push(m); } });
    });
    return out;
  }

  function fact(k, v) {
    var d = el("div", "k-fact");
    d.appendChild(el("div", "k-fact-k", k));
    d.appendChild(el("div", "k-fact-v", v));
    return d;
  }

  // 承诺办结时限 of items: the longest stated (the matter is done when its last item
  // is); null when none states one.
  function limitText(codes) {
    var days = null;
    codes.forEach(function (c) {
      var d = items[c] && items[c].limit_days;
      if (d != null && (days == null || d > days)) days = d;
    });
    return days == null ? null : days === 0 ? t("limit_now") : t("limit_days", { n: days });
  }

  function limitFact(text) {
    var f = fact(t("f_limit"), text);
    f.id = "item-limit";
    return f;
  }

  function renderFacts() {
    var e = chosenEntry(), box = $("item-facts");
    box.textContent = "";
    var limit = limitText(chosen.bundle ? e.items : [e.code]);
    if (chosen.bundle) {
      if (limit) box.appendChild(limitFact(limit));
      var f = fact(t("f_items"), ""), ul = el("ul", "k-bundle-list");
      fill(ul, e.items.map(function (c) { return el("li", null, items[c] ? items[c].name : c); }));
      f.querySelector(".k-fact-v").appendChild(ul);
      f.classList.add("is-wide");
      box.appendChild(f);
      return;
    }
    box.appendChild(fact(t("f_queue"), queueNames[e.queue] || e.queue));
    box.appendChild(fact(t("f_dept"), e.department || "—"));
    box.appendChild(fact(t("f_minutes"), t("minutes", { n: e.minutes })));
    if (limit) box.appendChild(limitFact(limit));
    var l = live[e.queue];
    if (l) box.appendChild(fact(t("f_waiting"), t("people", { n: l.waiting })));
  }

  function renderItem() {
    if (!chosen) return;
    var e = chosenEntry();
    $("item-title").textContent = e.name;
    renderFacts();
    fill($("item-materials"), materialsOf(chosen.bundle ? e.items : [e.code]).map(function (m) { return el("li", null, m); }));
    fill($("priorities"), [{ id: null, name: t("prio_none") }].concat(cat.priorities || []).map(function (p) {
      var on = p.id === priority, name = (I18N.lang() === "en" && PRIORITY_EN[p.id]) || p.name;
      return button("k-chip" + (on ? " is-on" : ""), { "data-priority": p.id || "", "aria-pressed": String(on) },
        [["", name]], function () {
          if (priority !== p.id) takeKey = null;
          priority = p.id;
          renderItem();
        });
    }));
    renderTake();
    itemHooks.forEach(function (fn) { fn(); });
  }

  // 取号 is off while the hall issues no tickets, and says so.
  function renderTake() {
    var closed = isClosed(), label = $("take").firstChild;
    $("take").disabled = inFlight || closed;
    label.setAttribute("data-i18n", closed ? "take_closed" : "take");
    label.textContent = t(closed ? "take_closed" : "take");
    // Why it is off, and until when, right above it.
    $("take-note").hidden = !closed;
    $("take-note").textContent = closed ? [t("closed_" + hours.why),
      hours.opens_at ? t("closed_when", { when: whenText(hours.opens_at, hours.now) }) : ""].filter(Boolean).join(" · ") : "";
  }

  /* ---------- take a number ---------- */

  var idHook = null, errHook = null; // kiosk-id.js: the ID card under [hall.limits]
  function take() {
    if (inFlight || !chosen) return;
    if (!token) { showError(t("err_unauth")); return; }
    var idCard = idHook ? idHook() : null;
    if (idCard === false) return;
    inFlight = true;
    $("take").disabled = true;
    $("busy").hidden = false;
    takeKey = takeKey || randomKey();
    var body = { service: chosen.code, idempotency_key: takeKey };
    if (priority) body.priority = priority;
    if (idCard) body.id_card = idCard;
    fetch("/api/v1/tickets", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if (res.status === 200 || res.status === 201) { takeKey = null; showTicket(res.body); }
      else showError(errorText(res.status, res.body));
    }, function () {
      showError(t("err_network"));   // the key is kept: a retry returns the same ticket
    }).then(function () {
      inFlight = false;
      renderTake();
      $("busy").hidden = true;
    });
  }

  function errorText(status, body) {
    var code = body && body.error && body.error.code;
    var said = errHook && errHook(code, body);
    if (said) return said;
    if (status === 401 || status === 403) return t("err_unauth");
    if (code === "hall_closed") { refreshHours(); return t("err_closed"); }
    if (code === "day_full") return t("err_full");
    if (status === 503) return t("err_maint");
    if (status === 429) return t("err_busy");
    if (status === 400 || status === 404 || status === 409) return t("err_item");
    return t("err_other");
  }

  function hallTime(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || "");
    return m ? m[1] + "-" + m[2] + "-" + m[3] + " " + m[4] + ":" + m[5] : "";
  }

  var shown = null, shownNote = null, homeHooks = [], ticketHooks = [], itemHooks = [];
  // What the print button does; kiosk-printer.js replaces it when the kiosk has a printer.
  var printTicket = function () { window.print(); };
  // note: {key, vars}, a line under the queue saying how the ticket came (a check-in).
  function showTicket(tk, note) {
    shown = tk;
    shownNote = note || null;
    renderTicket();
    show("ticket");
    ticketHooks.forEach(function (fn) { fn(tk); });
  }

  function renderTicket() {
    var tk = shown;
    if (!tk) return;
    $("ticket-hall").textContent = cat ? cat.hall.name : "";
    $("ticket-number").textContent = tk.number;
    $("ticket-queue").textContent = queueNames[tk.queue] || tk.queue;
    var prio = tk.priority && (cat && cat.priorities || []).filter(function (p) { return p.id === tk.priority; })[0];
    var prioName = prio ? ((I18N.lang() === "en" && PRIORITY_EN[prio.id]) || prio.name) : tk.priority;
    $("ticket-priority").hidden = !tk.priority;
    $("ticket-priority").textContent = tk.priority ? t("prio_ticket", { name: prioName }) : "";
    var steps = tk.steps && tk.steps.length > 1 ? tk.steps : [];
    $("ticket-steps-wrap").hidden = !steps.length;
    fill($("ticket-steps"), steps.map(function (s) {
      var li = el("li");
      li.appendChild(el("b", null, s.queue + " " + (queueNames[s.queue] || "")));
      li.appendChild(document.createTextNode("：" + (s.services || []).map(function (c) {
        return items[c] ? items[c].name : c;
      }).join("、")));
      return li;
    }));
    var rejoin = cat && cat.hall ? cat.hall.rejoin_min : 0;
    $("ticket-note").textContent = rejoin > 0 ? t("ticket_note_rejoin", { n: rejoin }) : t("ticket_note");
    $("ticket-kind").hidden = !shownNote;
    $("ticket-kind").textContent = shownNote ? t(shownNote.key, shownNote.vars) : "";
    $("ticket-ahead").textContent = tk.ahead != null ? t("people", { n: tk.ahead }) : "—";
    $("ticket-eta").textContent = I18N.wait(tk.eta_minutes, tk.eta_reason);
    var names = tk.bundle && bundles[tk.bundle] ? [bundles[tk.bundle].name]
      : (tk.services || []).map(function (c) { return items[c] ? items[c].name : c; });
    $("ticket-services").textContent = names.join("、");
    fill($("ticket-materials"), materialsOf(tk.services || []).map(function (m) { return el("li", null, m); }));
    $("ticket-time").textContent = hallTime(tk.issued_at);
    // The QR code carries the ticket's key (its visitor's credential), which only the
    // issuing kiosk's answer holds; a remote ticket checked in here has it on its phone.
    var qr = $("ticket-qr"), src = tk.key
      ? "/api/v1/tickets/" + encodeURIComponent(tk.id) + "/qr.svg?k=" + encodeURIComponent(tk.key) : "";
    qr.parentNode.hidden = !src;
    if (src && qr.getAttribute("src") !== src) qr.setAttribute("src", src);
  }

  /* ---------- opening hours ---------- */

  function isClosed() { return !!hours && !hours.open; }

  function refreshHours() {
    fetch("/api/v1/hours").then(function (r) { return r.ok ? r.json() : null; })
      .then(function (h) {
        if (!h) return;
        h.at = Date.now();
        hours = h;
        renderClosed();
        tick();
      }, function () { /* the feed banner says it */ });
  }

  // "今天 13:00", "明天 08:30" or "3月16日（周一）08:30": `iso` in the hall's time, against
  // the hall's own today (`now`), never this device's zone.
  function whenText(iso, now) {
    var d = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso || ""), n = /^(\d{4})-(\d{2})-(\d{2})/.exec(now || "");
    if (!d || !n) return "";
    var day = Date.UTC(+d[1], +d[2] - 1, +d[3]), today = Date.UTC(+n[1], +n[2] - 1, +n[3]);
    var diff = Math.round((day - today) / 86400000), time = d[4] + ":" + d[5];
    if (diff === 0) return t("today") + " " + time;
    if (diff === 1) return t("tomorrow") + " " + time;
    var w = t("week").split(" ")[new Date(day).getUTCDay()];
    return t("date_md", { m: +d[2], d: +d[3], w: w }) + " " + time;
  }

  function renderClosed() {
    var closed = isClosed();
    $("closed").hidden = !closed;
    document.body.classList.toggle("is-closed", closed);
    if (closed) {
      $("closed-h").textContent = t("closed_" + hours.why);
      $("closed-when").textContent = hours.opens_at ? t("closed_when", { when: whenText(hours.opens_at, hours.now) }) : "";
      $("closed-hours").textContent = hours.hours && hours.hours.length
        ? t("closed_hours", { hours: hours.hours.join(t("hours_sep")) }) : "";
      // In the lunch break a booked visitor still checks in (the daemon allows it).
      $("closed-note").hidden = hours.why !== "break" || !apptQueue();
      $("closed-note").textContent = t("closed_checkin");
    }
    if (chosen) renderTake();
  }

  /* ---------- errors, idle, clock ---------- */

  function showError(text) {
    $("error").textContent = text;
    $("error-box").hidden = false;
  }
  function closeError() { $("error-box").hidden = true; }

  function atRest() {
    return view === "home" && !$("search").value && $("kbd").hidden && $("error-box").hidden;
  }
  function updateCountdown() {
    var left = Math.max(0, Math.ceil((IDLE_MS - (Date.now() - lastTouch)) / 1000));
    $("countdown").textContent = view === "ticket" ? t("countdown", { n: left }) : "";
  }
  // The clock shows the hall's time (from the daemon's last /api/v1/hours answer, run on
  // by this device), so that it agrees with the closed notice and the ticket; the
  // device's own time only until the first answer.
  function hallNow() {
    var m = hours && /([+-])(\d{2}):(\d{2})$/.exec(hours.now || ""), ms = hours && Date.parse(hours.now);
    if (!m || isNaN(ms)) {
      var d = new Date();
      return { y: d.getFullYear(), mo: d.getMonth() + 1, d: d.getDate(), h: d.getHours(), mi: d.getMinutes() };
    }
    var offset = (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000;
    var local = new Date(ms + (Date.now() - hours.at) + offset);
    return { y: local.getUTCFullYear(), mo: local.getUTCMonth() + 1, d: local.getUTCDate(), h: local.getUTCHours(),
      mi: local.getUTCMinutes() };
  }
  function tick() {
    var now = hallNow(), two = function (n) { return ("0" + n).slice(-2); };
    $("clock-time").textContent = two(now.h) + ":" + two(now.mi);
    $("clock-date").textContent = now.y + "-" + two(now.mo) + "-" + two(now.d);
    if (!atRest() && Date.now() - lastTouch >= IDLE_MS && !inFlight) goHome();
    updateCountdown();
  }
  function touched() { lastTouch = Date.now(); updateCountdown(); }

  /* ---------- data ---------- */

  function loadCatalog() {
    fetch("/api/v1/services").then(function (r) {
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (c) {
      cat = c;
      c.items.forEach(function (i) { items[i.code] = i; });
      c.bundles.forEach(function (b) { bundles[b.id] = b; });
      c.queues.forEach(function (q) { queueNames[q.id] = q.name; });
      $("offline").hidden = true;
      renderHome();
      renderSearch();
      if (hours) renderClosed();
    }).catch(function () {
      $("offline").textContent = t("err_catalog");
      $("offline").hidden = false;
      setTimeout(loadCatalog, 5000);
    });
  }

  function applySnapshot(s) {
    (s.queues || []).forEach(function (q) {
      var none = q.eta_reason === "no_open_window";
      live[q.id] = { waiting: q.waiting, none: none, eta: none ? null : q.eta_minutes != null ? q.eta_minutes : (live[q.id] || {}).eta };
    });
    updateQueueCounts();
  }

  var windowStates = {};     // window id → its state, to see one open or close
  function staffed(state) { return state !== "closed" && state !== "paused"; }

  function refreshHall() {
    fetch("/api/v1/hall").then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) applySnapshot(s); }, function () { /* the feed banner says it */ });
  }

  function startFeed() {
    if (!window.HallqFeed) return;
    new window.HallqFeed({
      onMessage: function (m) {
        if (m.type === "snapshot") {
          (m.windows || []).forEach(function (w) { windowStates[w.id] = w.state; });
          applySnapshot(m);
        } else if (m.type === "window" && m.window) {
          // A window that opens or closes turns a queue's 暂无窗口办理 into a wait, or back.
          var was = windowStates[m.window.id];
          windowStates[m.window.id] = m.window.state;
          if (was !== undefined && staffed(was) !== staffed(m.window.state)) refreshHall();
        } else if (m.type === "queue") {
          live[m.id] = { waiting: m.waiting, none: (live[m.id] || {}).none, eta: (live[m.id] || {}).eta };
          updateQueueCounts();
        }
      },
      onState: function (st) {
        $("offline").textContent = t("offline");
        $("offline").hidden = st === "live";
      }
    }).start();
  }

  /* ---------- wiring ---------- */

  function init() {
    I18N.init(DICT);
    I18N.onChange(function () {
      renderHome(); renderSearch(); renderList(); renderItem(); renderTicket(); updateCountdown(); if (hours) renderClosed();
      if (!$("offline").hidden) $("offline").textContent = t("offline");
    });
    buildKeyboard();
    ["pointerdown", "touchstart", "keydown", "input"].forEach(function (ev) {
      document.addEventListener(ev, touched, { passive: true, capture: true });
    });
    document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
    var s = $("search");
    s.addEventListener("input", renderSearch);
    s.addEventListener("focus", showKeyboard);
    $("search-clear").addEventListener("click", function () { s.value = ""; renderSearch(); s.focus(); });
    document.querySelectorAll("[data-back]").forEach(function (b) {
      b.addEventListener("click", function () {
        if (b.getAttribute("data-back") === "prev" && itemFrom === "list") show("list");
        else show("home");
      });
    });
    $("take").addEventListener("click", take);
    $("print").addEventListener("click", function () { printTicket(shown); });
    $("done").addEventListener("click", goHome);
    $("error-ok").addEventListener("click", closeError);
    loadCatalog();
    refreshHall();
    refreshHours();
    setInterval(refreshHours, HOURS_POLL_MS);
    startFeed();
    setInterval(tick, 1000);
    tick();
    if (!token) showError(t("err_unauth"));
  }

  // For kiosk-checkin.js: the views, the ticket view, errors, and its texts merged into DICT.
  window.HallqKiosk = { token: token, show: show, showTicket: showTicket, showError: showError, errorText: errorText,
    randomKey: randomKey, busy: function (on) { $("busy").hidden = !on; }, onHome: function (fn) { homeHooks.push(fn); },
    addText: function (d) { ["zh", "en"].forEach(function (l) { Object.assign(DICT[l], d[l]); }); },
    onTicket: function (fn) { ticketHooks.push(fn); }, onPrint: function (fn) { printTicket = fn; },
    view: function () { return view; }, catalog: function () { return cat; },
    onTake: function (fn) { idHook = fn; }, onTakeError: function (fn) { errHook = fn; },
    // For kiosk-enterprise.js: the item on screen (its code and queue), the priority off.
    chosen: function () { return chosen && !chosen.bundle ? { code: chosen.code, queue: chosenEntry().queue } : null; },
    onItem: function (fn) { itemHooks.push(fn); } };
  init();
})();
