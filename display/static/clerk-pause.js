/* hallq clerk console: a pause's reason (issue 17 §5, 考勤考核). Pausing (F8 · P) asks why,
 * from the hall's list (/api/v1/services → pause_reasons): a digit picks a reason, Enter
 * pauses without one, Esc keeps the window open. The reason is counted in the clerk's
 * scorecard (reports page, 考勤考核).
 *
 *   HallqClerkPause.mount(ctx)  ctx gives the console's state and helpers (see clerk.js).
 *                               Returns {wanted, open, isOpen, onKey}.
 * The pause goes through the console's act('pause', body), legal-checked and in flight once. */
(function () {
  'use strict';

  var WORDS = {
    zh: { ps_title: '暂停服务', ps_note: '请选择暂停原因（按数字键选择），将计入考勤考核', ps_none: '不注明原因 (Enter)' },
    en: { ps_title: 'Pause', ps_note: 'Why is the window paused? (press a digit) It counts in the scorecard', ps_none: 'No reason (Enter)' }
  };
  ['zh', 'en'].forEach(function (l) {
    var d = window.HallqClerkText[l];
    Object.keys(WORDS[l]).forEach(function (k) { d[k] = WORDS[l][k]; });
  });

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$, t = ctx.t, esc = ctx.esc;
    function reasons() { return S.catalog.pause_reasons || []; }
    function wanted() { return reasons().length > 0; }
    function isOpen() { return !$('pause-dialog').hidden; }
    function close() { $('pause-dialog').hidden = true; }
    function open() {
      $('pause-title').textContent = t('ps_title');
      $('pause-note').textContent = t('ps_note');
      $('pause-none').textContent = t('ps_none');
      $('pause-reasons').innerHTML = reasons().map(function (r, i) {
        return '<button type="button" class="ck-target" data-pause-reason="' + esc(r.code) + '"><span>' +
          (i < 9 ? '<kbd>' + (i + 1) + '</kbd> ' : '') + esc(r.name) + '</span></button>';
      }).join('');
      $('pause-dialog').hidden = false;
      var first = $('pause-reasons').querySelector('button');
      if (first) first.focus();
    }
    function pause(code) {
      close();
      ctx.act('pause', code ? { reason: code } : {});
    }
    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); return; }
      if (e.key === 'Enter' && !(e.target && e.target.dataset && e.target.dataset.pauseReason)) { e.preventDefault(); pause(null); return; }
      var n = Number(e.key);
      if (n >= 1 && n <= 9 && reasons()[n - 1]) { e.preventDefault(); pause(reasons()[n - 1].code); }
    }
    $('pause-reasons').addEventListener('click', function (e) {
      var b = e.target.closest('[data-pause-reason]');
      if (b) pause(b.dataset.pauseReason);
    });
    $('pause-none').addEventListener('click', function () { pause(null); });
    $('pause-cancel').addEventListener('click', close);
    $('pause-dialog').addEventListener('click', function (e) { if (e.target === this) close(); });
    return { wanted: wanted, open: open, isOpen: isOpen, onKey: onKey };
  }

  window.HallqClerkPause = { mount: mount };
})();
