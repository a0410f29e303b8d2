/* hallq district dashboard (/display/district, served by `hallq district`).
 * Sign in as a district supervisor (POST /api/v1/district/login); the session token is
 * kept in this tab's sessionStorage, as the hall's pages keep theirs. The halls come live
 * over /ws/district (the token is the socket's first message; then the district as
 * GET /api/v1/district gives it, at most once a second); only while the socket is down
 * does the page poll GET /api/v1/district, and it reconnects with a growing pause. The
 * day's comparison reads GET /api/v1/district/compare?day=; the CSV button downloads
 * GET /api/v1/district/stats.csv?day= with the token. A card is red when its hall is
 * offline, has an active alert, or its longest wait is above the hall's wait threshold. */
(function () {
  'use strict';

  var STORE_KEY = 'hallq.district.session';
  var POLL_MS = 5000;          // polling while the feed is down
  var RETRY_MS = [1000, 2000, 5000, 10000];
  var COMPARE_MS = 60000;      // the day's comparison is read again this often
  var COMPARE_SOON_MS = 5000;  // and this soon after new tickets, at most

  var KINDS = {
    queue_waiting: '{name} 排队 {value} 人，超过 {threshold} 人',
    queue_wait: '{name} 最长等候 {value} 分钟，超过 {threshold} 分钟',
    queue_unstaffed: '{name} {value} 人等候，没有开启的窗口办理',
    window_paused: '{name} 暂停 {value} 分钟，超过 {threshold} 分钟',
    window_idle: '{name} 空闲 {value} 分钟未叫号，超过 {threshold} 分钟',
    printer: '{name} 打印机故障'
  };

  var S = { token: null, user: null, ws: null, live: false, retries: 0, poll: null, retry: null, compare: null, picked: false,
    district: '', tickets: null, compared: 0, soon: null };

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function fill(text, vars) { return text.replace(/\{(\w+)\}/g, function (_, k) { return vars[k] == null ? '' : vars[k]; }); }

  function save() {
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify({ token: S.token, user: S.user })); } catch (e) { /* this view only */ }
  }
  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null'); } catch (e) { return null; }
  }
  function forget() { try { sessionStorage.removeItem(STORE_KEY); } catch (e) { /* nothing kept */ } }

  var toastTimer = null;
  function toast(text) {
    var el = $('toast');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  /* fetch with the session; rejects with {status} (0: unreachable). */
  function api(method, path, body, raw) {
    var headers = { 'Authorization': 'Bearer ' + S.token };
    if (body) headers['Content-Type'] = 'application/json';
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        if (r.status === 401) { logout('登录已过期，请重新登录'); throw { status: 401 }; }
        if (!r.ok) throw { status: r.status };
        return raw ? r : r.json();
      }, function () { throw { status: 0 }; });
  }

  // ---- screens ----
  function show(screen) {
    $('screen-login').hidden = screen !== 'login';
    $('screen-main').hidden = screen !== 'main';
    $('user-box').hidden = screen !== 'main';
    $('user-name').textContent = S.user || '';
    document.body.dataset.screen = screen;
    if (screen === 'login') setTimeout(function () { $('login-user').focus(); }, 0);
  }

  function stopAll() {
    clearInterval(S.poll); clearTimeout(S.retry); clearInterval(S.compare); clearTimeout(S.soon);
    S.poll = S.retry = S.compare = S.soon = null;
    S.tickets = null;
    if (S.ws) { S.ws.onclose = null; S.ws.close(); S.ws = null; }
    S.live = false;
  }

  function logout(message) {
    stopAll();
    S.token = S.user = null;
    forget();
    $('login-password').value = '';
    var err = $('login-error');
    err.textContent = message || '';
    err.hidden = !message;
    show('login');
  }

  function begin() {
    show('main');
    connect();
    loadCompare();
    S.compare = setInterval(loadCompare, COMPARE_MS);
  }

  function onLogin(e) {
    e.preventDefault();
    var user = $('login-user').value.trim(), password = $('login-password').value;
    var err = $('login-error');
    if (!user || !password) { err.textContent = '请输入用户名和密码'; err.hidden = false; return; }
    $('login-submit').disabled = true;
    fetch('/api/v1/district/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: user, password: password })
    }).then(function (r) {
      return r.json().then(function (b) { return { status: r.status, body: b }; });
    }).then(function (r) {
      if (r.status !== 200) {
        err.textContent = r.status === 429 ? '尝试次数过多，请稍后再试' : '用户名或密码错误';
        err.hidden = false;
        return;
      }
      err.hidden = true;
      S.token = r.body.token; S.user = r.body.user;
      save();
      begin();
    }, function () {
      err.textContent = '网络连接失败，请稍后重试'; err.hidden = false;
    }).then(function () { $('login-submit').disabled = false; });
  }

  // ---- the feed, and polling while it is down ----
  function feedState(state) {
    $('feed-state').dataset.state = state;
    $('feed-state-text').textContent = { live: '实时', polling: '轮询中', connecting: '连接中' }[state];
  }

  function connect() {
    if (!S.token) return;
    feedState(S.live ? 'live' : 'connecting');
    var ws;
    try {
      ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/district');
    } catch (e) { down(); return; }
    S.ws = ws;
    ws.onopen = function () { ws.send(JSON.stringify({ token: S.token })); };
    ws.onmessage = function (m) {
      var d;
      try { d = JSON.parse(m.data); } catch (e) { return; }
      if (d.error) return;
      S.retries = 0;
      if (!S.live) { S.live = true; clearInterval(S.poll); S.poll = null; feedState('live'); }
      render(d);
    };
    ws.onclose = function (ev) {
      S.ws = null; S.live = false;
      if (ev.code === 4401) {
        // Refused: see whether the session still holds (a 401 signs out).
        api('GET', '/api/v1/district').then(function () { down(); }, function () { /* api() handled it */ });
        return;
      }
      down();
    };
  }

  function down() {
    if (!S.token) return;
    feedState('polling');
    if (!S.poll) { poll(); S.poll = setInterval(poll, POLL_MS); }
    var wait = RETRY_MS[Math.min(S.retries, RETRY_MS.length - 1)];
    S.retries += 1;
    clearTimeout(S.retry);
    S.retry = setTimeout(connect, wait);
  }

  function poll() {
    if (S.live || !S.token) return;
    api('GET', '/api/v1/district').then(render, function (e) { if (e.status === 0) toast('网络连接失败，正在重试'); });
  }

  // ---- the halls ----
  function red(h) {
    var overWait = h.wait_alert_min != null && h.longest_wait_minutes > h.wait_alert_min;
    return !h.online || (h.alerts || []).length > 0 || overWait;
  }

  function total(label, value, isRed) {
    return '<div class="ds-total' + (isRed ? ' is-red' : '') + '"><b>' + esc(value) + '</b><span>' + label + '</span></div>';
  }

  function lag(h) {
    if (!h.lag_records) return '0';
    return h.lag_seconds >= 60 ? Math.round(h.lag_seconds / 60) + '分' : Math.round(h.lag_seconds) + '秒';
  }

  function card(h) {
    var overWait = h.wait_alert_min != null && h.longest_wait_minutes > h.wait_alert_min;
    var fig = function (label, value, isRed) {
      return '<div><dt>' + label + '</dt><dd' + (isRed ? ' class="is-red"' : '') + '>' + esc(value) + '</dd></div>';
    };
    var alerts = (h.alerts || []).map(function (a) {
      return '<li data-kind="' + esc(a.kind) + '">' + esc(fill(KINDS[a.kind] || a.kind, a)) + '</li>';
    }).join('');
    var note = !h.online ? '<p class="ds-hall-ok" style="color:var(--hq-danger)">长时间未收到该中心的消息，请检查网络</p>'
      : alerts ? '<ul class="ds-hall-alerts">' + alerts + '</ul>' : '<p class="ds-hall-ok">运行正常，无预警</p>';
    return '<article class="ds-hall" data-hall="' + esc(h.id) + '" data-online="' + (h.online ? 'yes' : 'no') +
      '" data-red="' + (red(h) ? 'yes' : 'no') + '">' +
      '<div class="ds-hall-head"><span class="ds-hall-name">' + esc(h.name) + '</span>' +
      '<span class="ds-pill">' + (h.online ? '在线' : '离线') + '</span></div>' +
      '<dl class="ds-figs">' +
      fig('等候人数', h.waiting) + fig('开启窗口', h.open_windows) + fig('今日取号', h.tickets_today) +
      fig('最长等候(分)', h.longest_wait_minutes, overWait) + fig('数据延迟', lag(h), h.lag_seconds > 60) +
      fig('预警', (h.alerts || []).length, (h.alerts || []).length > 0) +
      '</dl>' + note + '</article>';
  }

  function render(d) {
    if (!d || !d.halls) return;
    $('district-name').textContent = S.district = d.district.name;
    // New tickets in the district: the day's comparison is read again, at most every
    // COMPARE_SOON_MS (a burst of tickets is one read, made once the burst is that old).
    if (S.tickets != null && d.totals.tickets_today !== S.tickets && !S.soon) {
      S.soon = setTimeout(function () { S.soon = null; loadCompare(); },
        Math.max(0, COMPARE_SOON_MS - (Date.now() - S.compared)));
    }
    S.tickets = d.totals.tickets_today;
    document.title = d.district.name + ' · 区级监控大屏';
    var t = d.totals, redHalls = d.halls.filter(red).length;
    $('totals').innerHTML =
      total('在线中心', t.online + ' / ' + t.halls, t.online < t.halls) +
      total('等候人数', t.waiting) + total('开启窗口', t.open_windows) + total('今日取号', t.tickets_today) +
      total('最长等候(分)', t.longest_wait_minutes) + total('需关注中心', redHalls, redHalls > 0);
    $('halls').innerHTML = d.halls.map(card).join('');
    $('updated').textContent = '更新于 ' + clock(true);
  }

  // ---- the day's comparison ----
  function chart(title, halls, key, format) {
    // Shares against 100 %, counts against the largest, waits against at least an hour
    // (a few seconds' wait is not drawn as a full bar).
    var floor = { issued: 1, mean_wait_s: 3600, service_level: 1, good_rate: 1 }[key];
    var max = Math.max.apply(null, halls.map(function (h) { return h[key] || 0; }).concat([floor]));
    if (key === 'service_level' || key === 'good_rate') max = 1;
    var rows = halls.map(function (h) {
      var v = h[key];
      var pct = v == null ? 0 : Math.round(100 * v / max);
      var fill = v ? '<span class="ds-bar-fill" style="width:' + Math.max(pct, 1) + '%"></span>' : '';
      return '<div class="ds-bar" data-hall="' + esc(h.id) + '"><span class="ds-bar-name" title="' + esc(h.name) + '">' +
        esc(short(h.name)) + '</span><span class="ds-bar-track">' + fill + '</span>' +
        '<span class="ds-bar-val">' + (v == null ? '—' : esc(format(v))) + '</span></div>';
    }).join('');
    return '<div class="ds-chart" data-chart="' + key + '"><h3>' + title + '</h3>' + rows + '</div>';
  }

  /* Referrals between halls (跨中心转办): per hall, those it sent (转出) and took in (转入)
   * that day, two bars against the largest; the district's count in the title (each
   * referral between two of its halls is one sent and one taken in). */
  function referralChart(halls, total) {
    var of = function (h) { return (h && h.referrals) || { sent: 0, received: 0 }; };
    var max = Math.max.apply(null, halls.map(function (h) { return Math.max(of(h).sent, of(h).received); }).concat([1]));
    var bar = function (n, cls) {
      return '<span class="ds-bar-fill ' + cls + '" style="width:' + (n ? Math.max(Math.round(100 * n / max), 1) : 0) + '%"></span>';
    };
    var rows = halls.map(function (h) {
      var r = of(h);
      return '<div class="ds-bar ds-bar-pair" data-hall="' + esc(h.id) + '" data-sent="' + esc(r.sent) +
        '" data-received="' + esc(r.received) + '"><span class="ds-bar-name" title="' + esc(h.name) + '">' +
        esc(short(h.name)) + '</span><span class="ds-bar-track">' + bar(r.sent, 'is-out') + bar(r.received, 'is-in') +
        '</span><span class="ds-bar-val">' + esc(r.sent) + ' / ' + esc(r.received) + '</span></div>';
    }).join('');
    return '<div class="ds-chart" data-chart="referrals"><h3>跨中心转办（转出 / 转入）<span class="ds-muted" id="referrals-total">全区 ' +
      esc(of(total).sent) + ' 件</span></h3>' + rows + '</div>';
  }

  /* A hall's name without the district's own in front (青川区东河镇… → 东河镇…). */
  function short(name) {
    var d = S.district || '';
    return d && name.indexOf(d) === 0 && name.length > d.length ? name.slice(d.length) : name;
  }

  function pct(v) { return (v * 100).toFixed(1) + '%'; }

  /* The day asked: the one picked, else each hall's own today (a wall screen left on
   * overnight moves on with the halls, and the browser's zone does not matter). */
  function pickedDay() { return S.picked ? $('day').value : ''; }

  function loadCompare() {
    var day = pickedDay();
    S.compared = Date.now();
    api('GET', '/api/v1/district/compare' + (day ? '?day=' + day : '')).then(function (d) {
      var halls = d.halls;
      if (!S.picked && halls.length) $('day').value = halls[0].day;
      $('charts').innerHTML =
        chart('取号量', halls, 'issued', String) +
        chart('平均等候（分钟）', halls, 'mean_wait_s', function (s) { return (s / 60).toFixed(1); }) +
        chart('服务水平达标率', halls, 'service_level', pct) +
        chart('好评率', halls, 'good_rate', pct) +
        referralChart(halls, d.total);
    }, function (e) { if (e.status !== 401) toast('当日对比读取失败'); });
  }

  function downloadCsv() {
    var day = pickedDay();
    api('GET', '/api/v1/district/stats.csv' + (day ? '?day=' + day : ''), null, true).then(function (r) {
      return r.blob();
    }).then(function (blob) {
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'district-' + (day || 'today') + '.csv';
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }, function (e) { if (e.status !== 401) toast('下载失败，请重试'); });
  }

  // ---- time ----
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function clock(seconds) {
    var d = new Date();
    return two(d.getHours()) + ':' + two(d.getMinutes()) + (seconds ? ':' + two(d.getSeconds()) : '');
  }

  function start() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', function () { logout(''); });
    $('refresh').addEventListener('click', loadCompare);
    $('day').addEventListener('change', function () { S.picked = !!$('day').value; loadCompare(); });
    $('csv').addEventListener('click', downloadCsv);
    $('clock').textContent = clock(false);
    setInterval(function () { $('clock').textContent = clock(false); }, 1000);
    var saved = load();
    if (saved && saved.token) { S.token = saved.token; S.user = saved.user; begin(); } else { show('login'); }
  }

  start();
}());
