/* hallq — kiosk-printer.js: the kiosk's ticket printer, beside kiosk.js.
 *
 * When the kiosk has a network printer (GET /api/v1/kiosk/printer with its token), the
 * daemon prints each ticket itself; this script tells the visitor what became of it. On
 * the ticket screen: "正在打印…", "请取走号票", or — when the printer is out of paper,
 * open or offline — a plain notice that the number on the screen is still valid and to
 * photograph or note it. On the home screen, a banner says so before anyone takes a
 * number. The print button becomes "重新打印": POST /api/v1/tickets/{id}/print, one
 * Idempotency-Key per press, one press at a time. Without a printer nothing changes (the
 * button prints the page, as kiosk.js does). It polls every 2 s while a ticket is shown
 * and every 15 s otherwise; a poll that fails changes nothing on screen.
 */
(function () {
  "use strict";

  var K = window.HallqKiosk, I18N = window.HallqI18n, t = I18N.t;
  if (!K || !K.token) return;
  var POLL_TICKET_MS = 2000, POLL_IDLE_MS = 15000;
  var FAULTS = { paper_out: "pr_paper_out", cover_open: "pr_cover_open", offline: "pr_offline" };

  K.addText({
    zh: {
      pr_printing: "正在打印号票…", pr_printed: "号票已打印，请在出票口取走。",
      pr_paper_out: "打印机缺纸，号票未能打印", pr_cover_open: "打印机舱盖未关好，号票未能打印",
      pr_offline: "打印机暂时无法使用，号票未能打印", pr_failed: "号票未能打印",
      pr_keep: "您的号码 {number} 仍然有效。请拍照或记下您的号码，也可扫描下方号票上的二维码，在手机上查看排队进度。",
      pr_banner: "{reason}：取号后请拍照或记下您的号码，号码照常有效。", pr_reprint: "重新打印",
      pr_b_paper_out: "打印机缺纸", pr_b_cover_open: "打印机舱盖未关好", pr_b_offline: "打印机暂时无法使用"
    },
    en: {
      pr_printing: "Printing your ticket…", pr_printed: "Your ticket is printed. Please take it from the slot.",
      pr_paper_out: "The printer is out of paper: no ticket was printed",
      pr_cover_open: "The printer's cover is open: no ticket was printed",
      pr_offline: "The printer is not available: no ticket was printed", pr_failed: "No ticket was printed",
      pr_keep: "Your number {number} is still valid. Please take a photo or note it down, or scan the QR code to follow your place on your phone.",
      pr_banner: "{reason}: after taking a number, please photograph or note it; it is valid as usual.",
      pr_reprint: "Print again", pr_b_paper_out: "The printer is out of paper",
      pr_b_cover_open: "The printer's cover is open", pr_b_offline: "The printer is not available"
    }
  });

  var printer = null;      // the last report; null: this kiosk has no printer (or not known yet)
  var shown = null;        // {tk, jobsAt: jobs counted when a reprint was sent, presses}
  var timer = null, inFlight = false;

  function el(tag, cls) { var e = document.createElement(tag); e.className = cls; return e; }
  var banner = el("div", "kp-banner");
  banner.id = "printer-banner";
  banner.hidden = true;
  banner.setAttribute("role", "status");
  var offline = document.getElementById("offline");
  offline.parentNode.insertBefore(banner, offline.nextSibling);
  var notice = el("div", "kp-notice");
  notice.id = "printer-notice";
  notice.hidden = true;
  notice.setAttribute("role", "status");
  notice.setAttribute("aria-live", "polite");
  var title = el("div", "kp-title"), body = el("div", "kp-body");
  notice.appendChild(title);
  notice.appendChild(body);
  var ok = document.querySelector("#view-ticket .k-ticket-ok");
  ok.parentNode.insertBefore(notice, ok.nextSibling);

  function jobs(p) { return (p.printed || 0) + (p.failed || 0); }

  // What became of the ticket on screen: "printing", "printed" or "failed".
  function outcome() {
    var tk = shown.tk, last = printer.last_job;
    if (shown.jobsAt != null) {
      if (jobs(printer) <= shown.jobsAt) return "printing";
      return last && last.ticket === tk.id ? (last.printed ? "printed" : "failed") : "printing";
    }
    if (last && last.ticket === tk.id) return last.printed ? "printed" : "failed";
    if (tk.print && tk.print.status === "not_queued") return "failed";
    if (tk.print && tk.print.status === "repeat") return FAULTS[printer.status] ? "failed" : "printed";
    return FAULTS[printer.status] ? "failed" : "printing";
  }

  function render() {
    var fault = printer && FAULTS[printer.status];
    banner.hidden = !fault;
    if (fault) banner.textContent = t("pr_banner", { reason: t("pr_b_" + printer.status) });
    var reprint = document.querySelector("#print [data-i18n]");
    if (printer && reprint) reprint.textContent = t("pr_reprint");
    if (!printer || !shown || K.view() !== "ticket") { notice.hidden = true; return; }
    var state = outcome();
    notice.hidden = false;
    notice.className = "kp-notice is-" + state;
    if (state === "failed") {
      title.textContent = t(fault || "pr_failed");
      body.textContent = t("pr_keep", { number: shown.tk.number });
      body.hidden = false;
    } else {
      title.textContent = t(state === "printed" ? "pr_printed" : "pr_printing");
      body.hidden = true;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, shown && K.view() === "ticket" ? POLL_TICKET_MS : POLL_IDLE_MS);
  }

  function poll() {
    fetch("/api/v1/kiosk/printer", { headers: { "Authorization": "Bearer " + K.token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        var had = !!printer;
        printer = j.printer || null;
        if (printer && !had) K.onPrint(reprint);
        render();
      }, function () { /* the network banner of kiosk.js says it */ })
      .then(schedule);
  }

  function reprint(tk) {
    if (!tk || inFlight || !printer) return;
    inFlight = true;
    shown.presses = (shown.presses || 0) + 1;
    var sentAt = jobs(printer);
    fetch("/api/v1/tickets/" + encodeURIComponent(tk.id) + "/print", {
      method: "POST",
      headers: { "Authorization": "Bearer " + K.token, "Idempotency-Key": "reprint-" + tk.id + "-" + shown.presses }
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      if (res.status === 200 && res.body && res.body.print && res.body.print.status === "queued") {
        shown.jobsAt = sentAt;
        render();
      } else if (res.body && res.body.error) {
        K.showError(res.body.error.code === "not_waiting" ? t("ce_not_waiting") : t("err_other"));
      }
    }, function () {
      K.showError(t("err_network"));
    }).then(function () {
      inFlight = false;
      poll();
    });
  }

  K.onTicket(function (tk) {
    shown = { tk: tk, jobsAt: null, presses: 0 };
    render();
    poll();
  });
  K.onHome(function () { shown = null; render(); schedule(); });
  I18N.onChange(render);
  poll();
})();
