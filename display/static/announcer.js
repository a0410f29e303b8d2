/* hallq — announcer.js: speaks call-outs on the lobby screen.
 *
 *   HallqAnnouncer.init({gate, indicator, onSilent(number), zone, speaker})
 *   HallqAnnouncer.enqueue(callMessage)   a feed "call" message
 *   HallqAnnouncer.setInfo(voiceInfo)      GET /api/v1/voice: synth and speaker zones
 *   HallqAnnouncer.showState()            redraws the indicator (after a language switch)
 *   window.hallqSpoken                    every text queued, one per call (tests read it)
 *   window.__announced                    every call-out begun: {number, window, zone,
 *                                         via: "audio"|"speech"|"flash", plays (of the
 *                                         audio), start, end}
 *
 * Each call: a two-tone chime made with the Web Audio API (no sound file), then the call
 * `announce.repeat` times — the daemon's own audio (`announce.audio`, espeak-ng) where it
 * renders one, else `announce.speech` in the browser's Mandarin voice (Web Speech API).
 * Calls wait in one queue, so two never talk over each other; in a rush each is said once
 * and the oldest waiting ones are let go (they stay on screen). With `zone` (the page's
 * ?zone=), only calls of that speaker zone's windows are said. `speaker` false (the
 * page's &speaker=0) makes a screen show and flash each call without a sound (onSilent):
 * a zone's screens other than the one wired to its loudspeakers, since two screens of one
 * zone both speaking would echo through the hall. Screens speak unless told not to, so
 * that a hall that forgets the setting hears its calls twice rather than not at all. Where there is no voice
 * (synth "off", audio failing and no Mandarin voice in the browser: headless Chromium,
 * many TVs) it chimes and calls onSilent(number) so the page can flash instead. Browsers
 * keep sound off until someone touches the page: the `gate` button is then shown, and any
 * click or key turns sound on. Texts for the indicator come from the page's dictionary:
 * voice_audio, voice_speech, voice_chime, voice_off, voice_blocked, voice_other_screen,
 * zone_label, zone_unknown (HallqI18n).
 */
(function () {
  "use strict";

  var QUEUE_MAX = 6;
  var GAP_MS = 700; // between two announcements
  var REPEAT_GAP_MS = 600; // between two sayings of one

  window.hallqSpoken = [];
  window.__announced = [];

  var A = {
    gate: null,
    indicator: null,
    onSilent: function () {},
    queue: [],
    busy: false,
    ctx: null,
    blocked: false,
    zone: null, // the speaker zone of this screen, or null: every call
    speaks: true, // whether this screen is the one that speaks (its zone's speaker)
    zoneName: null,
    zoneUnknown: false,
    synth: null, // from the daemon: "espeak-ng", "browser" or "off"
  };

  function t(key, vars) {
    return window.HallqI18n ? window.HallqI18n.t(key, vars) : key;
  }

  A.init = function (opts) {
    opts = opts || {};
    A.gate = opts.gate || null;
    A.indicator = opts.indicator || null;
    if (typeof opts.onSilent === "function") A.onSilent = opts.onSilent;
    A.zone = opts.zone || null;
    // A screen speaks unless told not to (&speaker=0): a silent hall misses calls, an
    // echo only annoys.
    A.speaks = opts.speaker !== false;
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
    // A screen that never speaks needs no sound: no button asking for it.
    if (A.gate) A.gate.hidden = !b || !A.speaks;
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

  // What the daemon says of its voice (GET /api/v1/voice): who speaks, and the zones.
  A.setInfo = function (info) {
    if (!info) return;
    A.synth = info.synth || A.synth;
    if (A.zone) {
      var zone = (info.zones || []).filter(function (z) {
        return z.id === A.zone;
      })[0];
      A.zoneName = zone ? zone.name : null;
      A.zoneUnknown = !zone;
    }
    A.showState();
  };

  A.showState = function () {
    var node = A.indicator;
    if (!node) return;
    var st = "chime";
    if (!A.speaks) st = "other_screen";
    else if (A.blocked) st = "blocked";
    else if (A.synth === "off" || A.zoneUnknown) st = "off";
    else if (A.synth === "espeak-ng") st = "audio";
    else if (A.mandarin()) st = "speech";
    node.hidden = false;
    node.setAttribute("data-state", st);
    if (A.zone) node.setAttribute("data-zone", A.zone);
    var text = node.querySelector(".voice-text");
    if (!text) return;
    var label = t("voice_" + st);
    if (A.zoneUnknown) label = t("zone_unknown", { id: A.zone });
    else if (A.zoneName) label += " · " + t("zone_label", { name: A.zoneName });
    text.textContent = label;
  };

  // Whether this screen says a call: every call without a zone; with one, the calls of
  // its windows (a hall without zones names none on its calls: one zone, all calls).
  A.mine = function (ann) {
    if (!A.zone) return true;
    if (A.zoneUnknown) return false;
    if (!Array.isArray(ann.zones)) return true;
    return ann.zones.indexOf(A.zone) >= 0;
  };

  A.enqueue = function (call) {
    var ann = call.announce || {};
    if (!A.mine(ann)) return;
    if (!A.speaks) {
      // Another screen of this zone says it; this one only draws the eye.
      A.onSilent(call.number);
      return;
    }
    if (ann.synth && ann.synth !== A.synth) {
      A.synth = ann.synth;
      A.showState();
    }
    var text = ann.text || call.number + " " + call.window;
    var repeat = Math.max(1, Math.min(3, ann.repeat || 1));
    window.hallqSpoken.push(text);
    var item = {
      text: text,
      speech: ann.speech || text,
      synth: ann.synth || "browser",
      repeat: repeat,
      number: call.number,
      window: call.window,
      audio: null,
    };
    if (ann.audio && item.synth === "espeak-ng") {
      // Fetched now, so the daemon renders it while the calls before it are said.
      item.audio = new Audio(ann.audio);
      item.audio.preload = "auto";
    }
    A.queue.push(item);
    while (A.queue.length > QUEUE_MAX) A.queue.shift();
    A.next();
  };

  A.next = function () {
    if (A.busy || !A.queue.length) return;
    A.busy = true;
    var item = A.queue.shift();
    var repeat = A.queue.length >= 2 ? 1 : item.repeat;
    var record = {
      number: item.number,
      window: item.window,
      zone: A.zone,
      via: null,
      plays: 0,
      start: Date.now(),
      end: null,
    };
    window.__announced.push(record);
    var done = function (via) {
      record.via = via;
      record.end = Date.now();
      setTimeout(function () {
        A.busy = false;
        A.next();
      }, GAP_MS);
    };
    var speakOrFlash = function () {
      var voice = A.blocked || item.synth === "off" ? null : A.mandarin();
      if (!voice) {
        A.onSilent(item.number);
        setTimeout(function () {
          done("flash");
        }, 1800);
        return;
      }
      A.say(item.speech, voice, repeat).then(function () {
        done("speech");
      });
    };
    A.chime().then(function () {
      if (!item.audio || A.blocked) {
        speakOrFlash();
        return;
      }
      A.play(item.audio, repeat, record).then(function (played) {
        if (played) done("audio");
        else speakOrFlash();
      });
    });
  };

  // Plays the daemon's audio `times` times; resolves true once it has played, false when
  // it could not play at all (not rendered, no sound device, sound blocked).
  A.play = function (audio, times, record) {
    return new Promise(function (resolve) {
      var left = times;
      var played = false;
      var guard = null;
      var finish = function (ok) {
        clearTimeout(guard);
        audio.onended = audio.onerror = null;
        resolve(ok);
      };
      var once = function () {
        if (left <= 0) {
          finish(true);
          return;
        }
        left--;
        clearTimeout(guard);
        // A call-out lasts seconds; a player that never says it ended is let go.
        guard = setTimeout(function () {
          finish(played);
        }, 20000);
        audio.currentTime = 0;
        var p = audio.play();
        if (p && p.catch) {
          p.then(
            function () {
              played = true;
            },
            function (e) {
              if (e && e.name === "NotAllowedError") A.setBlocked(true);
              finish(played);
            }
          );
        }
      };
      audio.onended = function () {
        played = true;
        if (record) record.plays++;
        setTimeout(once, REPEAT_GAP_MS);
      };
      audio.onerror = function () {
        finish(played);
      };
      once();
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
