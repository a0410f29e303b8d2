/* hallq clerk console: 办不成事 (issue 17 §2). A clerk who cannot finish a matter presses
 * 办不成事, picks the reason from the hall's list (/api/v1/services → escalation) and may
 * add a note for the escalation window; the ticket goes to the escalation queue (window 12
 * in the example hall) with its number and its place by issue time. At the escalation
 * window the ticket panel says where the matter came from and why.
 *
 *   HallqClerkEscalate.mount(ctx)  ctx gives the console's state and helpers (see clerk.js).
 *                                  Returns {open, isOpen, onKey, render, renderInfo, allowed}.
 * The action goes through the console's act('not-done', body), so it is legal-checked, in
 * flight once and keyed like every other action; the daemon decides (unknown reasons, a
 * second escalation and a clerk at another window are refused there). */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      a_notdone: '办不成事', a_notdone_sub: '转“办不成事请找我”', esc_title: '办不成事', esc_note_h: '转交说明（选填）',
      esc_intro: '号码不变，按取号时间在 {q} 排队，由 {w} 接办，并开立督办工单', esc_reason: '未办成原因（必选）',
      esc_note_ph: '告诉接办窗口卡在哪里，如需哪个部门确认', esc_confirm: '确认转交', esc_from: '办不成事 · {w}转来',
      esc_why: '原因：{r}', esc_due: '答复期限 {d}', i_escalated: '{n} 已转“办不成事请找我”',
      e_unknown_escalation_reason: '请选择列表中的原因', e_already_escalated: '该事项已在“办不成事请找我”窗口办理',
      e_no_escalation: '本大厅未设“办不成事请找我”窗口', e_reason_required: '请选择未办成原因', e_note_required: '说明最多 500 字'
    },
    en: {
      a_notdone: 'Not done', a_notdone_sub: 'to the escalation window', esc_title: 'Could not be done', esc_note_h: 'Note for the escalation window (optional)',
      esc_intro: 'Same number, queued by issue time in {q}, taken on by {w}; a case is opened', esc_reason: 'Why it could not be done (required)',
      esc_note_ph: 'Where it is stuck, which department must confirm', esc_confirm: 'Hand over', esc_from: 'Escalated · from {w}',
      esc_why: 'Reason: {r}', esc_due: 'Answer due {d}', i_escalated: '{n} sent to the escalation window',
      e_unknown_escalation_reason: 'Pick a reason from the list', e_already_escalated: 'This matter is with the escalation window already',
      e_no_escalation: 'This hall has no escalation window', e_reason_required: 'Pick a reason', e_note_required: 'A note has at most 500 characters'
    }
  };
  // Into the console's words before clerk.js hands them to HallqI18n.
  ['zh', 'en'].forEach(function (l) {
    var d = window.HallqClerkText[l];
    Object.keys(WORDS[l]).forEach(function (k) { d[k] = WORDS[l][k]; });
  });

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$, t = ctx.t, esc = ctx.esc;
    var reason = null;
    function tv(k, vars) { var s = t(k); return s.replace(/\{(\w+)\}/g, function (m, n) { return vars && n in vars ? vars[n] : m; }); }
    function policy() { return S.catalog.escalation || null; }
    function windowsText(p) { return (p.windows || []).map(function (w) { return w.name; }).join('、') || p.queue; }

    // The daemon would refuse: no escalation queue, or the matter is there already.
    function allowed(tk) {
      var p = policy();
      return !!p && !!tk && !tk.escalation && tk.queue !== p.queue;
    }

    function isOpen() { return !$('escalate-dialog').hidden; }
    function open() {
      var p = policy();
      if (!p) return;
      reason = null;
      $('escalate-number').textContent = S.ticket ? S.ticket.number : '';
      $('escalate-intro').textContent = tv('esc_intro', { q: p.queue + ' ' + p.queue_name, w: windowsText(p) });
      $('escalate-note').value = '';
      $('escalate-dialog').hidden = false;
      render();
    }
    function close() { $('escalate-dialog').hidden = true; }

    function render() {
      var p = policy();
      if (!p) return;
      $('escalate-reasons').innerHTML = p.reasons.map(function (r) {
        return '<button type="button" class="ck-target' + (reason === r.code ? ' is-picked' : '') + '" data-reason-code="' + esc(r.code) +
          '"><span>' + esc(r.name) + '</span><small>' + esc(r.code) + '</small></button>';
      }).join('');
      $('escalate-confirm').disabled = !reason || !!S.inflight;
    }

    function confirm() {
      if (!reason || $('escalate-confirm').disabled) return;
      var note = $('escalate-note').value.trim();
      var body = { outcome: 'not_done', reason: reason };
      if (note) body.note = note;
      close();
      ctx.act('not-done', body);
    }

    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      if (e.key === 'Enter' && e.target && e.target.tagName !== 'TEXTAREA') { e.preventDefault(); confirm(); }
    }

    // At the escalation window: where the matter came from, why, and by when it is answered.
    function renderInfo(tk) {
      var el = $('ticket-escalation'), e = tk && tk.escalation;
      el.hidden = !e;
      if (!e) { el.innerHTML = ''; return; }
      el.innerHTML = '<b class="ck-esc-from">' + esc(tv('esc_from', { w: e.from_window_name })) + '</b>' +
        '<span class="ck-esc-why">' + esc(tv('esc_why', { r: e.reason_name })) + '</span>' +
        '<span class="ck-esc-due">' + esc(tv('esc_due', { d: e.due })) + '</span>';
    }

    $('escalate-reasons').addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (!b) return;
      reason = b.dataset.reasonCode;
      render();
    });
    $('escalate-cancel').addEventListener('click', close);
    $('escalate-confirm').addEventListener('click', confirm);
    $('escalate-dialog').addEventListener('click', function (e) { if (e.target === this) close(); });

    return { open: open, isOpen: isOpen, onKey: onKey, render: render, renderInfo: renderInfo, allowed: allowed };
  }

  window.HallqClerkEscalate = { mount: mount };
})();
