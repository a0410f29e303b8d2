/* hallq — announcer.js: speaks call-outs on the lobby screen.
 *
 *   HallqAnnouncer.init({gate, indicator, onSilent(number), onSay(call), onIdle(), zone,
 *                        speaker})
 *   HallqAnnouncer.enqueue(callMessage)   a feed "call" message
 *   HallqAnnouncer.setInfo(voiceInfo)      GET /api/v1/voice: synth and speaker zones
 *   HallqAnnouncer.showState()            redraws the indicator (after a language switch)
 *   HallqAnnouncer.saying                 the call message being said, or null
 *   window.hallqSpoken                    the text of every call queued to be said, one per
 *                                         call, in order (what this screen will say)
 *   window.__announced                    what was actually said, one record per call, in
 *                                         the order said: {number, window, recall, zone, via:
 *                                         "audio"|"speech"|"flash", rush (said in the short
 *                                         form, faster), group, plays, queued (when the call
 *                                         reached the page), start (the audio began to play,
 *                                         or the voice began the utterance), end (it ended)};
 *                                         pushed only when the sound starts
 *
 * Each call: a two-tone chime made with the Web Audio API (no sound file), then the call
 * `announce.repeat` times — the daemon's own audio (`announce.audio`, espeak-ng) where it
 * renders one, else `announce.speech` in the browser's Mandarin voice (Web Speech API).
 * Calls wait in one queue, in the order they came, so two never talk over each other and
 * none is ever let go. When calls queue up (a call arrives while another is said), they
 * are said in groups of up to GROUP_MAX after one chime, each once, in the short form
 * (`announce.brief_audio` / `brief_speech`: "A零三六，二号窗口") and RUSH_RATE times
 * faster; a call being said stops repeating as soon as another waits. The page follows
 * what is said (onSay, at each call's turn; onIdle when nothing is left), so the big
 * panel always shows the call being spoken. A call that is over by its turn is still
 * said: a visitor marked a no-show before hearing their number still learns it was
 * called (and may rejoin), and one already at the window loses nothing.
 * With `zone` (the page's ?zone=), only calls of that speaker zone's windows are said.
 * `speaker` false (the page's &speaker=0) makes a screen show and flash each call without
 * a sound (onSilent): a zone's screens other than the one wired to its loudspeakers, since
 * two screens of one zone both speaking would echo through the hall. Screens speak unless
 * told not to, so that a hall that forgets the setting hears its calls twice rather than
 * not at all. Where there is no voice (synth "off", audio failing and no Mandarin voice in
 * the browser: headless Chromium, many TVs) it chimes and calls onSilent(number) so the
 * page can flash instead. Browsers keep sound off until someone touches the page: the
 * `gate` button is then shown, and any click or key turns sound on. Texts for the
 * indicator come from the page's dictionary: voice_audio, voice_speech, voice_chime,
 * voice_off, voice_blocked, voice_other_screen, zone_label, zone_unknown (HallqI18n).
 */
(function () {
  "use strict";

  // Calls said after one chime when calls queue up: a chime every few numbers keeps the
  // hall listening without costing 2 s a call.
  var GROUP_MAX = 6;
  // How much faster the short forms are played in a rush (the pitch is kept): 2.8 s a
  // call with the example hall's voice (150 words a minute).
  var RUSH_RATE = 1.5;
  // Calls waiting to be said: an hour of a hall's calls said back to back, far above
  // any burst; only a guard against a runaway, past which the oldest waiting call is let
  // go and counted in window.hallqLetGo.
  var PENDING_MAX = 1000;
  var GAP_MS = 700; // between two announcements
  var REPEAT_GAP_MS = 600; // between two sayings of one
  var RUSH_GAP_MS = 200; // between two calls of one group
  var FLASH_MS = 1800; // how long a call is flashed where nothing can be said
  var RUSH_FLASH_MS = 1000;

  window.hallqSpoken = [];
  window.__announced = [];
  window.hallqLetGo = 0;

  var A = {
    gate: null,
    indicator: null,
    onSilent: function () {},
    onSay: function () {},
    onIdle: function () {},
    queue: [],
    busy: false,
    saying: null,
    groups: 0,
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
    if (typeof opts.onSay === "function") A.onSay = opts.onSay;
    if (typeof opts.onIdle === "function") A.onIdle = opts.onIdle;
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
    window.hallqSpoken.push(text);
    // Queued behind another call: said in the short form, faster, once.
    var rush = A.busy || A.queue.length > 0;
    var item = {
      call: call,
      text: text,
      speech: ann.speech || text,
      brief: ann.brief_speech || ann.speech || text,
      synth: ann.synth || "browser",
      repeat: Math.max(1, Math.min(3, ann.repeat || 1)),
      number: call.number,
      window: call.window,
      rush: rush,
      queued: Date.now(),
      audio: null,
      briefAudio: null,
    };
    if (item.synth === "espeak-ng") {
      // Fetched now, so the daemon renders it while the calls before it are said.
      if (ann.audio && !rush) item.audio = A.load(ann.audio);
      if (ann.brief_audio) item.briefAudio = A.load(ann.brief_audio);
      item.audioUrl = ann.audio || null;
    }
    A.queue.push(item);
    while (A.queue.length > PENDING_MAX) {
      A.queue.shift();
      window.hallqLetGo++;
    }
    A.next();
  };

  A.load = function (url) {
    var audio = new Audio(url);
    audio.preload = "auto";
    return audio;
  };

  A.next = function () {
    if (A.busy) return;
    if (!A.queue.length) {
      A.saying = null;
      A.onIdle();
      return;
    }
    A.busy = true;
    var group = [A.queue.shift()];
    var g = ++A.groups;
    // Calls waiting join the group (up to GROUP_MAX), also those that come while it is said.
    var more = function () {
      if (!group[0].rush && !A.queue.length) return;
      group[0].rush = true;
      while (group.length < GROUP_MAX && A.queue.length) group.push(A.queue.shift());
    };
    more();
    var sayAt = function (i) {
      more();
      if (i >= group.length) {
        setTimeout(function () {
          A.busy = false;
          A.next();
        }, GAP_MS);
        return;
      }
      var item = group[i];
      // A call that came during the chime makes this one a rush too.
      if (A.queue.length || group.length > 1) item.rush = true;
      A.saying = item.call;
      A.onSay(item.call);
      A.sayOne(item, g).then(function () {
        setTimeout(function () {
          sayAt(i + 1);
        }, item.rush ? RUSH_GAP_MS : 0);
      });
    };
    A.saying = group[0].call;
    A.onSay(group[0].call);
    A.chime().then(function () {
      sayAt(0);
    });
  };

  // Says one call: the daemon's audio, else the browser's voice, else a flash. Resolves
  // when it is over.
  A.sayOne = function (item, group) {
    var record = {
      number: item.number,
      window: item.window,
      recall: !!item.call.recall,
      zone: A.zone,
      via: null,
      rush: item.rush,
      group: group,
      plays: 0,
      queued: item.queued,
      start: null,
      end: null,
    };
    // Recorded when the sound starts, not before: what the hall heard.
    var started = function (via) {
      if (record.start !== null) return;
      record.via = via;
      record.start = Date.now();
      window.__announced.push(record);
    };
    var ended = function () {
      record.end = Date.now();
    };
    // Repeats only while nobody else waits.
    var more = function () {
      return !item.rush && !A.queue.length;
    };
    var speakOrFlash = function () {
      var voice = A.blocked || item.synth === "off" ? null : A.mandarin();
      if (!voice) {
        started("flash");
        A.onSilent(item.number);
        return new Promise(function (resolve) {
          setTimeout(function () {
            ended();
            resolve();
          }, item.rush ? RUSH_FLASH_MS : FLASH_MS);
        });
      }
      var text = item.rush ? item.brief : item.speech;
      return A.say(text, voice, item.rush ? 1 : item.repeat, more, item.rush ? RUSH_RATE : 1, function () {
        started("speech");
        record.plays++;
      }).then(function (said) {
        if (record.start === null) {
          // The voice never said it began (some never do): it was at least asked.
          started("speech");
        }
        ended();
        return said;
      });
    };
    var play = function (audio, rush) {
      return A.play(audio, rush ? 1 : item.repeat, more, rush ? RUSH_RATE : 1, function () {
        started("audio");
      }, function () {
        record.plays++;
      });
    };
    var full = function () {
      if (!item.audio && item.audioUrl) item.audio = A.load(item.audioUrl);
      return item.audio;
    };
    if (A.blocked || (!item.briefAudio && !full())) return speakOrFlash();
    // In a rush the short form, else (or when it fails) the whole call-out.
    var first = item.rush && item.briefAudio ? play(item.briefAudio, true) : Promise.resolve(false);
    return first
      .then(function (played) {
        if (played || !full()) return played;
        return play(item.audio, item.rush);
      })
      .then(function (played) {
        if (!played) return speakOrFlash();
        ended();
      });
  };

  // Plays the daemon's audio up to `times` times (while `more()` says so after the first),
  // at `rate`; onStart when the sound first starts, onPlayed after each full play. Resolves
  // true once it has played, false when it could not play at all (not rendered, no sound
  // device, sound blocked).
  A.play = function (audio, times, more, rate, onStart, onPlayed) {
    return new Promise(function (resolve) {
      var left = times;
      var played = false;
      var guard = null;
      var finish = function (ok) {
        clearTimeout(guard);
        audio.onended = audio.onerror = audio.onplaying = null;
        resolve(ok);
      };
      var once = function () {
        if (left <= 0 || (played && !more())) {
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
        // Both: a media element still loading resets playbackRate to the default.
        audio.defaultPlaybackRate = rate;
        audio.playbackRate = rate;
        audio.preservesPitch = true;
        var p = audio.play();
        if (p && p.catch) {
          p.catch(function (e) {
            if (e && e.name === "NotAllowedError") A.setBlocked(true);
            finish(played);
          });
        }
      };
      audio.onplaying = function () {
        onStart();
      };
      audio.onended = function () {
        played = true;
        onPlayed();
        if (left <= 0 || !more()) finish(true);
        else setTimeout(once, REPEAT_GAP_MS);
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

  // Speaks text up to `times` times (while `more()` says so after the first) at `rate`;
  // onStart when the voice begins each utterance. Resolves when done, or after a guard
  // time when the browser never says it finished (some do not).
  A.say = function (text, voice, times, more, rate, onStart) {
    var synth = window.speechSynthesis;
    return new Promise(function (resolve) {
      var left = times;
      var said = 0;
      var once = function () {
        if (left <= 0 || (said > 0 && !more())) {
          resolve(said);
          return;
        }
        left--;
        var finished = false;
        var guard = null;
        var u = new SpeechSynthesisUtterance(text);
        u.lang = voice.lang || "zh-CN";
        u.voice = voice;
        u.rate = 0.85 * rate;
        var end = function () {
          if (finished) return;
          finished = true;
          said++;
          clearTimeout(guard);
          if (left <= 0 || !more()) resolve(said);
          else setTimeout(once, REPEAT_GAP_MS);
        };
        u.onstart = onStart;
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
