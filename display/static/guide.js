/* hallq — guide.js: the guide's page (/display/guide), 导办 / 全程领办.
 *
 * Sign in (POST /api/v1/login, role guide; kept per tab like the clerk console's), then
 * GET /api/v1/guide, again whenever the hall's feed says something moved (guide-feed.js;
 * every POLL_MS only while the feed's socket is down), lists the guide's visitors under escort: number, status,
 * place in line (`ahead`), expected wait, the window when called and, for a bundle ticket,
 * which step; guide-alert.js rings at each call and step. 代取号 issues a ticket for a
 * visitor who cannot use the kiosk (POST /api/v1/guide/tickets: the item or bundle found
 * by name or pinyin initials in /api/v1/services, a priority class, and whether to escort
 * the visitor at once); the number is shown large for the visitor to note (the guide gets
 * no visitor's key: the visitor's own phone page is the kiosk's). 领办 takes an existing
 * number under escort (POST /api/v1/guide/escorts); 结束领办 lets a visitor go. Each POST
 * carries a fresh Idempotency-Key (staff.js), so a double tap acts once.
 */
(function () {
  "use strict";

  // How often the list is asked for, in ms: a call reaches the guide within this.
  var POLL_MS = 3000;
  // Matches listed under the search box, at most.
  var MATCHES_MAX = 8;

  var I18N = {
    zh: {
      title: "导办 · 全程领办", logout: "退出登录", login_h: "导办人员登录", user: "用户名", password: "密码", login: "登录",
      escorting: "领办中", alert_on: "开启提醒（声音/振动）", alert_ready: "提醒已开启", mine_h: "我的群众",
      empty: "还没有领办的群众", assist_h: "代取号", service: "办理事项", search_ph: "输入事项名称或拼音首字母",
      priority: "优先类别", none: "无", escort_too: "全程领办（列入我的群众）", assist_go: "取号",
      take_h: "领办已有号码", number: "号码", take_go: "领办", release: "结束领办",
      issued: "已取号，请告知群众号码", issued_escort: "已列入我的群众",
      s_waiting: "等候中", s_called: "到号", s_serving: "办理中", s_parked: "暂存", s_done: "已办结",
      s_no_show: "过号", s_cancelled: "已取消", s_expired: "已作废",
      ahead: "前面 {n} 人", called_to: "请到 {w} 号窗口", serving_at: "{w} 号窗口办理中", parked_at: "暂存于 {w} 号窗口",
      step: "第 {k}/{of} 步：{q}", since: "领办于 {t}",
      alert_call: "{n} 到号了，请带群众到 {w} 号窗口", alert_step: "{n} 进入第 {k}/{of} 步：{q}",
      e_login: "用户名或密码错误", e_login_empty: "请输入用户名和密码", e_role: "只有导办人员可以使用本页面",
      e_expired: "登录已过期，请重新登录", e_network: "连接失败，请稍后再试", e_generic: "操作失败，请稍后再试",
      e_escorts_full: "领办人数已满，请先结束一位群众的领办", e_escorted_by_other: "该群众已由其他导办领办",
      e_unknown_number: "今天没有这个号码", e_not_escortable: "该号码已办结或作废，不能领办",
      e_not_escorted: "您没有领办这个号码", e_bad_number: "请输入号码，例如 A012", e_hall_closed: "现在不是取号时间",
      print_at: "打印号票", no_print: "不打印（群众自己记号）", printed: "号票已送 {k} 打印，请带群众去取（票上有查询二维码）",
      print_failed: "号票未能打印（{s}），请告知群众号码", e_no_printer: "该取号机没有打印机"
    },
    en: {
      title: "Guides and escorts", logout: "Sign out", login_h: "Guide sign-in", user: "User", password: "Password",
      login: "Sign in", escorting: "Escorting", alert_on: "Turn on alerts (sound/vibration)", alert_ready: "Alerts on",
      mine_h: "My visitors", empty: "No visitor under escort yet", assist_h: "Take a number for a visitor",
      service: "Service", search_ph: "Name or pinyin initials", priority: "Priority", none: "None",
      escort_too: "Escort this visitor (add to my visitors)", assist_go: "Take number", take_h: "Escort a number",
      number: "Number", take_go: "Escort", release: "Release", issued: "Issued: tell the visitor the number",
      issued_escort: "Added to my visitors", s_waiting: "Waiting", s_called: "Called", s_serving: "Being served",
      s_parked: "Parked", s_done: "Done", s_no_show: "Missed", s_cancelled: "Cancelled", s_expired: "Expired",
      ahead: "{n} ahead", called_to: "To window {w}", serving_at: "At window {w}", parked_at: "Parked at window {w}",
      step: "Step {k}/{of}: {q}", since: "Escorted since {t}",
      alert_call: "{n} is called: take the visitor to window {w}", alert_step: "{n} is on step {k}/{of}: {q}",
      e_login: "Wrong user name or password", e_login_empty: "Enter user name and password",
      e_role: "Only a guide uses this page", e_expired: "Session expired; sign in again",
      e_network: "Connection failed; try again", e_generic: "That failed; try again",
      e_escorts_full: "You escort as many visitors as allowed; release one first",
      e_escorted_by_other: "Another guide escorts this visitor", e_unknown_number: "No such number today",
      e_not_escortable: "This number is finished", e_not_escorted: "You do not escort this number",
      e_bad_number: "Enter a number such as A012", e_hall_closed: "The hall issues no numbers now",
      print_at: "Print the ticket", no_print: "Do not print (the visitor notes the number)",
      printed: "Ticket sent to {k}'s printer: take the visitor to collect it (its QR code follows the ticket)",
      print_failed: "The ticket did not print ({s}): tell the visitor the number", e_no_printer: "That kiosk has no printer"
    }
  };

  var I = window.HallqI18n, t = I.t, STAFF = window.HallqStaff;
  var $ = function (id) { return document.getElementById(id); };
  var S = { token: null, user: null, role: null, display_name: null };
  var cat = { items: [], bundles: [], queues: {}, priorities: [] };
  var picked = null; // {code, name}
  var last = null;   // the last GET /api/v1/guide answer
  var timer = null;
  var backoffUntil = 0; // after a 429: no read before this (Date.now() ms)
  var loginForm = null;

  function api(method, path, body) { return STAFF.api(S.token, method, path, body); }

  function show(screen) {
    $("screen-login").hidden = screen !== "login";
    $("screen-main").hidden = screen !== "main";
    $("user-box").hidden = screen !== "main";
  }

  function failed(err, box) {
    if (err.status === 401) { signOut(t("e_expired")); return; }
    box.textContent = STAFF.errorText(t, err);
    box.hidden = false;
  }

  function signOut(message) {
    if (timer) clearTimeout(timer);
    timer = null;
    window.HallqGuideFeed.stop();
    loginForm.signOut(message);
    show("login");
  }

  function enter() {
    $("user-name").textContent = STAFF.who(S);
    show("main");
    poll();
    window.HallqGuideFeed.start(poll);
  }

  // The feed (guide-feed.js) calls this when the hall moved; the timer only while the
  // feed's socket is down.
  function timed() {
    window.HallqGuideFeed.counts.polled += 1;
    poll();
  }

  // The daemon bounds a guide's reads ([hall.limits] guide_reads_burst): after a 429 the
  // page keeps its list and asks once more when the answer's Retry-After has passed,
  // whatever the feed says meanwhile.
  function poll() {
    if (timer) clearTimeout(timer);
    timer = null;
    var rest = backoffUntil - Date.now();
    if (rest > 0) {
      timer = setTimeout(poll, rest);
      return Promise.resolve();
    }
    return api("GET", "/api/v1/guide").then(function (r) {
      last = r;
      $("list-error").hidden = true;
      r.visitors.forEach(function (v) { v.queue_name = (cat.queues[v.queue] || {}).name || v.queue; });
      draw();
      window.HallqGuideAlert.check(r.visitors);
    }).catch(function (err) {
      if (err.status !== 429) { failed(err, $("list-error")); return; }
      window.HallqGuideFeed.counts.limited += 1;
      backoffUntil = Date.now() + 1000 * (err.retry_after_s || 1);
      timer = setTimeout(poll, backoffUntil - Date.now());
    }).then(function () {
      if (S.token && !timer && !window.HallqGuideFeed.live()) timer = setTimeout(timed, POLL_MS);
    });
  }

  function serviceName(v) {
    if (v.bundle) {
      var b = cat.bundles.filter(function (x) { return x.id === v.bundle; })[0];
      return b ? b.name : v.bundle;
    }
    return v.services.map(function (c) {
      var it = cat.items.filter(function (x) { return x.code === c; })[0];
      return it ? it.name : c;
    }).join("、");
  }

  function where(v) {
    if (v.status === "waiting") return t("ahead", { n: v.ahead == null ? "—" : v.ahead }) + " · " + I.wait(v.eta_minutes, v.eta_reason);
    if (v.status === "called") return t("called_to", { w: v.window });
    if (v.status === "serving") return t("serving_at", { w: v.window });
    if (v.status === "parked") return t("parked_at", { w: v.window });
    return "";
  }

  function card(v) {
    var el = document.createElement("article");
    el.className = "gd-visitor";
    el.setAttribute("data-status", v.status);
    el.setAttribute("data-number", v.number);
    var steps = v.steps && v.steps.length
      ? '<div class="gd-sub gd-step">' + STAFF.esc(t("step", { k: v.step + 1, of: v.steps.length, q: v.queue_name })) + "</div>" : "";
    var at = (v.escorted_since || "").slice(11, 16);
    el.innerHTML =
      '<div class="gd-top"><span class="gd-num hq-num">' + STAFF.esc(v.number) + '</span><span class="gd-state">' +
      STAFF.esc(t("s_" + v.status)) + "</span></div>" +
      '<div class="gd-where">' + STAFF.esc(where(v)) + "</div>" +
      '<div class="gd-sub">' + STAFF.esc(serviceName(v)) + (v.priority ? " · " + STAFF.esc(priorityName(v.priority)) : "") + "</div>" +
      steps + '<div class="gd-sub">' + STAFF.esc(t("since", { t: at })) + "</div>";
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "hq-btn gd-release";
    btn.textContent = t("release");
    btn.addEventListener("click", function () { release(v.number, btn); });
    el.appendChild(btn);
    return el;
  }

  function priorityName(id) {
    var p = cat.priorities.filter(function (x) { return x.id === id; })[0];
    return p ? p.name : id;
  }

  function draw() {
    if (!last) return;
    $("count-live").textContent = last.live;
    $("count-max").textContent = last.escorts_max;
    drawPrinters(last.printers || []);
    var list = $("visitors");
    list.innerHTML = "";
    last.visitors.forEach(function (v) { list.appendChild(card(v)); });
    $("empty").hidden = last.visitors.length > 0;
  }

  // The kiosks' printers an assisted ticket may go to; the guide's choice is kept.
  function drawPrinters(printers) {
    var sel = $("assist-print"), keep = sel.value;
    $("assist-print-row").hidden = printers.length === 0;
    sel.innerHTML = '<option value="">' + STAFF.esc(t("no_print")) + "</option>" + printers.map(function (p) {
      return '<option value="' + STAFF.esc(p.kiosk) + '">' + STAFF.esc(p.name) + "</option>";
    }).join("");
    if (printers.some(function (p) { return p.kiosk === keep; })) sel.value = keep;
  }

  function printWords(r) {
    if (!r.print) return "";
    var name = $("assist-print").selectedOptions[0] ? $("assist-print").selectedOptions[0].textContent : "";
    var ok = r.print.status !== "not_queued" && ["ok", "unknown", "paper_low"].indexOf(r.print.printer) >= 0;
    return '<span class="gd-print" data-print="' + (ok ? "ok" : "failed") + '">' +
      STAFF.esc(ok ? t("printed", { k: name }) : t("print_failed", { s: r.print.printer })) + "</span>";
  }

  function release(number, btn) {
    btn.disabled = true;
    api("POST", "/api/v1/guide/escorts/" + encodeURIComponent(number) + "/release").then(poll)
      .catch(function (err) { btn.disabled = false; failed(err, $("list-error")); });
  }

  /* 代取号: the search over items and bundles, by name or pinyin initials. */
  function search() {
    var q = $("svc-search").value.trim().toLowerCase(), box = $("svc-results");
    box.innerHTML = "";
    if (!q) return;
    var all = cat.bundles.map(function (b) { return { code: b.id, name: b.name, initials: b.initials }; })
      .concat(cat.items.map(function (i) { return { code: i.code, name: i.name, initials: i.initials }; }));
    all.filter(function (e) {
      return e.name.toLowerCase().indexOf(q) >= 0 || (e.initials || "").indexOf(q) === 0 || e.code.toLowerCase() === q;
    }).slice(0, MATCHES_MAX).forEach(function (e) {
      var b = document.createElement("button");
      b.type = "button";
      b.setAttribute("data-code", e.code);
      b.textContent = e.name;
      b.addEventListener("click", function () { pick(e); });
      box.appendChild(b);
    });
  }

  function pick(e) {
    picked = e;
    $("svc-results").innerHTML = "";
    $("svc-search").value = "";
    $("svc-picked").textContent = e.name;
    $("svc-picked").hidden = false;
    $("assist-submit").disabled = false;
  }

  function assist() {
    if (!picked) return;
    var btn = $("assist-submit"), box = $("assist-error"), escort = $("assist-escort").checked;
    btn.disabled = true;
    box.hidden = true;
    var body = { service: picked.code, escort: escort };
    if ($("assist-priority").value) body.priority = $("assist-priority").value;
    if ($("assist-print").value) body.print_at = $("assist-print").value;
    api("POST", "/api/v1/guide/tickets", body).then(function (r) {
      var out = $("assist-result");
      out.innerHTML = STAFF.esc(t("issued")) + '<span class="hq-num" id="assist-number">' + STAFF.esc(r.ticket.number) + "</span>" +
        (escort ? STAFF.esc(t("issued_escort")) : "") + printWords(r);
      out.hidden = false;
      picked = null;
      $("svc-picked").hidden = true;
      return poll();
    }).catch(function (err) { btn.disabled = false; failed(err, box); });
  }

  function takeNumber() {
    var input = $("escort-number"), box = $("escort-error"), n = input.value.trim();
    box.hidden = true;
    if (!n) { box.textContent = t("e_bad_number"); box.hidden = false; return; }
    api("POST", "/api/v1/guide/escorts", { number: n }).then(function () {
      input.value = "";
      return poll();
    }).catch(function (err) { failed(err, box); });
  }

  function loadCatalog() {
    return fetch("/api/v1/services").then(function (r) { return r.json(); }).then(function (c) {
      cat.items = c.items || [];
      cat.bundles = c.bundles || [];
      cat.priorities = c.priorities || [];
      (c.queues || []).forEach(function (q) { cat.queues[q.id] = q; });
      if (c.hall) $("hall-name").textContent = c.hall.name;
      var sel = $("assist-priority");
      sel.innerHTML = '<option value="">' + STAFF.esc(t("none")) + "</option>" + cat.priorities.map(function (p) {
        return '<option value="' + STAFF.esc(p.id) + '">' + STAFF.esc(p.name) + "</option>";
      }).join("");
    }).catch(function () { /* no catalogue: codes are shown instead of names */ });
  }

  function start() {
    I.init(I18N);
    I.onChange(draw);
    window.HallqGuideAlert.init(t);
    loginForm = STAFF.login({
      t: t, roles: ["guide"], state: S, store: "hallq.guide", onLogin: enter,
      keep: ["token", "user", "role", "display_name"], keys: { empty: "e_login_empty", role: "e_role" }
    });
    $("logout").addEventListener("click", function () { STAFF.endSession(S.token); signOut(""); });
    $("alert-enable").addEventListener("click", function () {
      window.HallqGuideAlert.enable();
      $("alert-enable").hidden = true;
      $("alert-state").hidden = false;
    });
    $("svc-search").addEventListener("input", search);
    $("assist-submit").addEventListener("click", assist);
    $("escort-submit").addEventListener("click", takeNumber);
    $("escort-number").addEventListener("keydown", function (e) { if (e.key === "Enter") takeNumber(); });
    loadCatalog().then(function () { if (loginForm.restore()) enter(); else show("login"); });
  }

  start();
})();
