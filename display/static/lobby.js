/* hallq — lobby.js: the lobby screen (/display/lobby).
 *
 * Follows the display feed (feed.js) and draws: the hall name and a clock; the current
 * call in very large type; every call of the last minutes; every window with the ticket
 * it holds; each queue's waiting count and expected wait. Every call-out is announced by
 * announcer.js (chime, then the daemon's espeak-ng audio or the browser's Mandarin voice;
 * chime and flash where neither plays; calls that queue up are said together, faster,
 * never let go). The big panel ("正在叫号") shows the call being said; when nothing is
 * being said, the newest call still waiting for its visitor (its window still calling
 * it); a call that is over (served, finished, no-show, transferred, cancelled) leaves it,
 * also after a reload, and the panel rests on "欢迎光临". With ?zone=ID only the calls of
 * that speaker zone's windows are said; &speaker=0 makes a screen flash each call without
 * a sound (a zone's screens but the one wired to its loudspeakers, so that the hall hears
 * one voice). Shows no personal data: the feed carries none. Only
 * reads, never writes.
 */
(function () {
  "use strict";

  // The recent list: every call of the last RECENT_MINUTES (at least the last RECENT_MIN
  // whatever their age), at most RECENT_MAX — as many as the feed's snapshot holds
  // (feed::RECENT_CALLS_MAX), and as many as fit the panel at a size read from 5 m.
  var RECENT_MAX = 30;
  var RECENT_MIN = 6;
  var RECENT_MINUTES = 5;
  var ETA_REFRESH_MS = 2000;
  // A window opening or closing changes which queues have a wait at all: sooner.
  var ETA_SOON_MS = 250;

  var DICT = {
    zh: {
      subtitle: "叫号信息显示屏",
      conn_live: "实时",
      conn_connecting: "正在连接",
      conn_reconnecting: "正在重新连接",
      reconnecting_long: "正在重新连接服务器，屏幕信息可能不是最新",
      now_calling: "正在叫号",
      recall: "重复呼叫",
      welcome: "欢迎光临",
      idle_hint: "请留意屏幕和语音叫号",
      recent_calls: "最近叫号",
      no_calls_yet: "今日尚无叫号",
      windows: "窗口状态",
      windows_count: "{n} 个窗口开放",
      no_windows_open: "暂无开放窗口",
      waiting: "排队等候",
      eta_note: "等候时间按现在取号估算",
      footer_note: "叫到号后请携带证件和材料前往对应窗口 · 过号或有疑问请咨询导办台",
      enable_sound: "点击启用语音播报",
      window_n: "{id}号窗口",
      window_short: "{id}号",
      call_text: "请 {number} 号到 {window} 号窗口办理",
      st_calling: "呼叫",
      st_serving: "办理中",
      st_open: "空闲",
      st_paused: "暂停服务",
      st_closed: "未开放",
      people: "人",
      eta_now: "现在取号",
      voice_speech: "语音播报",
      voice_audio: "语音播报",
      voice_chime: "提示音",
      voice_off: "仅提示音",
      voice_blocked: "声音未启用",
      voice_other_screen: "由本区广播屏播报",
      zone_label: "{name}",
      zone_unknown: "未知广播分区 {id}，不播报",
      weekdays: "星期日,星期一,星期二,星期三,星期四,星期五,星期六",
      title_suffix: "叫号大屏",
    },
    en: {
      subtitle: "Queue information display",
      conn_live: "Live",
      conn_connecting: "Connecting",
      conn_reconnecting: "Reconnecting",
      reconnecting_long: "Reconnecting to the server; the screen may not be up to date",
      now_calling: "Now calling",
      recall: "Repeat call",
      welcome: "Welcome",
      idle_hint: "Please watch the screen and listen for your number",
      recent_calls: "Recent calls",
      no_calls_yet: "No calls yet today",
      windows: "Windows",
      windows_count: "{n} open",
      no_windows_open: "No window open at the moment",
      waiting: "Waiting",
      eta_note: "Waits are for a ticket taken now",
      footer_note: "When your number is called, go to the window with your ID and documents · Missed your call? Ask at the help desk",
      enable_sound: "Click to enable sound",
      window_n: "Window {id}",
      window_short: "W{id}",
      call_text: "Number {number}, please go to window {window}",
      st_calling: "Calling",
      st_serving: "Serving",
      st_open: "Available",
      st_paused: "Paused",
      st_closed: "Closed",
      people: "waiting",
      eta_now: "Take a ticket now:",
      voice_speech: "Voice on",
      voice_audio: "Voice on",
      voice_chime: "Chime only",
      voice_off: "Chime only",
      voice_blocked: "Sound off",
      voice_other_screen: "Announced by this zone's speaker screen",
      zone_label: "{name}",
      zone_unknown: "Unknown speaker zone {id}: silent",
      weekdays: "Sun,Mon,Tue,Wed,Thu,Fri,Sat",
      title_suffix: "Lobby screen",
    },
  };

  var I = window.HallqI18n;
  var t = I.t;
  var $ = function (id) {
    return document.getElementById(id);
  };

  var model = {
    hallName: "",
    day: null,
    windows: [], // in the hall's order
    queues: [], // {id, name, waiting, eta_minutes}
    recent: [], // newest first: {number, window, at, seq, got (this page's clock)}
    saying: null, // the call message being said (announcer.js)
    windowSeq: {}, // window id -> the seq of the latest news of it
    skewMs: 0, // this page's clock less the daemon's, learnt from live calls
    offsetMin: null, // the hall's UTC offset, read from the times the daemon sends
  };

  /* ---------- small helpers ---------- */

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // "2026-03-10T10:02:11+08:00" -> "10:02", read as written (the hall's own time).
  function hhmm(at) {
    var m = /T(\d\d):(\d\d)/.exec(at || "");
    return m ? m[1] + ":" + m[2] : "";
  }

  function windowById(id) {
    for (var i = 0; i < model.windows.length; i++) if (model.windows[i].id === id) return model.windows[i];
    return null;
  }

  // Restarts a CSS animation class on an element.
  function pulse(node, cls) {
    if (!node) return;
    node.classList.remove(cls);
    void node.offsetWidth;
    node.classList.add(cls);
  }

  /* ---------- clock ---------- */

  // Learns the hall's UTC offset from a time the daemon sent ("…+08:00"), so that the clock
  // shows hall time even on a screen whose own time zone is set wrong.
  function learnOffset(at) {
    var m = /([+-])(\d\d):(\d\d)$/.exec(at || "");
    if (m) model.offsetMin = (m[1] === "-" ? -1 : 1) * (parseInt(m[2], 10) * 60 + parseInt(m[3], 10));
    else if (/Z$/.test(at || "")) model.offsetMin = 0;
  }

  function tickClock() {
    var now = new Date();
    var d = now;
    var get = function (what) {
      return d["get" + what]();
    };
    if (model.offsetMin !== null) {
      d = new Date(now.getTime() + model.offsetMin * 60000);
      get = function (what) {
        return d["getUTC" + what]();
      };
    }
    $("clock-time").textContent = pad(get("Hours")) + ":" + pad(get("Minutes")) + ":" + pad(get("Seconds"));
    var wd = t("weekdays").split(",")[get("Day")];
    if (I.lang() === "zh") {
      $("clock-date").textContent = get("FullYear") + "年" + (get("Month") + 1) + "月" + get("Date") + "日 " + wd;
    } else {
      var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
      $("clock-date").textContent = wd + " " + get("Date") + " " + months[get("Month")] + " " + get("FullYear");
    }
  }

  /* ---------- drawing ---------- */

  function renderTitle() {
    if (model.hallName) $("hall-name").textContent = model.hallName;
    document.title = (model.hallName || "hallq") + " · " + t("title_suffix");
  }

  // Whether a call is over: its window has news from at or after the call (seq) and no
  // longer calls that number. Without news yet (a window's change may follow its call by
  // half a second), it is not.
  function isOver(call) {
    var w = windowById(call.window);
    if (!w) return true;
    var seq = model.windowSeq[w.id];
    if (typeof seq !== "number" || seq < (call.seq || 0)) return false;
    return !(w.state === "calling" && w.ticket === call.number);
  }

  // What the big panel shows: the call being said, else the newest call still live.
  function heroCall() {
    if (model.saying) return model.saying;
    for (var i = 0; i < model.recent.length; i++) if (!isOver(model.recent[i])) return model.recent[i];
    return null;
  }

  var heroShown = null; // the call on the big panel, to flash it when it changes
  function renderHero(flash) {
    var hero = $("hero");
    var c = heroCall();
    var changed = c !== heroShown && !(c && heroShown && c.number === heroShown.number && c.seq === heroShown.seq);
    heroShown = c;
    hero.classList.toggle("is-idle", !c);
    hero.setAttribute("data-number", c ? c.number : "");
    $("current-number").textContent = c ? c.number : "";
    $("current-window").textContent = c ? t("window_n", { id: c.window }) : "";
    var w = c ? windowById(c.window) : null;
    var name = c ? c.window_name || (w && w.name) || "" : "";
    $("current-window-name").textContent = name;
    $("current-window-name").hidden = !name || name === t("window_n", { id: c && c.window });
    $("current-number").classList.toggle("is-long", !!c && c.number.length > 4);
    $("hero-recall").hidden = !(c && c.recall);
    // One wording, live or after a reload.
    $("hero-hint").textContent = c ? t("call_text", { number: c.number, window: c.window }) : "";
    fitHero();
    if (flash && changed && c) pulse(hero, "is-flash");
  }

  // Shrinks the call's type until the number and the window fit the card's width.
  function fitHero() {
    var call = document.querySelector(".hero-call");
    var fit = 1;
    call.style.setProperty("--fit", "1");
    while (fit > 0.5 && call.scrollWidth > call.clientWidth + 1) {
      fit -= 0.05;
      call.style.setProperty("--fit", fit.toFixed(2));
    }
  }

  // Drops calls older than RECENT_MINUTES (keeping the newest RECENT_MIN) and past
  // RECENT_MAX. Ages are read on the daemon's clock, so a TV set to the wrong time keeps
  // the right calls.
  function pruneRecent() {
    var now = Date.now() - model.skewMs;
    var keep = model.recent.filter(function (r, i) {
      if (i < RECENT_MIN) return true;
      var at = Date.parse(r.at);
      return !(at > 0) || now - at <= RECENT_MINUTES * 60000;
    });
    if (keep.length > RECENT_MAX) keep.length = RECENT_MAX;
    var changed = keep.length !== model.recent.length;
    model.recent = keep;
    return changed;
  }

  function renderRecent(flashFirst) {
    var list = $("recent-calls");
    list.textContent = "";
    model.recent.forEach(function (r, i) {
      var li = el("li", i === 0 ? "is-latest" : "");
      li.setAttribute("data-number", r.number);
      li.setAttribute("data-window", r.window);
      if (isOver(r)) li.classList.add("is-over");
      li.appendChild(el("span", "rc-number hq-num", r.number));
      var arrow = el("span", "rc-arrow");
      arrow.innerHTML =
        '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 12h14M13 6l6 6-6 6" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>';
      li.appendChild(arrow);
      var win = el("span", "rc-window");
      win.appendChild(el("span", "rc-window-long", t("window_n", { id: r.window })));
      win.appendChild(el("span", "rc-window-short", t("window_short", { id: r.window })));
      li.appendChild(win);
      li.appendChild(el("span", "rc-time hq-num", hhmm(r.at)));
      list.appendChild(li);
    });
    $("recent-empty").hidden = model.recent.length > 0;
    fitRecent();
    if (flashFirst && list.firstChild) pulse(list.firstChild, "is-flash");
  }

  // Lays the recent calls out in the columns that give them the largest type: one column
  // of long rows ("A036 → 2号窗口 10:02") for a few calls, up to four of short ones
  // ("A036 → 2号") for a burst; newest first, read left to right, then down. Rows never
  // overlap: each is as tall as its type, and the type shrinks until every row fits.
  var RECENT_COLS_MAX = 4;
  var RECENT_EM_LONG = 11.2; // width of a long row, in its type's size (measured)
  var RECENT_EM_SHORT = 5.2;
  var RECENT_LINE = 1.3; // a row's height, in its type's size
  var RECENT_FONT_MAX = 76; // design pixels (--u): a quiet hall's rows
  var RECENT_FONT_COMFORT = 50; // design pixels: below this the list takes the windows' place
  function fitRecent() {
    var board = document.querySelector(".board");
    board.classList.remove("is-recent-tall");
    var u = Math.min(window.innerWidth, window.innerHeight) / 1080;
    if (layoutRecent() < RECENT_FONT_COMFORT * u) {
      board.classList.add("is-recent-tall");
      layoutRecent();
    }
  }

  // Lays the list out in its panel as it is now; returns the type size chosen (px).
  function layoutRecent() {
    var list = $("recent-calls");
    var n = model.recent.length;
    if (!n) return Infinity;
    var box = list.parentNode;
    var title = box.querySelector(".panel-title");
    var cs = window.getComputedStyle(box);
    var W = box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    var H =
      box.clientHeight -
      parseFloat(cs.paddingTop) -
      parseFloat(cs.paddingBottom) -
      (title ? title.offsetHeight + parseFloat(window.getComputedStyle(title).marginBottom) : 0);
    var u = Math.min(window.innerWidth, window.innerHeight) / 1080;
    var gap = 8 * u;
    var best = { font: 0, cols: 1 };
    for (var c = 1; c <= RECENT_COLS_MAX; c++) {
      var r = Math.ceil(n / c);
      var rowH = (H - (r - 1) * gap) / r;
      var colW = (W - (c - 1) * 2 * gap) / c;
      var f = Math.min(rowH / RECENT_LINE, colW / (c === 1 ? RECENT_EM_LONG : RECENT_EM_SHORT), RECENT_FONT_MAX * u);
      if (f > best.font * 1.04) best = { font: f, cols: c };
      if (r === 1) break;
    }
    list.classList.toggle("is-columns", best.cols > 1);
    list.style.setProperty("--rc-cols", String(best.cols));
    list.style.setProperty("--rc-gap", gap.toFixed(1) + "px");
    var font = Math.floor(best.font);
    list.style.setProperty("--rc-font", font + "px");
    // The estimate is for typical numbers; a long number or window shrinks the type.
    var tries = 0;
    while (tries++ < 12 && font > 12 && overflows(list)) {
      font = Math.floor(font * 0.94);
      list.style.setProperty("--rc-font", font + "px");
    }
    return font;
  }

  function overflows(list) {
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      var li = items[i];
      if (li.scrollWidth > li.clientWidth + 1 || li.scrollHeight > li.clientHeight + 1) return true;
    }
    return list.scrollHeight > list.clientHeight + 1;
  }

  function renderWindows() {
    var grid = $("windows");
    grid.textContent = "";
    // Every window, in the hall's order; closed ones stay dim so that the board does not
    // jump about as windows open and close.
    var open = model.windows.filter(function (w) {
      return w.state !== "closed";
    });
    model.windows.forEach(function (w) {
      var li = el("li", "win");
      li.setAttribute("data-window", w.id);
      li.setAttribute("data-state", w.state);
      li.appendChild(el("span", "win-id hq-num", w.id));
      var body = el("span", "win-body");
      body.appendChild(el("span", "win-state", t("st_" + w.state)));
      var holds = (w.state === "calling" || w.state === "serving") && w.ticket;
      body.appendChild(el("span", "win-ticket hq-num", holds ? w.ticket : "—"));
      li.appendChild(body);
      grid.appendChild(li);
    });
    grid.classList.toggle("is-dense", model.windows.length > 12);
    grid.classList.toggle("is-very-dense", model.windows.length > 24 && model.windows.length <= 40);
    grid.classList.toggle("is-crowded", model.windows.length > 40);
    $("windows-empty").hidden = model.windows.length > 0;
    $("windows-count").textContent = open.length ? t("windows_count", { n: open.length }) : t("no_windows_open");
  }

  function renderQueues() {
    var list = $("queues");
    list.textContent = "";
    model.queues.forEach(function (q) {
      var li = el("li", "q");
      li.setAttribute("data-queue", q.id);
      li.appendChild(el("span", "q-badge hq-num", q.id));
      li.appendChild(el("span", "q-name", q.name));
      var count = el("span", "q-count");
      count.appendChild(el("b", "waiting hq-num", String(q.waiting)));
      count.appendChild(el("small", "q-unit", t("people")));
      li.appendChild(count);
      li.appendChild(etaCell(q));
      list.appendChild(li);
    });
  }

  // The expected wait of a ticket taken now (not of those already waiting: a queue with
  // nobody waiting may still wait while the windows are busy), said as such; a queue no
  // open window serves says so instead of a figure, and the appointment queue, which takes
  // no walk-in, that it is for booked visitors.
  function etaCell(q) {
    var cell = el("span", "q-eta");
    var none = q.eta_reason === "no_open_window";
    var booked = q.eta_reason === "booked_only";
    var shown = none ? "none" : booked ? "booked" : typeof q.eta_minutes === "number" ? String(q.eta_minutes) : "";
    cell.setAttribute("data-eta", shown);
    if (none || booked) {
      cell.appendChild(el("span", "q-eta-v " + (none ? "is-none" : "is-booked"), I.wait(null, q.eta_reason)));
    } else if (typeof q.eta_minutes === "number") {
      cell.appendChild(el("small", "q-eta-k", t("eta_now")));
      cell.appendChild(el("span", "q-eta-v", I.wait(q.eta_minutes)));
    }
    return cell;
  }

  function renderAll() {
    renderTitle();
    renderHero(false);
    renderRecent(false);
    renderWindows();
    renderQueues();
    tickClock();
  }

  // No voice: make the called number blink instead.
  function flashCall(number) {
    var c = heroCall();
    if (c && c.number === number) pulse($("hero"), "is-flash");
    var row = document.querySelector('#recent-calls li[data-number="' + number + '"]');
    pulse(row, "is-flash");
  }

  /* ---------- the feed ---------- */

  function onSnapshot(msg) {
    var day = msg.day || null;
    model.hallName = (msg.hall && msg.hall.name) || model.hallName;
    model.windows = (msg.windows || []).slice();
    model.windowSeq = {};
    model.windows.forEach(function (w) {
      model.windowSeq[w.id] = msg.seq || 0;
    });
    model.queues = (msg.queues || []).map(function (q) {
      return { id: q.id, name: q.name, waiting: q.waiting, eta_minutes: q.eta_minutes, eta_reason: q.eta_reason };
    });
    var recent = [];
    var seen = {};
    (msg.recent_calls || [])
      .slice()
      .reverse()
      .forEach(function (r) {
        if (seen[r.number] || recent.length >= RECENT_MAX) return;
        seen[r.number] = true;
        // The snapshot's windows are as new as its calls: a call whose window no longer
        // calls it is over.
        recent.push({ number: r.number, window: r.window, at: r.at, seq: 0 });
      });
    if (recent.length) learnOffset(recent[0].at);
    model.recent = recent;
    pruneRecent();
    model.day = day;
    renderAll();
  }

  function onCall(msg) {
    learnOffset(msg.at);
    var at = Date.parse(msg.at);
    // Only a live call tells the clocks apart: one told late (missed while this screen was
    // away) was made minutes ago.
    if (at > 0 && msg.missed !== true) model.skewMs = Date.now() - at;
    model.recent = model.recent.filter(function (r) {
      return r.number !== msg.number;
    });
    model.recent.unshift({ number: msg.number, window: msg.window, at: msg.at, seq: msg.seq, recall: !!msg.recall });
    pruneRecent();
    renderRecent(true);
    Voice.enqueue(msg);
    // A call this screen does not say (another zone's, or a silent screen's) shows at
    // once when nothing is being said.
    renderHero(true);
  }

  // The announcer's turn moved on: the big panel follows what is said.
  function onSay(call) {
    model.saying = call;
    renderHero(true);
  }

  function onIdle() {
    model.saying = null;
    renderHero(true);
  }

  function onWindow(msg) {
    var w = msg.window;
    if (!w) return;
    var before = null;
    model.windows = model.windows.map(function (x) {
      if (x.id !== w.id) return x;
      before = x;
      return w;
    });
    if (!before) model.windows.push(w);
    if (typeof msg.seq === "number") model.windowSeq[w.id] = msg.seq;
    renderWindows();
    // The call it held may be over: off the big panel, dimmed in the list.
    renderHero(false);
    renderRecent(false);
    scheduleEta(!before || away(before) !== away(w));
  }

  // A window that serves nobody now.
  function away(w) {
    return w.state === "closed" || w.state === "paused";
  }

  function onQueue(msg) {
    model.queues.forEach(function (q) {
      if (q.id === msg.id) q.waiting = msg.waiting;
    });
    renderQueues();
    scheduleEta();
  }

  // Queue messages carry the count only; the expected wait comes from the snapshot,
  // fetched again a few seconds after things change (at most once per interval), or
  // at once (`soon`) after a window opened or closed: right after an opening, a queue
  // it serves must not still read 暂无窗口办理. A change during a fetch asks for one more.
  var etaTimer = null;
  var etaDue = 0;
  var etaFetching = false;
  var etaAgain = 0;
  function scheduleEta(soon) {
    var due = Date.now() + (soon ? ETA_SOON_MS : ETA_REFRESH_MS);
    if (etaFetching) {
      etaAgain = etaAgain ? Math.min(etaAgain, due) : due;
      return;
    }
    if (etaTimer) {
      if (etaDue <= due) return;
      clearTimeout(etaTimer);
    }
    etaDue = due;
    etaTimer = setTimeout(fetchEta, Math.max(0, due - Date.now()));
  }

  function fetchEta() {
    etaTimer = null;
    etaFetching = true;
    fetch("/api/v1/hall", { cache: "no-store" })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (snap) {
        if (!snap || !snap.queues) return;
        snap.queues.forEach(function (s) {
          model.queues.forEach(function (q) {
            if (q.id === s.id) { q.eta_minutes = s.eta_minutes; q.eta_reason = s.eta_reason; }
          });
        });
        renderQueues();
      })
      .catch(function () {
        /* the feed's state already tells when the daemon is away */
      })
      .then(function () {
        etaFetching = false;
        var again = etaAgain;
        etaAgain = 0;
        if (again) {
          etaDue = again;
          etaTimer = setTimeout(fetchEta, Math.max(0, again - Date.now()));
        }
      });
  }

  function onState(state) {
    var node = $("conn-state");
    node.setAttribute("data-state", state);
    var text = node.querySelector(".conn-text");
    text.setAttribute("data-i18n", state === "live" ? "conn_live" : "conn_reconnecting");
    text.textContent = t(text.getAttribute("data-i18n"));
    $("reconnect-banner").hidden = state === "live";
    document.body.classList.toggle("is-stale", state !== "live");
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "snapshot":
        onSnapshot(msg);
        break;
      case "call":
        onCall(msg);
        break;
      case "window":
        onWindow(msg);
        break;
      case "queue":
        onQueue(msg);
        break;
      default:
        break; // a newer daemon's message this page does not know: ignore it
    }
  }

  /* ---------- start ---------- */

  I.init(DICT);
  var Voice = window.HallqAnnouncer;
  I.onChange(function () {
    renderAll();
    Voice.showState();
  });
  renderAll();
  setInterval(tickClock, 1000);
  setInterval(function () {
    if (pruneRecent()) renderRecent(false);
  }, 10000);
  window.addEventListener("resize", function () {
    fitHero();
    fitRecent();
  });
  // ?zone=1F: this screen says only the calls of that zone's windows; &speaker=0 keeps it
  // silent (another screen of the zone, wired to the loudspeakers, says them).
  var params = new URLSearchParams(window.location.search);
  var zone = params.get("zone");
  var speaker = params.get("speaker");
  Voice.init({
    gate: $("sound-gate"),
    indicator: $("voice-state"),
    onSilent: flashCall,
    onSay: onSay,
    onIdle: onIdle,
    zone: zone,
    speaker: speaker === "1" ? true : speaker === "0" ? false : null,
  });
  fetch("/api/v1/voice", { cache: "no-store" })
    .then(function (r) {
      return r.ok ? r.json() : null;
    })
    .then(Voice.setInfo)
    .catch(function () {
      /* an older daemon: the calls themselves say how to speak */
    });
  new window.HallqFeed({ onMessage: onMessage, onState: onState }).start();
})();
