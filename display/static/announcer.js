/* hallq — announcer.js: speaks call-outs on the lobby screen.
 *
 *   HallqAnnouncer.init({gate, indicator, onSilent(number)})
 *   HallqAnnouncer.enqueue(callMessage)   a feed "call" message
 *   HallqAnnouncer.showState()            redraws the indicator (after a language switch)
 *   window.hallqSpoken                    every text queued, one per call (tests read it)
 *
 * Each call: a two-tone chime made with the Web Audio API (no sound file), then the
 * daemon's `announce.text` spoken in Mandarin with the Web Speech API, `announce.repeat`
 * times. Calls wait in a queue, so two never talk over each other; in a rush each is said
 * once and the oldest waiting ones are let go (they stay on screen). Where the browser has
 * no Mandarin voice (headless Chromium, many TVs) it chimes and calls onSilent(number) so
 * the page can flash instead. Browsers keep sound off until someone touches the page: the
 * `gate` button is then shown, and any click or key turns sound on.
 * Texts for the indicator come from the page's dictionary: voice_speech, voice_chime,
 * voice_blocked (HallqI18n).
 */
(function () {
  "use strict";

  var QUEUE_MAX = 6;
  var GAP_MS = 700; // between two announcements
  var REPEAT_GAP_MS = 600; // between two sayings of one

  window.hallqSpoken = [];

  var A = {
    gate: null,
    indicator: null,
    onSilent: function () {},
    queue: [],
    busy: false,
    ctx: null,
    blocked: false,
  };

  function t(key) {
    return window.HallqI18n ? window.HallqI18n.t(key) : key;
  }

  A.init = function (opts) {
    opts = opts || {};
    A.gate = opts.gate || null;
    A.indicator = opts.indicator || null;
    if (typeof opts.onSilent === "function") A.onSilent = opts.onSilent;
    var AC = window.AudioContext || window.webkitAudioContext;
    if (AC) {
      try {
        A.ctx = new AC();
      } catch (e) {
        A.ctx = null;
      }
    }
    if ("speechSynthesis" in window) {
      window.speechSynthesis.getVoices(); // starts loading the list
      window.speechSynthesis.onvoiceschanged = A.showState;
    }
    // Give the browser a moment to start the audio; if it stays off, ask discreetly.
    setTimeout(function () {
      if (A.ctx && A.ctx.state !== "running") A.setBlocked(true);
      A.showState();
    }, 600);
    if (A.gate) A.gate.addEventListener("click", A.unlock);
    document.addEventListener("pointerdown", A.unlock);
    document.addEventListener("keydown", A.unlock);
  };

  A.unlock = function () {
    var wasBlocked = A.blocked;
    if (A.ctx && A.ctx.state !== "running") {
      A.ctx.resume().then(
        function () {
          A.setBlocked(false);
        },
        function () {}
      );
    } else {
      A.setBlocked(false);
    }
    if (wasBlocked && "speechSynthesis" in window) {
      try {
        // A silent utterance inside the click unlocks speech for later.
        var u = new SpeechSynthesisUtterance(" ");
        u.volume = 0;
        window.speechSynthesis.speak(u);
      } catch (e) {
        /* no speech: chime only */
      }
    }
  };

  A.setBlocked = function (b) {
    A.blocked = b;
    if (A.gate) A.gate.hidden = !b;
    A.showState();
  };

  // The best Mandarin voice, or null. Cantonese (zh-HK) would read the text wrongly.
  A.mandarin = function () {
    if (!("speechSynthesis" in window)) return null;
    var rank = function (v) {
      var l = String(v.lang || "").replace("_", "-").toLowerCase();
      if (l === "zh-cn" || l === "cmn-cn" || l.indexOf("cmn-hans") === 0) return 3;
      if (l.indexOf("cmn") === 0 || l === "zh" || l === "zh-sg") return 2;
      if (l === "zh-tw") return 1;
      return 0;
    };
    var best = null;
    (window.speechSynthesis.getVoices() || []).forEach(function (v) {
      var r = rank(v);
      if (r === 0) return;
      if (!best || r > rank(best) || (r === rank(best) && v.localService && !best.localService)) best = v;
    });
    return best;
  };

  A.showState = function () {
    var node = A.indicator;
    if (!node) return;
    var st = A.blocked ? "blocked" : A.mandarin() ? "speech" : "chime";
    node.hidden = false;
    node.setAttribute("data-state", st);
    var text = node.querySelector(".voice-text");
    if (text) text.textContent = t("voice_" + st);
  };

  A.enqueue = function (call) {
    var ann = call.announce || {};
    var text = ann.text || call.number + " " + call.window;
    var repeat = Math.max(1, Math.min(3, ann.repeat || 1));
    window.hallqSpoken.push(text);
    A.queue.push({ text: text, repeat: repeat, number: call.number });
    while (A.queue.length > QUEUE_MAX) A.queue.shift();
    A.next();
  };

  A.next = function () {
    if (A.busy || !A.queue.length) return;
    A.busy = true;
    var item = A.queue.shift();
    var repeat = A.queue.length >= 2 ? 1 : item.repeat;
    var done = function () {
      setTimeout(function () {
        A.busy = false;
        A.next();
      }, GAP_MS);
    };
    A.chime().then(function () {
      var voice = A.blocked ? null : A.mandarin();
      if (!voice) {
        A.onSilent(item.number);
        setTimeout(done, 1800);
        return;
      }
      A.say(item.text, voice, repeat).then(done);
    });
  };

  // Two soft bell tones ("ding-dong"); resolves when they have rung.
  A.chime = function () {
    var ctx = A.ctx;
    return new Promise(function (resolve) {
      if (!ctx || ctx.state !== "running") {
        resolve();
        return;
      }
      var start = ctx.currentTime + 0.05;
      var bell = function (freq, at, len) {
        [1, 2.01, 3.02].forEach(function (mult, i) {
          var osc = ctx.createOscillator();
          var gain = ctx.createGain();
          osc.type = "sine";
          osc.frequency.value = freq * mult;
          gain.gain.setValueAtTime(0.0001, at);
          gain.gain.exponentialRampToValueAtTime([0.32, 0.08, 0.03][i], at + 0.015);
          gain.gain.exponentialRampToValueAtTime(0.0001, at + len);
          osc.connect(gain);
          gain.connect(ctx.destination);
          osc.start(at);
          osc.stop(at + len + 0.05);
        });
      };
      bell(659.25, start, 1.1); // E5
      bell(523.25, start + 0.55, 1.4); // C5
      setTimeout(resolve, 1900);
    });
  };

  // Speaks text `times` times; resolves when done, or after a guard time when the browser
  // never says it finished (some do not).
  A.say = function (text, voice, times) {
    var synth = window.speechSynthesis;
    return new Promise(function (resolve) {
      var left = times;
      var once = function () {
        if (left <= 0) {
          resolve();
          return;
        }
        left--;
        var finished = false;
        var guard = null;
        var u = new SpeechSynthesisUtterance(text);
        u.lang = voice.lang || "zh-CN";
        u.voice = voice;
        u.rate = 0.85;
        var end = function () {
          if (finished) return;
          finished = true;
          clearTimeout(guard);
          setTimeout(once, REPEAT_GAP_MS);
        };
        u.onend = end;
        u.onerror = function (ev) {
          if (ev && ev.error === "not-allowed") {
            A.setBlocked(true);
            left = 0;
          }
          end();
        };
        guard = setTimeout(end, 3000 + text.length * 400);
        try {
          synth.speak(u);
        } catch (e) {
          end();
        }
      };
      once();
    });
  };

  window.HallqAnnouncer = A;
})();
