/* hallq — guide-feed.js: the guide page follows the hall's display feed (/ws/feed, through
 * feed.js) instead of asking /api/v1/guide every few seconds (issue 17 §1).
 *
 *   HallqGuideFeed.start(refresh)  refresh() reads /api/v1/guide again
 *   HallqGuideFeed.stop()          on sign-out
 *   HallqGuideFeed.live()          whether the socket is up: guide.js polls only when not
 *   HallqGuideFeed.counts          {pushed, polled, limited}: refreshes the feed caused,
 *                                  those of the fallback poll since the socket was last
 *                                  up, and reads the daemon refused with 429 (guide.js
 *                                  waits out its Retry-After) (for the page's tests)
 *
 * The public feed says when something in the hall moved (a call, a queue's length, a
 * window) but not whose visitor it was: that is the guide's own read, which only the
 * signed-in guide may make. So each burst of feed messages leads to one read of the
 * guide's visitors, at most one per COALESCE_MS, and the alerts at the call and at each
 * bundle step come from that read as before. While the socket is down, guide.js polls as
 * it used to, and a reconnect reads once to catch up. The feed's connections are bounded
 * by the daemon like every display's. */
(function () {
  "use strict";

  // A call sends a burst (the call, the queue, the window): one read for all of it. In a
  // busy hall the feed never rests, so this is also the most a guide's phone reads: one a
  // second, for an alert that comes within a second of the call.
  var COALESCE_MS = 1000;

  var feed = null;
  var pending = null;
  var refresh = function () {};
  var counts = { pushed: 0, polled: 0, limited: 0 };

  function push() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      counts.pushed += 1;
      refresh();
    }, COALESCE_MS);
  }

  function start(onRefresh) {
    stop();
    refresh = onRefresh;
    feed = new window.HallqFeed({
      onMessage: push,
      onState: function (state) {
        document.body.dataset.feed = state;
        if (state === "live") counts.polled = 0;
        // Live again: catch up once. Down: refresh() finds the socket down and polls.
        refresh();
      }
    });
    feed.start();
  }

  function stop() {
    if (feed) feed.stop();
    feed = null;
    clearTimeout(pending);
    pending = null;
    delete document.body.dataset.feed;
  }

  function live() { return !!feed && feed.state === "live"; }

  window.HallqGuideFeed = { start: start, stop: stop, live: live, counts: counts };
})();
