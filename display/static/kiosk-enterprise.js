/* hallq — kiosk-enterprise.js: 助企服务 at the kiosk, beside kiosk.js.
 *
 * On an item of the enterprise queue (the catalogue's `enterprises.queue`) a second
 * button asks for the enterprise's unified social credit code: typed, or a business
 * licence's QR code scanned (the scanner types a URL holding the code, then Enter). The
 * whole text goes to POST /api/v1/enterprise-tickets, which finds the 18-character code
 * in it; the kiosk shows the ticket with the daemon's line (the specialist's window, or
 * the enterprise queue) and never the enterprise's name, which it is not told. An
 * unregistered code gets a plain answer and the ordinary ticket one tap away. The code
 * is cleared from the field as soon as it is sent; nothing of it outlives the request.
 */
(function () {
  "use strict";

  var K = window.HallqKiosk, I18N = window.HallqI18n, t = I18N.t;
  if (!K) return;
  var queue = null;      // the enterprise queue, once the catalogue says
  var key = null;        // the Idempotency-Key of the ticket being tried
  var inFlight = false;

  K.addText({
    zh: {
      ent_open: "企业专属服务 · 刷营业执照取号", ent_title: "企业专属服务",
      ent_hint: "请将营业执照上的二维码对准扫码口，或输入 18 位统一社会信用代码。",
      ent_ph: "统一社会信用代码", ent_submit: "取号", ent_plain: "不用代码，取普通企业服务号",
      ent_privacy: "代码仅用于识别本中心服务企业，不会显示或保存。",
      ent_personal: "已识别为本中心服务企业 · 您的专属服务专员在 {w} 号窗口",
      ent_queue: "已识别为本中心服务企业 · 专员暂不在窗口，请到企业服务区等候",
      ee_unknown: "本中心未登记此统一社会信用代码。您可以取普通企业服务号。",
      ee_bad: "没有识别到有效的统一社会信用代码，请核对后重新输入或扫描。",
      ee_busy: "尝试次数过多，请稍候再试，或取普通企业服务号。"
    },
    en: {
      ent_open: "Enterprise service · scan your business licence", ent_title: "Enterprise service",
      ent_hint: "Hold the QR code of your business licence to the scanner, or type the 18-character credit code.",
      ent_ph: "Unified social credit code", ent_submit: "Take a number", ent_plain: "Take an ordinary enterprise ticket",
      ent_privacy: "The code only identifies enterprises we serve; it is neither shown nor kept.",
      ent_personal: "Registered enterprise · your specialist is at window {w}",
      ent_queue: "Registered enterprise · your specialist is away; please wait in the enterprise area",
      ee_unknown: "This code is not registered here. You can take an ordinary enterprise ticket.",
      ee_bad: "No valid credit code found. Please check it and type or scan it again.",
      ee_busy: "Too many tries. Please wait a moment, or take an ordinary enterprise ticket."
    }
  });
  I18N.apply();

  function $(id) { return document.getElementById(id); }

  function onItem() {
    var c = K.chosen();
    $("ent-open").hidden = !(queue && c && c.queue === queue);
  }

  function open() {
    key = null;
    $("ent-code").value = "";
    $("ent-item").textContent = $("item-title").textContent;
    K.show("enterprise");
    $("ent-code").focus();   // a scanner types into whatever has the focus
  }

  function submit(e) {
    if (e) e.preventDefault();
    var c = K.chosen(), text = $("ent-code").value.trim();
    $("ent-code").value = "";   // the code is not left on screen
    if (inFlight || !c || !text) return;
    if (!K.token) { K.showError(t("err_unauth")); return; }
    key = key || K.randomKey();
    busy(true);
    fetch("/api/v1/enterprise-tickets", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + K.token },
      body: JSON.stringify({ code: text, service: c.code, idempotency_key: key })
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        key = null;
        var line = res.body.enterprise || {};
        var note = line.line === "personal" ? { key: "ent_personal", vars: { w: line.window } } : { key: "ent_queue" };
        return K.showTicket(res.body, note);
      }
      if (res.status !== 429 && res.status < 500) key = null;
      K.showError(errorText(res.status, res.body));
    }, function () {
      K.showError(t("err_network"));   // the key is kept: a retry returns the same ticket
    }).then(function () {
      busy(false);
    });
  }

  function errorText(status, body) {
    var code = body && body.error && body.error.code;
    if (code === "unknown_enterprise") return t("ee_unknown");
    if (code === "bad_credit_code") return t("ee_bad");
    if (status === 429) return t("ee_busy");
    return K.errorText(status, body);
  }

  function busy(on) {
    inFlight = on;
    K.busy(on);
    $("ent-submit").disabled = on;
  }

  fetch("/api/v1/services").then(function (r) { return r.ok ? r.json() : null; }).then(function (cat) {
    queue = cat && cat.enterprises ? cat.enterprises.queue : null;
    onItem();
  }, function () {});
  K.onItem(onItem);
  $("ent-open").addEventListener("click", open);
  $("ent-back").addEventListener("click", function () { K.show("item"); });
  $("ent-plain").addEventListener("click", function () { K.show("item"); $("take").click(); });
  $("ent-form").addEventListener("submit", submit);
})();
