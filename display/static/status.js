/* hallq — status.js: the visitor's ticket-status page (/t/{id}), for a phone.
 *
 * Shows the number, the status in words, how many are ahead and the expected wait, and
 * follows the ticket live: it listens to the display feed and re-fetches
 * GET /api/v1/tickets/{id} when a message concerns this ticket (at most ~2 per second).
 * When called it shows "请到 5 号窗口" prominently; status-remind.js (叫号提醒) rings and
 * vibrates at N ahead and at the call once the visitor has tapped to allow it. While waiting the visitor
 * may cancel (after a confirmation). After service it offers the 好差评 rating, five
 * levels, a reason required for the bottom two, submitted once.
 * A missed number (no_show with rejoin_until) may rejoin the line from here until its
 * deadline, keeping its number; a parked ticket says to come back to its window with the
 * missing papers; a bundle ticket (一件事) lists its steps and says where to go next.
 * Cancelling, rejoining and rating need the ticket's key, `k` in this page's address (the
 * QR code's); opened without it, from a link that has only the id, the page only shows.
 * At the district (issue 18) ?hall=<id> in the address sends every call to
 * /api/v1/halls/<id>/…, which the district passes on to that hall; there is no feed there,
 * so the page asks every DISTRICT_POLL_MS instead.
 */
(function () {
  "use strict";

  var MIN_GAP_MS = 500;
  var POLL_MS = 30000;
  var DISTRICT_POLL_MS = 5000;
  // The hall this page follows a ticket of at the district (?hall=), or none at the hall's own address.
  var HALL = new URLSearchParams(location.search).get("hall");
  var API = HALL ? "/api/v1/halls/" + encodeURIComponent(HALL) : "/api/v1";
  var DICT = {
    zh: {
      subtitle: "排队进度", offline: "网络连接中断，正在重新连接…", loading: "正在查询…",
      notfound: "没有找到这张票", notfound_hint: "请核对二维码或链接是否完整，或咨询大厅工作人员。",
      your_number: "您的号码", ahead: "前面等候", eta: "预计等候", queue: "办理队列", services: "办理事项",
      issued: "取号时间", cancel: "取消排队", rate_h: "请对本次服务进行评价",
      rate_sub: "好差评 · 您的评价将帮助我们改进服务",
      s5: "非常满意", s4: "满意", s3: "基本满意", s2: "不满意", s1: "非常不满意",
      reason_label: "意见或建议", required: "（必填）", reason_ph: "请告诉我们哪里可以做得更好",
      rate_submit: "提交评价", thanks: "感谢您的评价",
      foot: "本页面自动更新，无需刷新。请留意大厅叫号屏及语音广播。",
      confirm_cancel: "确定取消排队吗？取消后需要重新取号。", keep: "继续排队", confirm_yes: "确定取消",
      st_waiting: "等候中", st_called: "请到{w}号窗口", st_serving: "办理中", st_done: "已完成",
      st_no_show: "已过号", st_cancelled: "已取消", st_expired: "已过期",
      call_main: "请到 {w} 号窗口", call_sub_en: "Please go to window {w}",
      serving_main: "正在 {w} 号窗口办理",
      people: "{n}", people_unit: "人", min_unit: "分钟", no_window: "暂无窗口办理",
      note_incomplete: "本次未能办结，请按窗口工作人员的告知补充材料后再来。",
      note_no_show: "叫号时未到窗口，此号已作废。如需办理请重新取号。",
      note_cancelled: "您已取消排队。如需办理请重新取号。",
      note_expired: "此号已过期（仅当天有效）。如需办理请重新取号。",
      err_reason: "选择“不满意”或“非常不满意”时，请选择原因（选“其他”时请填写说明）。",
      err_score: "请先选择一个评价等级。",
      err_network: "网络不通，请稍后再试。", err_cancel: "当前状态无法取消排队。",
      err_rate: "评价没有提交成功，请稍后再试。",
      st_parked: "暂存中", parked_main: "请补齐材料后回到 {w} 号窗口",
      parked_sub: "您的号码已在窗口暂存，号码不变；回来后工作人员会再次叫号",
      rejoin_h: "您已过号", rejoin: "重新排队", rejoining: "正在重新排队…",
      rejoin_text: "请在 {t} 前点击“重新排队”，号码不变，排到队尾。",
      rejoin_expired: "已超过重新排队时限（{t}），此号已作废。如需办理请重新取号。",
      rejoined: "已重新排队，号码不变，请留意叫号。", err_rejoin: "未能重新排队，请稍后再试。",
      steps_h: "一件事 · 共 {n} 步", step_done: "已完成", step_current: "当前", step_pending: "待办理",
      step_at: "{w} 号窗口", next_wait: "请等候「{q}」叫号，号码不变。",
      next_after: "本步完成后，请等候「{q}」叫号，号码不变。", next_all_done: "全部 {n} 步已办理完成。",
      key_hint: "如需取消排队、重新排队或评价，请扫描取号凭条上的二维码打开本页。"
    },
    en: {
      subtitle: "Your place in line", offline: "Connection lost, reconnecting…", loading: "Looking up…",
      notfound: "Ticket not found", notfound_hint: "Please check that the QR code or link is complete, or ask our staff.",
      your_number: "Your number", ahead: "Ahead of you", eta: "Expected wait", queue: "Service line",
      services: "Service", issued: "Issued", cancel: "Cancel my ticket", rate_h: "How was our service?",
      rate_sub: "Your rating helps us improve",
      s5: "Very satisfied", s4: "Satisfied", s3: "Fair", s2: "Dissatisfied", s1: "Very dissatisfied",
      reason_label: "Comments", required: "(required)", reason_ph: "Tell us what we could do better",
      rate_submit: "Submit", thanks: "Thank you for your feedback",
      foot: "This page updates by itself. Listen for your number in the hall.",
      confirm_cancel: "Cancel your ticket? You would need a new one to be served.", keep: "Keep my place",
      confirm_yes: "Cancel ticket",
      st_waiting: "Waiting", st_called: "Go to window {w}", st_serving: "Being served", st_done: "Completed",
      st_no_show: "Missed", st_cancelled: "Cancelled", st_expired: "Expired",
      call_main: "Please go to window {w}", call_sub_en: "请到 {w} 号窗口",
      serving_main: "Being served at window {w}",
      people: "{n}", people_unit: "", min_unit: "min", no_window: "No window open",
      note_incomplete: "Your matter could not be completed; please bring what the clerk asked for.",
      note_no_show: "You were called but did not come; this number is void. Please take a new one.",
      note_cancelled: "You cancelled this ticket. Please take a new one to be served.",
      note_expired: "This ticket has expired (valid on its day only). Please take a new one.",
      err_reason: "Please choose a reason when you are dissatisfied (and say a few words for \"other\").",
      err_score: "Please choose a rating first.",
      err_network: "No connection; please try again shortly.", err_cancel: "This ticket can no longer be cancelled.",
      err_rate: "Your rating could not be sent; please try again.",
      st_parked: "Set aside", parked_main: "Bring the missing papers back to window {w}",
      parked_sub: "Your number is held at the window; the clerk will call it again when you are back",
      rejoin_h: "You missed your call", rejoin: "Rejoin the line", rejoining: "Rejoining…",
      rejoin_text: "Tap “Rejoin the line” before {t}: you keep your number and go to the back of the line.",
      rejoin_expired: "The time to rejoin ended at {t}; this number is void. Please take a new ticket.",
      rejoined: "You are back in line with the same number. Listen for your call.",
      err_rejoin: "Could not rejoin the line; please try again.",
      steps_h: "Bundle · {n} steps", step_done: "done", step_current: "now", step_pending: "to do",
      step_at: "window {w}", next_wait: "Wait for “{q}” to call your number (unchanged).",
      next_after: "After this step, wait for “{q}” to call your number (unchanged).", next_all_done: "All {n} steps are done.",
      key_hint: "To cancel, rejoin or rate, open this page from the QR code on your ticket."
    }
  };
  var I18N = window.HallqI18n || {
    init: function () {}, onChange: function () {}, lang: function () { return "zh"; },
    t: function (k, v) {
      var s = DICT.zh[k] || k;
      return v ? s.replace(/\{(\w+)\}/g, function (m, n) { return n in v ? v[n] : m; }) : s;
    }
  };
  var t = I18N.t;
  var ACTIVE = { waiting: 1, called: 1, serving: 1, parked: 1 };

  var id = decodeURIComponent((location.pathname.match(/^\/t\/([^/?#]+)/) || [])[1] || "");
  // The visitor's key: what lets this page cancel, rejoin and rate, and no one else.
  var key = (/[?&]k=([0-9a-fA-F]{1,64})(?:&|$)/.exec(location.search) || [])[1] || "";
  function visitorPath(action) {
    return API + "/tickets/" + encodeURIComponent(id) + "/" + action + "?k=" + encodeURIComponent(key);
  }
  var ticket = null;
  var cat = null;
  var reasonCode = null;     // the reason chosen for a bad rating: {code, name, text_required}
  var windowNames = {};
  var windowStates = {};     // window id → its state, to see one open or close
  var score = null;
  var busy = false;          // a cancel, rejoin or rating request in flight
  var rated = false;
  var rejoinRefused = false; // the daemon said the time to rejoin is over
  var rejoinTimer = null;
  var lastFetch = 0, fetching = false, again = false, timer = null;

  function $(x) { return document.getElementById(x); }

  /* ---------- fetching, throttled ---------- */

  function refresh() {
    if (fetching) { again = true; return; }
    var wait = lastFetch + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      if (!timer) timer = setTimeout(function () { timer = null; refresh(); }, wait);
      return;
    }
    fetching = true;
    lastFetch = Date.now();
    // With the key: a referred ticket's link to its new hall carries the new ticket's key.
    fetch(API + "/tickets/" + encodeURIComponent(id) + (key ? "?k=" + encodeURIComponent(key) : ""), { cache: "no-store" }).then(function (r) {
      if (r.status === 404 || r.status === 400) return { missing: true };
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (tk) {
      if (tk.missing) showMissing();
      else { setOffline(false); update(tk); }
    }, function () {
      setOffline(true);
    }).then(function () {
      fetching = false;
      if (again) { again = false; refresh(); }
    });
  }

  function setOffline(on) { $("offline").hidden = !on; }

  function staffed(state) { return state !== "closed" && state !== "paused"; }

  function relevant(m) {
    if (!ticket) return m.type === "snapshot";
    if (m.type === "snapshot") return true;
    if (!ACTIVE[ticket.status]) return false;
    if (m.type === "call") return m.number === ticket.number;
    if (m.type === "window") {
      var w = m.window || {};
      // A window that opens or closes changes a waiting ticket's wait (暂无窗口办理 or a
      // figure); a call changes it through its queue's count.
      var was = windowStates[w.id];
      windowStates[w.id] = w.state;
      var turned = was !== undefined && staffed(was) !== staffed(w.state);
      return w.ticket === ticket.number || (ticket.window != null && w.id === ticket.window)
        || (turned && ticket.status === "waiting");
    }
    if (m.type === "queue") return ticket.status === "waiting";
    return false;
  }

  /* ---------- rendering ---------- */

  function showMissing() {
    $("loading").hidden = true;
    $("ticket").hidden = true;
    $("notfound").hidden = false;
  }

  function hallTime(iso) {
    var m = /T(\d{2}):(\d{2})/.exec(iso || "");
    return m ? m[1] + ":" + m[2] : "";
  }

  function update(tk) {
    var before = ticket;
    ticket = tk;
    rated = rated || !!tk.rated;
    render();
    if (before && before.status !== tk.status && before.status !== "no_show") message("");
    var calledNow = tk.status === "called" && (!before || before.status !== "called" || before.window !== tk.window);
    if (calledNow) alertVisitor();
    if (window.HallqRemind) window.HallqRemind.ticket(tk);
    if (window.HallqMaterials) window.HallqMaterials.ticket(tk);
  }

  // The call card flashes; sound and vibration are status-remind.js's, once allowed.
  function alertVisitor() {
    var card = $("call");
    card.classList.remove("is-new");
    void card.offsetWidth;   // restart the animation
    card.classList.add("is-new");
  }

  function render() {
    var tk = ticket;
    if (!tk) return;
    $("loading").hidden = true;
    $("notfound").hidden = true;
    $("ticket").hidden = false;
    $("number").textContent = tk.number;
    var st = $("status");
    st.setAttribute("data-status", tk.status);
    st.textContent = t("st_" + tk.status, { w: tk.window || "" });
    document.body.setAttribute("data-status", tk.status);

    var call = $("call");
    call.hidden = !(tk.status === "called" || tk.status === "serving" || tk.status === "parked") || !tk.window;
    if (!call.hidden) {
      var callKey = { called: "call_main", serving: "serving_main", parked: "parked_main" }[tk.status];
      $("call-main").textContent = t(callKey, { w: tk.window });
      var wn = windowNames[tk.window];
      $("call-sub").textContent = tk.status === "called"
        ? (I18N.lang() === "zh" ? t("call_sub_en", { w: tk.window }) : "请到 " + tk.window + " 号窗口") : "";
      if (tk.status === "parked") $("call-sub").textContent = t("parked_sub");
      $("call-sub").hidden = tk.status === "serving";
      $("call-name").textContent = wn || "";
      $("call-name").hidden = !wn;
      call.setAttribute("data-kind", tk.status);
    }
    document.title = (tk.status === "called" ? "【" + t("call_main", { w: tk.window }) + "】" : tk.number + " · ") + t("subtitle");

    var waiting = tk.status === "waiting";
    $("facts").hidden = !waiting;
    if (waiting) {
      $("ahead").innerHTML = "";
      $("ahead").appendChild(numWithUnit(tk.ahead, "people_unit"));
      $("eta").innerHTML = "";
      $("eta").appendChild(waitWords(tk.eta_minutes, tk.eta_reason));
    }
    $("queue").textContent = (cat && queueName(tk.queue)) || tk.queue;
    $("services").textContent = serviceNames(tk);
    $("issued").textContent = hallTime(tk.issued_at);

    var note = "", canRejoin = renderRejoin(tk);
    if (tk.status === "done" && tk.outcome === "incomplete" && !tk.referral) note = t("note_incomplete");
    else if (tk.status === "no_show" && !canRejoin && !tk.rejoin_until) note = t("note_no_show");
    else if (tk.status === "cancelled") note = t("note_cancelled");
    else if (tk.status === "expired") note = t("note_expired");
    if (!key && (waiting || canRejoin || (tk.status === "done" && !rated))) note = note ? note + " " + t("key_hint") : t("key_hint");
    $("note").textContent = note;
    $("note").hidden = !note;

    $("actions").hidden = !waiting || !key;
    $("foot").hidden = !ACTIVE[tk.status];
    $("cancel").disabled = busy;
    $("rate").hidden = !(tk.status === "done" && !rated && key);
    $("rate-thanks").hidden = !(tk.status === "done" && rated);
    renderSteps(tk);
    renderRating();
    if (window.HallqEscalation) window.HallqEscalation.render(tk);
    if (window.HallqReferral) window.HallqReferral.render(tk);
    if (window.HallqCheckin) window.HallqCheckin.render(tk, API, key);
    if (window.HallqEnterpriseLine) window.HallqEnterpriseLine.render(tk);
  }

  /* ---------- a missed number rejoins ---------- */

  // Shows the rejoin card of a missed number; true while the button may be pressed. The
  // deadline is read on the phone's clock; the daemon has the last word (rejoin_expired).
  function renderRejoin(tk) {
    var until = tk.status === "no_show" && tk.rejoin_until ? Date.parse(tk.rejoin_until) : NaN;
    clearTimeout(rejoinTimer);
    $("rejoin").hidden = isNaN(until);
    document.body.removeAttribute("data-rejoin");
    if (isNaN(until)) return false;
    var open = !rejoinRefused && Date.now() < until;
    if (open) rejoinTimer = setTimeout(render, Math.min(until - Date.now() + 50, 2147483647));
    $("rejoin-text").textContent = t(open ? "rejoin_text" : "rejoin_expired", { t: hallTime(tk.rejoin_until) });
    $("rejoin").setAttribute("data-open", open ? "yes" : "no");
    document.body.setAttribute("data-rejoin", open ? "yes" : "no");
    $("rejoin-btn").hidden = !open || !key;
    $("rejoin-btn").disabled = busy;
    $("rejoin-btn").firstChild.textContent = t(busy ? "rejoining" : "rejoin");
    return open;
  }

  function rejoin() {
    if (busy || !ticket) return;
    busy = true;
    message("");
    render();
    fetch(visitorPath("rejoin"), {
      method: "POST",
      headers: { "Idempotency-Key": "rejoin-" + Date.now().toString(36) + Math.random().toString(36).slice(2) }
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      var code = res.body && res.body.error && res.body.error.code;
      if (res.status === 200) { update(res.body); message(t("rejoined")); }
      else if (code === "rejoin_expired") rejoinRefused = true;
      else if (code === "not_missed") refresh();
      else message(t("err_rejoin"));
    }, function () {
      message(t("err_network"));
    }).then(function () {
      busy = false;
      render();
    });
  }

  /* ---------- a bundle's steps ---------- */

  function stepItems(step) {
    if (!cat) return (step.services || []).join("、");
    var byCode = {};
    cat.items.forEach(function (it) { byCode[it.code] = it.name; });
    return (step.services || []).map(function (c) { return byCode[c] || c; }).join("、");
  }

  function stepQueue(step) { return step.queue + " " + ((cat && queueName(step.queue)) || ""); }

  function renderSteps(tk) {
    var steps = tk.steps || [];
    $("steps").hidden = steps.length < 2;
    if (steps.length < 2) return;
    $("steps-title").textContent = t("steps_h", { n: steps.length });
    var list = $("step-list");
    list.innerHTML = "";
    steps.forEach(function (step, i) {
      var li = document.createElement("li");
      li.className = "st-step";
      li.setAttribute("data-state", step.state);
      var mark = document.createElement("span");
      mark.className = "st-step-mark";
      mark.textContent = step.state === "done" ? "✓" : String(i + 1);
      var body = document.createElement("div");
      body.className = "st-step-body";
      var head = document.createElement("div");
      head.className = "st-step-q";
      head.textContent = stepQueue(step);
      var tag = document.createElement("span");
      tag.className = "st-step-tag";
      tag.textContent = t("step_" + step.state) + (step.window ? " · " + t("step_at", { w: step.window }) : "");
      head.appendChild(tag);
      var items = document.createElement("div");
      items.className = "st-step-items";
      items.textContent = stepItems(step);
      body.appendChild(head);
      body.appendChild(items);
      li.appendChild(mark);
      li.appendChild(body);
      list.appendChild(li);
    });
    var next = "", cur = steps[tk.step], after = steps[tk.step + 1];
    if (tk.status === "done" && steps.every(function (s) { return s.state === "done"; })) next = t("next_all_done", { n: steps.length });
    else if (tk.status === "waiting" && cur) next = t("next_wait", { q: stepQueue(cur) });
    else if (ACTIVE[tk.status] && after) next = t("next_after", { q: stepQueue(after) });
    $("steps-next").textContent = next;
    $("steps-next").hidden = !next;
  }

  // The expected wait in the words every page uses (HallqI18n.wait), its figures large.
  function waitWords(minutes, reason) {
    var f = document.createDocumentFragment();
    var text = I18N.wait ? I18N.wait(minutes, reason)
      : reason === "no_open_window" ? t("no_window") : minutes == null ? "—" : minutes + " " + t("min_unit");
    text.split(/(\d+)/).forEach(function (part, i) {
      if (!part) return;
      if (i % 2) {
        var b = document.createElement("b");
        b.textContent = part;
        f.appendChild(b);
      } else {
        f.appendChild(document.createTextNode(part));
      }
    });
    return f;
  }

  function numWithUnit(n, unitKey) {
    var f = document.createDocumentFragment();
    var b = document.createElement("b");
    b.textContent = n == null ? "—" : t("people", { n: n });
    f.appendChild(b);
    var u = t(unitKey);
    if (n != null && u) {
      var s = document.createElement("small");
      s.textContent = u;
      f.appendChild(s);
    }
    return f;
  }

  function queueName(q) {
    for (var i = 0; i < cat.queues.length; i++) if (cat.queues[i].id === q) return cat.queues[i].name;
    return null;
  }

  function serviceNames(tk) {
    if (!cat) return (tk.services || []).join("、");
    if (tk.bundle) {
      for (var i = 0; i < cat.bundles.length; i++) if (cat.bundles[i].id === tk.bundle) return cat.bundles[i].name;
    }
    var byCode = {};
    cat.items.forEach(function (it) { byCode[it.code] = it.name; });
    return (tk.services || []).map(function (c) { return byCode[c] || c; }).join("、");
  }

  /* ---------- faces for the five levels (drawn, no emoji font needed) ---------- */

  function faceSvg(s) {
    var curve = { 5: 9, 4: 5, 3: 0, 2: -5, 1: -9 }[s];
    var y = 31 - curve / 2;
    return '<svg viewBox="0 0 48 48" width="40" height="40" aria-hidden="true">' +
      '<circle cx="24" cy="24" r="21" fill="currentColor" opacity="0.14"/>' +
      '<circle cx="24" cy="24" r="21" fill="none" stroke="currentColor" stroke-width="2.5"/>' +
      '<circle cx="17" cy="19" r="2.6" fill="currentColor"/><circle cx="31" cy="19" r="2.6" fill="currentColor"/>' +
      '<path d="M15 ' + y + " Q24 " + (y + curve) + " 33 " + y + '" fill="none" stroke="currentColor" stroke-width="2.8" stroke-linecap="round"/></svg>';
  }

  /* ---------- rating ---------- */

  function renderRating() {
    var opts = document.querySelectorAll(".st-score");
    for (var i = 0; i < opts.length; i++) {
      var on = String(score) === opts[i].getAttribute("data-score");
      opts[i].classList.toggle("is-on", on);
      opts[i].setAttribute("aria-checked", on ? "true" : "false");
    }
    var bad = score != null && score <= 2;
    $("reason-codes").hidden = !bad;
    $("reason-req").hidden = !(bad && reasonCode && reasonCode.text_required);
    var chips = document.querySelectorAll("#reason-codes .st-reason-code");
    for (var j = 0; j < chips.length; j++) {
      var picked = !!reasonCode && chips[j].getAttribute("data-code") === reasonCode.code;
      chips[j].classList.toggle("is-on", picked);
      chips[j].setAttribute("aria-checked", picked ? "true" : "false");
    }
    $("rate-submit").disabled = busy || score == null;
  }

  /** The hall's reasons for a bad rating (from the catalogue), as chips to pick one of. */
  function drawReasonCodes() {
    var box = $("reason-codes");
    box.textContent = "";
    var reasons = (cat && cat.rating && cat.rating.reasons) || [];
    reasons.forEach(function (r) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "st-reason-code";
      b.setAttribute("role", "radio");
      b.setAttribute("data-code", r.code);
      b.textContent = r.name;
      b.addEventListener("click", function () {
        reasonCode = r;
        rateError("");
        renderRating();
      });
      box.appendChild(b);
    });
  }

  function rateError(text) {
    $("rate-error").textContent = text || "";
    $("rate-error").hidden = !text;
  }

  function submitRating() {
    if (busy || rated || !ticket) return;
    if (score == null) { rateError(t("err_score")); return; }
    var reason = $("reason").value.trim();
    // A bad rating needs one of the hall's reasons, and a few words for one such as 其他.
    if (score <= 2 && (!reasonCode || (reasonCode.text_required && !reason))) {
      rateError(t("err_reason"));
      if (reasonCode) {
        $("reason").classList.add("is-bad");
        $("reason").focus();
      }
      return;
    }
    rateError("");
    busy = true;
    renderRating();
    var body = { score: score };
    if (reason) body.comment = reason;
    if (score <= 2 && reasonCode) body.reason = reasonCode.code;
    fetch(visitorPath("rating"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": "rate-" + Date.now().toString(36) + Math.random().toString(36).slice(2) },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      var code = res.body && res.body.error && res.body.error.code;
      if (res.status === 200) { rated = true; update(res.body); }
      else if (code === "reason_required") rateError(t("err_reason"));
      else if (res.status === 409) { rated = true; refresh(); }
      else rateError(t("err_rate"));
    }, function () {
      rateError(t("err_network"));
    }).then(function () {
      busy = false;
      render();
    });
  }

  /* ---------- cancel ---------- */

  function message(text) {
    $("msg").textContent = text || "";
    $("msg").hidden = !text;
  }

  function cancelTicket() {
    $("confirm").hidden = true;
    if (busy) return;
    busy = true;
    render();
    fetch(visitorPath("cancel"), { method: "POST" }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if (res.status === 200) update(res.body);
      else { message(t("err_cancel")); refresh(); }
    }, function () {
      message(t("err_network"));
    }).then(function () {
      busy = false;
      render();
    });
  }

  /* ---------- start ---------- */

  function init() {
    I18N.init(DICT);
    I18N.onChange(function () {
      render();
      if (window.HallqRemind) window.HallqRemind.render();
      if (window.HallqMaterials) window.HallqMaterials.render();
    });
    var faces = document.querySelectorAll(".st-score");
    for (var i = 0; i < faces.length; i++) {
      faces[i].setAttribute("role", "radio");
      faces[i].querySelector(".st-face").innerHTML = faceSvg(faces[i].getAttribute("data-score"));
      faces[i].addEventListener("click", function (e) {
        score = Number(e.currentTarget.getAttribute("data-score"));
        rateError("");
        $("reason").classList.remove("is-bad");
        renderRating();
      });
    }
    $("reason").addEventListener("input", function () {
      $("reason").classList.remove("is-bad");
      if ($("reason").value.trim()) rateError("");
    });
    $("rate-submit").addEventListener("click", submitRating);
    $("cancel").addEventListener("click", function () { message(""); $("confirm").hidden = false; });
    $("confirm-no").addEventListener("click", function () { $("confirm").hidden = true; });
    $("confirm-yes").addEventListener("click", cancelTicket);
    $("rejoin-btn").addEventListener("click", rejoin);

    if (!id) { showMissing(); return; }
    fetch(API + "/services").then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
      if (!c) return;
      cat = c;
      $("hall-name").textContent = c.hall.name;
      if (window.HallqRemind) window.HallqRemind.catalog(c);
      if (window.HallqMaterials) window.HallqMaterials.catalog(c);
      drawReasonCodes();
      render();
    }, function () { /* names fall back to codes */ });
    refresh();
    if (window.HallqFeed && !HALL) {
      new window.HallqFeed({
        onMessage: function (m) {
          if (m.type === "snapshot") {
            (m.windows || []).forEach(function (w) { windowNames[w.id] = w.name; windowStates[w.id] = w.state; });
            if (m.hall && m.hall.name) $("hall-name").textContent = m.hall.name;
          } else if (m.type === "window" && m.window) {
            windowNames[m.window.id] = m.window.name;
          }
          if (relevant(m)) refresh();
        },
        onState: function (s) { setOffline(s !== "live"); if (s === "live") refresh(); }
      }).start();
    }
    setInterval(function () { if (!ticket || ACTIVE[ticket.status]) refresh(); }, HALL ? DISTRICT_POLL_MS : POLL_MS);
  }

  init();
})();
