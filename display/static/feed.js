/* hallq — feed.js: the display feed (/ws/feed) for every hallq page.
 *
 *   var feed = new HallqFeed({
 *     onMessage: function (msg) {},  // every message (snapshot, call, window, queue), in order
 *     onState: function (state) {},  // "live" once connected, "reconnecting" while down
 *   });
 *   feed.start();  feed.stop();  feed.lastSeq  (the highest seq seen, or null)
 *
 * It remembers the last `seq` and, after a drop, reconnects with `?after=SEQ` so that it
 * gets exactly what it missed (or a fresh snapshot when the daemon no longer holds it, for
 * example after a restart); waits between attempts grow 0.5 s, 1 s, 2 s … up to 10 s.
 * Messages of one batch share a seq, so it resumes from just before the last seq and drops
 * the ones it already passed on: a drop in the middle of a batch loses nothing and repeats
 * nothing (a repeated call would be announced twice). After a snapshot it resumes from the
 * snapshot's seq itself, since the snapshot already holds that whole batch. A snapshot
 * given to a resuming screen is followed by the calls it missed (`missed: true`), which are
 * passed on as calls: a lobby says them.
 * A connection that goes silent without closing (a cable pulled) is noticed by a small
 * heartbeat: when what it sent has not left the browser by the next beat, it reconnects.
 */
(function () {
  "use strict";

  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 10000;
  var HEARTBEAT_MS = 20000;

  function HallqFeed(opts) {
    opts = opts || {};
    this.onMessage = typeof opts.onMessage === "function" ? opts.onMessage : function () {};
    this.onState = typeof opts.onState === "function" ? opts.onState : function () {};
    this.path = opts.path || "/ws/feed";
    this.lastSeq = null;
    this.seenAtLast = []; // texts of the messages passed on with seq == lastSeq
    this.snapshotAtLast = false; // lastSeq came from a snapshot, which covers its whole batch
    this.ws = null;
    this.state = null;
    this.backoff = BACKOFF_MIN_MS;
    this.retryTimer = null;
    this.beatTimer = null;
    this.stopped = true;
  }

  HallqFeed.prototype.url = function () {
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + window.location.host + this.path;
    if (this.lastSeq !== null) {
      var after = this.snapshotAtLast ? this.lastSeq : this.lastSeq - 1;
      if (after >= 0) url += "?after=" + after;
    }
    return url;
  };

  HallqFeed.prototype.setState = function (state) {
    if (this.state === state) return;
    this.state = state;
    try {
      this.onState(state);
    } catch (e) {
      /* a page bug must not stop the feed */
    }
  };

  HallqFeed.prototype.start = function () {
    this.stopped = false;
    this.connect();
    return this;
  };

  HallqFeed.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.beatTimer);
    if (this.ws) {
      var ws = this.ws;
      this.ws = null;
      try {
        ws.close();
      } catch (e) {
        /* already closed */
      }
    }
  };

  HallqFeed.prototype.connect = function () {
    var self = this;
    if (self.stopped) return;
    var ws;
    try {
      ws = new WebSocket(self.url());
    } catch (e) {
      self.scheduleRetry();
      return;
    }
    self.ws = ws;
    ws.onopen = function () {
      if (self.ws !== ws) return;
      self.backoff = BACKOFF_MIN_MS;
      self.setState("live");
      self.startHeartbeat(ws);
    };
    ws.onmessage = function (ev) {
      if (self.ws !== ws) return;
      self.receive(ev.data);
    };
    ws.onerror = function () {
      /* onclose follows and handles it */
    };
    ws.onclose = function () {
      if (self.ws !== ws) return;
      self.ws = null;
      clearInterval(self.beatTimer);
      if (!self.stopped) self.scheduleRetry();
    };
  };

  HallqFeed.prototype.receive = function (text) {
    var msg;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      return; // not a feed message: ignore it
    }
    if (!msg || typeof msg !== "object") return;
    var seq = typeof msg.seq === "number" ? msg.seq : null;
    if (msg.type === "call" && msg.missed === true) {
      // A call made while this screen was away, told after the snapshot the daemon sent
      // instead of what was missed (it restarted): never passed on before, whatever its seq.
    } else if (msg.type === "snapshot") {
      // A snapshot is the whole picture: always taken, and it resets the bookkeeping.
      this.lastSeq = seq;
      this.seenAtLast = [];
      this.snapshotAtLast = true;
    } else if (seq !== null && this.lastSeq !== null) {
      if (seq < this.lastSeq) return; // already passed on before a reconnect
      if (seq === this.lastSeq) {
        if (this.seenAtLast.indexOf(text) !== -1) return;
        this.seenAtLast.push(text);
      } else {
        this.lastSeq = seq;
        this.seenAtLast = [text];
        this.snapshotAtLast = false;
      }
    } else if (seq !== null) {
      this.lastSeq = seq;
      this.seenAtLast = [text];
      this.snapshotAtLast = false;
    }
    try {
      this.onMessage(msg);
    } catch (e) {
      /* a page bug must not stop the feed */
    }
  };

  HallqFeed.prototype.scheduleRetry = function () {
    var self = this;
    self.setState("reconnecting");
    clearTimeout(self.retryTimer);
    // A little jitter so a hall full of screens does not reconnect in one burst.
    var wait = self.backoff * (0.85 + Math.random() * 0.3);
    self.backoff = Math.min(self.backoff * 2, BACKOFF_MAX_MS);
    self.retryTimer = setTimeout(function () {
      self.connect();
    }, wait);
  };

  HallqFeed.prototype.startHeartbeat = function (ws) {
    var self = this;
    clearInterval(self.beatTimer);
    self.beatTimer = setInterval(function () {
      if (self.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      if (ws.bufferedAmount > 0) {
        // The last beat never left: the connection is dead without knowing it.
        self.ws = null;
        clearInterval(self.beatTimer);
        try {
          ws.close();
        } catch (e) {
          /* ignore */
        }
        self.scheduleRetry();
        return;
      }
      try {
        ws.send("ping"); // the daemon ignores the content; it proves the line works
      } catch (e) {
        /* onclose follows */
      }
    }, HEARTBEAT_MS);
  };

  window.HallqFeed = HallqFeed;
})();
