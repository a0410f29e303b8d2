/* hallq — kiosk-checkin.js: the kiosk's check-in panel (签到取票), beside kiosk.js.
 *
 * 预约签到: an on-screen keypad for the 8-character booking code (the code's own alphabet,
 * without 0/O/1/I/L; a hardware keyboard types into it too, case-insensitive), then
 * POST /api/v1/appointments/{code}/check-in. 线上取号签到: the kiosk's barcode scanner types
 * the phone's QR code (a status URL …/t/{id}) and Enter into a field; the 32-hex id in it
 * goes to POST /api/v1/tickets/{id}/check-in. Either way the answer is shown and printed by
 * kiosk.js's own ticket view, with a line saying how it came. One request at a time, one
 * Idempotency-Key per intent (kept on a network error, so a retry gets the same ticket).
 * Nothing typed outlives the kiosk's return to its home screen.
 */
(function () {
  "use strict";

  var K = window.HallqKiosk, I18N = window.HallqI18n, t = I18N.t;
  if (!K) return;
  // The alphabet of booking codes (src/http/appointments.rs) and their length.
  var ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
  var CODE_CHARS = 8;
  // A scanned or typed status URL longer than this is not one of ours.
  var SCAN_CHARS_MAX = 300;

  K.addText({
    zh: {
      ci_entry: "预约签到 · 线上取号签到", ci_entry_sub: "已在网上预约或用手机取号？请在此签到取票", ci_title: "签到取票",
      ci_code_h: "预约签到", ci_code_hint: "请输入 8 位预约码（字母不区分大小写）", ci_submit: "签到",
      ci_scan_h: "线上取号签到", ci_scan_hint: "打开手机上的号票页面，将二维码对准扫码口；也可输入号票链接。",
      ci_scan_ph: "扫描二维码或输入号票链接", ci_back: "删除", ci_clear: "清空",
      kind_appt: "预约号 · 预约时段 {slot} 起优先叫号",
      kind_late: "已超过预约时段，按普通号排队", kind_remote: "线上取号 · 已签到，按原取号时间排队",
      ce_unknown_code: "没有找到这个预约码，请核对后重新输入。", ce_closed: "这个预约已签到、已取消或已过期，无法再次签到。",
      ce_not_today: "这个预约不是今天的，请在预约当天前来签到。", ce_no_appts: "本大厅暂不提供预约服务，请直接取号。",
      ce_unknown_ticket: "没有找到这张号票，请核对手机上的二维码。", ce_checked: "这张号票已经签到过了，请留意大厅叫号。",
      ce_not_waiting: "这张号票已不在等候中（已叫号、已办结或已取消）。", ce_no_id: "没有识别到号票，请扫描手机号票页面上的二维码。",
      ce_other: "签到没有成功，请再试一次，或联系工作人员。"
    },
    en: {
      ci_entry: "Check in: booking or online ticket", ci_entry_sub: "Booked online or took a number on your phone? Check in here",
      ci_title: "Check in", ci_code_h: "Booking check-in", ci_code_hint: "Enter your 8-character booking code (any case)",
      ci_submit: "Check in", ci_scan_h: "Online ticket check-in",
      ci_scan_hint: "Open the ticket page on your phone and hold its QR code to the scanner, or type the ticket link.",
      ci_scan_ph: "Scan the QR code or type the ticket link", ci_back: "Delete", ci_clear: "Clear",
      kind_appt: "Appointment ticket · called first from {slot}",
      kind_late: "Past your booking time: an ordinary ticket", kind_remote: "Online ticket · checked in, keeps its place",
      ce_unknown_code: "No booking has this code. Please check it and try again.",
      ce_closed: "This booking has already been checked in, cancelled or has expired.",
      ce_not_today: "This booking is not for today. Please check in on the day of your booking.",
      ce_no_appts: "This hall takes no bookings. Please take a number.",
      ce_unknown_ticket: "No such ticket. Please check the QR code on your phone.",
      ce_checked: "This ticket has already checked in. Please watch for your number.",
      ce_not_waiting: "This ticket is no longer waiting (called, finished or cancelled).",
      ce_no_id: "No ticket found in what was scanned. Please scan the QR code on your phone's ticket page.",
      ce_other: "The check-in did not work. Please try again or ask our staff."
    }
  });
  I18N.apply();

  var code = "";
  var intent = null;     // {target, key}: the idempotency key of the check-in being tried
  var inFlight = false;

  function $(id) { return document.getElementById(id); }

  function open() {
    reset();
    K.show("checkin");
    $("ci-scan").focus();   // a scanner types into whatever has the focus
  }

  function reset() {
    code = "";
    intent = null;
    $("ci-scan").value = "";
    renderCode();
  }

  /* ---------- the booking code ---------- */

  function buildKeypad() {
    var pad = $("ci-keypad");
    ALPHABET.split("").forEach(function (ch) { pad.appendChild(key(ch, ch, "")); });
    pad.appendChild(key("back", "⌫", "ci-key-action", "ci_back"));
    pad.appendChild(key("clear", t("ci_clear"), "ci-key-action ci-key-wide", "ci_clear", true));
    pad.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep the scan field's focus
    pad.addEventListener("click", function (e) {
      var k = e.target.closest("[data-key]");
      if (k) press(k.getAttribute("data-key"));
    });
  }

  function key(k, label, cls, i18n, asText) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "ci-key " + cls;
    b.textContent = label;
    b.setAttribute("data-key", k);
    if (i18n) b.setAttribute(asText ? "data-i18n" : "data-i18n-aria-label", i18n);
    if (i18n && !asText) b.setAttribute("aria-label", t(i18n));
    return b;
  }

  function press(k) {
    if (k === "back") code = code.slice(0, -1);
    else if (k === "clear") code = "";
    else if (ALPHABET.indexOf(k) >= 0 && code.length < CODE_CHARS) code += k;
    renderCode();
  }

  function renderCode() {
    var box = $("ci-code");
    box.textContent = "";
    for (var i = 0; i < CODE_CHARS; i++) {
      var c = document.createElement("span");
      c.className = "ci-char" + (i === code.length ? " is-next" : "");
      c.textContent = code.charAt(i);
      box.appendChild(c);
    }
    box.setAttribute("data-code", code);
    $("ci-code-submit").disabled = inFlight || code.length !== CODE_CHARS;
  }

  // The scanner types like a keyboard: whatever had the focus, its keys go to the scan field.
  function onKey() {
    if (!$("view-checkin").hidden && document.activeElement !== $("ci-scan") && $("error-box").hidden) $("ci-scan").focus();
  }

  function submitCode() {
    if (code.length === CODE_CHARS) send("code", code);
  }

  /* ---------- a remote ticket's QR code ---------- */

  // The ticket id in a scanned status URL (…/t/{id}) or typed on its own.
  function idOf(text) {
    text = String(text || "").trim().slice(0, SCAN_CHARS_MAX);
    var m = /\/t\/([0-9a-f]{32})(?![0-9a-f])/i.exec(text) || /(?:^|[^0-9a-f])([0-9a-f]{32})(?![0-9a-f])/i.exec(text);
    return m ? m[1].toLowerCase() : null;
  }

  function submitScan(e) {
    if (e) e.preventDefault();
    var text = $("ci-scan").value, id = idOf(text), asCode = text.trim().toUpperCase();
    $("ci-scan").value = "";   // the next scan starts afresh
    var k = /[?&]k=([0-9a-f]{32})(?![0-9a-f])/i.exec(text);
    if (id) send("ticket", id, k ? k[1].toLowerCase() : null);
    else if (asCode.length === CODE_CHARS && asCode.split("").every(function (c) { return ALPHABET.indexOf(c) >= 0; })) {
      send("code", asCode);   // a booking code typed or scanned into the field
    } else if (text.trim()) {
      K.showError(t("ce_no_id"));
    }
  }

  /* ---------- check in ---------- */

  // send(kind, what, visitorKey): visitorKey is the key a scanned status URL carried (k=),
  // so that the kiosk shows the same QR code the phone has; without it, no QR code.
  function send(kind, what, visitorKey) {
    if (inFlight) return;
    if (!K.token) { K.showError(t("err_unauth")); return; }
    var target = kind + ":" + what;
    if (!intent || intent.target !== target) intent = { target: target, key: K.randomKey() };
    var path = kind === "code" ? "/api/v1/appointments/" + encodeURIComponent(what) + "/check-in"
      : "/api/v1/tickets/" + what + "/check-in";
    busy(true);
    fetch(path, {
      method: "POST",
      headers: { "Authorization": "Bearer " + K.token, "Idempotency-Key": intent.key }
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        intent = null;
        if (kind !== "code" && visitorKey) res.body.key = visitorKey;
        return kind === "code" ? showBooked(what, res.body) : K.showTicket(res.body, { key: "kind_remote" });
      }
      if (res.status !== 429 && res.status < 500) intent = null;   // refused for good: a new try is a new intent
      K.showError(errorText(res.status, res.body));
    }, function () {
      K.showError(t("err_network"));   // the key is kept: a retry returns the same ticket
    }).then(function () {
      busy(false);
    });
  }

  // Shows a checked-in booking's ticket with a line from the booking: on time (queue Y,
  // called first from its slot) or late (an ordinary ticket of its service's queue).
  function showBooked(bookingCode, tk) {
    return fetch("/api/v1/appointments/" + encodeURIComponent(bookingCode)).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (a) {
      if (a && a.status === "late") return { key: "kind_late" };
      if (a && a.slot) return { key: "kind_appt", vars: { slot: a.slot } };
      return null;   // the ticket is good; only the line about it is missing
    }, function () {
      return null;
    }).then(function (note) {
      K.showTicket(tk, note);
    });
  }

  function busy(on) {
    inFlight = on;
    K.busy(on);
    $("ci-scan-submit").disabled = on;
    renderCode();
  }

  function errorText(status, body) {
    var c = body && body.error && body.error.code;
    var known = {
      unknown_appointment: "ce_unknown_code", appointment_closed: "ce_closed", not_today: "ce_not_today",
      no_appointments: "ce_no_appts", unknown_ticket: "ce_unknown_ticket", bad_id: "ce_unknown_ticket",
      already_checked_in: "ce_checked", not_waiting: "ce_not_waiting"
    };
    if (known[c]) return t(known[c]);
    if (status === 400 || status === 404 || status === 409) return t("ce_other");
    return K.errorText(status, body);
  }

  buildKeypad();
  renderCode();
  $("checkin-open").addEventListener("click", open);
  $("ci-code-submit").addEventListener("click", submitCode);
  $("ci-scan-form").addEventListener("submit", submitScan);
  document.addEventListener("keydown", onKey);
  K.onHome(reset);
})();
