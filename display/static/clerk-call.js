/* hallq clerk console: calling a waiting ticket by its number (issue 4, rule 7), and the
 * line that says why the current ticket was called (rule 8).
 *
 *   HallqClerkCall.mount(ctx)  wires the dialog in clerk.html (#call-dialog) to the console;
 *                              ctx gives the console's state and helpers (see clerk.js).
 *                              Returns {open, isOpen, onKey, render, relabel, recalled}.
 *   HallqClerkCall.ruleText(rule, mine)  a ticket's call_rule as one line in the page's
 *                              language; `mine` is what this console remembers of its own
 *                              call by number ({reason, clerk}), or null.
 *   HallqClerkCall.normalise(raw)  "a12", "Ａ０１２", "A0012" -> "A012"; the daemon compares
 *                              numbers as printed, three digits at least.
 *
 * The daemon records the clerk and the reason in its log but leaves both off the wire (the
 * ticket's holder reads the same ticket), so the console remembers the reason it sent,
 * per ticket id, for this browser session only, to show it beside the rule. */
(function () {
  'use strict';

  var I18N = window.HallqI18n;
  var REASON_CHARS_MAX = 200; // the daemon's CALL_REASON_CHARS_MAX
  var MEMORY_KEY = 'hallq.clerk.bynumber';
  var MEMORY_MAX = 32; // tickets remembered; older ones fall back to the generic line
  // The numbers each rule needs before the page may word it; a rule without them, or of a
  // kind this page does not know, reads as the generic line instead.
  var NEEDS = {
    transferred_here: [], aged: ['waited_min', 'max_min'], priority: ['class'], ordinary_turn: ['turn', 'of'],
    earliest_issued: [], by_number: []
  };

  function tv(key, vars) { return I18N ? I18N.t(key, vars) : key; }
  function lang() { return I18N && I18N.lang ? I18N.lang() : 'zh'; }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  function chars(s) { return Array.from(s).length; }

  function normalise(raw) {
    var s = String(raw == null ? '' : raw).replace(/[\uFF01-\uFF5E]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); // full-width letters and digits from an IME
    }).replace(/\s+/g, '').toUpperCase();
    var m = /^([A-Z]{1,2})(\d{1,7})$/.exec(s);
    if (!m) return s;
    var n = String(parseInt(m[2], 10));
    while (n.length < 3) n = '0' + n;
    return m[1] + n;
  }

  function ruleText(r, mine) {
    if (!r || typeof r !== 'object') return '';
    if (r.code === 'by_number' && mine && mine.reason) {
      return tv('r_by_number_why', { r: mine.reason, c: mine.clerk || '' });
    }
    // Chinese: the daemon's own sentence, so that console and log agree.
    if (lang() !== 'en') return typeof r.text === 'string' && r.text ? r.text : tv('r_other');
    var code = typeof r.code === 'string' ? r.code : '';
    if (!has(NEEDS, code) || NEEDS[code].some(function (k) { return r[k] == null; })) return tv('r_other');
    var cls = r['class'];
    var key = 'r_' + code + (code === 'priority' && r.per_ordinary ? '_ratio' : '');
    var name = cls != null && I18N && tv('p_' + cls) !== 'p_' + cls ? tv('p_' + cls) : cls;
    return tv(key, { w: r.waited_min, m: r.max_min, c: name, n: r.per_ordinary, t: r.turn, o: r.of });
  }

  // ---- what this console remembers of its own calls by number ----
  function memory() {
    try { return JSON.parse(sessionStorage.getItem(MEMORY_KEY) || '[]') || []; } catch (e) { return []; }
  }
  function remember(id, reason, clerk) {
    var list = memory().filter(function (m) { return m && m.id !== id; });
    list.push({ id: id, reason: reason, clerk: clerk });
    while (list.length > MEMORY_MAX) list.shift();
    try { sessionStorage.setItem(MEMORY_KEY, JSON.stringify(list)); } catch (e) { /* shown without the reason */ }
  }
  function recalled(id) {
    var found = null;
    memory().forEach(function (m) { if (m && m.id === id) found = m; });
    return found;
  }

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$;
    var overlay = $('call-dialog'), form = $('call-form'), numberEl = $('call-number'), reasonEl = $('call-reason');
    var submitEl = $('call-submit'), errorEl = $('call-error'), opener = null;

    function isOpen() { return !overlay.hidden; }

    function showError(text, field) {
      errorEl.textContent = text;
      errorEl.hidden = !text;
      if (field) { field.focus(); field.select(); }
    }

    // Why the dialog cannot call now, in words, or '' when it can.
    function blocked() {
      var st = S.win ? S.win.state : 'closed';
      if (st === 'open') return '';
      if (st === 'calling' || st === 'serving') return ctx.t('cn_busy');
      if (st === 'paused') return ctx.t('cn_paused');
      return ctx.t('h_closed');
    }

    function render() {
      var btn = document.querySelector('[data-action="call-number"]');
      if (btn) {
        var why = blocked();
        btn.querySelector('small').textContent = why || ctx.t('a_callnum_sub');
        btn.title = why;
      }
      if (!isOpen()) return;
      var busy = S.inflight === 'call-number';
      submitEl.disabled = !!S.inflight || !!blocked();
      submitEl.classList.toggle('is-busy', busy);
      submitEl.textContent = ctx.t(busy ? 'cn_sending' : 'cn_submit');
      $('call-count').textContent = chars(reasonEl.value) + '/' + REASON_CHARS_MAX;
      $('call-blocked').textContent = blocked();
      $('call-blocked').hidden = !blocked();
    }

    function open() {
      if (isOpen()) return;
      opener = document.activeElement;
      numberEl.value = '';
      reasonEl.value = '';
      showError('');
      overlay.hidden = false;
      render();
      numberEl.focus();
    }

    function close() {
      if (!isOpen()) return;
      overlay.hidden = true;
      // Back to what opened the dialog, unless the call has disabled it.
      if (opener && opener !== document.body && document.contains(opener) && !opener.disabled) opener.focus();
      else if (document.activeElement) document.activeElement.blur();
      opener = null;
    }

    function submit(e) {
      if (e) e.preventDefault();
      if (S.inflight || submitEl.disabled) return;
      var number = normalise(numberEl.value), reason = reasonEl.value.trim();
      numberEl.value = number;
      if (!number) { showError(ctx.t('e_cn_number'), numberEl); return; }
      if (!reason || chars(reason) > REASON_CHARS_MAX) { showError(ctx.t('e_call_reason_required'), reasonEl); return; }
      showError('');
      S.inflight = 'call-number';
      ctx.render(); // disables the pad and this submit before the request leaves
      ctx.api('POST', '/api/v1/windows/' + encodeURIComponent(S.windowId) + '/call', { number: number, reason: reason }).then(function (r) {
        var ticket = r && r.ticket;
        if (!ticket) throw { status: 200, code: 'generic', message: '' };
        remember(ticket.id, reason, S.user);
        close();
        ctx.called(ticket);
      }).catch(function (err) {
        if (err.status === 401) { close(); ctx.fail(err); return; }
        var field = err.code === 'call_reason_required' ? reasonEl
          : ['unknown_number', 'not_waiting', 'waits_elsewhere', 'bad_call'].indexOf(err.code) >= 0 ? numberEl : null;
        showError(ctx.errorText(err), field);
        if (err.status === 409 || err.status === 403) ctx.scheduleSync();
      }).then(function () { S.inflight = null; ctx.render(); });
    }

    // Keys while the dialog is open: Esc cancels, Tab stays inside; Enter submits through
    // the form. No console shortcut fires.
    function onKey(e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); return; }
      if (e.key !== 'Tab') return;
      var items = Array.prototype.filter.call(form.querySelectorAll('input, button'), function (el) { return !el.disabled; });
      var first = items[0], last = items[items.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
      else if (!form.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
    }

    function relabel() {
      document.querySelectorAll('#call-quick [data-reason]').forEach(function (b) { b.textContent = ctx.t(b.dataset.reason); });
      render();
    }

    form.addEventListener('submit', submit);
    numberEl.addEventListener('blur', function () { numberEl.value = normalise(numberEl.value); });
    reasonEl.addEventListener('input', render);
    $('call-quick').addEventListener('click', function (e) {
      var b = e.target.closest('[data-reason]');
      if (!b) return;
      reasonEl.value = b.textContent;
      reasonEl.focus();
      render();
    });
    $('call-cancel').addEventListener('click', close);
    overlay.addEventListener('click', function (e) { if (e.target === overlay) close(); });
    relabel();

    return { open: open, isOpen: isOpen, onKey: onKey, render: render, relabel: relabel, recalled: recalled };
  }

  window.HallqClerkCall = { mount: mount, ruleText: ruleText, normalise: normalise, recalled: recalled };
})();
