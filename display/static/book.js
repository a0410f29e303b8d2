/* hallq — book.js: the booking page (/display/book), phone first.
 *
 * 1 a service from /api/v1/services (search by name or pinyin initials), 2 a day (the
 * hall's today, from /api/v1/hall, and the six after it), 3 a slot from
 * /api/v1/appointments/slots (full and past ones disabled; a day the slots call `closed`, a rest
 * day or public holiday, is never offered: each day waits until its answer says it is
 * worked, and the first one worked is picked), 4 a mainland mobile number
 * (kept by the daemon only as a keyed hash; this page shows it nowhere else). Submit:
 * POST /api/v1/appointments with one Idempotency-Key per intent; the code is then shown in
 * large type with its day and slot, and the address becomes ?code=… so a reload or a
 * bookmark finds it again. A booking can be cancelled from there.
 *
 * At the district (issue 18) the same page books for any of its halls: ?hall=<id> in the
 * address sends every call to /api/v1/halls/<id>/… instead of /api/v1/…, and the district
 * passes it on to that hall (a hall that does not answer: 503 hall_unreachable).
 */
(function () {
  "use strict";

  var DAYS_SHOWN = 7;          // today and the six days after it
  var SERVICES_SHOWN_MAX = 40; // rows in the service list before "refine the search"
  var DICT = {
    zh: {
      subtitle: "网上预约", service_h: "选择办理事项", change: "更换", search_ph: "输入事项名称或拼音首字母，如 gtgsh",
      day_h: "选择日期", slot_h: "选择时段", phone_h: "手机号码", phone_ph: "11 位手机号码",
      privacy: "手机号只以单向加密（哈希）的形式保存，仅用于核对每人每天只预约一次；不会显示在任何屏幕上，也无法从中还原出号码。",
      submit: "提交预约", submitting: "正在提交…", code_label: "预约码", f_service: "事项", f_time: "时间",
      how: "预约当天请到大厅自助取号机，点「预约签到」并输入预约码取号。请在预约时段开始前到达；迟到超过规定时间将按普通号排队。请截图或记下预约码。",
      confirm_q: "确定取消这个预约吗？取消后时段将让给他人。", confirm_no: "不取消", confirm_yes: "确定取消", cancel: "取消预约",
      again: "再约一个", notfound: "没有找到这个预约", notfound_hint: "请核对预约码是否完整，或重新预约。",
      more_n: "还有 {n} 个事项，请输入关键词缩小范围", none: "没有找到相关事项，请换个关键词", bundle: "一件事",
      today: "今天", tomorrow: "明天", week: "周日 周一 周二 周三 周四 周五 周六", free_n: "余 {n}", full: "已约满", past: "已过",
      no_slots: "这一天没有可预约的时段", loading: "正在查询…", rest: "休息",
      no_slots_closed: "这一天大厅不办公（休息日或法定节假日），请选择其他日期",
      st_booked: "预约成功", st_checked_in: "已签到取号", st_late: "已签到（迟到，按普通号排队）", st_cancelled: "预约已取消",
      st_missed: "预约已过期（未签到）",
      ent_h: "企业专属服务（可选）", ent_ph: "18 位统一社会信用代码", f_window: "窗口", window_n: "{n} 号窗口（专属服务专员）",
      ent_hint: "本中心服务企业填写后，预约到您的专属服务专员窗口。代码不保存、不显示。",
      e_credit: "没有识别到有效的统一社会信用代码，请核对", e_ent_unknown: "本中心未登记此统一社会信用代码；可不填代码直接预约",
      e_ent_window: "专属服务专员的窗口不办理此事项；可不填代码直接预约",
      e_service: "请先选择办理事项", e_slot: "请选择一个时段", e_phone: "请填写 11 位手机号码，如 13800138000",
      e_bad_slot: "这个时段不可预约，请重新选择", e_bad_day: "这一天不可预约，请选择其他日期",
      e_slot_full: "这个时段刚刚约满了，请选择其他时段", e_slot_past: "这个时段已经过了，请选择其他时段",
      e_already: "这个手机号当天已有预约，每人每天只能预约一次。如需改约，请先取消原预约。",
      e_day_closed: "这一天大厅不办公（休息日或法定节假日），请选择其他日期",
      e_phone_limit: "这个手机号已有的预约达到上限，请先取消一个或办理完再约",
      e_address_limit: "您所在网络的预约已达上限，请取消一个预约，或换用手机流量预约",
      e_unknown_service: "这个事项不能预约，请选择其他事项", e_no_appts: "本大厅暂不提供网上预约",
      e_closed: "这个预约已签到、已取消或已过期，无法取消", e_busy: "系统繁忙，请稍后再试", e_maint: "系统维护中，请稍后再试",
      e_network: "网络连接失败，请检查网络后再试", e_other: "没有成功，请再试一次",
      e_unreachable: "该中心暂时无法连接，请稍后再试"
    },
    en: {
      subtitle: "Book an appointment", service_h: "Choose a service", change: "Change",
      search_ph: "Service name or pinyin initials, e.g. gtgsh", day_h: "Choose a day", slot_h: "Choose a time",
      phone_h: "Mobile number", phone_ph: "11-digit mobile number",
      privacy: "Your number is stored only as a one-way hash, to allow one booking per person per day. It is never shown on any screen and cannot be recovered from the hash.",
      submit: "Book", submitting: "Booking…", code_label: "Booking code", f_service: "Service", f_time: "Time",
      how: "On the day, tap \u201cCheck in\u201d at a ticket kiosk in the hall and enter this code. Please arrive before your time; if you are too late you will get an ordinary ticket. Take a screenshot or write the code down.",
      confirm_q: "Cancel this booking? Its place goes to someone else.", confirm_no: "Keep it", confirm_yes: "Cancel booking",
      cancel: "Cancel booking", again: "Book another", notfound: "No such booking",
      notfound_hint: "Please check the code, or book again.", more_n: "{n} more services: type to narrow the list",
      none: "Nothing found. Try another word.", bundle: "Bundle", today: "Today", tomorrow: "Tomorrow",
      week: "Sun Mon Tue Wed Thu Fri Sat", free_n: "{n} left", full: "Full", past: "Past",
      no_slots: "No times can be booked on this day", loading: "Loading…", rest: "Closed",
      no_slots_closed: "The hall is closed that day (a rest day or public holiday). Please choose another day.",
      st_booked: "Booked", st_checked_in: "Checked in", st_late: "Checked in late (ordinary ticket)",
      st_cancelled: "Booking cancelled", st_missed: "Expired (not checked in)",
      ent_h: "Enterprise specialist (optional)", ent_ph: "18-character unified social credit code", f_window: "Window",
      window_n: "Window {n} (your specialist)",
      ent_hint: "Enterprises we serve book their specialist's window. The code is neither kept nor shown.",
      e_credit: "No valid credit code found; please check it", e_ent_unknown: "This code is not registered here; book without it",
      e_ent_window: "Your specialist's window does not handle this service; book without the code",
      e_service: "Please choose a service first", e_slot: "Please choose a time",
      e_phone: "Please give an 11-digit mobile number, e.g. 13800138000",
      e_bad_slot: "This time cannot be booked. Please choose another.", e_bad_day: "This day cannot be booked. Please choose another.",
      e_slot_full: "This time has just filled up. Please choose another.", e_slot_past: "This time has passed. Please choose another.",
      e_already: "This number already has a booking that day: one per person per day. Cancel it first to change it.",
      e_day_closed: "The hall is closed that day (a rest day or public holiday). Please choose another day.",
      e_phone_limit: "This number already holds as many bookings as allowed. Cancel one, or book again after one has passed.",
      e_address_limit: "Your network already holds as many bookings as allowed. Cancel one, or book over mobile data.",
      e_unknown_service: "This service cannot be booked. Please choose another.", e_no_appts: "This hall takes no bookings online.",
      e_closed: "This booking was checked in, cancelled or has expired, so it cannot be cancelled.",
      e_busy: "The system is busy. Please try again shortly.", e_maint: "Under maintenance. Please try again later.",
      e_network: "No connection. Please check your network and try again.", e_other: "That did not work. Please try again.",
      e_unreachable: "This centre cannot be reached just now. Please try again shortly."
    }
  };
  var ERRORS = {
    bad_phone: "e_phone", bad_slot: "e_bad_slot", bad_day: "e_bad_day", slot_full: "e_slot_full", slot_past: "e_slot_past",
    already_booked: "e_already", unknown_service: "e_unknown_service", no_appointments: "e_no_appts",
    appointment_closed: "e_closed", day_closed: "e_day_closed", phone_limit: "e_phone_limit",
    address_limit: "e_address_limit", bad_credit_code: "e_credit", unknown_enterprise: "e_ent_unknown",
    no_specialist_window: "e_ent_window", window_not_serving: "e_ent_window", hall_unreachable: "e_unreachable"
  };
  // The hall this page books for at the district (?hall=), or none at the hall's own address.
  var HALL = new URLSearchParams(location.search).get("hall");
  var API_BASE = HALL ? "/api/v1/halls/" + encodeURIComponent(HALL) : "/api/v1";
  var HALL_QUERY = HALL ? "hall=" + encodeURIComponent(HALL) : "";
  var I18N = window.HallqI18n, t = I18N.t;

  var services = [];      // {code, name, initials, meta, bundle}
  var chosen = null;      // a service code
  var today = null;       // "YYYY-MM-DD", the hall's service day
  var day = null;
  var slots = null;       // [{slot, free}] of `day`, null while loading
  var closed = {};        // "YYYY-MM-DD" → true for the shown days the hall does not work
  var open = {};          // "YYYY-MM-DD" → true for the shown days it works (asked, answered)
  var slot = null;
  var intent = null;      // {what, key}: the idempotency key of the booking being tried
  var inFlight = false;
  var booking = null;     // the booking shown, as the daemon answered it

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function randomKey() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function api(method, path, body, key) {
    var headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (key) headers["Idempotency-Key"] = key;
    return fetch(API_BASE + path.replace(/^\/api\/v1/, ""), { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, cache: "no-store" })
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
      });
  }
  function errorText(res) {
    var code = res && res.body && res.body.error && res.body.error.code;
    if (ERRORS[code]) return t(ERRORS[code]);
    if (res && res.status === 429) return t("e_busy");
    if (res && res.status === 503) return t("e_maint");
    return t("e_other");
  }

  /* ---------- days: plain dates, computed in UTC so no time zone shifts them ---------- */

  function addDays(d, n) {
    var p = d.split("-").map(Number), x = new Date(Date.UTC(p[0], p[1] - 1, p[2] + n));
    return x.toISOString().slice(0, 10);
  }
  function weekday(d) {
    var p = d.split("-").map(Number);
    return t("week").split(" ")[new Date(Date.UTC(p[0], p[1] - 1, p[2])).getUTCDay()];
  }
  function dayLabel(d) {
    var p = d.split("-").map(Number);
    return p[1] + "/" + p[2] + " " + weekday(d);
  }
  function localToday() {
    var n = new Date(Date.now());
    return n.getFullYear() + "-" + ("0" + (n.getMonth() + 1)).slice(-2) + "-" + ("0" + n.getDate()).slice(-2);
  }
  // Whether a slot of the hall's today has begun, by this device's clock.
  function begun(d, s) {
    if (d !== today || d !== localToday()) return false;
    var n = new Date(Date.now());
    return ("0" + n.getHours()).slice(-2) + ":" + ("0" + n.getMinutes()).slice(-2) >= s;
  }

  /* ---------- 1 the service ---------- */

  function score(s, q) {
    var name = s.name, ini = s.initials;
    if (name.indexOf(q) === 0 || ini.indexOf(q) === 0) return 0;
    if (name.indexOf(q) >= 0 || ini.indexOf(q) >= 0) return 1;
    return s.code.toLowerCase().indexOf(q) >= 0 ? 2 : -1;
  }

  function renderServices() {
    var picked = services.filter(function (s) { return s.code === chosen; })[0];
    $("chosen").hidden = !picked;
    $("picker").hidden = !!picked;
    if (picked) { $("chosen-name").textContent = picked.name; return; }
    var q = $("search").value.trim().toLowerCase().replace(/\s+/g, "");
    var found = [];
    services.forEach(function (s) { var sc = q ? score(s, q) : 0; if (sc >= 0) found.push([sc, s]); });
    found.sort(function (a, b) { return a[0] - b[0]; });
    var box = $("services");
    box.textContent = "";
    found.slice(0, SERVICES_SHOWN_MAX).forEach(function (f) {
      var s = f[1], b = el("button", "bk-svc");
      b.type = "button";
      b.setAttribute("data-code", s.code);
      b.setAttribute("role", "option");
      var name = el("span", "bk-svc-name", s.name);
      if (s.bundle) name.appendChild(el("span", "bk-tag", t("bundle")));
      b.appendChild(name);
      if (s.meta) b.appendChild(el("span", "bk-svc-meta", s.meta));
      b.addEventListener("click", function () { chosen = s.code; intent = null; hideError(); renderServices(); });
      box.appendChild(b);
    });
    var more = found.length - SERVICES_SHOWN_MAX;
    $("services-more").textContent = !found.length ? t("none") : more > 0 ? t("more_n", { n: more }) : "";
  }

  function loadServices() {
    return api("GET", "/api/v1/services").then(function (res) {
      if (res.status !== 200 || !res.body) throw new Error("catalogue " + res.status);
      var c = res.body;
      $("hall-name").textContent = c.hall.name;
      services = c.items.map(function (i) {
        return { code: i.code, name: i.name, initials: (i.initials || "").toLowerCase(), meta: i.department || "", bundle: false };
      }).concat(c.bundles.map(function (b) {
        return { code: b.id, name: b.name, initials: (b.initials || "").toLowerCase(), meta: "", bundle: true };
      }));
      renderServices();
    });
  }

  /* ---------- 2 the day, 3 the slot ---------- */

  function renderDays() {
    var box = $("days");
    box.textContent = "";
    if (!today) return;
    for (var i = 0; i < DAYS_SHOWN; i++) {
      var d = addDays(today, i), b = el("button", "bk-day" + (d === day ? " is-on" : ""));
      b.type = "button";
      b.setAttribute("data-day", d);
      b.setAttribute("aria-pressed", String(d === day));
      // Only a day the daemon said it works can be picked: a day not yet asked about
      // waits ("…"), so a rest day is never offered, not even for a moment.
      b.disabled = open[d] !== true;
      b.appendChild(el("span", "bk-day-top", i === 0 ? t("today") : i === 1 ? t("tomorrow") : weekday(d)));
      b.appendChild(el("span", "bk-day-date", closed[d] ? t("rest") : open[d] ? dayLabel(d).split(" ")[0] : "…"));
      b.addEventListener("click", pickDay.bind(null, d));
      box.appendChild(b);
    }
  }

  // Asks once for each shown day whether the hall works it (the hall calendar: rest days,
  // public holidays, make-up working days), so that closed days are never offered (7
  // light requests, well within the per-address limit); then picks the first day open.
  function markClosedDays() {
    var left = DAYS_SHOWN;
    for (var i = 0; i < DAYS_SHOWN; i++) {
      (function (d) {
        api("GET", "/api/v1/appointments/slots?day=" + encodeURIComponent(d)).then(function (res) {
          if (res.status === 200 && res.body && res.body.closed) closed[d] = true;
          // Not answered: offered, and a booking there is still refused with day_closed.
          else open[d] = true;
        }, function () { open[d] = true; }).then(function () {
          renderDays();
          if (--left === 0) pickFirstOpen();
        });
      })(addDays(today, i));
    }
  }

  function pickFirstOpen() {
    if (day && open[day]) return;
    for (var i = 0; i < DAYS_SHOWN; i++) {
      if (open[addDays(today, i)]) { pickDay(addDays(today, i)); return; }
    }
    slots = [];
    renderSlots();
  }

  function pickDay(d) {
    if (!open[d]) return;
    day = d;
    slot = null;
    intent = null;
    renderDays();
    loadSlots();
  }

  function loadSlots() {
    var asked = day;
    slots = null;
    renderSlots();
    api("GET", "/api/v1/appointments/slots?day=" + encodeURIComponent(asked)).then(function (res) {
      if (asked !== day) return;
      if (res.status !== 200) { showError(errorText(res)); slots = []; }
      else if (res.body.closed) { closed[asked] = true; open[asked] = false; slots = []; renderDays(); }
      else slots = res.body.slots || [];
      renderSlots();
    }, function () {
      if (asked === day) { slots = []; showError(t("e_network")); renderSlots(); }
    });
  }

  function renderSlots() {
    var box = $("slots"), note = $("slots-note");
    box.textContent = "";
    note.hidden = slots !== null && slots.some(function (s) { return s.free > 0; });
    note.textContent = slots === null ? t("loading") : closed[day] ? t("no_slots_closed") : t("no_slots");
    (slots || []).forEach(function (s) {
      var open = s.free > 0, on = open && s.slot === slot;
      var b = el("button", "bk-slot" + (on ? " is-on" : ""));
      b.type = "button";
      b.disabled = !open;
      b.setAttribute("data-slot", s.slot);
      b.setAttribute("aria-pressed", String(on));
      b.appendChild(el("span", "bk-slot-time", s.slot));
      b.appendChild(el("span", "bk-slot-free", open ? t("free_n", { n: s.free }) : begun(day, s.slot) ? t("past") : t("full")));
      b.addEventListener("click", function () { slot = s.slot; intent = null; hideError(); renderSlots(); });
      box.appendChild(b);
    });
    if (slot && !(slots || []).some(function (s) { return s.slot === slot && s.free > 0; }) && slots !== null) slot = null;
  }

  /* ---------- 4 the phone, submit ---------- */

  // The number as the daemon reads it: 11 digits from 1, with spaces, dashes and +86 allowed.
  function phoneOf(text) {
    var d = String(text).replace(/[\s-]/g, "").replace(/^\+86/, "");
    return /^1\d{10}$/.test(d) ? d : null;
  }

  function submit(e) {
    e.preventDefault();
    if (inFlight) return;
    var phone = phoneOf($("phone").value);
    if (!chosen) return showError(t("e_service"));
    if (!slot) return showError(t("e_slot"));
    if (!phone) return showError(t("e_phone"));
    var credit = $("credit-code").value.trim();
    var what = [chosen, day, slot, phone, credit].join("|");
    if (!intent || intent.what !== what) intent = { what: what, key: randomKey() };
    setBusy(true);
    hideError();
    var body = { service: chosen, day: day, slot: slot, phone: phone };
    if (credit) body.credit_code = credit;
    api("POST", "/api/v1/appointments", body, intent.key).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        intent = null;
        $("phone").value = "";
        $("credit-code").value = "";
        showBooking(res.body);
        return;
      }
      intent = res.status === 429 || res.status >= 500 ? intent : null;
      showError(errorText(res));
      if (res.body && res.body.error && /^slot_/.test(res.body.error.code)) loadSlots();
    }, function () {
      showError(t("e_network"));   // the key is kept: a retry books once
    }).then(function () { setBusy(false); });
  }

  function setBusy(on) {
    inFlight = on;
    $("submit").disabled = on;
    $("submit").firstChild.textContent = t(on ? "submitting" : "submit");
  }
  function showError(text) { $("error").textContent = text; $("error").hidden = false; }
  function hideError() { $("error").hidden = true; }

  /* ---------- the booking ---------- */

  function showBooking(b) {
    booking = b;
    var query = "code=" + encodeURIComponent(b.code) + (HALL_QUERY ? "&" + HALL_QUERY : "");
    history.replaceState(null, "", "/display/book?" + query);
    $("form").hidden = true;
    $("notfound").hidden = true;
    $("done").hidden = false;
    renderBooking();
    window.scrollTo(0, 0);
  }

  function renderBooking() {
    var b = booking;
    if (!b) return;
    $("done").setAttribute("data-status", b.status);
    $("done-title").textContent = t("st_" + b.status);
    $("code").textContent = b.code.slice(0, 4) + " " + b.code.slice(4);
    $("code").setAttribute("data-code", b.code);
    $("done-service").textContent = b.service_name || b.service;
    var wd = I18N.lang() === "en" ? " (" + weekday(b.day) + ") " : "（" + weekday(b.day) + "） ";
    $("done-time").textContent = b.day + wd + b.slot;
    $("done-window-row").hidden = !b.window;
    $("done-window").textContent = b.window ? t("window_n", { n: b.window }) : "";
    document.querySelector(".bk-ok").textContent = b.status === "cancelled" || b.status === "missed" ? "×" : "✓";
    $("cancel").hidden = b.status !== "booked";
    $("done-how").hidden = b.status !== "booked";
  }

  function cancelBooking() {
    if (inFlight || !booking) return;
    var key = randomKey();
    inFlight = true;
    $("confirm-yes").disabled = true;
    api("POST", "/api/v1/appointments/" + encodeURIComponent(booking.code) + "/cancel", null, key).then(function (res) {
      if (res.status === 200) { booking = res.body; $("cancel-error").hidden = true; }
      else { $("cancel-error").textContent = errorText(res); $("cancel-error").hidden = false; }
    }, function () {
      $("cancel-error").textContent = t("e_network");
      $("cancel-error").hidden = false;
    }).then(function () {
      inFlight = false;
      $("confirm-yes").disabled = false;
      $("confirm").hidden = true;
      renderBooking();
    });
  }

  function loadBooking(code) {
    $("form").hidden = true;
    api("GET", "/api/v1/appointments/" + encodeURIComponent(code)).then(function (res) {
      if (res.status === 200) showBooking(res.body);
      else $("notfound").hidden = false;
    }, function () {
      $("notfound").hidden = false;
    });
  }

  /* ---------- wiring ---------- */

  function init() {
    I18N.init(DICT);
    I18N.onChange(function () {
      renderServices(); renderDays(); renderSlots(); renderBooking();
      $("submit").firstChild.textContent = t(inFlight ? "submitting" : "submit");
    });
    $("form").addEventListener("submit", submit);
    $("search").addEventListener("input", renderServices);
    $("chosen-change").addEventListener("click", function () { chosen = null; intent = null; renderServices(); $("search").focus(); });
    $("cancel").addEventListener("click", function () { $("confirm").hidden = false; });
    $("confirm-no").addEventListener("click", function () { $("confirm").hidden = true; });
    $("confirm-yes").addEventListener("click", cancelBooking);
    $("phone").addEventListener("input", function () { intent = null; });
    var code = new URLSearchParams(location.search).get("code");
    if (HALL_QUERY) {
      Array.prototype.forEach.call(document.querySelectorAll("a[href='/display/book']"), function (a) {
        a.setAttribute("href", "/display/book?" + HALL_QUERY);
      });
    }
    loadServices().catch(function () { showError(t("e_network")); });
    if (code) { loadBooking(code.trim().toUpperCase()); return; }
    api("GET", "/api/v1/hall").then(function (res) {
      return res.status === 200 && res.body && res.body.day ? res.body.day : localToday();
    }, localToday).then(function (d) {
      today = d;
      renderDays();
      markClosedDays();
    });
  }

  init();
})();
