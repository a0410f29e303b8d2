/* hallq — take.js: online take-a-number at the district (/display/take?hall=<id>).
 *
 * The services come from /api/v1/halls/<id>/services (search by name or pinyin initials);
 * 取号 sends POST /api/v1/halls/<id>/tickets {"service"} with one Idempotency-Key per
 * chosen service, so a retry after "该中心暂时无法连接" or a lost answer gets the same
 * ticket, never a second; the page then opens the ticket's status page (its status_url, at
 * the district, with the visitor's key). Without ?hall= it only says where to open it.
 */
(function () {
  "use strict";

  var SHOWN_MAX = 40;
  var DICT = {
    zh: {
      subtitle: "线上取号", service_h: "选择办理事项", change: "更换", search_ph: "输入事项名称或拼音首字母",
      how: "取号后请留意排队进度；到达大厅后请在自助取号机扫码签到，按取号时间排队。", take: "取号", taking: "正在取号…",
      more_n: "还有 {n} 个事项，请输入关键词缩小范围", none: "没有找到相关事项，请换个关键词",
      e_service: "请先选择办理事项", e_no_hall: "请从区县网上服务大厅选择服务中心后打开本页",
      e_unreachable: "该中心暂时无法连接，请稍后再试", e_no_online: "该中心暂不提供线上取号",
      e_check_in: "这个事项需预约后到场签到，请使用网上预约", e_closed: "该中心现在不办公，请在办公时间取号",
      e_unknown: "这个事项不能取号，请选择其他事项", e_busy: "系统繁忙，请稍后再试",
      e_network: "网络连接失败，请检查网络后再试", e_other: "没有成功，请再试一次"
    },
    en: {
      subtitle: "Take a number online", service_h: "Choose a service", change: "Change",
      search_ph: "Service name or pinyin initials",
      how: "Follow the line on your phone; on arrival, scan your code at a kiosk in the hall to check in. You keep your place.",
      take: "Take a number", taking: "Taking…",
      more_n: "{n} more services: type to narrow the list", none: "Nothing found. Try another word.",
      e_service: "Please choose a service first", e_no_hall: "Open this page from the district's online services, for a centre.",
      e_unreachable: "This centre cannot be reached just now. Please try again shortly.",
      e_no_online: "This centre takes no numbers online.", e_check_in: "This service needs a booking: please book online.",
      e_closed: "The centre is closed now. Please take a number in its opening hours.",
      e_unknown: "This service cannot be taken. Please choose another.", e_busy: "The system is busy. Please try again shortly.",
      e_network: "No connection. Please check your network and try again.", e_other: "That did not work. Please try again."
    }
  };
  var ERRORS = {
    hall_unreachable: "e_unreachable", no_online_channel: "e_no_online", check_in_required: "e_check_in",
    hall_closed: "e_closed", unknown_service: "e_unknown", rate_limited: "e_busy", hall_busy: "e_busy"
  };
  var I18N = window.HallqI18n, t = I18N.t;
  var HALL = new URLSearchParams(location.search).get("hall");
  var API = "/api/v1/halls/" + encodeURIComponent(HALL || "");

  var services = [];   // {code, name, initials, meta}
  var chosen = null;
  var key = null;      // the idempotency key of the number being taken for `chosen`
  var busy = false;

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
  function showError(text) { $("error").textContent = text; $("error").hidden = !text; }
  function errorText(status, body) {
    var code = body && body.error && body.error.code;
    if (ERRORS[code]) return t(ERRORS[code]);
    return status === 503 ? t("e_unreachable") : t("e_other");
  }

  function score(s, q) {
    if (s.name.indexOf(q) === 0 || s.initials.indexOf(q) === 0) return 0;
    if (s.name.indexOf(q) >= 0 || s.initials.indexOf(q) >= 0) return 1;
    return s.code.toLowerCase().indexOf(q) >= 0 ? 2 : -1;
  }

  function render() {
    var picked = services.filter(function (s) { return s.code === chosen; })[0];
    $("chosen").hidden = !picked;
    $("picker").hidden = !!picked;
    $("take").disabled = busy;
    $("take").firstChild.textContent = t(busy ? "taking" : "take");
    if (picked) { $("chosen-name").textContent = picked.name; return; }
    var q = $("search").value.trim().toLowerCase().replace(/\s+/g, "");
    var found = [];
    services.forEach(function (s) { var sc = q ? score(s, q) : 0; if (sc >= 0) found.push([sc, s]); });
    found.sort(function (a, b) { return a[0] - b[0]; });
    var box = $("services");
    box.textContent = "";
    found.slice(0, SHOWN_MAX).forEach(function (f) {
      var s = f[1], b = el("button", "bk-svc");
      b.type = "button";
      b.setAttribute("data-code", s.code);
      b.setAttribute("role", "option");
      b.appendChild(el("span", "bk-svc-name", s.name));
      if (s.meta) b.appendChild(el("span", "bk-svc-meta", s.meta));
      b.addEventListener("click", function () { chosen = s.code; key = null; showError(""); render(); });
      box.appendChild(b);
    });
    var more = found.length - SHOWN_MAX;
    $("services-more").textContent = !found.length ? t("none") : more > 0 ? t("more_n", { n: more }) : "";
  }

  function load() {
    fetch(API + "/services", { cache: "no-store" }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if (res.status !== 200 || !res.body) { showError(errorText(res.status, res.body)); return; }
      $("hall-name").textContent = res.body.hall.name;
      services = res.body.items.map(function (i) {
        return { code: i.code, name: i.name, initials: (i.initials || "").toLowerCase(), meta: i.department || "" };
      });
      render();
    }, function () { showError(t("e_network")); });
  }

  function take() {
    if (busy) return;
    if (!chosen) { showError(t("e_service")); return; }
    key = key || randomKey();
    busy = true;
    render();
    fetch(API + "/tickets", {
      method: "POST", cache: "no-store",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ service: chosen })
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if ((res.status === 201 || res.status === 200) && res.body && res.body.status_url) {
        location.href = res.body.status_url;
        return;
      }
      showError(errorText(res.status, res.body));
    }, function () { showError(t("e_network")); }).then(function () { busy = false; render(); });
  }

  function init() {
    I18N.init(DICT);
    I18N.onChange(render);
    $("search").addEventListener("input", render);
    $("chosen-change").addEventListener("click", function () { chosen = null; key = null; render(); $("search").focus(); });
    $("take").addEventListener("click", take);
    if (!HALL) { $("take").disabled = true; showError(t("e_no_hall")); return; }
    load();
  }

  init();
})();
