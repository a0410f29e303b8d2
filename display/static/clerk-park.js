/* hallq clerk console: the tickets parked at this window (暂存, issue 4 rule 6), in the
 * "暂存中" card (#park-list in clerk.html), each with a Resume button that calls it back.
 *
 *   HallqClerkPark.mount(ctx)  wires the card to the console; ctx gives the console's
 *                              state and helpers (see clerk.js). Returns
 *                              {render, tick, parked(ticket), blocked()}.
 *
 * Parking itself is a pad action (act('park') in clerk.js). Resume posts
 * /windows/{w}/unpark with the ticket's id, in flight once and with a fresh
 * Idempotency-Key like every other action, and only while the window is idle; a disabled
 * Resume says why. The daemon does not say when a ticket was parked, so the console
 * remembers the time it parked each one, per ticket id, for this browser session; a
 * ticket parked elsewhere counts from when this console first saw it, shown as "≥". */
(function () {
  'use strict';

  var MEMORY_KEY = 'hallq.clerk.parked';
  var MEMORY_MAX = 32; // tickets remembered; a day's parks at one window stay far below

  // ---- when each ticket was parked, as this console knows it ----
  function memory() {
    try { return JSON.parse(sessionStorage.getItem(MEMORY_KEY) || '[]') || []; } catch (e) { return []; }
  }
  function remember(id, at, exact) {
    var list = memory().filter(function (m) { return m && m.id !== id; });
    list.push({ id: id, at: at, exact: exact });
    while (list.length > MEMORY_MAX) list.shift();
    try { sessionStorage.setItem(MEMORY_KEY, JSON.stringify(list)); } catch (e) { /* counted from the render */ }
  }
  function parkedAt(id) {
    var found = null;
    memory().forEach(function (m) { if (m && m.id === id) found = m; });
    if (!found) { found = { id: id, at: Date.now(), exact: false }; remember(id, found.at, false); }
    return found;
  }

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$, t = ctx.t, esc = ctx.esc;
    var list = $('park-list'), shown = '';

    // Why Resume cannot be pressed now, in words, or '' when it can.
    function blocked() {
      var st = S.win ? S.win.state : 'closed';
      if (st === 'open') return '';
      if (st === 'calling' || st === 'serving') return t('pk_busy');
      if (st === 'paused') return t('pk_paused');
      return t('h_closed');
    }

    function items(tk) {
      if (tk.bundle && S.catalog.bundles[tk.bundle]) return S.catalog.bundles[tk.bundle].name;
      return (tk.services || []).map(function (c) { return (S.catalog.items[c] || { name: c }).name; }).join('、');
    }

    function row(tk, why) {
      var busy = S.inflight === 'unpark:' + tk.id, off = !!S.inflight || !!why;
      return '<li class="ck-parked"><b class="ck-parked-no">' + esc(tk.number) + '</b>' +
        '<span class="ck-parked-items">' + esc(items(tk)) + '</span>' +
        '<span class="ck-parked-for" data-parked="' + esc(tk.id) + '"></span>' +
        '<button type="button" class="ck-resume' + (busy ? ' is-busy' : '') + '" data-unpark="' + esc(tk.id) + '"' +
        (off ? ' disabled' : '') + ' title="' + esc(why) + '">' + esc(t('pk_resume')) + '</button>' +
        (why ? '<small class="ck-parked-why">' + esc(why) + '</small>' : '') + '</li>';
    }

    // Redrawn only when it changes: the feed redraws the side often, and a list rebuilt
    // under the pointer would swallow a click.
    function render() {
      var parked = S.parked || [], why = blocked();
      $('park-count').textContent = parked.length ? String(parked.length) : '';
      var html = parked.length ? parked.map(function (tk) { return row(tk, why); }).join('')
        : '<li class="ck-muted ck-empty">' + esc(t('pk_none')) + '</li>';
      if (html !== shown) { list.innerHTML = html; shown = html; }
      var close = document.querySelector('[data-action="close"]');
      close.querySelector('small').textContent = close.title = parked.length ? t('pk_close') : '';
      tick();
    }

    function tick() {
      list.querySelectorAll('[data-parked]').forEach(function (el) {
        var p = parkedAt(el.dataset.parked);
        el.textContent = t('pk_for', (p.exact ? '' : '≥ ') + ctx.dur(Date.now() - p.at));
      });
    }

    // The answer of a park at this console: the ticket, now parked here.
    function parked(tk) {
      remember(tk.id, Date.now(), true);
      S.parked = (S.parked || []).filter(function (p) { return p.id !== tk.id; }).concat([tk]);
    }

    function resume(id) {
      if (S.inflight || blocked()) return;
      S.inflight = 'unpark:' + id;
      ctx.render(); // disables the pad and every Resume before the request leaves
      ctx.api('POST', '/api/v1/windows/' + encodeURIComponent(S.windowId) + '/unpark', { ticket: id }).then(function (r) {
        S.parked = (S.parked || []).filter(function (p) { return p.id !== id; });
        ctx.called(r);
      }).catch(function (err) {
        ctx.fail(err);
        if (err.status === 409 || err.status === 403) ctx.scheduleSync();
      }).then(function () { S.inflight = null; ctx.render(); });
    }

    list.addEventListener('click', function (e) {
      var b = e.target.closest('[data-unpark]');
      if (b && !b.disabled) resume(b.dataset.unpark);
    });

    return { render: render, tick: tick, parked: parked, blocked: blocked };
  }

  window.HallqClerkPark = { mount: mount };
})();
