/* hallq — kiosk-id.js: the ID card under the hall's per-person limits (issue 17 §4,
 * [hall.limits] tickets_per_person_per_day, no_shows_before_wait). When the catalogue says
 * limits.id_card, a field above 取号 takes the number an ID-card reader types (like a
 * scanner, then Enter); its GB 11643 check character is checked here first, and the
 * daemon checks it again and keeps only a keyed hash. The number is sent with the one
 * request and cleared at once after it, and when the kiosk goes home: nothing stores it.
 * The daemon's refusals (the day's tickets, the wait after missed calls) are said plainly,
 * with the time from when a new ticket can be taken.
 */
(function () {
  "use strict";

  var K = window.HallqKiosk, I18N = window.HallqI18n, t = I18N.t;
  if (!K) return;
  K.addText({
    zh: {
      id_label: "请刷身份证", id_ph: "刷身份证，或输入 18 位身份证号", id_bad: "身份证号码有误，请重新刷卡或核对后输入。",
      id_required: "本大厅实行每人每日取号限制，请先刷身份证再取号。",
      id_day_limit: "该身份证今天已取满 {n} 个号。如需办理其他事项，请到咨询台。",
      id_wait: "该身份证今天已过号 {n} 次，请于 {until} 后再取号。"
    },
    en: {
      id_label: "Scan your ID card", id_ph: "Place the ID card on the reader, or type the 18-character number",
      id_bad: "That ID number is not valid; scan the card again or check the number.",
      id_required: "This hall limits tickets per person: scan your ID card first.",
      id_day_limit: "This ID card has taken its {n} tickets today. Please ask at the information desk.",
      id_wait: "This ID card missed its call {n} time(s) today; you can take a new ticket from {until}."
    }
  });

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], CHECK = "10X98765432";
  function valid(s) {
    if (!/^\d{17}[\dX]$/.test(s)) return false;
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += Number(s[i]) * WEIGHTS[i];
    return CHECK[sum % 11] === s[17];
  }
  function limits() { var c = K.catalog(); return (c && c.limits) || {}; }
  function on() { return !!limits().id_card; }
  function fill(s, vars) { return s.replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; }); }

  // The field, above the take button.
  var box = document.createElement("label");
  box.className = "k-id";
  box.hidden = true;
  box.innerHTML = '<span class="k-id-label"></span><input id="id-card" autocomplete="off" spellcheck="false" maxlength="18" inputmode="text">';
  var input = box.querySelector("input");
  var bar = document.querySelector(".k-take-bar");
  if (bar) bar.insertBefore(box, document.getElementById("take"));
  function render() {
    box.hidden = !on();
    box.querySelector(".k-id-label").textContent = t("id_label");
    input.placeholder = t("id_ph");
  }
  function clear() { input.value = ""; }
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); document.getElementById("take").click(); }
  });

  K.onTake(function () {
    if (!on()) return null;
    var s = input.value.trim().toUpperCase();
    clear();
    if (!valid(s)) { K.showError(t(s ? "id_bad" : "id_required")); return false; }
    return s;
  });
  K.onTakeError(function (code, body) {
    // The refusal's own fields (`limit`; `no_shows`, `until` as HH:MM), never its English.
    var e = (body && body.error) || {};
    if (code === "id_card_required") return t("id_required");
    if (code === "bad_id_card") return t("id_bad");
    if (code === "person_daily_limit") {
      return fill(t("id_day_limit"), { n: e.limit || limits().tickets_per_person_per_day || "" });
    }
    if (code === "person_must_wait") return fill(t("id_wait"), { n: e.no_shows || "", until: e.until || "" });
    return null;
  });
  K.onHome(function () { clear(); render(); });
  // The catalogue arrives after this script runs.
  var tries = 0, wait = setInterval(function () {
    if (K.catalog() || ++tries > 120) { clearInterval(wait); render(); }
  }, 250);
  if (I18N.onChange) I18N.onChange(render);
})();
