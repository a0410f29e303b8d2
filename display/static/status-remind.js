/* hallq — status-remind.js: the status page's call reminder (叫号提醒), beside status.js.
 *
 * A phone may not make a sound or vibrate until its visitor has touched the page, so the
 * page offers "开启叫号提醒": that tap unlocks sound (a Web Audio chime) and vibration,
 * asks the browser to keep the screen on (Screen Wake Lock) and says which of the three
 * work here. Then the page reminds the visitor when `remind_ahead` tickets are ahead
 * (`[hall] remind_ahead` from the catalogue, 3 unless the hall says otherwise; 0: only
 * at the call) and, louder, at the call. What it cannot do it says plainly: no vibration
 * on this phone, no wake lock, and, when the page goes to the background (screen locked,
 * another app), that the browser may hold reminders back until it is open again; a
 * reminder that fell due while hidden is said again when the page comes back.
 *
 * status.js calls window.HallqRemind.catalog(cat) and .ticket(tk) on every update.
 */
(function () {
  "use strict";

  var DEFAULT_AHEAD = 3;
  // How each reminder sounds and vibrates: the call louder and longer than "N ahead".
  var SIGNAL = {
    call: { chimes: 3, hz: 880, vibrate: [500, 200, 500, 200, 800] },
    near: { chimes: 2, hz: 740, vibrate: [250, 150, 250] }
  };

  var TEXT = {
    zh: {
      h: "叫号提醒", on: "开启叫号提醒",
      off_hint: "点击后，本页将在前面还剩 {n} 人时和叫到您时响铃并振动。",
      off_hint_call: "点击后，本页将在叫到您时响铃并振动。",
      enabled: "叫号提醒已开启：前面还剩 {n} 人时和叫到您时提醒。", enabled_call: "叫号提醒已开启：叫到您时提醒。",
      sound: "声音", vibrate: "振动", wake: "屏幕常亮",
      no_sound: "本机浏览器无法播放提示音，请留意屏幕和振动。",
      no_vibrate: "本机浏览器不支持振动（例如 iPhone），到号时只响铃并在页面提示。",
      no_wake: "本机浏览器无法保持屏幕常亮：锁屏后提醒可能无法送达，请不时查看本页。",
      hidden: "锁屏或切换到其他应用时，浏览器可能暂停本页，提醒会在回到本页时补上。请保持本页打开。",
      missed: "本页刚才在后台，期间的提醒可能没有响：{what}",
      near: "前面还有 {n} 人，请回到等候区留意叫号", call: "叫到您了：请到 {w} 号窗口",
      near_check_in: "前面还有 {n} 人：请尽快到大厅签到，签到后才会叫号"
    },
    en: {
      h: "Call reminder", on: "Turn on call reminders",
      off_hint: "Tap so that this page rings and vibrates when {n} are ahead of you and when you are called.",
      off_hint_call: "Tap so that this page rings and vibrates when you are called.",
      enabled: "Reminders on: when {n} are ahead of you and when you are called.", enabled_call: "Reminders on: when you are called.",
      sound: "Sound", vibrate: "Vibration", wake: "Screen kept on",
      no_sound: "This browser cannot play the chime; watch the screen and vibration.",
      no_vibrate: "This browser cannot vibrate (an iPhone, say): the page rings and shows the call only.",
      no_wake: "This browser cannot keep the screen on: once locked, reminders may not reach you. Check this page now and then.",
      hidden: "With the screen locked or another app open, the browser may pause this page; reminders are given when you come back. Keep this page open.",
      missed: "This page was in the background; a reminder may not have sounded: {what}",
      near: "{n} ahead of you: please come back to the waiting area", call: "You are called: window {w}",
      near_check_in: "{n} ahead of you: please come to the hall and check in; you are called only after that"
    }
  };

  var I18N = window.HallqI18n;
  function t(k, v) {
    var lang = I18N && I18N.lang ? I18N.lang() : "zh";
    var s = (TEXT[lang] || TEXT.zh)[k] || TEXT.zh[k] || k;
    return v ? s.replace(/\{(\w+)\}/g, function (m, n) { return n in v ? v[n] : m; }) : s;
  }
  function $(x) { return document.getElementById(x); }

  var aheadAt = DEFAULT_AHEAD;
  var enabled = false;
  var audio = null;          // the AudioContext the tap unlocked
  var canVibrate = typeof navigator.vibrate === "function";
  var wake = null;           // the wake lock, while held
  var wakeTried = false;
  var last = null;           // the ticket as last seen
  var nearDone = false;      // reminded at N ahead during this wait
  var callDone = null;       // "window|called_at" of the call reminded
  var missedWhileHidden = null;

  function chime(times, freq) {
    if (!audio) return false;
    try {
      if (audio.state === "suspended") audio.resume();
      var t0 = audio.currentTime + 0.02;
      for (var i = 0; i < times; i++) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t0 + i * 0.45);
        gain.gain.exponentialRampToValueAtTime(0.6, t0 + i * 0.45 + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.45 + 0.35);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(t0 + i * 0.45);
        osc.stop(t0 + i * 0.45 + 0.4);
      }
      return true;
    } catch (e) {
      return false;
    }
  }

  function buzz(pattern) {
    if (!canVibrate) return false;
    try { return navigator.vibrate(pattern) !== false; } catch (e) { return false; }
  }

  function keepScreenOn() {
    if (!navigator.wakeLock || !navigator.wakeLock.request || document.visibilityState !== "visible") {
      wakeTried = true;
      render();
      return;
    }
    navigator.wakeLock.request("screen").then(function (lock) {
      wake = lock;
      lock.addEventListener("release", function () { wake = null; render(); });
    }, function () { wake = null; }).then(function () { wakeTried = true; render(); });
  }

  function enable() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) {
      try { audio = new Ctx(); } catch (e) { audio = null; }
    }
    enabled = true;
    chime(1, 660);   // the tap's own chime: proof that sound works, and what unlocks it
    buzz(80);
    keepScreenOn();
    render();
    check();
  }

  /* A reminder: the banner always; sound and vibration when the tap unlocked them. */
  function remind(kind, text) {
    var box = $("remind-alert");
    box.textContent = text;
    box.setAttribute("data-kind", kind);
    box.hidden = false;
    if (!enabled) return;
    var signal = SIGNAL[kind];
    chime(signal.chimes, signal.hz);
    buzz(signal.vibrate);
    if (document.visibilityState === "hidden") missedWhileHidden = text;
  }

  function check() {
    var tk = last;
    if (!tk) return;
    if (tk.status === "waiting") {
      callDone = null;
      if (aheadAt > 0 && tk.ahead != null && tk.ahead <= aheadAt) {
        if (!nearDone) { nearDone = true; remind("near", t(tk.check_in ? "near_check_in" : "near", { n: tk.ahead })); }
      }
    } else {
      nearDone = false;
    }
    if (tk.status === "called" && tk.window) {
      var id = tk.window + "|" + (tk.called_at || "");
      if (callDone !== id) { callDone = id; remind("call", t("call", { w: tk.window })); }
    } else if (tk.status !== "waiting") {
      $("remind-alert").hidden = true;
    }
  }

  function render() {
    var box = $("remind");
    if (!box) return;
    var active = last && (last.status === "waiting" || last.status === "called");
    box.hidden = !active;
    $("remind-on").hidden = enabled;
    $("remind-on").firstChild.textContent = t("on");
    $("remind-h").textContent = t("h");
    box.setAttribute("data-enabled", enabled ? "yes" : "no");
    var lines = [];
    if (!enabled) {
      lines.push(aheadAt > 0 ? t("off_hint", { n: aheadAt }) : t("off_hint_call"));
      if (!canVibrate) lines.push(t("no_vibrate"));
    } else {
      lines.push(aheadAt > 0 ? t("enabled", { n: aheadAt }) : t("enabled_call"));
      var ok = [];
      if (audio) ok.push(t("sound") + " ✓");
      if (canVibrate) ok.push(t("vibrate") + " ✓");
      if (wake) ok.push(t("wake") + " ✓");
      if (ok.length) lines.push(ok.join("  "));
      if (!audio) lines.push(t("no_sound"));
      if (!canVibrate) lines.push(t("no_vibrate"));
      if (wakeTried && !wake) lines.push(t("no_wake"));
      lines.push(t("hidden"));
    }
    var list = $("remind-state");
    list.textContent = "";
    lines.forEach(function (l) {
      var p = document.createElement("p");
      p.textContent = l;
      list.appendChild(p);
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (missedWhileHidden) {
      var box = $("remind-alert");
      box.textContent = t("missed", { what: missedWhileHidden });
      box.hidden = false;
      missedWhileHidden = null;
      chime(2, 880);
    }
    if (enabled && !wake && wakeTried) keepScreenOn();   // a lock is released while hidden
  });

  window.HallqRemind = {
    catalog: function (cat) {
      var n = cat && cat.hall ? cat.hall.remind_ahead : null;
      aheadAt = typeof n === "number" ? n : DEFAULT_AHEAD;
      render();
    },
    ticket: function (tk) {
      last = tk;
      check();
      render();
    },
    render: render
  };

  if ($("remind-on")) $("remind-on").addEventListener("click", enable);
})();
