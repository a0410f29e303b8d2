/* hallq supervisor page (/display/supervisor).
 * Sign in as a supervisor or admin (POST /api/v1/login; the staff portal's one sign-in, staff.js),
 * then GET /api/v1/supervision: queues, windows and today's active alerts. It is read
 * again every few seconds and, sooner, a moment after any feed message (a call, a window
 * change, a queue count), so the page follows the hall live while supervision data stays
 * behind the login (the public feed carries no alerts and no clerk names). A new alert
 * plays a chime (Web Audio, no file) and flashes the page; "确认" acknowledges it
 * (POST /api/v1/alerts/{id}/ack, with a fresh Idempotency-Key). */
(function () {
  'use strict';

  var POLL_MS = 5000;      // the overview is read at least this often
  var AFTER_FEED_MS = 300; // and this soon after a feed message (one read per burst)
  var SOUND_KEY = 'hallq.supervisor.sound';

  var DICT = {
    zh: {
      app: '值班长监控台', logout: '退出登录', login_title: '值班长登录',
      login_sub: '使用值班长或管理员账号登录，查看大厅实时运行与预警', user: '用户名', password: '密码', login: '登录',
      logging_in: '登录中…', alerts: '当前预警', no_alerts: '暂无预警，大厅运行正常', queues: '队列', windows: '窗口',
      q_name: '队列', q_waiting: '等候人数', q_oldest: '最长等候', q_eta: '现在取号等候', q_limits: '预警阈值', updated: '更新于',
      ack: '确认', acked: '{n} 已确认', since: '{n} 起', min: '{n} 分钟', people: '{n} 人', off: '未设',
      k_queue_waiting: '{name} 排队 {value} 人，超过 {threshold} 人',
      k_queue_unstaffed: '{id} {name}：{value} 人等候，没有开启的窗口办理', nowin: '无窗口办理',
      p_offline: '{name} 打印机离线，号票打印不出', p_paper_out: '{name} 打印机缺纸，号票打印不出',
      p_paper_low: '{name} 打印机纸将用完', p_cover_open: '{name} 打印机盖未合上，号票打印不出',
      k_queue_wait: '{name} 最长等候 {value} 分钟，超过 {threshold} 分钟',
      k_window_paused: '{name} 暂停 {value} 分钟，超过 {threshold} 分钟',
      k_window_idle: '{name} 空闲 {value} 分钟未叫号，超过 {threshold} 分钟',
      s_closed: '未开启', s_open: '空闲', s_calling: '呼叫中', s_serving: '办理中', s_paused: '暂停',
      for_n: '已 {n} 分钟', summary: '开启 {open} · 暂停 {paused} · 关闭 {closed}', clerk: '工作人员',
      live: '实时', reconnecting: '重新连接中', connecting: '连接中', sound_on: '提示音：开', sound_off: '提示音：关',
      e_login: '用户名或密码错误', e_login_empty: '请输入用户名和密码', e_role: '需要值班长或管理员账号',
      e_network: '网络连接失败，请稍后重试', e_expired: '登录已过期，请重新登录', e_generic: '操作失败，请重试',
      acked_toast: '已确认预警'
    },
    en: {
      app: 'Supervisor', logout: 'Sign out', login_title: 'Supervisor sign-in',
      login_sub: 'Sign in as a supervisor or admin to watch the hall and its alerts', user: 'User', password: 'Password',
      login: 'Sign in', logging_in: 'Signing in…', alerts: 'Active alerts', no_alerts: 'No alerts: the hall runs normally',
      queues: 'Queues', windows: 'Windows', q_name: 'Queue', q_waiting: 'Waiting', q_oldest: 'Oldest wait', q_eta: 'Wait if taken now',
      q_limits: 'Alert at', updated: 'Updated', ack: 'Acknowledge', acked: 'seen by {n}', since: 'since {n}', min: '{n} min',
      people: '{n}', off: 'off',
      k_queue_waiting: '{name}: {value} waiting, above {threshold}',
      k_queue_unstaffed: '{id} {name}: {value} waiting and no open window serves it', nowin: 'no window open',
      p_offline: '{name}: printer offline, tickets do not print', p_paper_out: '{name}: printer out of paper, tickets do not print',
      p_paper_low: '{name}: printer paper running low', p_cover_open: '{name}: printer cover open, tickets do not print',
      k_queue_wait: '{name}: oldest wait {value} min, above {threshold}',
      k_window_paused: '{name}: paused {value} min, above {threshold}',
      k_window_idle: '{name}: idle {value} min while tickets wait, above {threshold}',
      s_closed: 'Closed', s_open: 'Idle', s_calling: 'Calling', s_serving: 'Serving', s_paused: 'Paused',
      for_n: 'for {n} min', summary: 'open {open} · paused {paused} · closed {closed}', clerk: 'Clerk',
      live: 'Live', reconnecting: 'Reconnecting', connecting: 'Connecting', sound_on: 'Sound: on', sound_off: 'Sound: off',
      e_login: 'Wrong user or password', e_login_empty: 'Enter user and password', e_role: 'A supervisor or admin account is needed',
      e_network: 'Network error; try again', e_expired: 'Session expired; sign in again', e_generic: 'That failed; try again',
      acked_toast: 'Alert acknowledged'
    }
  };

  var I18N = window.HallqI18n;
  var STAFF = window.HallqStaff;
  var esc = STAFF.esc;
  function t(k, vars) { return I18N ? I18N.t(k, vars) : (DICT.zh[k] || k); }
  function $(id) { return document.getElementById(id); }

  var S = { token: null, user: null, data: null, seen: null, timer: null, soon: null, busy: {}, sound: true, feed: null };

  var loginForm = null; // wired in start()
  function api(method, path, body) { return STAFF.api(S.token, method, path, body); }

  var toastTimer = null;
  function toast(text, kind) {
    var el = $('toast');
    el.textContent = text;
    el.dataset.kind = kind || 'error';
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }
  function fail(err) {
    if (err.status === 401) { logout(t('e_expired')); return; }
    toast(err.status === 0 ? t('e_network') : (err.message && I18N && I18N.lang() === 'en' ? err.message : t('e_generic')));
  }

  // ---- screens ----
  function show(screen) {
    $('screen-login').hidden = screen !== 'login';
    $('screen-main').hidden = screen !== 'main';
    $('user-box').hidden = screen !== 'main';
    $('user-name').textContent = STAFF.who(S);
    document.body.dataset.screen = screen;
    if (screen === 'login') setTimeout(function () { $('login-user').focus(); }, 0);
  }
  function logout(message) {
    STAFF.endSession(S.token);
    S.data = S.seen = null;
    clearInterval(S.timer);
    loginForm.signOut(message || '');
    show('login');
  }

  function begin() {
    show('main');
    refresh();
    clearInterval(S.timer);
    S.timer = setInterval(refresh, POLL_MS);
  }

  // ---- data ----
  function refresh() {
    if (!S.token) return;
    // Kiosk printers in trouble: their faults are alerts too, paper running low is not.
    var printers = api('GET', '/api/v1/printers').then(function (p) { return p.printers || []; }, function () { return []; });
    api('GET', '/api/v1/supervision').then(function (d) {
      return printers.then(function (list) {
        var fresh = newAlerts(d.alerts);
        S.data = d;
        learnTime(d.at, true);
        S.printers = list.filter(function (p) { return PRINTER_FAULTS.indexOf(p.status) >= 0; });
        render();
        if (fresh.length) announce();
      });
    }).catch(fail);
  }
  var PRINTER_FAULTS = ['offline', 'paper_out', 'cover_open', 'paper_low'];
  // Printers in trouble that no active alert names: paper running low (a warning, not an
  // alert) and a fault the engine has not yet recorded. A fault alerted is shown once, as
  // its alert, with its acknowledge button.
  function printerRows(alerts) {
    var alerted = {};
    alerts.forEach(function (a) { if (a.kind === 'printer' && a.kiosk) alerted[a.kiosk] = true; });
    return (S.printers || []).filter(function (p) { return !alerted[p.kiosk]; });
  }
  function refreshSoon() {
    if (S.soon || !S.token) return;
    S.soon = setTimeout(function () { S.soon = null; refresh(); }, AFTER_FEED_MS);
  }

  /* Alerts not seen before and not yet acknowledged; the first read counts every
   * unacknowledged alert as new, so a supervisor opening the page hears what is pending. */
  function newAlerts(list) {
    var seen = S.seen || {};
    var fresh = list.filter(function (a) { return !seen[a.id] && !a.acked_by; });
    S.seen = {};
    list.forEach(function (a) { S.seen[a.id] = true; });
    return fresh;
  }

  // ---- sound and flash ----
  var audio = null;
  function unlockAudio() {
    try {
      if (!audio && (window.AudioContext || window.webkitAudioContext)) audio = new (window.AudioContext || window.webkitAudioContext)();
      if (audio && audio.state === 'suspended') audio.resume();
    } catch (e) { audio = null; }
  }
  function chime() {
    if (!S.sound || !audio) return;
    try {
      [0, 0.28].forEach(function (at, i) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = i ? 660 : 880;
        g.gain.setValueAtTime(0.0001, audio.currentTime + at);
        g.gain.exponentialRampToValueAtTime(0.3, audio.currentTime + at + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + at + 0.25);
        o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + at); o.stop(audio.currentTime + at + 0.26);
      });
    } catch (e) { /* no sound; the flash still shows */ }
  }
  function announce() {
    chime();
    document.body.classList.remove('sv-flash');
    void document.body.offsetWidth; // restart the animation
    document.body.classList.add('sv-flash');
    window.__hallqAlertsAnnounced = (window.__hallqAlertsAnnounced || 0) + 1;
  }

  function ack(id, btn) {
    if (S.busy[id]) return;
    S.busy[id] = true;
    btn.disabled = true;
    api('POST', '/api/v1/alerts/' + encodeURIComponent(id) + '/ack').then(function () {
      toast(t('acked_toast'), 'info');
      refresh();
    }).catch(fail).then(function () { delete S.busy[id]; });
  }

  // ---- drawing ----
  function hm(iso) { return iso ? iso.slice(11, 16) : '—'; }
  function minutesSince(iso) {
    if (!iso || !S.data) return 0;
    return Math.max(0, Math.floor((Date.parse(S.data.at) - Date.parse(iso)) / 60000));
  }

  function render() {
    var d = S.data;
    if (!d) return;
    var alerted = {};
    d.alerts.forEach(function (a) { alerted[(a.queue ? 'q:' + a.queue : 'w:' + a.window)] = true; });

    var waiting = {}, unstaffed = {};
    d.queues.forEach(function (q) { waiting[q.id] = q.waiting; });
    d.alerts.forEach(function (a) { if (a.kind === 'queue_unstaffed') unstaffed[a.queue] = true; });
    // Tickets nobody will call come first: every other alert can wait for them.
    var alerts = d.alerts.filter(function (a) { return a.kind === 'queue_unstaffed'; })
      .concat(d.alerts.filter(function (a) { return a.kind !== 'queue_unstaffed'; }));
    var list = $('alert-list');
    list.innerHTML = alerts.map(function (a) {
      // An unstaffed queue says how many wait now, not when it was raised.
      var value = a.kind === 'queue_unstaffed' && waiting[a.queue] != null ? waiting[a.queue] : a.value;
      var text = a.kind === 'printer'
        ? t('p_' + a.fault, { name: a.name || a.kiosk })
        : t('k_' + a.kind, { id: a.queue || '', name: a.name || a.queue || a.window, value: value, threshold: a.threshold });
      var right = a.acked_by
        ? '<span class="sv-acked">' + esc(t('acked', { n: a.acked_by })) + '</span>'
        : '<button type="button" class="sv-btn-ack" data-ack="' + esc(a.id) + '">' + esc(t('ack')) + '</button>';
      var printer = a.kiosk ? '" data-kiosk="' + esc(a.kiosk) + '" data-status="' + esc(a.fault) : '';
      return '<li class="sv-alert" data-kind="' + esc(a.kind) + '" data-acked="' + (a.acked_by ? 'yes' : 'no') + '" data-id="' + esc(a.id) + printer + '">' +
        '<span class="sv-alert-icon" aria-hidden="true">!</span>' +
        '<span class="sv-alert-text">' + esc(text) + '</span>' +
        '<span class="sv-alert-time">' + esc(t('since', { n: hm(a.raised_at) })) + '</span>' + right + '</li>';
    }).join('') + printerRows(d.alerts).map(function (p) {
      return '<li class="sv-alert" data-kind="printer" data-acked="no" data-kiosk="' + esc(p.kiosk) + '" data-status="' + esc(p.status) + '">' +
        '<span class="sv-alert-icon" aria-hidden="true">!</span>' +
        '<span class="sv-alert-text">' + esc(t('p_' + p.status, { name: p.kiosk_name || p.kiosk })) + '</span></li>';
    }).join('');
    var shown = d.alerts.length + printerRows(d.alerts).length;
    $('alert-count').textContent = shown;
    $('alerts-panel').dataset.count = shown;
    $('alerts-none').hidden = shown > 0;

    $('queue-rows').innerHTML = d.queues.map(function (q) {
      var limits = [q.alert_waiting ? t('people', { n: q.alert_waiting }) : t('off'), q.alert_wait_min ? t('min', { n: q.alert_wait_min }) : t('off')];
      return '<tr class="' + (alerted['q:' + q.id] ? 'is-alert' : '') + '" data-queue="' + esc(q.id) + '">' +
        '<td><b>' + esc(q.id) + '</b> ' + esc(q.name) + '</td>' +
        '<td class="sv-num">' + esc(q.waiting) +
          (unstaffed[q.id] ? ' <span class="sv-nowin">' + esc(t('nowin')) + '</span>' : '') + '</td>' +
        '<td class="sv-num">' + esc(q.waiting ? t('min', { n: q.oldest_wait_min }) : '—') + '</td>' +
        // The wait of a ticket taken now, in the lobby's words (also with nobody waiting).
        '<td class="sv-num sv-eta">' + esc(I18N.wait(q.eta_minutes, q.eta_reason)) + '</td>' +
        '<td class="sv-limits">' + esc(limits.join(' / ')) + '</td></tr>';
    }).join('');

    var counts = { open: 0, paused: 0, closed: 0 };
    $('window-grid').innerHTML = d.windows.map(function (w) {
      if (w.state === 'closed') counts.closed++; else if (w.state === 'paused') counts.paused++; else counts.open++;
      var since = w.since ? t('for_n', { n: minutesSince(w.since) }) : '';
      return '<div class="sv-window ' + (alerted['w:' + w.id] ? 'is-alert' : '') + '" data-window="' + esc(w.id) + '" data-state="' + esc(w.state) + '">' +
        '<div class="sv-wname">' + esc(w.name) + '</div>' +
        '<div class="sv-wstate"><span class="sv-pill">' + esc(t('s_' + w.state)) + '</span> <span class="sv-muted">' + esc(since) + '</span></div>' +
        '<div class="sv-wline"><span class="sv-wticket">' + esc(w.ticket || '') + '</span>' +
        '<span class="sv-muted">' + esc(w.clerk ? t('clerk') + ' ' + (w.clerk_name || w.clerk) : '') + '</span></div></div>';
    }).join('');
    $('window-summary').textContent = t('summary', counts);
    $('updated-at').textContent = hm(d.at) + (d.at ? d.at.slice(16, 19) : '');
  }

  function onFeedState(state) {
    S.feed = state;
    var el = $('feed-state');
    el.dataset.state = state;
    $('feed-state-text').textContent = t(state);
  }
  function onFeed(msg) {
    if (msg.type === 'snapshot' && msg.hall && msg.hall.name) $('hall-name').textContent = msg.hall.name;
    // Before sign-in only the feed tells the hall's offset: a call's time has it.
    if (hallClock.offsetMin === null && msg.type === 'call') learnTime(msg.at, false);
    if (hallClock.offsetMin === null && msg.type === 'snapshot' && (msg.recent_calls || []).length) learnTime(msg.recent_calls[0].at, false);
    refreshSoon();
  }

  function soundLabel() {
    var b = $('sound-toggle');
    b.textContent = t(S.sound ? 'sound_on' : 'sound_off');
    b.setAttribute('aria-pressed', S.sound ? 'true' : 'false');
  }

  /* The header clock shows the hall's time, as "更新于" does, not the browser's: a browser
   * set to another zone (or to UTC, as many PCs are) showed the wrong hour. The daemon's
   * times carry the hall's UTC offset (RFC 3339, e.g. "+08:00"); the overview's `at` also
   * sets how far the browser's clock is from the daemon's, so the two lines agree. Until a
   * time has arrived the clock stays "--:--" rather than guess. */
  var hallClock = { offsetMin: null, skewMs: 0 };
  function learnTime(iso, isNow) {
    var m = /(?:([+-])(\d\d):(\d\d)|Z)$/.exec(iso || '');
    if (!m) return;
    hallClock.offsetMin = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    if (isNow && !isNaN(Date.parse(iso))) hallClock.skewMs = Date.parse(iso) - Date.now();
    tickClock();
  }
  function tickClock() {
    if (hallClock.offsetMin === null) return;
    // Shifted by the offset and read in UTC: the hall's wall clock in any browser zone.
    var hall = new Date(Date.now() + hallClock.skewMs + hallClock.offsetMin * 60000);
    $('clock').textContent = ('0' + hall.getUTCHours()).slice(-2) + ':' + ('0' + hall.getUTCMinutes()).slice(-2);
  }

  function start() {
    if (I18N) I18N.init(DICT);
    if (I18N && I18N.onChange) I18N.onChange(function () { render(); soundLabel(); onFeedState(S.feed || 'connecting'); });
    try { S.sound = localStorage.getItem(SOUND_KEY) !== 'off'; } catch (e) { S.sound = true; }
    soundLabel();
    $('sound-toggle').addEventListener('click', function () {
      S.sound = !S.sound;
      try { localStorage.setItem(SOUND_KEY, S.sound ? 'on' : 'off'); } catch (e) { /* not kept */ }
      unlockAudio();
      soundLabel();
    });
    loginForm = STAFF.login({
      t: t, roles: ['supervisor', 'admin'], state: S, shared: true, keep: ['token', 'user'], onLogin: begin, before: unlockAudio,
      keys: { empty: 'e_login_empty', role: 'e_role', busy: 'logging_in' }
    });
    $('logout').addEventListener('click', function () { logout(''); });
    $('alert-list').addEventListener('click', function (ev) {
      var btn = ev.target.closest('[data-ack]');
      if (btn) ack(btn.dataset.ack, btn);
    });
    document.addEventListener('click', unlockAudio, { once: true });
    tickClock();
    setInterval(tickClock, 10000);
    onFeedState('connecting');
    if (window.HallqFeed) new window.HallqFeed({ onMessage: onFeed, onState: onFeedState }).start();
    if (loginForm.restore()) begin(); else show('login');
  }

  start();
})();
