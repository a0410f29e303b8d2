/* hallq — rate.js: the evaluator tablet at one window (/display/rate?window=5&token=…).
 *
 * Idle until the window finishes a service: every `window` message of its window that
 * shows it without a ticket (and the first snapshot) makes it ask the daemon, with its
 * device token, GET /api/v1/windows/{w}/rateable — the ticket just finished there, not
 * yet rated, or null. Then it asks: five big faces (5 非常满意 … 1 非常不满意); a good
 * rating is sent at once; a bad one asks for a reason from the hall's list (and, for a
 * reason marked text-required such as 其他, a few words), then sends. Thanks for a few
 * seconds, then idle. Without a choice within the hall's ask_s it goes idle and does not
 * ask about that ticket again. The ticket's number is shown so that the visitor knows it
 * is their service; nothing personal is. The feed's messages carry no secrets: the
 * ticket's id comes only from the token-guarded endpoint.
 *
 * One rating per service, whichever device gets it first: the feed's `rated` message of
 * this window (a rating given on the visitor's phone) ends the ask at once, with a line
 * saying the service was rated already; a rating the daemon refuses (409: rated already,
 * or no longer rateable) is never thanked for: the tablet says it was not recorded.
 */
(function () {
  "use strict";

  var THANKS_MS = 4000;
  var FALLBACK_POLL_MS = 30000;
  var LEVEL_COLOURS = { 5: "#14804a", 4: "#4c9a2a", 3: "#d99a00", 2: "#e8590c", 1: "#c0262d" };

  var I18N = {
    zh: {
      idle_h: "政务服务“好差评”", idle_p: "业务办结后，请在此对本窗口的服务进行评价",
      ask_h: "请对本次服务进行评价", ticket: "号码", reason_h: "请告诉我们哪里做得不好",
      reason_sub: "请选择一项原因", comment: "补充说明（选填）", comment_required: "请简要说明（必填）",
      back: "返回", submit: "提交评价", thanks_h: "感谢您的评价", thanks_p: "您的意见将帮助我们改进服务",
      thanks_bad: "我们会尽快核实并改进，感谢您的监督", setup_h: "评价器无法使用",
      no_params: "地址中缺少窗口号或评价器令牌：/display/rate?window=窗口号&token=令牌",
      bad_token: "评价器令牌无效或不属于本窗口，请联系管理员。",
      err_reason: "请选择一项原因。", err_text: "选择“{name}”时请简要说明。",
      err_send: "评价没有提交成功，请再试一次。", window_n: "{n}号窗口",
      l5: "非常满意", l4: "满意", l3: "基本满意", l2: "不满意", l1: "非常不满意",
      rated_h: "这次服务已经评价过了", rated_elsewhere: "号码 {n} 已在手机上完成评价，无需再评。感谢您的参与。",
      refused_h: "这次评价没有记录", refused_rated: "号码 {n} 的服务已有评价（例如已在手机上评价），每次服务只记录一次评价。",
      refused_other: "号码 {n} 的服务目前不能评价，这次选择没有记录。如有意见，请联系大厅工作人员。",
    },
    en: {
      idle_h: "Rate our service", idle_p: "When your business is done, please rate this window here",
      ask_h: "How was our service?", ticket: "Number", reason_h: "Please tell us what went wrong",
      reason_sub: "Choose one reason", comment: "More details (optional)", comment_required: "Please explain (required)",
      back: "Back", submit: "Submit", thanks_h: "Thank you", thanks_p: "Your rating helps us improve",
      thanks_bad: "We will look into it and improve. Thank you.", setup_h: "Evaluator not set up",
      no_params: "The address needs a window and a token: /display/rate?window=N&token=TOKEN",
      bad_token: "This evaluator's token is wrong or not for this window; ask an administrator.",
      err_reason: "Please choose a reason.", err_text: "Please say a few words for \"{name}\".",
      err_send: "Your rating could not be sent; please try again.", window_n: "Window {n}",
      l5: "Very satisfied", l4: "Satisfied", l3: "Fair", l2: "Dissatisfied", l1: "Very dissatisfied",
      rated_h: "This service is already rated", rated_elsewhere: "Number {n} was rated on the visitor's phone; no need to rate again. Thank you.",
      refused_h: "This rating was not recorded", refused_rated: "The service of number {n} already has a rating (on the phone, say); each service is rated once.",
      refused_other: "The service of number {n} cannot be rated now, so this choice was not recorded. Please tell our staff instead.",
    },
  };

  var I = window.HallqI18n;
  var t = I.t;
  var $ = function (id) { return document.getElementById(id); };

  var params = new URLSearchParams(window.location.search);
  var windowId = (params.get("window") || "").trim();
  var token = (params.get("token") || "").trim();

  var rating = { reasons: [], ask_s: 60, reason_below: 3, comment_chars_max: 500 };
  var ticket = null;        // the ticket being asked about
  var score = null;         // the level chosen (a bad one waits for its reason)
  var reason = null;
  var dismissed = {};       // ids asked about and timed out, rated or refused: never again
  var busy = false;
  var checking = false;
  var recheck = false;
  var askTimer = null;
  var askDeadline = 0;
  var backTimer = null;

  function show(state) {
    $("stage").dataset.state = state;
    ["idle", "ask", "reason", "thanks", "rated", "error"].forEach(function (s) {
      $("panel-" + s).hidden = s !== state;
    });
    $("timer").hidden = state !== "ask" && state !== "reason";
  }

  function setupError(text) {
    stopTimer();
    $("setup-error").textContent = text;
    show("error");
  }

  /** The daemon's API with this evaluator's device token (staff.js: a POST carries a fresh
   * Idempotency-Key; a refusal rejects with its status). */
  function api(method, path, body) { return window.HallqStaff.api(token, method, path, body); }

  /* ---------- the ask's time limit ---------- */

  function stopTimer() {
    if (askTimer) clearInterval(askTimer);
    askTimer = null;
  }

  function startTimer() {
    stopTimer();
    askDeadline = Date.now() + rating.ask_s * 1000;
    tickTimer();
    askTimer = setInterval(tickTimer, 250);
  }

  /** Any touch gives the visitor the full time again. */
  function touch() {
    if (askTimer) askDeadline = Date.now() + rating.ask_s * 1000;
  }

  function tickTimer() {
    var left = Math.max(0, askDeadline - Date.now());
    $("timer-bar").style.width = (100 * left / (rating.ask_s * 1000)) + "%";
    if (left <= 0) {
      if (ticket) dismissed[ticket.id] = true;
      idle();
    }
  }

  /* ---------- states ---------- */

  function idle() {
    stopTimer();
    if (backTimer) clearTimeout(backTimer);
    backTimer = null;
    ticket = null;
    score = null;
    reason = null;
    busy = false;
    show("idle");
  }

  function ask(tk) {
    ticket = tk;
    score = null;
    reason = null;
    $("ask-number").textContent = tk.number;
    $("ask-services").textContent = "";
    drawLevels();
    show("ask");
    startTimer();
  }

  function face(s) {
    var k = (s - 3) * 9;
    var eyes = s <= 2
      ? '<path d="M30 38 l10 4 M70 38 l-10 4" stroke="#fff" stroke-width="5" stroke-linecap="round"/>'
      : "";
    return '<svg viewBox="0 0 100 100" aria-hidden="true"><circle cx="50" cy="50" r="46" fill="' + LEVEL_COLOURS[s] + '"/>' +
      eyes + '<circle cx="35" cy="45" r="6" fill="#fff"/><circle cx="65" cy="45" r="6" fill="#fff"/>' +
      '<path d="M30 68 Q50 ' + (68 + k) + ' 70 68" fill="none" stroke="#fff" stroke-width="6" stroke-linecap="round"/></svg>';
  }

  function drawLevels() {
    var box = $("levels");
    box.textContent = "";
    [5, 4, 3, 2, 1].forEach(function (s) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "rt-level";
      b.dataset.score = String(s);
      b.style.setProperty("--level", LEVEL_COLOURS[s]);
      b.innerHTML = face(s) + '<span class="rt-level-name"></span>';
      b.querySelector(".rt-level-name").textContent = t("l" + s);
      b.addEventListener("click", function () { choose(s); });
      box.appendChild(b);
    });
  }

  function choose(s) {
    if (busy || !ticket) return;
    touch();
    score = s;
    if (s < rating.reason_below) {
      askReason();
    } else {
      send();
    }
  }

  function askReason() {
    reason = null;
    $("reason-level").textContent = t("l" + score);
    $("reason-level").style.color = LEVEL_COLOURS[score];
    $("comment").value = "";
    $("comment").maxLength = rating.comment_chars_max;
    countComment();
    reasonError("");
    drawReasons();
    show("reason");
  }

  function drawReasons() {
    var box = $("reasons");
    box.textContent = "";
    rating.reasons.forEach(function (r) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "rt-reason";
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", "false");
      b.dataset.code = r.code;
      b.textContent = r.name;
      b.addEventListener("click", function () {
        touch();
        reason = r;
        var all = box.querySelectorAll(".rt-reason");
        for (var i = 0; i < all.length; i++) all[i].setAttribute("aria-checked", String(all[i] === b));
        $("comment-label").textContent = t(r.text_required ? "comment_required" : "comment");
        reasonError("");
      });
      box.appendChild(b);
    });
    $("comment-label").textContent = t("comment");
  }

  function countComment() {
    $("comment-count").textContent = $("comment").value.length + "/" + rating.comment_chars_max;
  }

  function reasonError(text) {
    $("reason-error").textContent = text || "";
    $("reason-error").hidden = !text;
  }

  function submitReason() {
    if (busy) return;
    touch();
    if (!reason) { reasonError(t("err_reason")); return; }
    if (reason.text_required && !$("comment").value.trim()) {
      reasonError(t("err_text", { name: reason.name }));
      $("comment").focus();
      return;
    }
    send();
  }

  function send() {
    if (!ticket || score == null) return;
    busy = true;
    var body = { score: score };
    if (score < rating.reason_below && reason) body.reason = reason.code;
    var comment = score < rating.reason_below ? $("comment").value.trim() : "";
    if (comment) body.comment = comment;
    var id = ticket.id;
    api("POST", "/api/v1/tickets/" + encodeURIComponent(id) + "/rating", body)
      .then(function () { return 200; }, function (err) { return err; })
      .then(function (res) {
        busy = false;
        if (res === 200) {
          dismissed[id] = true;
          thanks(score < rating.reason_below);
        } else if (res.status === 409) {
          // Refused: rated already (on the visitor's phone) or no longer rateable. The
          // visitor's answer was not recorded, and the tablet says so.
          dismissed[id] = true;
          notRecorded(res.code === "already_rated" ? "refused_rated" : "refused_other", true);
        } else if (res.status === 400 && $("stage").dataset.state === "reason") {
          reasonError(res.message || t("err_send"));
        } else if (res.status === 404) {
          dismissed[id] = true;
          idle();
        } else {
          if ($("stage").dataset.state === "reason") reasonError(t("err_send"));
        }
      });
  }

  function thanks(bad) {
    stopTimer();
    ticket = null;
    $("thanks-p").textContent = t(bad ? "thanks_bad" : "thanks_p");
    show("thanks");
    backTimer = setTimeout(function () { idle(); check(); }, THANKS_MS);
  }

  /** The ask ends without thanks: `key` says why (rated on the phone, or refused);
   * `refused` titles it "not recorded". Idle again after a few seconds. */
  function notRecorded(key, refused) {
    stopTimer();
    var number = ticket ? ticket.number : "";
    ticket = null;
    $("rated-h").textContent = t(refused ? "refused_h" : "rated_h");
    $("rated-p").textContent = t(key, { n: number });
    show("rated");
    if (backTimer) clearTimeout(backTimer);
    backTimer = setTimeout(function () { idle(); check(); }, THANKS_MS);
  }

  /* ---------- asking the daemon ---------- */

  function check() {
    if (checking) { recheck = true; return; }
    var state = $("stage").dataset.state;
    if (state === "error" || state === "reason" || state === "thanks" || state === "rated" || busy) return;
    checking = true;
    api("GET", "/api/v1/windows/" + encodeURIComponent(windowId) + "/rateable")
      .then(function (body) { return { status: 200, body: body || {} }; }, function (err) { return err; })
      .then(function (res) {
        if (res.status === 401 || res.status === 403 || res.status === 404) { setupError(t("bad_token")); return; }
        if (res.status !== 200) return;
        var tk = res.body.ticket;
        var now = $("stage").dataset.state;
        if (tk && !dismissed[tk.id] && (!ticket || ticket.id !== tk.id) && now !== "reason" && now !== "thanks"
            && now !== "rated") {
          ask(tk);
        } else if (!tk && now === "ask") {
          // Rated elsewhere (the visitor's phone) or no longer rateable.
          idle();
        }
      })
      .catch(function () { /* the next feed message or poll tries again */ })
      .then(function () {
        checking = false;
        if (recheck) { recheck = false; check(); }
      });
  }

  function onMessage(msg) {
    if (msg.type === "snapshot") {
      var w = (msg.windows || []).filter(function (x) { return x.id === windowId; })[0];
      if (!w) { setupError(t("bad_token")); return; }
      $("window-name").textContent = w.name || t("window_n", { n: windowId });
      if (msg.hall && msg.hall.name) $("hall-name").textContent = msg.hall.name;
      check();
    } else if (msg.type === "window" && msg.window && msg.window.id === windowId) {
      // The window let its ticket go (done, no-show, transfer, park): ask which, if any,
      // may be rated. Only `done` gives one.
      if (!msg.window.ticket) check();
    } else if (msg.type === "rated" && msg.window === windowId) {
      // Rated elsewhere (the visitor's phone): stop asking at once. While the tablet's own
      // rating is on its way, its answer says what happened instead.
      var state = $("stage").dataset.state;
      if (ticket && ticket.number === msg.number && !busy && (state === "ask" || state === "reason")) {
        dismissed[ticket.id] = true;
        notRecorded("rated_elsewhere", false);
      }
    }
  }

  function onState(state) {
    $("conn-state").dataset.state = state;
  }

  function start() {
    I.init(I18N);
    I.onChange(function () {
      var state = $("stage").dataset.state;
      if (state === "ask") drawLevels();
      if (state === "reason") { $("reason-level").textContent = t("l" + score); }
    });
    $("reason-back").addEventListener("click", function () { touch(); show("ask"); });
    $("reason-submit").addEventListener("click", submitReason);
    $("comment").addEventListener("input", function () { touch(); countComment(); });
    document.addEventListener("pointerdown", touch, true);
    if (!windowId || !token) { setupError(t("no_params")); return; }
    $("window-badge").textContent = windowId;
    $("window-name").textContent = t("window_n", { n: windowId });
    idle();
    fetch("/api/v1/services")
      .then(function (r) { return r.json(); })
      .then(function (cat) {
        if (cat.rating) rating = cat.rating;
        if (cat.hall && cat.hall.name) $("hall-name").textContent = cat.hall.name;
      })
      .catch(function () { /* the defaults above hold */ })
      .then(function () {
        new window.HallqFeed({ onMessage: onMessage, onState: onState }).start();
        setInterval(function () { if ($("stage").dataset.state === "idle") check(); }, FALLBACK_POLL_MS);
      });
  }

  start();
})();
