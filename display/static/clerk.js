/* hallq clerk console (/display/clerk).
 * Sign in (POST /api/v1/login; token kept in sessionStorage), pick and open a window,
 * then drive it: next, call by number (clerk-call.js), recall, serve, done (completed /
 * incomplete), no-show, transfer (clerk-transfer.js), park and resume (clerk-park.js),
 * pause/resume, close; recall limits and bundle steps are worded by clerk-ticket.js. Each button
 * is enabled only when its action is legal for the window's state and disabled while
 * any request is in flight; every POST carries a fresh Idempotency-Key (staff.js, shared
 * with the other staff pages), so a double click never calls twice. Live queue counts and recent calls come from the display
 * feed (HallqFeed); API refusals show as a toast. */
(function () {
  'use strict';

  var DICT = window.HallqClerkText;
  var CALL = window.HallqClerkCall;
  var callDialog = null, transferDialog = null, parkList = null, ticketView = null, escalate = null, pauseDialog = null, moves = null, refer = null; // mounted in start()

  var I18N = window.HallqI18n;
  var STAFF = window.HallqStaff;
  var esc = STAFF.esc;
  function t(k, n) {
    var s = I18N ? I18N.t(k) : (DICT.zh[k] || k);
    return n === undefined ? s : s.replace('{n}', n);
  }
  function lang() { return I18N && I18N.lang ? I18N.lang() : 'zh'; }
  function $(id) { return document.getElementById(id); }

  // What actions a window state allows.
  var LEGAL = {
    open: ['next', 'call-number', 'pause', 'close', 'store-next', 'walk-direct'], calling: ['recall', 'serve', 'no-show', 'transfer', 'park', 'store-next', 'refer'],
    serving: ['done', 'done-incomplete', 'not-done', 'transfer', 'park', 'store-next', 'done-next', 'refer'], paused: ['resume', 'close', 'store-next'], closed: []
  };
  // F5 (reload) and F11 (full screen) stay the browser's, so park takes F12 · Z (暂存 zàncún).
  var KEYS = { F1: 'next', n: 'next', F10: 'call-number', h: 'call-number', F2: 'recall', r: 'recall', F3: 'serve', s: 'serve', F4: 'done', d: 'done',
    F9: 'done-incomplete', u: 'done-incomplete', F6: 'no-show', x: 'no-show', F7: 'transfer', t: 'transfer', F8: 'pause', p: 'pause',
    F12: 'park', z: 'park', j: 'done-next', a: 'store-next', w: 'walk-direct' }; // clerk-moves.js
  var STORE = 'hallq.clerk';

  var S = {
    token: null, user: null, role: null, allowed: [], windowId: null, win: null, ticket: null, parked: [],
    catalog: { items: {}, bundles: {}, queues: {}, priorities: {} }, hallWindows: [], waiting: {}, eta: {},
    calls: [], firstCall: {}, inflight: null, feed: 'connecting', pick: null, transferTarget: null, syncTimer: null
  };

  // ---- the session and the API ----
  var loginForm = null; // wired in wire()
  function save() {
    loginForm.session.save({ token: S.token, user: S.user, role: S.role, allowed: S.allowed, windowId: S.windowId });
  }
  function api(method, path, body) { return STAFF.api(S.token, method, path, body); }

  function errorText(err) {
    if (err.status === 0) return t('e_network');
    if (err.status === 401) return t('e_expired');
    var key = 'e_' + (err.code || '');
    if (err.code === 'forbidden') key = 'e_forbidden';
    var s = t(key);
    if (s !== key) return s;
    return lang() === 'en' && err.message ? err.message : t('e_generic');
  }

  // ---- toast ----
  var toastTimer = null;
  function toast(text, kind) {
    var el = $('toast');
    el.textContent = text;
    el.dataset.kind = kind || 'error';
    el.hidden = false;
    el.classList.remove('is-out');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.classList.add('is-out'); toastTimer = setTimeout(function () { el.hidden = true; }, 300); },
      kind === 'info' ? 2600 : 5000);
  }
  function fail(err) {
    if (err.status === 401) { logout(t('e_expired')); return; }
    toast(errorText(err), 'error');
  }

  // ---- screens ----
  function show(screen) {
    ['login', 'pick', 'console'].forEach(function (s) { $('screen-' + s).hidden = s !== screen; });
    $('user-box').hidden = screen === 'login';
    $('top-window').hidden = screen !== 'console';
    $('user-name').textContent = STAFF.who(S);
    document.body.dataset.screen = screen;
    if (screen === 'login') setTimeout(function () { $('login-user').focus(); }, 0);
    if (screen === 'console') render();
  }

  function logout(message) {
    S.windowId = S.win = S.ticket = null;
    S.allowed = []; S.parked = [];
    loginForm.signOut(message || '');
    show('login');
  }

  function signedIn(r) {
    S.allowed = r.windows || [];
    save();
    if (!r.window) return showPicker();
    // Signed in at a window left open (a restart, another browser): straight back to it,
    // not to "开启窗口" for a window that is already open and calling.
    S.windowId = r.window;
    save();
    return api('GET', '/api/v1/hall').then(applySnapshot).catch(function () {}).then(refresh).then(function () {
      if (S.windowId) show('console');
    }).catch(function (err) { fail(err); showPicker(); });
  }

  // ---- choosing a window ----
  function showPicker() {
    S.windowId = null; S.win = null; S.ticket = null; S.parked = [];
    save();
    show('pick');
    return api('GET', '/api/v1/hall').then(function (hall) {
      applySnapshot(hall);
      var list = S.hallWindows.filter(function (w) { return !S.allowed.length || S.allowed.indexOf(w.id) >= 0; });
      if (S.pick && !list.some(function (w) { return w.id === S.pick; })) S.pick = null;
      if (!S.pick && list.length === 1) S.pick = list[0].id;
      renderPicker(list);
    }).catch(fail);
  }

  function renderPicker(list) {
    $('window-select').innerHTML = list.map(function (w) {
      var qs = w.queues.map(function (q) { return esc(queueName(q)); }).join(' · ');
      return '<button type="button" class="ck-wopt' + (S.pick === w.id ? ' is-picked' : '') + '" role="option" data-window="' + esc(w.id) +
        '" aria-selected="' + (S.pick === w.id) + '"><span class="ck-wopt-no">' + esc(w.id) + '</span><span class="ck-wopt-name">' + esc(w.name) +
        '</span><span class="ck-wopt-q">' + esc(t('serves')) + qs + '</span><span class="ck-pill" data-state="' + esc(w.state) + '">' +
        esc(t('st_' + w.state)) + '</span></button>';
    }).join('');
    $('open-window').disabled = !S.pick;
  }

  function openWindow() {
    var btn = $('open-window');
    if (!S.pick || btn.disabled) return;
    btn.disabled = true;
    var w = S.pick;
    api('POST', '/api/v1/windows/' + encodeURIComponent(w) + '/open').then(function () {
      S.windowId = w;
      save();
      $('toast').hidden = true;
      return refresh().then(function () { if (S.windowId) show('console'); });
    }).catch(fail).then(function () { btn.disabled = !S.pick; });
  }

  // ---- window state ----
  function refresh() {
    if (!S.windowId) return Promise.resolve();
    return api('GET', '/api/v1/windows/' + encodeURIComponent(S.windowId)).then(function (r) {
      if (r.window.state === 'closed' || (r.window.clerk && r.window.clerk !== S.user)) {
        if (document.body.dataset.screen === 'console') toast(t('e_lost_window'), 'error');
        return showPicker(); // closed or taken over elsewhere: choose again
      }
      S.win = r.window;
      S.ticket = r.ticket || null;
      S.parked = r.parked || [];
      render();
    });
  }
  function scheduleSync() {
    clearTimeout(S.syncTimer);
    S.syncTimer = setTimeout(function () { if (!S.inflight) refresh().catch(fail); }, 150);
  }

  function act(action, body) {
    var btn = document.querySelector('[data-action="' + action + '"]');
    if (S.inflight || !btn || btn.disabled || btn.hidden || !legal(action)) return;
    if (action === 'transfer' && !body) { transferDialog.open(); return; }
    if (action === 'call-number') { callDialog.open(); return; }
    if (action === 'not-done' && !body) { escalate.open(); return; }
    if (action === 'refer' && !body) { refer.open(); return; } // 转他中心 (clerk-refer.js)
    if (action === 'pause' && !body && pauseDialog.wanted()) { pauseDialog.open(); return; }
    if (action === 'walk-direct' && !body) { moves.openWalk(); return; }
    body = body || moves.body(action);
    var path = action === 'done-incomplete' || action === 'not-done' ? 'done' : action;
    if (action === 'done') body = { outcome: 'completed' };
    if (action === 'done-incomplete') body = { outcome: 'incomplete' };
    var number = S.ticket && S.ticket.number;
    S.inflight = action;
    render(); // disables every button before the request leaves
    api('POST', '/api/v1/windows/' + encodeURIComponent(S.windowId) + '/' + path, body).then(function (r) {
      afterAction(action, r, number);
    }).catch(function (err) {
      fail(err);
      if (err.status === 409 || err.status === 403) scheduleSync();
    }).then(function () { S.inflight = null; render(); });
  }

  function afterAction(action, r, number) {
    if (moves.after(action, r, number)) return;
    var st = S.win.state;
    if (action === 'next') {
      if (!r || !r.ticket) { toast(t('i_nobody'), 'info'); return; }
      called(r.ticket);
      return;
    }
    if (action === 'recall' || action === 'serve') { S.ticket = r; S.win.state = action === 'serve' ? 'serving' : st; }
    else if (['done', 'done-incomplete', 'not-done', 'no-show', 'transfer', 'park', 'refer'].indexOf(action) >= 0) {
      S.ticket = null; S.win.state = 'open'; S.win.ticket = null;
      if (action === 'park') parkList.parked(r);
      if (action === 'refer') refer.done(r); // the other hall's number, to tell the visitor
      if (S.win.store_next) scheduleSync(); // store-next called the next in the same step
      var msg = { done: r && r.status === 'waiting' ? 'i_step_done' : 'i_done', 'done-incomplete': 'i_incomplete', 'not-done': 'i_escalated', 'no-show': 'i_noshow', transfer: 'i_transferred', park: 'i_parked', refer: 'i_referred' }[action];
      toast(t(msg, number), 'info');
    } else if (r && r.state) {
      S.win = r;
      if (action === 'close') { toast(t('i_closed'), 'info'); showPicker(); return; }
      toast(t(action === 'pause' ? 'i_paused' : 'i_resumed'), 'info');
    }
    if (action === 'recall') toast(t('i_recalled', number), 'info');
  }

  // A ticket this window has just called, by `next` or by its number.
  function called(ticket) {
    S.ticket = ticket; S.win.state = 'calling'; S.win.ticket = ticket.number;
    addRecent({ number: ticket.number, window: S.windowId, at: ticket.called_at, recall: false });
  }

  function legal(action) {
    var st = S.win ? S.win.state : 'closed';
    if (action === 'recall' && ticketView.recallSpent(S.ticket)) return false; // the daemon would refuse: no-show instead
    if (action === 'close' && S.parked.length) return false; // parked tickets are resumed and finished first
    if (action === 'not-done' && !escalate.allowed(S.ticket)) return false; // no escalation queue, or there already
    return (LEGAL[st] || []).indexOf(action) >= 0;
  }

  // ---- the feed ----
  function applySnapshot(s) {
    S.hallWindows = s.windows || [];
    (s.queues || []).forEach(function (q) { S.waiting[q.id] = q.waiting; S.eta[q.id] = q.eta_minutes; });
    if (s.recent_calls) S.calls = s.recent_calls.slice();
  }
  // Every call seen (snapshot, feed, our own answers), oldest first; shown per window.
  function addRecent(c) {
    if (S.calls.some(function (o) { return o.number === c.number && o.at === c.at && o.window === c.window; })) return;
    S.calls.push(c);
    if (S.calls.length > 60) S.calls.shift();
  }
  function onFeed(m) {
    if (m.type === 'snapshot') { applySnapshot(m); if (S.win) checkWindow(S.hallWindows); }
    else if (m.type === 'queue') { S.waiting[m.id] = m.waiting; if (m.eta_minutes !== undefined) S.eta[m.id] = m.eta_minutes; }
    else if (m.type === 'window') {
      var i = S.hallWindows.findIndex(function (w) { return w.id === m.window.id; });
      if (i >= 0) S.hallWindows[i] = m.window; else S.hallWindows.push(m.window);
      checkWindow([m.window]);
    } else if (m.type === 'call' && m.window === S.windowId) {
      addRecent({ number: m.number, window: m.window, at: m.at, recall: m.recall });
    }
    if (document.body.dataset.screen === 'console') renderSide();
  }
  // A window message that disagrees with what the console shows (another tab, a
  // supervisor) makes the console read its window again.
  function checkWindow(list) {
    list.forEach(function (w) {
      if (!S.win || w.id !== S.windowId) return;
      var mine = S.ticket ? S.ticket.number : null;
      if (w.state !== S.win.state || (w.ticket || null) !== mine) scheduleSync();
    });
  }
  function onFeedState(state) {
    S.feed = state;
    var el = $('feed-state');
    el.dataset.state = state;
    $('feed-state-text').textContent = t('feed_' + state);
    if (state === 'live' && S.windowId) scheduleSync();
  }

  // ---- rendering ----
  function queueName(id) { var q = S.catalog.queues[id]; return q ? q.name : id; }
  // The daemon's times carry the hall's UTC offset ("…T09:05:00+08:00"): read as the hall
  // reads them, so that a PC whose own time zone is set wrong still shows hall time (the
  // clock too, once one such time was seen).
  var hallOffsetMin = null;
  function hm(iso) {
    var m = /T(\d\d):(\d\d)/.exec(iso || '');
    if (!m) return '—';
    var z = /([+-])(\d\d):(\d\d)$/.exec(iso);
    if (z) hallOffsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
    else if (/Z$/.test(iso)) hallOffsetMin = 0;
    return m[1] + ':' + m[2];
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function dur(ms) {
    var s = Math.max(0, Math.floor(ms / 1000)), m = Math.floor(s / 60), sp = lang() === 'en' ? ' ' : '';
    return m ? m + t('min') + sp + pad(s % 60) + t('sec') : s + t('sec');
  }
  function clockDur(ms) {
    var s = Math.max(0, Math.floor(ms / 1000)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    return (h ? h + ':' + pad(m) : m) + ':' + pad(s % 60);
  }

  function render() {
    if (!S.win) return;
    var st = S.win.state, tk = S.ticket;
    $('window-name').textContent = S.win.name;
    var ws = $('window-state');
    ws.dataset.state = st;
    ws.textContent = t('s_' + st);
    var panel = $('ticket-panel');
    panel.dataset.state = st;
    $('ticket-state-label').textContent = t('s_' + st);
    $('ticket-hint').textContent = t('h_' + st);
    $('current-number').textContent = tk ? tk.number : '';
    panel.dataset.hasTicket = tk ? 'yes' : 'no';
    var tags = '';
    if (tk) {
      tags += '<span class="ck-tag">' + esc(queueName(tk.queue)) + '</span>';
      if (tk.priority) tags += '<span class="ck-tag ck-tag-prio">' + esc(t('priority')) + ' · ' + esc((S.catalog.priorities[tk.priority] || {}).name || tk.priority) + '</span>';
      if (tk.bundle) tags += '<span class="ck-tag ck-tag-bundle">' + esc(t('bundle')) + '</span>';
    }
    $('ticket-tags').innerHTML = tags;
    var why = tk ? whyText(tk) : '';
    $('ticket-rule').hidden = !why;
    $('ticket-rule-text').textContent = why;
    $('t-issued').textContent = tk ? hm(tk.issued_at) : '—';
    // A recall moves called_at on: the wait is up to the first call this console saw.
    var first = tk && tk.called_at && (S.firstCall[tk.id] = S.firstCall[tk.id] || tk.called_at);
    $('t-waited').textContent = first ? dur(Date.parse(first) - Date.parse(tk.issued_at)) : '—';
    $('t-live-label').textContent = t(tk && tk.serving_at ? 'serving_for' : 'called_for');
    ticketView.render(tk); // items and materials, bundle steps, recall count, where Done sends it
    escalate.renderInfo(tk); // at the escalation window: from where and why
    refer.renderInfo(tk); // a visitor referred here from another hall
    tick();
    renderPad();
    renderSide();
  }

  // Why the ticket was called (rule 8); a rule this page cannot word never stops the render.
  function whyText(tk) {
    if (!tk.call_rule) return '';
    try { return CALL.ruleText(tk.call_rule, CALL.recalled(tk.id)); } catch (e) { return t('r_other'); }
  }

  function tick() {
    var tk = S.ticket, el = $('t-live');
    var since = tk ? (tk.serving_at || (S.win && S.win.state === 'calling' ? tk.called_at : null)) : null;
    el.textContent = since ? clockDur(Date.now() - Date.parse(since)) : '—';
    if (parkList) parkList.tick();
    var d = new Date(), h = d.getHours(), mi = d.getMinutes();
    if (hallOffsetMin !== null) {
      var hall = new Date(d.getTime() + hallOffsetMin * 60000);
      h = hall.getUTCHours();
      mi = hall.getUTCMinutes();
    }
    $('clock').textContent = pad(h) + ':' + pad(mi) + ':' + pad(d.getSeconds());
  }

  function renderPad() {
    var st = S.win ? S.win.state : 'closed';
    document.querySelectorAll('[data-action]').forEach(function (b) {
      var a = b.dataset.action;
      if (a === 'pause') b.hidden = st === 'paused';
      if (a === 'resume') b.hidden = st !== 'paused';
      b.disabled = !!S.inflight || !legal(a);
      // While a request is in flight every button is disabled, but the legal ones keep
      // their look (no flicker); only the one in flight shows a spinner.
      b.classList.toggle('is-held', !!S.inflight && legal(a));
      b.classList.toggle('is-busy', S.inflight === a);
    });
    callDialog.render();
    parkList.render();
    moves.render();
    if (escalate.isOpen()) escalate.render();
  }

  function renderIdle() {
    var st = S.win ? S.win.state : 'closed', total = 0;
    (S.win ? S.win.queues : []).forEach(function (q) { total += S.waiting[q] || 0; });
    $('idle-title').textContent = t(st === 'paused' ? 's_paused' : 'no_ticket');
    $('idle-count').textContent = total;
    $('idle-count-label').textContent = t('idle_waiting');
    $('idle-hint').textContent = t(st === 'paused' ? 'h_paused' : total ? 'h_open' : 'h_empty');
  }

  function renderSide() {
    renderIdle();
    var qs = S.win ? S.win.queues : [];
    $('queue-list').innerHTML = qs.map(function (q) {
      var n = S.waiting[q] == null ? 0 : S.waiting[q], eta = S.eta[q];
      return '<div class="ck-q' + (n ? '' : ' is-zero') + '"><span class="ck-q-id">' + esc(q) + '</span><span class="ck-q-name">' + esc(queueName(q)) +
        '</span><span class="ck-q-n"><b>' + n + '</b><small>' + esc(t('waiting_n', '').trim()) + '</small></span>' +
        (eta != null && n ? '<span class="ck-q-eta">' + esc(t('eta', eta)) + '</span>' : '') + '</div>';
    }).join('');
    var recent = S.calls.filter(function (c) { return c.window === S.windowId; }).slice(-6).reverse();
    $('recent-list').innerHTML = recent.length ? recent.map(function (c) {
      return '<li><b>' + esc(c.number) + '</b><span>' + hm(c.at) + '</span>' + (c.recall ? '<em>' + esc(t('recall_tag')) + '</em>' : '') + '</li>';
    }).join('') : '<li class="ck-muted ck-empty">' + esc(t('none_yet')) + '</li>';
  }

  // ---- events ----
  function onKey(e) {
    if (callDialog.isOpen()) { callDialog.onKey(e); return; }
    if (transferDialog.isOpen()) { transferDialog.onKey(e); return; }
    if (escalate.isOpen()) { escalate.onKey(e); return; }
    if (refer.isOpen()) { refer.onKey(e); return; }
    if (pauseDialog.isOpen()) { pauseDialog.onKey(e); return; }
    if (moves.isOpen()) { moves.onKey(e); return; }
    if (document.body.dataset.screen !== 'console' || e.altKey || e.ctrlKey || e.metaKey) return;
    var tag = (e.target && e.target.tagName) || '';
    var typing = tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
    var key = e.key && e.key.length === 1 ? e.key.toLowerCase() : e.key;
    var action = KEYS[key];
    if (!action || (typing && key.length === 1)) return;
    e.preventDefault();
    if (action === 'pause' && S.win && S.win.state === 'paused') action = 'resume';
    act(action);
  }

  function wire() {
    loginForm = STAFF.login({
      t: t, roles: ['clerk', 'admin'], state: S, store: STORE, onLogin: signedIn, errorText: errorText,
      keys: { empty: 'e_login_empty', role: 'e_no_role', busy: 'logging_in' }
    });
    $('logout').addEventListener('click', function () { logout(''); });
    $('window-select').addEventListener('click', function (e) {
      var b = e.target.closest('[data-window]');
      if (!b) return;
      S.pick = b.dataset.window;
      Array.prototype.forEach.call(this.children, function (c) {
        c.classList.toggle('is-picked', c === b); c.setAttribute('aria-selected', String(c === b));
      });
      $('open-window').disabled = false;
    });
    $('window-select').addEventListener('dblclick', function (e) { if (e.target.closest('[data-window]')) openWindow(); });
    $('open-window').addEventListener('click', openWindow);
    $('pad').addEventListener('click', function (e) {
      var b = e.target.closest('[data-action]');
      if (b) act(b.dataset.action);
    });
    document.addEventListener('keydown', onKey);
    if (I18N && I18N.onChange) I18N.onChange(relabel); // redraw the text drawn by script
  }

  function relabel() {
    onFeedState(S.feed);
    var screen = document.body.dataset.screen;
    if (screen === 'console') render();
    if (screen === 'pick') showPicker();
    if (transferDialog.isOpen()) transferDialog.render();
    callDialog.relabel();
    $('login-submit').textContent = t('login');
  }

  function loadCatalog() {
    return api('GET', '/api/v1/services').then(function (c) {
      (c.items || []).forEach(function (i) { S.catalog.items[i.code] = i; });
      (c.bundles || []).forEach(function (b) { S.catalog.bundles[b.id] = b; });
      (c.queues || []).forEach(function (q) { S.catalog.queues[q.id] = q; });
      (c.priorities || []).forEach(function (p) { S.catalog.priorities[p.id] = p; });
      S.catalog.escalation = c.escalation || null;
      S.catalog.pause_reasons = c.pause_reasons || [];
      if (c.hall && c.hall.name) { $('hall-name').textContent = c.hall.name; document.title = c.hall.name + ' · ' + t('app'); }
    });
  }

  function start() {
    if (I18N) I18N.init(DICT);
    callDialog = CALL.mount({
      S: S, $: $, t: t, api: api, errorText: errorText, fail: fail, render: render, scheduleSync: scheduleSync,
      called: function (ticket) { called(ticket); toast(t('i_called', ticket.number), 'info'); }
    });
    transferDialog = window.HallqClerkTransfer.mount({
      S: S, $: $, t: t, esc: esc, api: api, applySnapshot: applySnapshot, queueName: queueName, act: act
    });
    parkList = window.HallqClerkPark.mount({
      S: S, $: $, t: t, esc: esc, api: api, dur: dur, fail: fail, render: render, scheduleSync: scheduleSync,
      called: function (ticket) { called(ticket); toast(t('i_unparked', ticket.number), 'info'); }
    });
    escalate = window.HallqClerkEscalate.mount({ S: S, $: $, t: t, esc: esc, act: act });
    refer = window.HallqClerkRefer.mount({ S: S, $: $, t: t, esc: esc, act: act, api: api });
    pauseDialog = window.HallqClerkPause.mount({ S: S, $: $, t: t, esc: esc, act: act });
    moves = window.HallqClerkMoves.mount({ S: S, $: $, t: t, esc: esc, act: act, toast: toast, called: called });
    ticketView = window.HallqClerkTicket.mount({ S: S, $: $, t: t, lang: lang, esc: esc, queueName: queueName });
    wire();
    onFeedState('connecting');
    tick();
    setInterval(tick, 1000);
    loadCatalog().catch(function () { toast(t('e_network'), 'error'); }).then(function () {
      if (window.HallqFeed) new window.HallqFeed({ onMessage: onFeed, onState: onFeedState }).start();
      var saved = loginForm.restore();
      if (!saved) { show('login'); return; }
      S.allowed = saved.allowed || [];
      if (!saved.windowId) { showPicker(); return; }
      S.windowId = saved.windowId;
      api('GET', '/api/v1/hall').then(applySnapshot).catch(function () {}).then(refresh).then(function () {
        if (S.windowId) show('console');
      }).catch(function (err) {
        if (err.status === 401) logout(t('e_expired'));
        else { fail(err); showPicker(); }
      });
    });
  }

  start();
})();
