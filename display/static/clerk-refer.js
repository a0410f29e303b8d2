/* hallq clerk console: 转他中心 (issue 18, 跨中心转办). A clerk whose visitor's matter
 * belongs to another hall of the district presses 转他中心, picks the hall (the hall's
 * [[district.peer]], /api/v1/referrals/peers) and the reason, and may add a note; the
 * other hall issues a number for the visitor, which the console then shows in large type
 * to tell them (their phone's status page shows it too). At the other hall the ticket
 * panel says where the visitor came from and why.
 *
 *   HallqClerkRefer.mount(ctx)  ctx gives the console's state and helpers (see clerk.js).
 *                               Returns {open, isOpen, onKey, render, renderInfo, done}.
 * The action goes through the console's act('refer', body), so it is legal-checked, in
 * flight once and keyed like every other action; the daemons decide (an unknown hall, a
 * hall that does not answer, a service the other hall does not offer are refused there). */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      a_refer: '转他中心', a_refer_sub: '跨中心转办', ref_title: '转他中心办理', ref_to: '转至（必选）', ref_reason: '转办原因（必选）',
      ref_note_h: '转办说明（选填）', ref_note_ph: '告诉对方中心群众要办什么、已带哪些材料', ref_confirm: '确认转办',
      ref_intro: '对方中心将为群众取号（需到达后签到），本号码在本窗口按未办结结束', ref_none: '本中心未配置可转办的中心（hall.toml 的 [[district.peer]]）',
      ref_done_h: '已转至 {h}', ref_done_n: '请告知群众：在该中心的号码', ref_done_tip: '到达后请在自助取号机扫码签到（手机号票页面已显示）', ref_ok: '知道了',
      ref_from: '由 {h} 转来', ref_why: '原因：{r}', ref_note: '说明：{n}', ref_was: '原号 {n}', i_referred: '{n} 已转他中心办理',
      e_hall_unreachable: '该中心暂时无法连接，号码仍在本窗口，请稍后重试', e_unknown_peer: '请选择列表中的中心',
      e_bad_reason: '请选择列表中的原因', e_bad_note: '说明最多 200 字', e_referral_refused: '对方中心未能接收（可能不办理此事项），号码仍在本窗口，可改选其他中心', e_no_district: '本中心未接入区级平台，无法转办',
      e_referrals_busy: '本中心已有 4 件转办在等待对方答复，号码仍在本窗口，请稍后重试'
    },
    en: {
      a_refer: 'Refer', a_refer_sub: 'to another hall', ref_title: 'Refer to another hall', ref_to: 'To (required)', ref_reason: 'Reason (required)',
      ref_note_h: 'Note (optional)', ref_note_ph: 'What the visitor needs, which documents they carry', ref_confirm: 'Refer',
      ref_intro: 'The other hall takes a number for the visitor (checked in on arrival); this number ends here as incomplete', ref_none: 'No halls to refer to ([[district.peer]] in hall.toml)',
      ref_done_h: 'Referred to {h}', ref_done_n: 'Tell the visitor their number there', ref_done_tip: 'On arrival, check in at a kiosk by scanning the code on the phone', ref_ok: 'OK',
      ref_from: 'Referred from {h}', ref_why: 'Reason: {r}', ref_note: 'Note: {n}', ref_was: 'was {n}', i_referred: '{n} referred to another hall',
      e_hall_unreachable: 'That hall cannot be reached now; the number stays at your window, try again shortly', e_unknown_peer: 'Pick a hall from the list',
      e_bad_reason: 'Pick a reason from the list', e_bad_note: 'A note has at most 200 characters', e_referral_refused: 'The other hall did not take it (it may not offer this matter); the number stays at your window', e_no_district: 'This hall is not linked to a district',
      e_referrals_busy: 'Four referrals of this hall are waiting for an answer; the number stays at your window, try again shortly'
    }
  };
  ['zh', 'en'].forEach(function (l) {
    var d = window.HallqClerkText[l];
    Object.keys(WORDS[l]).forEach(function (k) { d[k] = WORDS[l][k]; });
  });

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$, t = ctx.t, esc = ctx.esc;
    var peers = null, reasons = [], to = null, reason = null;
    function tv(k, vars) { var s = t(k); return s.replace(/\{(\w+)\}/g, function (m, n) { return vars && n in vars ? vars[n] : m; }); }

    // The hall's peers, read once after sign-in; the button shows only where there are some
    // (a hall without [district] or peers refers nowhere).
    var loading = false;
    function load() {
      if (loading || peers !== null || !S.token) return;
      loading = true;
      ctx.api('GET', '/api/v1/referrals/peers').then(function (p) {
        peers = p.enabled ? p.peers || [] : []; reasons = p.reasons || [];
      }).catch(function () {}).then(function () { loading = false; sync(); render(); });
    }
    function sync() { document.querySelector('[data-action="refer"]').hidden = !peers || !peers.length; }

    function isOpen() { return !$('refer-dialog').hidden || !$('refer-done').hidden; }
    function open() {
      to = null; reason = null;
      $('refer-number').textContent = S.ticket ? S.ticket.number : '';
      $('refer-note').value = '';
      $('refer-dialog').hidden = false;
      render();
    }
    function close() { $('refer-dialog').hidden = true; $('refer-done').hidden = true; }

    function render() {
      var none = peers !== null && !peers.length;
      $('refer-none').hidden = !none;
      $('refer-peers').innerHTML = (peers || []).map(function (p) {
        return '<button type="button" class="ck-target' + (to === p.id ? ' is-picked' : '') + '" data-peer="' + esc(p.id) +
          '"><span>' + esc(p.name) + '</span><small>' + esc(p.id) + '</small></button>';
      }).join('');
      $('refer-reasons').innerHTML = reasons.map(function (r) {
        return '<button type="button" class="ck-chip' + (reason === r ? ' is-picked' : '') + '" data-reason="' + esc(r) + '">' + esc(r) + '</button>';
      }).join('');
      $('refer-confirm').disabled = !to || !reason || !!S.inflight;
    }

    function confirm() {
      if ($('refer-confirm').disabled) return;
      var note = $('refer-note').value.trim();
      var body = { to_hall: to, reason: reason };
      if (note) body.note = note;
      $('refer-dialog').hidden = true;
      ctx.act('refer', body);
    }

    // The other hall's number, large, for the clerk to tell the visitor.
    function done(tk) {
      var r = tk && tk.referral;
      if (!r) return;
      $('refer-done-h').textContent = tv('ref_done_h', { h: r.hall_name });
      $('refer-done-number').textContent = r.number;
      $('refer-done').hidden = false;
      $('refer-ok').focus();
    }

    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
      if (e.key === 'Enter' && e.target && e.target.tagName !== 'TEXTAREA') {
        e.preventDefault();
        if (!$('refer-done').hidden) close(); else confirm();
      }
    }

    // At the other hall: where the visitor came from, why, and the clerk's note.
    function renderInfo(tk) {
      load();
      var el = $('ticket-referral'), r = tk && tk.referral;
      var shown = !!r && r.direction === 'in';
      el.hidden = !shown;
      if (!shown) { el.innerHTML = ''; return; }
      el.innerHTML = '<b class="ck-esc-from">' + esc(tv('ref_from', { h: r.hall_name })) + '</b>' +
        '<span class="ck-esc-why">' + esc(tv('ref_why', { r: r.reason })) + '</span>' +
        '<span class="ck-esc-due">' + esc(tv('ref_was', { n: r.number })) + '</span>' +
        (r.note ? '<span class="ck-ref-note">' + esc(tv('ref_note', { n: r.note })) + '</span>' : '');
    }

    $('refer-peers').addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (b) { to = b.dataset.peer; render(); }
    });
    $('refer-reasons').addEventListener('click', function (e) {
      var b = e.target.closest('button');
      if (b) { reason = b.dataset.reason; render(); }
    });
    $('refer-cancel').addEventListener('click', close);
    $('refer-confirm').addEventListener('click', confirm);
    $('refer-ok').addEventListener('click', close);
    $('refer-dialog').addEventListener('click', function (e) { if (e.target === this) close(); });

    return { open: open, isOpen: isOpen, onKey: onKey, render: render, renderInfo: renderInfo, done: done };
  }

  window.HallqClerkRefer = { mount: mount };
})();
