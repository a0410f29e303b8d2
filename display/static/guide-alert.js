/* hallq — guide-alert.js: the guide's alerts (/display/guide), at each call of one of
 * their visitors and at each step of a bundle ticket, like the visitor's own phone
 * (status-remind.js): a banner always; a chime and a vibration once the guide has tapped
 * "开启提醒" (a browser plays no sound and vibrates only after a tap on the page).
 *
 *   HallqGuideAlert.init(t)          t: the page's text function
 *   HallqGuideAlert.enable()         the tap: unlocks sound and vibration (chimes once)
 *   HallqGuideAlert.check(visitors)  the guide's visitors as GET /api/v1/guide lists them
 *                                    (with `queue_name`, the page's name of the queue);
 *                                    alerts for what changed since the last check. The
 *                                    first check only remembers: a page opened or reloaded
 *                                    does not ring for calls made before.
 *
 * A call is a ticket whose status is "called" with a `called_at` not seen called before
 * (a recall moves `called_at`, and rings again); a step is a bundle ticket whose `step`
 * grew. Several at once: the newest words stay on the banner, every one rings.
 */
(function () {
  "use strict";

  // How each alert sounds and vibrates: the call louder and longer than a step.
  var SIGNAL = {
    call: { chimes: 3, hz: 880, vibrate: [500, 200, 500, 200, 800] },
    step: { chimes: 2, hz: 660, vibrate: [250, 150, 250] }
  };

  var t = function (k) { return k; };
  var audio = null;
  var enabled = false;
  var canVibrate = typeof navigator.vibrate === "function";
  var seen = null; // number -> {called: called_at or null, step}

  function chime(times, freq) {
    if (!audio) return;
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
    } catch (e) { /* no sound: the banner still shows */ }
  }

  function buzz(pattern) {
    if (!canVibrate) return;
    try { navigator.vibrate(pattern); } catch (e) { /* no vibration on this device */ }
  }

  function enable() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) {
      try { audio = new Ctx(); } catch (e) { audio = null; }
    }
    enabled = true;
    chime(1, 660);
    buzz(80);
  }

  function alertNow(kind, text) {
    var box = document.getElementById("guide-alert");
    box.textContent = text;
    box.setAttribute("data-kind", kind);
    box.hidden = false;
    if (!enabled) return;
    chime(SIGNAL[kind].chimes, SIGNAL[kind].hz);
    buzz(SIGNAL[kind].vibrate);
  }

  function check(visitors) {
    var now = {};
    visitors.forEach(function (v) {
      now[v.number] = { called: v.status === "called" ? v.called_at : null, step: v.step || 0, v: v };
    });
    var before = seen;
    seen = now;
    if (!before) return;
    Object.keys(now).forEach(function (n) {
      var was = before[n], is = now[n], v = is.v;
      if (!was) return; // newly taken: the guide has just seen it
      if (is.called && is.called !== was.called) {
        alertNow("call", t("alert_call", { n: n, w: v.window || "" }));
      } else if (is.step > was.step && v.steps && v.steps.length) {
        alertNow("step", t("alert_step", { n: n, k: is.step + 1, of: v.steps.length, q: v.queue_name || v.queue }));
      }
    });
  }

  window.HallqGuideAlert = {
    init: function (text) { t = text; },
    enable: enable,
    check: check
  };
})();
