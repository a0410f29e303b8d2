/* hallq clerk console: the transfer dialog (#transfer-dialog in clerk.html), which sends
 * the current ticket to a queue or to another open window; the ticket keeps its number
 * and its place by issue time.
 *
 *   HallqClerkTransfer.mount(ctx)  wires the dialog to the console; ctx gives the
 *                                  console's state and helpers (see clerk.js). Returns
 *                                  {open, isOpen, onKey, render}.
 * The transfer itself goes through the console's act('transfer', target), so it is
 * legal-checked, in flight once and keyed like every other action. */
(function () {
  'use strict';

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$, t = ctx.t, esc = ctx.esc;
    var tab = 'queue';

    function isOpen() { return !$('transfer-dialog').hidden; }

    function open() {
      S.transferTarget = null;
      $('transfer-number').textContent = S.ticket ? S.ticket.number : '';
      $('transfer-dialog').hidden = false;
      ctx.api('GET', '/api/v1/hall').then(function (h) { ctx.applySnapshot(h); render(); }).catch(function () { render(); });
      render();
    }
    function close() { $('transfer-dialog').hidden = true; }

    function render() {
      document.querySelectorAll('.ck-tab').forEach(function (b) { b.classList.toggle('is-on', b.dataset.tab === tab); });
      var sel = S.transferTarget, html;
      if (tab === 'queue') {
        html = Object.keys(S.catalog.queues).map(function (id) {
          var on = sel && sel.queue === id;
          return '<button type="button" class="ck-target' + (on ? ' is-picked' : '') + '" data-queue="' + esc(id) + '"><b>' + esc(id) + '</b><span>' + esc(ctx.queueName(id)) +
            '</span><small>' + esc(t('waiting_n', S.waiting[id] || 0)) + '</small></button>';
        }).join('');
      } else {
        html = S.hallWindows.map(function (w) {
          var self = w.id === S.windowId, off = self || w.state === 'closed', on = sel && sel.window === w.id;
          return '<button type="button" class="ck-target' + (on ? ' is-picked' : '') + '" data-twindow="' + esc(w.id) + '"' + (off ? ' disabled' : '') + '><b>' + esc(w.id) +
            '</b><span>' + esc(w.name) + '</span><small class="ck-pill" data-state="' + esc(w.state) + '">' + esc(self ? t('mine') : t('st_' + w.state)) + '</small></button>';
        }).join('');
      }
      $('transfer-targets').innerHTML = html;
      $('transfer-confirm').disabled = !sel || !!S.inflight;
    }

    function confirm() {
      if (!S.transferTarget || $('transfer-confirm').disabled) return;
      var body = S.transferTarget;
      close();
      ctx.act('transfer', body);
    }

    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      if (e.key === 'Enter') { e.preventDefault(); confirm(); }
    }

    document.querySelectorAll('.ck-tab').forEach(function (b) {
      b.addEventListener('click', function () { tab = b.dataset.tab; S.transferTarget = null; render(); });
    });
    $('transfer-targets').addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b || b.disabled) return;
      S.transferTarget = b.dataset.queue ? { queue: b.dataset.queue } : { window: b.dataset.twindow };
      render();
    });
    $('transfer-targets').addEventListener('dblclick', function (e) { if (e.target.closest('button:not([disabled])')) confirm(); });
    $('transfer-cancel').addEventListener('click', close);
    $('transfer-confirm').addEventListener('click', confirm);
    $('transfer-dialog').addEventListener('click', function (e) { if (e.target === this) close(); });

    return { open: open, isOpen: isOpen, onKey: onKey, render: render };
  }

  window.HallqClerkTransfer = { mount: mount };
})();
