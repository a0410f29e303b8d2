/* hallq — cases-escalations.js: 办不成事 cases on the supervisors' cases page
 * (/display/cases, issue 17 §2). Below the bad-rating cases, once signed in: where matters
 * get stuck (by item, department, reason and clerk, with open and overdue counts, from
 * GET /api/v1/escalations) and the open cases, each with a call-back form and the form that
 * ends it (answered, or referred on to a department). The daemon decides; this page only
 * shows its answers and its refusals. It reads the staff portal's shared session, which
 * cases.js keeps. A clerk who handles the cases (window 12's) signs in here too and sees,
 * and works on, only the cases that name them. */
(function () {
  "use strict";

  var WORDS = {
    zh: {
      h: "办不成事督办", all: "全部", open: "办理中", overdue: "已超期", closed: "已答复", referred: "已转办",
      by_item: "按事项", by_department: "按部门", by_reason: "按原因", by_clerk: "按工作人员", total: "总数",
      none: "暂无办不成事工单", from: "{w} · {c}", reason: "原因", note: "转交说明", handler: "负责人", due: "答复期限",
      callbacks: "回访", cb_submit: "记录回访", reached: "已联系上", resolve: "答复并办结", refer: "转办",
      refer_ph: "转办部门（转办时填写）", note_ph: "说明（必填）", csv: "导出CSV"
    },
    en: {
      h: "Escalated matters", all: "All", open: "Open", overdue: "Overdue", closed: "Answered", referred: "Referred",
      by_item: "By item", by_department: "By department", by_reason: "By reason", by_clerk: "By clerk", total: "Total",
      none: "No escalation cases", from: "{w} · {c}", reason: "Reason", note: "Note", handler: "Handler", due: "Due",
      callbacks: "Call-backs", cb_submit: "Record call-back", reached: "Reached", resolve: "Answer and close", refer: "Refer on",
      refer_ph: "Department (to refer on)", note_ph: "Note (required)", csv: "Export CSV"
    }
  };
  var STAFF = window.HallqStaff;
  var session = STAFF.store("hallq.staff", "local");
  var esc = STAFF.esc;
  var $ = function (id) { return document.getElementById(id); };
  function w(k, vars) {
    var lang = window.HallqI18n && window.HallqI18n.lang() === "en" ? "en" : "zh";
    return WORDS[lang][k].replace(/\{(\w+)\}/g, function (m, n) { return vars && n in vars ? vars[n] : m; });
  }
  function token() { var s = session.load(); return s && s.token; }
  // A clerk (the cases' handler) sees their own cases; the CSV of all is the supervisors'.
  function clerk() { var s = session.load(); return !!s && s.role === "clerk"; }

  function table(key, rows) {
    var head = "<tr><th>" + esc(w(key)) + "</th><th>" + esc(w("total")) + "</th><th>" + esc(w("open")) + "</th><th>" +
      esc(w("overdue")) + "</th></tr>";
    var body = rows.map(function (r) {
      return "<tr data-key=\"" + esc(r.key) + "\"><td>" + esc(r.name || r.key || "—") + "</td><td>" + r.total + "</td><td>" + r.open +
        "</td><td" + (r.overdue ? " class=\"cs-late\"" : "") + ">" + r.overdue + "</td></tr>";
    }).join("");
    return "<table class=\"es-table\" data-by=\"" + key + "\">" + head + body + "</table>";
  }

  function card(c) {
    var ended = c.resolution;
    var html = "<article class=\"cs-case hq-card es-case\" data-case=\"" + esc(c.id) + "\" data-status=\"" + esc(c.status) + "\">" +
      "<header class=\"cs-case-head\"><b class=\"cs-number hq-num\">" + esc(c.number) + "</b><span>" +
      esc(w("from", { w: c.window_name, c: c.clerk_name || "" })) + "</span><span class=\"cs-status cs-status-" + esc(c.status) + "\">" +
      esc(w(c.status)) + "</span><span class=\"cs-id\">" + esc(c.id) + "</span></header><dl class=\"cs-facts\">" +
      "<dt>" + esc(w("reason")) + "</dt><dd>" + esc(c.reason_name) + " · " + esc(c.items.map(function (i) { return i.name + "（" + i.department + "）"; }).join("、")) + "</dd>" +
      "<dt>" + esc(w("note")) + "</dt><dd>" + esc(c.note || "—") + "</dd>" +
      "<dt>" + esc(w("handler")) + "</dt><dd>" + esc(c.handler_name) + "</dd>" +
      "<dt>" + esc(w("due")) + "</dt><dd" + (c.late ? " class=\"cs-late\"" : "") + ">" + esc(c.due) + "</dd>" +
      "<dt>" + esc(w("callbacks")) + "</dt><dd>" + c.callbacks.length + "</dd></dl>";
    if (ended) {
      html += "<p class=\"cs-rectified\">" + esc(ended.note) + (ended.referred_to ? " → " + esc(ended.referred_to) : "") + "</p>";
    } else {
      html += "<form class=\"cs-form es-form\"><textarea class=\"cs-note\" maxlength=\"500\" placeholder=\"" + esc(w("note_ph")) +
        "\"></textarea><input class=\"es-refer\" maxlength=\"64\" placeholder=\"" + esc(w("refer_ph")) + "\">" +
        "<label><input type=\"checkbox\" class=\"es-reached\" checked> " + esc(w("reached")) + "</label>" +
        "<button type=\"button\" class=\"hq-btn\" data-act=\"callback\">" + esc(w("cb_submit")) + "</button>" +
        "<button type=\"button\" class=\"hq-btn cs-primary\" data-act=\"resolve\">" + esc(w("resolve")) + " / " + esc(w("refer")) + "</button>" +
        "<p class=\"cs-error\" hidden></p></form>";
    }
    return html + "</article>";
  }

  function draw(r) {
    var s = r.summary, box = $("esc");
    box.hidden = false;
    $("esc-h").textContent = w("h");
    $("esc-counts").textContent = w("open") + " " + s.all.open + " · " + w("overdue") + " " + s.all.overdue + " · " +
      w("closed") + " " + s.all.closed + " · " + w("referred") + " " + s.all.referred;
    $("esc-tables").innerHTML = table("by_item", s.by_item) + table("by_department", s.by_department) +
      table("by_reason", s.by_reason) + table("by_clerk", s.by_clerk);
    $("esc-list").innerHTML = r.cases.length ? r.cases.map(card).join("") : "<p class=\"cs-empty\">" + esc(w("none")) + "</p>";
  }

  function load() {
    if (!token()) return;
    $("esc-csv").hidden = clerk();
    STAFF.api(token(), "GET", "/api/v1/escalations").then(draw).catch(function (e) {
      $("esc").hidden = true;
      // The page is theirs alone for a clerk: say why it is empty.
      if (clerk()) { $("list-error").textContent = e.message || "HTTP " + e.status; $("list-error").hidden = false; }
    });
  }

  function act(form, action) {
    var id = form.closest("[data-case]").dataset.case, err = form.querySelector(".cs-error");
    var note = form.querySelector(".cs-note").value, refer = form.querySelector(".es-refer").value.trim();
    var body = action === "callback" ? { reached: form.querySelector(".es-reached").checked, note: note } : { note: note };
    if (action === "resolve" && refer) body.refer_to = refer;
    STAFF.api(token(), "POST", "/api/v1/escalations/" + encodeURIComponent(id) + "/" + action, body).then(load).catch(function (e) {
      err.textContent = e.message || "HTTP " + e.status;
      err.hidden = false;
    });
  }

  $("esc-list").addEventListener("click", function (e) {
    var b = e.target.closest("[data-act]");
    if (b) act(b.closest("form"), b.dataset.act);
  });
  $("refresh").addEventListener("click", load);
  // cases.js shows the list once signed in; this follows it.
  // Signed out: nothing of the last user's cases stays in the page.
  function clear() { $("esc").hidden = true; $("esc-list").textContent = ""; $("esc-tables").textContent = ""; }
  new MutationObserver(function () { if (!$("screen-list").hidden) load(); else clear(); })
    .observe($("screen-list"), { attributes: true, attributeFilter: ["hidden"] });
  if (window.HallqI18n && window.HallqI18n.onChange) window.HallqI18n.onChange(load);
  $("esc-csv").addEventListener("click", function () {
    STAFF.api(token(), "GET", "/api/v1/reports/escalations.csv", null, { as: "blob", accept: "text/csv" }).then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "hallq-escalations.csv";
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    }).catch(function () {});
  });
  if (!$("screen-list").hidden) load();
})();
