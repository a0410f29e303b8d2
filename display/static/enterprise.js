/* hallq — enterprise.js: 助企服务 for staff (/display/enterprise).
 *
 * Sign in (a specialist — a clerk — a supervisor or an admin; this page's own session),
 * then GET /api/v1/enterprises lists the enterprises the user may see: a specialist's own,
 * everyone's for supervisors and admins. A row opens its follow-up log
 * (GET /api/v1/enterprises/{id}: visits from tickets done, referrals, milestones), newest
 * first, with a form that adds a referral or milestone
 * (POST /api/v1/enterprises/{id}/follow-ups). Admins, who do not read the logs, get the
 * forms that add an enterprise and name its specialist. The credit code typed there goes
 * to the daemon once and is cleared from the form; no answer carries one back.
 */
(function () {
  "use strict";

  var DICT = {
    zh: {
      title: "助企服务", logout: "退出登录", login_h: "专员或主管登录", user: "用户名", password: "密码", login: "登录",
      e_login: "用户名或密码错误", e_login_empty: "请输入用户名和密码", e_expired: "登录已过期，请重新登录",
      e_role: "此页面供专属服务专员、主管和管理员使用", e_net: "连接失败，请稍后再试",
      list_h: "服务企业", c_id: "编号", c_name: "企业", c_specialist: "专属服务专员", c_window: "当前窗口",
      c_visits: "到访", c_follow: "跟踪", window_n: "{n}号窗口", away: "不在窗口", log_h: "{name} · 跟踪记录",
      f_kind: "类型", f_date: "日期", f_note: "说明", f_submit: "添加跟踪记录", empty_log: "还没有记录",
      admin_h: "登记服务企业（管理员）", a_code: "统一社会信用代码", a_submit: "登记", s_new: "新的专属服务专员",
      s_submit: "更换专员", added: "已登记企业 {id}", moved: "企业 {id} 的专属服务专员已改为 {who}", none: "—"
    },
    en: {
      title: "Enterprise service", logout: "Sign out", login_h: "Specialist or supervisor sign-in", user: "User",
      password: "Password", login: "Sign in", e_login: "Wrong user name or password", e_login_empty: "Enter user name and password",
      e_expired: "Session expired; sign in again", e_role: "This page is for specialists, supervisors and admins",
      e_net: "Connection failed; try again", list_h: "Enterprises", c_id: "Id", c_name: "Enterprise",
      c_specialist: "Specialist", c_window: "Window now", c_visits: "Visits", c_follow: "Follow-ups", window_n: "Window {n}",
      away: "away", log_h: "{name} · follow-up log", f_kind: "Kind", f_date: "Date", f_note: "Note",
      f_submit: "Add to the log", empty_log: "Nothing recorded yet", admin_h: "Register an enterprise (admin)",
      a_code: "Unified social credit code", a_submit: "Register", s_new: "New specialist", s_submit: "Change specialist",
      added: "Enterprise {id} registered", moved: "Enterprise {id}'s specialist is now {who}", none: "—"
    }
  };

  var I = window.HallqI18n, t = I.t, STAFF = window.HallqStaff;
  var $ = function (id) { return document.getElementById(id); };
  var S = { token: null, user: null, role: null };
  var list = [], kinds = [], open = null, loginForm = null, busy = false;

  function api(method, path, body) { return STAFF.api(S.token, method, path, body); }
  function errorText(err) { return err.message || (err.status ? "HTTP " + err.status : t("e_net")); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function failed(err) {
    if (err.status === 401) { signOut(t("e_expired")); return; }
    $("main-error").textContent = errorText(err);
    $("main-error").hidden = false;
  }

  function show(screen) {
    $("screen-login").hidden = screen !== "login";
    $("screen-main").hidden = screen !== "main";
    $("user-box").hidden = screen !== "main";
  }

  function signOut(message) {
    STAFF.endSession(S.token);
    loginForm.signOut(message || "");
    open = null;
    show("login");
  }

  function enter() {
    $("user-name").textContent = STAFF.who(S);
    $("admin-card").hidden = S.role !== "admin";
    show("main");
    refresh();
  }

  function refresh() {
    return api("GET", "/api/v1/enterprises").then(function (r) {
      $("main-error").hidden = true;
      list = r.enterprises || [];
      kinds = r.follow_up_kinds || [];
      drawList();
      if (open) openLog(open);
    }).catch(failed);
  }

  function drawList() {
    var body = $("list");
    body.textContent = "";
    list.forEach(function (e) {
      var tr = el("tr", e.id === open ? "is-on" : "");
      tr.setAttribute("data-id", e.id);
      [e.id, e.name, STAFF.person(e.specialist, e.specialist_name),
        e.window ? t("window_n", { n: e.window }) : t("away"), e.visits, e.follow_ups].forEach(function (v) {
        tr.appendChild(el("td", null, String(v)));
      });
      if (S.role !== "admin") tr.addEventListener("click", function () { openLog(e.id); });
      body.appendChild(tr);
    });
    var sel = $("s-id");
    sel.textContent = "";
    list.forEach(function (e) { var o = el("option", null, e.id + " " + e.name); o.value = e.id; sel.appendChild(o); });
    var kind = $("f-kind");
    if (!kind.options.length) kinds.forEach(function (k) { var o = el("option", null, k.name); o.value = k.code; kind.appendChild(o); });
  }

  function openLog(id) {
    open = id;
    return api("GET", "/api/v1/enterprises/" + encodeURIComponent(id)).then(drawLog).catch(failed);
  }

  function drawLog(e) {
    $("log-card").hidden = false;
    $("log-title").textContent = t("log_h", { name: e.name });
    if (!$("f-date").value) $("f-date").value = new Date().toISOString().slice(0, 10);
    var ol = $("log");
    ol.textContent = "";
    if (!e.entries.length) ol.appendChild(el("li", null, t("empty_log")));
    e.entries.forEach(function (x) {
      var li = el("li");
      li.setAttribute("data-kind", x.kind);
      li.appendChild(el("span", "en-kind", x.kind_text));
      li.appendChild(el("b", null, x.date));
      li.appendChild(el("span", "en-meta", x.by ? STAFF.person(x.by, x.by_name) : ""));
      li.appendChild(el("div", null, x.note));
      ol.appendChild(li);
    });
    Array.prototype.forEach.call($("list").children, function (tr) {
      tr.classList.toggle("is-on", tr.getAttribute("data-id") === e.id);
    });
  }

  function guarded(ev, run) {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    run().catch(failed).then(function () { busy = false; });
  }

  function addFollowUp(ev) {
    guarded(ev, function () {
      var body = { kind: $("f-kind").value, date: $("f-date").value, note: $("f-note").value };
      return api("POST", "/api/v1/enterprises/" + encodeURIComponent(open) + "/follow-ups", body).then(function (e) {
        $("f-note").value = "";
        drawLog(e);
        return refresh();
      });
    });
  }

  function addEnterprise(ev) {
    guarded(ev, function () {
      var body = { id: $("a-id").value.trim(), name: $("a-name").value.trim(), credit_code: $("a-code").value.trim(),
        specialist: $("a-specialist").value.trim() };
      $("a-code").value = "";   // typed once, sent once, kept nowhere
      return api("POST", "/api/v1/admin/enterprises", body).then(function (e) {
        ["a-id", "a-name", "a-specialist"].forEach(function (f) { $(f).value = ""; });
        adminOk(t("added", { id: e.id }));
        return refresh();
      });
    });
  }

  function setSpecialist(ev) {
    guarded(ev, function () {
      var id = $("s-id").value, body = { specialist: $("s-specialist").value.trim() };
      return api("POST", "/api/v1/admin/enterprises/" + encodeURIComponent(id) + "/specialist", body).then(function (e) {
        adminOk(t("moved", { id: e.id, who: STAFF.person(e.specialist, e.specialist_name) }));
        return refresh();
      });
    });
  }

  function adminOk(text) { $("admin-ok").textContent = text; $("admin-ok").hidden = false; $("main-error").hidden = true; }

  function start() {
    I.init(DICT);
    I.onChange(function () { if (!$("screen-main").hidden) refresh(); });
    loginForm = STAFF.login({
      t: t, roles: ["clerk", "supervisor", "admin"], state: S, store: "hallq-enterprise", onLogin: enter,
      errorText: errorText, keys: { empty: "e_login_empty", role: "e_role" }
    });
    $("logout").addEventListener("click", function () { signOut(""); });
    $("follow-form").addEventListener("submit", addFollowUp);
    $("add-form").addEventListener("submit", addEnterprise);
    $("spec-form").addEventListener("submit", setSpecialist);
    fetch("/api/v1/services").then(function (r) { return r.json(); }).then(function (cat) {
      if (cat.hall) $("hall-name").textContent = cat.hall.name;
    }).catch(function () {});
    if (loginForm.restore()) enter(); else show("login");
  }

  start();
})();
