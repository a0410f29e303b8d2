/* hallq clerk console: the clerk's moves of issue 17 §4.
 *  - 办结即叫 (store-next, key A): armed, the daemon calls the next ticket in the same step
 *    that finishes this window's ticket, and while the window idles, the first that comes
 *    to wait (or one waiting at arming); the console then reads the window again.
 *  - 办结并叫号 (done-next, key J): finish and call the next as one command.
 *  - 窗口取号 (walk-direct, key W): a ticket for a visitor who walked up, issued to this
 *    window and called at once; the daemon refuses it while a ticket this window serves
 *    has waited past the hall's max_wait (that one is called first).
 *
 *   HallqClerkMoves.mount(ctx)  ctx gives the console's state and helpers (see clerk.js).
 *                               Returns {body, after, render, openWalk, isOpen, onKey}.
 * Every action goes through the console's act(), so it is legal-checked, in flight once
 * and keyed like every other action. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      a_store: '办结即叫', a_store_on: '已开启 · 办结后自动叫号', a_store_off: '未开启', a_donenext: '办结并叫号',
      a_donenext_sub: '办结并呼叫下一位', a_walk: '窗口取号', a_walk_sub: '为现场群众直接取号',
      i_store_on: '已开启办结即叫：窗口空闲即自动呼叫下一位', i_store_off: '已关闭办结即叫', i_donenext: '{n} 已办结，已呼叫 {m}',
      i_donenext_none: '{n} 已办结，暂无等候号码', i_walk: '已为现场群众取号 {n} 并呼叫',
      walk_title: '窗口取号', walk_note: '为到窗口的群众直接取号并呼叫；已超过最长等候时间的号码须先呼叫', walk_cancel: '取消 (Esc)',
      e_walk_direct_behind_aged: '有号码已超过最长等候时间，请先叫号', e_walk_direct_limit: '本窗口今日窗口取号已达上限',
      e_walk_direct_not_served: '本窗口不办理该事项'
    },
    en: {
      a_store: 'Store next', a_store_on: 'On · calls the next on finish', a_store_off: 'Off', a_donenext: 'Done + next',
      a_donenext_sub: 'finish and call the next', a_walk: 'Walk-up ticket', a_walk_sub: 'for a visitor at the counter',
      i_store_on: 'Store-next on: the next is called whenever the window is free', i_store_off: 'Store-next off', i_donenext: '{n} done, {m} called',
      i_donenext_none: '{n} done, nobody waiting', i_walk: 'Walk-up ticket {n} issued and called',
      walk_title: 'Walk-up ticket', walk_note: 'Issued to this window and called at once; a ticket past the maximum wait is called first', walk_cancel: 'Cancel (Esc)',
      e_walk_direct_behind_aged: 'A ticket has waited past the maximum wait: call it first', e_walk_direct_limit: 'This window has issued its walk-up tickets for today',
      e_walk_direct_not_served: 'This window does not serve that item'
    }
  };
  ['zh', 'en'].forEach(function (l) {
    var d = window.HallqClerkText[l];
    Object.keys(WORDS[l]).forEach(function (k) { d[k] = WORDS[l][k]; });
  });

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$, t = ctx.t, esc = ctx.esc;
    function tv(k, vars) { var s = t(k); return s.replace(/\{(\w+)\}/g, function (m, n) { return vars && n in vars ? vars[n] : m; }); }

    // The body an action sends, or null for the console's own.
    function body(action) {
      if (action === 'store-next') return { armed: !(S.win && S.win.store_next) };
      if (action === 'done-next') return { outcome: 'completed' };
      return null;
    }

    // Handles the answer of one of these actions; true if it was one.
    function after(action, r, number) {
      if (action === 'store-next') {
        S.win = r;
        ctx.toast(t(r.store_next ? 'i_store_on' : 'i_store_off'), 'info');
        return true;
      }
      if (action === 'done-next') {
        S.ticket = null; S.win.state = 'open'; S.win.ticket = null;
        if (r.next) { ctx.called(r.next); ctx.toast(tv('i_donenext', { n: number, m: r.next.number }), 'info'); }
        else ctx.toast(tv('i_donenext_none', { n: number }), 'info');
        return true;
      }
      if (action === 'walk-direct') {
        ctx.called(r);
        ctx.toast(tv('i_walk', { n: r.number }), 'info');
        return true;
      }
      return false;
    }

    function render() {
      var b = document.querySelector('[data-action="store-next"]');
      if (!b) return;
      var on = !!(S.win && S.win.store_next);
      b.classList.toggle('is-armed', on);
      b.setAttribute('aria-pressed', String(on));
      $('store-next-state').textContent = t(on ? 'a_store_on' : 'a_store_off');
    }

    // ---- the walk-up dialog: the items of this window's queues ----
    function isOpen() { return !$('walk-dialog').hidden; }
    function openWalk() {
      var qs = S.win ? S.win.queues : [];
      var items = Object.keys(S.catalog.items).map(function (k) { return S.catalog.items[k]; })
        .filter(function (i) { return qs.indexOf(i.queue) >= 0; });
      $('walk-items').innerHTML = items.map(function (i) {
        return '<button type="button" class="ck-target" data-walk-item="' + esc(i.code) + '"><span>' + esc(i.name) +
          '</span><small>' + esc(i.code) + '</small></button>';
      }).join('');
      $('walk-dialog').hidden = false;
    }
    function close() { $('walk-dialog').hidden = true; }
    function onKey(e) { if (e.key === 'Escape') { e.preventDefault(); close(); } }
    $('walk-items').addEventListener('click', function (e) {
      var b = e.target.closest('[data-walk-item]');
      if (!b) return;
      close();
      ctx.act('walk-direct', { service: b.dataset.walkItem });
    });
    $('walk-cancel').addEventListener('click', close);

    return { body: body, after: after, render: render, openWalk: openWalk, isOpen: isOpen, onKey: onKey };
  }

  window.HallqClerkMoves = { mount: mount };
})();
