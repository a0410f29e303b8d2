/* hallq — window.js: the window screen (/display/window?id=5).
 *
 * The small screen above one window. Follows the display feed (feed.js) and shows the
 * window's name; the number it is calling (gold, flashing on each new call or recall) or
 * serving; "暂停服务" when paused; that it is not open when closed; and along the bottom
 * the queues it serves with how many wait in them. Read-only; no personal data.
 */
(function () {
  "use strict";

  var DICT = {
    zh: {
      reconnecting: "正在重新连接",
      st_calling: "请到本窗口办理",
      st_serving: "正在办理",
      st_open: "欢迎办理",
      st_paused: "暂停服务",
      st_closed: "暂停服务",
      lb_calling: "正在呼叫",
      lb_serving: "正在办理",
      sub_calling: "请 {number} 号到 {window} 号窗口办理",
      sub_open: "请留意叫号",
      sub_paused: "本窗口暂停服务，请稍候",
      sub_closed: "本窗口暂未开放，请到其他窗口办理",
      recall: "重复呼叫",
      serves: "办理：",
      waiting: "等候 {n} 人",
      no_id: "未指定窗口",
      no_id_sub: "请在地址后加上 ?id=窗口号，例如 /display/window?id=5",
      unknown: "没有这个窗口",
      unknown_sub: "本大厅没有 {id} 号窗口，请检查地址",
      loading: "正在连接…",
      title_suffix: "窗口屏",
    },
    en: {
      reconnecting: "Reconnecting",
      st_calling: "Please come to this window",
      st_serving: "Now serving",
      st_open: "Welcome",
      st_paused: "Paused",
      st_closed: "Closed",
      lb_calling: "Now calling",
      lb_serving: "Now serving",
      sub_calling: "Number {number}, please come to window {window}",
      sub_open: "Please watch for your number",
      sub_paused: "This window is paused; please wait",
      sub_closed: "This window is not open; please use another window",
      recall: "Repeat call",
      serves: "Serves: ",
      waiting: "{n} waiting",
      no_id: "No window given",
      no_id_sub: "Add ?id=WINDOW to the address, e.g. /display/window?id=5",
      unknown: "No such window",
      unknown_sub: "This hall has no window {id}; please check the address",
      loading: "Connecting…",
      title_suffix: "Window screen",
    },
  };

  var I = window.HallqI18n;
  var t = I.t;
  var $ = function (id) {
    return document.getElementById(id);
  };

  var id = (new URLSearchParams(window.location.search).get("id") || "").trim();
  var model = { window: null, known: null, queues: {}, recall: false, offsetMin: null };

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // The hall's UTC offset, read from a time the daemon sent ("…+08:00"): the clock shows
  // hall time even on a screen whose own time zone is set wrong.
  function learnOffset(at) {
    var m = /([+-])(\d\d):(\d\d)$/.exec(at || "");
    if (m) model.offsetMin = (m[1] === "-" ? -1 : 1) * (parseInt(m[2], 10) * 60 + parseInt(m[3], 10));
  }

  function tick() {
    var d = new Date();
    if (model.offsetMin === null) {
      $("clock").textContent = pad(d.getHours()) + ":" + pad(d.getMinutes());
    } else {
      d = new Date(d.getTime() + model.offsetMin * 60000);
      $("clock").textContent = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    }
  }

  function flash() {
    var stage = $("stage");
    stage.classList.remove("is-flash");
    void stage.offsetWidth;
    stage.classList.add("is-flash");
  }

  function setState(state, stateText, label, number, sub) {
    $("stage").setAttribute("data-state", state);
    var st = $("window-state");
    st.setAttribute("data-state", state);
    st.textContent = stateText;
    $("window-label").textContent = label;
    $("window-number").textContent = number;
    $("window-sub").textContent = sub;
  }

  function render() {
    var w = model.window;
    if (!id) {
      $("window-name").textContent = t("no_id");
      setState("error", t("no_id"), "", "", t("no_id_sub"));
      return;
    }
    if (model.known === false) {
      $("window-name").textContent = t("unknown");
      setState("error", t("unknown"), "", "", t("unknown_sub", { id: id }));
      return;
    }
    if (!w) {
      $("window-badge").textContent = id;
      setState("loading", t("loading"), "", "", "");
      return;
    }
    $("window-badge").textContent = w.id;
    $("window-name").textContent = w.name;
    document.title = w.name + " · " + t("title_suffix");
    var s = w.state;
    var holds = (s === "calling" || s === "serving") && w.ticket;
    if (s === "calling") {
      setState(
        s,
        t("st_calling"),
        model.recall ? t("recall") : t("lb_calling"),
        holds ? w.ticket : "",
        t("sub_calling", { number: w.ticket || "", window: w.id })
      );
    } else if (s === "serving") {
      setState(s, t("st_serving"), t("lb_serving"), holds ? w.ticket : "", "");
    } else if (s === "paused" || s === "closed" || s === "open") {
      setState(s, t("st_" + s), "", "", t("sub_" + s));
    } else {
      setState(s, s, "", w.ticket || "", "");
    }
    renderQueues();
  }

  function renderQueues() {
    var w = model.window;
    if (!w) return;
    var names = [];
    var waiting = 0;
    (w.queues || []).forEach(function (q) {
      var info = model.queues[q];
      names.push(info && info.name ? info.name : q);
      if (info) waiting += info.waiting || 0;
    });
    $("window-queues").textContent = names.length ? t("serves") + names.join(" · ") : "";
    $("window-waiting").textContent = w.state === "closed" ? "" : t("waiting", { n: waiting });
  }

  function onMessage(msg) {
    if (msg.type === "snapshot") {
      model.queues = {};
      (msg.queues || []).forEach(function (q) {
        model.queues[q.id] = { name: q.name, waiting: q.waiting };
      });
      model.window = null;
      (msg.windows || []).forEach(function (w) {
        if (w.id === id) model.window = w;
      });
      model.known = !!model.window;
      var calls = msg.recent_calls || [];
      if (calls.length) learnOffset(calls[calls.length - 1].at);
      render();
      tick();
    } else if (msg.type === "window" && msg.window && msg.window.id === id) {
      if (msg.window.state !== "calling") {
        model.recall = false;
        $("stage").classList.remove("is-flash");
      }
      model.window = msg.window;
      model.known = true;
      render();
    } else if (msg.type === "call") {
      learnOffset(msg.at);
      if (msg.window !== id) return;
      model.recall = !!msg.recall;
      if (model.window) {
        model.window.state = "calling";
        model.window.ticket = msg.number;
      }
      render();
      flash();
    } else if (msg.type === "queue" && model.queues[msg.id]) {
      model.queues[msg.id].waiting = msg.waiting;
      renderQueues();
    }
  }

  function onState(state) {
    $("conn-state").setAttribute("data-state", state);
    $("reconnect-banner").hidden = state === "live";
  }

  I.init(DICT);
  I.onChange(render);
  render();
  tick();
  setInterval(tick, 1000);
  if (id) new window.HallqFeed({ onMessage: onMessage, onState: onState }).start();
})();
