/* hallq — cases.js: the supervisors' bad-rating cases (/display/cases).
 *
 * Sign in (POST /api/v1/login, supervisor or admin; the staff portal's one sign-in, unlike
 * the clerk console's; a clerk who handles 办不成事 cases sees only those), then GET /api/v1/cases lists every case, newest first, with its
 * deadline: open (办理中), overdue (已超期) or closed (已办结). An open case has two forms:
 * a call-back (回访: reached or not, and a note) and, once a call-back is recorded, the
 * rectification (整改) that closes it. Each POST carries a fresh Idempotency-Key, so a
 * double click records once. The page shows what the daemon answers, never a phone number
 * (the daemon masks any typed into a note).
 */
(function () {
  "use strict";

  var LEVEL_COLOURS = { 5: "#14804a", 4: "#4c9a2a", 3: "#d99a00", 2: "#e8590c", 1: "#c0262d" };

  var I18N = {
    zh: {
      title: "差评处理", title_handler: "办不成事请找我", logout: "退出登录", login_h: "主管登录", user: "用户名", password: "密码", login: "登录",
      s_open: "办理中", s_overdue: "已超期", s_closed: "已办结", filter: "显示", f_unclosed: "未办结",
      f_overdue: "已超期", f_closed: "已办结", f_all: "全部", day: "评价日期", refresh: "刷新",
      empty: "没有符合条件的差评", e_expired: "登录已过期，请重新登录", e_login: "用户名或密码错误", e_login_empty: "请输入用户名和密码",
      e_role: "只有主管、管理员或办不成事请找我窗口的经办人可以使用本页面", e_net: "连接失败，请稍后再试", window_n: "{n}号窗口",
      number: "号码", opened: "评价时间", due: "整改期限", reason: "原因", comment: "群众留言",
      callbacks: "回访记录", reached: "已联系上", not_reached: "未联系上", cb_h: "记录回访",
      cb_note: "回访情况", cb_submit: "保存回访", rx_h: "整改办结", rx_note: "整改措施",
      rx_submit: "整改并办结", rx_first: "请先记录回访", rectified: "整改情况", by: "经办",
      late: "超期", e_note: "请填写说明", none: "—",
    },
    en: {
      title: "Bad-rating cases", title_handler: "Escalated matters", logout: "Sign out", login_h: "Supervisor sign-in", user: "User", password: "Password",
      login: "Sign in", s_open: "Open", s_overdue: "Overdue", s_closed: "Closed", filter: "Show",
      f_unclosed: "Not closed", f_overdue: "Overdue", f_closed: "Closed", f_all: "All", day: "Rated on",
      refresh: "Refresh", empty: "No cases match", e_expired: "Session expired; sign in again", e_login: "Wrong user name or password",
      e_login_empty: "Enter user name and password", e_role: "Only a supervisor, an admin or the handler of 办不成事 cases uses this page",
      e_net: "Connection failed; try again", window_n: "Window {n}", number: "Number", opened: "Rated at",
      due: "Due", reason: "Reason", comment: "Visitor's comment", callbacks: "Call-backs", reached: "Reached",
      not_reached: "Not reached", cb_h: "Record a call-back", cb_note: "What was said", cb_submit: "Save call-back",
      rx_h: "Rectify and close", rx_note: "What was put right", rx_submit: "Rectify and close",
      rx_first: "Record a call-back first", rectified: "Rectification", by: "by", late: "late",
      e_note: "Write a note", none: "—",
    },
  };
  var LEVELS = { zh: ["非常不满意", "不满意", "基本满意", "满意", "非常满意"], en: ["Very dissatisfied", "Dissatisfied", "Fair", "Satisfied", "Very satisfied"] };

  var I = window.HallqI18n;
  var t = I.t;
  var $ = function (id) { return document.getElementById(id); };
  var S = { token: null, user: null, role: null };
  var cases = [];
  var busy = false;

  var STAFF = window.HallqStaff;
  var loginForm = null; // wired in start()
  function api(method, path, body) { return STAFF.api(S.token, method, path, body); }
  // The daemon's words for a refusal, else its status, else "connection failed".
  function errorText(err) { return err.message || (err.status ? "HTTP " + err.status : t("e_net")); }

  function show(screen) {
    $("screen-login").hidden = screen !== "login";
    $("screen-list").hidden = screen !== "list";
    $("user-box").hidden = screen !== "list";
  }

  function signOut(message) {
    document.querySelector("[data-i18n=title]").textContent = t("title");
    STAFF.endSession(S.token);
    loginForm.signOut(message || "");
    show("login");
  }

  function listError(text) { $("list-error").textContent = text; $("list-error").hidden = !text; }

  // The escalation handler (a clerk) works on their 办不成事 cases alone
  // (cases-escalations.js); the bad ratings are the supervisors'.
  function enter() {
    if (S.role !== "clerk") return open();
    // A clerk who handles no 办不成事 case is turned away here, as the daemon would turn
    // away each request; the session stays for the clerk's own pages.
    return api("GET", "/api/v1/escalations").then(open).catch(function (err) {
      if (err.status === 401) { signOut(t("e_expired")); return; }
      show("login");
      loginForm.error(err.status === 403 ? t("e_role") : errorText(err));
    });
  }

  function open() {
    var clerk = S.role === "clerk";
    $("user-name").textContent = STAFF.who(S);
    document.querySelector("[data-i18n=title]").textContent = t(clerk ? "title_handler" : "title");
    $("bad-tools").hidden = clerk;
    $("list").hidden = clerk;
    if (clerk) { $("empty").hidden = true; listError(""); }
    show("list");
    if (!clerk) refresh();
  }

  function refresh() {
    var filter = $("filter").value;
    var q = [];
    if (filter === "overdue" || filter === "closed") q.push("status=" + filter);
    if ($("day").value) q.push("day=" + encodeURIComponent($("day").value));
    return api("GET", "/api/v1/cases" + (q.length ? "?" + q.join("&") : "")).then(function (r) {
      listError("");
      cases = (r.cases || []).filter(function (c) { return filter !== "unclosed" || c.status !== "closed"; });
      var counts = { open: 0, overdue: 0, closed: 0 };
      (r.cases || []).forEach(function (c) { counts[c.status] = (counts[c.status] || 0) + 1; });
      $("count-open").textContent = counts.open;
      $("count-overdue").textContent = counts.overdue;
      $("count-closed").textContent = counts.closed;
      draw();
    }).catch(function (err) {
      if (err.status === 401) { signOut(t("e_expired")); return; }
      listError(errorText(err));
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function when(rfc) { return rfc ? rfc.replace("T", " ").slice(0, 16) : t("none"); }

  function row(dl, label, value) {
    dl.appendChild(el("dt", null, label));
    var dd = el("dd", null, value);
    dl.appendChild(dd);
    return dd;
  }

  function draw() {
    var list = $("list");
    list.textContent = "";
    $("empty").hidden = cases.length > 0;
    cases.forEach(function (c) { list.appendChild(card(c)); });
  }

  function card(c) {
    var box = el("article", "cs-case hq-card");
    box.dataset.case = c.id;
    box.dataset.status = c.status;
    var head = el("header", "cs-case-head");
    var level = el("span", "cs-level", (LEVELS[I.lang()] || LEVELS.zh)[c.score - 1]);
    level.style.background = LEVEL_COLOURS[c.score];
    head.appendChild(level);
    head.appendChild(el("b", "cs-number hq-num", c.number));
    head.appendChild(el("span", "cs-window", c.window ? t("window_n", { n: c.window }) : ""));
    if (c.clerk) head.appendChild(el("span", "cs-clerk", STAFF.person(c.clerk, c.clerk_name)));
    head.appendChild(el("span", "cs-status cs-status-" + c.status, t("s_" + c.status)));
    head.appendChild(el("span", "cs-id", c.id));
    box.appendChild(head);

    var dl = el("dl", "cs-facts");
    row(dl, t("reason"), c.reason_name);
    row(dl, t("comment"), c.comment || t("none"));
    row(dl, t("opened"), when(c.opened_at));
    var due = row(dl, t("due"), c.due + (c.late ? " · " + t("late") : ""));
    if (c.late) due.className = "cs-late";
    box.appendChild(dl);

    if (c.callbacks.length) {
      box.appendChild(el("h3", null, t("callbacks")));
      var ul = el("ul", "cs-callbacks");
      c.callbacks.forEach(function (b) {
        var li = el("li");
        li.appendChild(el("span", b.reached ? "cs-reached" : "cs-missed", t(b.reached ? "reached" : "not_reached")));
        li.appendChild(el("span", null, " " + b.note + " "));
        li.appendChild(el("small", null, when(b.at) + " · " + t("by") + " " + b.by));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (c.rectification) {
      box.appendChild(el("h3", null, t("rectified")));
      var p = el("p", "cs-rectified", c.rectification.note + " ");
      p.appendChild(el("small", null, when(c.rectification.at) + " · " + t("by") + " " + c.rectification.by));
      box.appendChild(p);
    } else {
      box.appendChild(forms(c));
    }
    return box;
  }

  function forms(c) {
    var wrap = el("div", "cs-forms");

    var cb = el("form", "cs-form cs-callback");
    cb.appendChild(el("h3", null, t("cb_h")));
    var choice = el("div", "cs-choice");
    [["yes", "reached"], ["no", "not_reached"]].forEach(function (o, i) {
      var label = el("label");
      var input = el("input");
      input.type = "radio";
      input.name = "reached-" + c.id;
      input.value = o[0];
      input.checked = i === 0;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + t(o[1])));
      choice.appendChild(label);
    });
    cb.appendChild(choice);
    var cbNote = el("textarea", "cs-note");
    cbNote.name = "note";
    cbNote.maxLength = 500;
    cbNote.placeholder = t("cb_note");
    cb.appendChild(cbNote);
    var cbBtn = el("button", "hq-btn", t("cb_submit"));
    cbBtn.type = "submit";
    cb.appendChild(cbBtn);
    var cbErr = el("p", "cs-error");
    cbErr.hidden = true;
    cb.appendChild(cbErr);
    cb.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var reached = cb.querySelector("input[value=yes]").checked;
      act(c.id, "callback", { reached: reached, note: cbNote.value }, cbBtn, cbErr);
    });
    wrap.appendChild(cb);

    var rx = el("form", "cs-form cs-rectify");
    rx.appendChild(el("h3", null, t("rx_h")));
    var rxNote = el("textarea", "cs-note");
    rxNote.name = "note";
    rxNote.maxLength = 500;
    rxNote.placeholder = t("rx_note");
    rx.appendChild(rxNote);
    var rxBtn = el("button", "hq-btn cs-primary", t("rx_submit"));
    rxBtn.type = "submit";
    rxBtn.disabled = c.callbacks.length === 0;
    rxBtn.title = c.callbacks.length ? "" : t("rx_first");
    rx.appendChild(rxBtn);
    var rxErr = el("p", "cs-error");
    rxErr.hidden = true;
    rx.appendChild(rxErr);
    rx.addEventListener("submit", function (ev) {
      ev.preventDefault();
      act(c.id, "rectify", { note: rxNote.value }, rxBtn, rxErr);
    });
    wrap.appendChild(rx);
    return wrap;
  }

  function act(id, action, body, btn, errBox) {
    if (busy) return;
    if (!body.note.trim()) { errBox.textContent = t("e_note"); errBox.hidden = false; return; }
    busy = true;
    btn.disabled = true;
    api("POST", "/api/v1/cases/" + encodeURIComponent(id) + "/" + action, body).then(function () {
      return refresh();
    }).catch(function (err) {
      if (err.status === 401) { signOut(t("e_expired")); return; }
      errBox.textContent = errorText(err);
      errBox.hidden = false;
      btn.disabled = false;
    }).then(function () { busy = false; });
  }

  function start() {
    I.init(I18N);
    I.onChange(function () { if (!$("screen-list").hidden) draw(); });
    loginForm = STAFF.login({
      t: t, roles: ["supervisor", "admin", "clerk"], state: S, shared: true, onLogin: enter, errorText: errorText,
      keys: { empty: "e_login_empty", role: "e_role" }
    });
    $("logout").addEventListener("click", function () { signOut(""); });
    $("refresh").addEventListener("click", refresh);
    $("filter").addEventListener("change", refresh);
    $("day").addEventListener("change", refresh);
    fetch("/api/v1/services").then(function (r) { return r.json(); }).then(function (cat) {
      if (cat.hall) $("hall-name").textContent = cat.hall.name;
    }).catch(function () {});
    if (loginForm.restore()) enter(); else show("login");
  }

  start();
})();
