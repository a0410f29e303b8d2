/* hallq — reports.js: the supervisor's reports page (/display/reports).
 *
 * Sign in (POST /api/v1/login, supervisor or admin; the staff portal's one sign-in,
 * staff.js), pick a day (today by default; ?date=YYYY-MM-DD in the page's address also
 * works), then GET /api/v1/reports/day?date= for the figures. Charts and CSV exports are
 * fetched with the token in the Authorization header and shown through blob: URLs, so the
 * token never appears in an address, a history entry or a server log.
 */
(function () {
  'use strict';

  var I = window.HallqI18n;
  var STAFF = window.HallqStaff;
  var loginForm = null; // wired in init()
  var S = { token: null, user: null, role: null, urls: [], hallDay: null };

  var TEXT = {
    zh: {
      app: '统计报表', logout: '退出登录', login_title: '值班主任登录', login_sub: '统计报表仅限值班主任和管理员查看',
      user: '用户名', password: '密码', login: '登录', date: '日期', today: '今天', refresh: '刷新',
      dl_tickets: '导出取号明细 CSV', dl_figures: '导出统计 CSV', dl_guides: '导出导办 CSV', by_queue: '按队列', by_window: '按窗口',
      by_clerk: '按工作人员', by_item: '按事项', c_arrivals: '每小时取号量', c_waiting: '等候人数',
      c_level: '服务水平达标率', c_hist: '等候时长分布',
      foot: '等候：取号至首次叫号；办理：开始办理至办结。P95：95% 的取号不超过该时长。服务水平：在目标时长内叫号的比例（取消或过期前已超时的取号计为未达标）。',
      k_issued: '取号', k_served: '办结（含未办结）', k_no_show: '过号', k_cancelled: '取消', k_wait: '平均等候',
      k_p95: 'P95 等候', k_level: '服务水平达标率', k_rating: '平均评分',
      k_eta_median: '预计等候误差（中位）', k_eta_p90: '预计等候误差（P90）', k_eta_within: '等候在预计区间内',
      h_id: '编号', h_name: '名称', h_issued: '取号', h_called: '叫号', h_completed: '办结', h_incomplete: '未办结',
      h_no_show: '过号', h_cancelled: '取消', h_expired: '过期', h_wait: '平均等候', h_wait_p95: 'P95等候',
      h_wait_max: '最长等候', h_service: '平均办理', h_service_p95: 'P95办理', h_level: '达标率', h_ratings: '评价',
      h_rating_mean: '平均分', h_levels: '评价分布（5→1分）', h_code: '事项编码', h_item: '事项名称',
      h_queue: '队列', h_tickets: '取号数',
      min: '{n} 分', loading: '加载中…', live: '当日数据，实时更新中', final: '已结束的服务日',
      none: '无', no_rows: '暂无数据',
      gone: '该日的明细记录已超过保留期限，仅保留汇总数字；以下部分不可用：{parts}',
      p_p95: 'P95', p_service_level: '服务水平', p_ratings_levels: '评价分布', p_clerks: '按工作人员', p_items: '按事项',
      p_tickets: '取号明细', p_charts: '图表',
      e_login: '用户名或密码错误', e_login_empty: '请输入用户名和密码', e_no_role: '该账号无权查看统计报表',
      e_expired: '登录已过期，请重新登录', e_network: '无法连接服务器，请检查网络', e_generic: '操作失败，请稍后再试',
      e_future_date: '所选日期尚未开始', e_bad_date: '日期格式不正确', e_report_unavailable: '该日明细已超过保留期限'
    },
    en: {
      app: 'Reports', logout: 'Sign out', login_title: 'Supervisor sign-in', login_sub: 'Reports are for supervisors and admins',
      user: 'User', password: 'Password', login: 'Sign in', date: 'Day', today: 'Today', refresh: 'Refresh',
      dl_tickets: 'Tickets CSV', dl_figures: 'Figures CSV', dl_guides: 'Guides CSV', by_queue: 'By queue', by_window: 'By window',
      by_clerk: 'By clerk', by_item: 'By item', c_arrivals: 'Tickets per hour', c_waiting: 'Waiting over the day',
      c_level: 'Service level', c_hist: 'Wait distribution',
      foot: 'Wait: issue to first call; service: serve to done. P95: 95 % of tickets waited no longer. Service level: share called within the target (tickets cancelled or expired after the target count as missed).',
      k_issued: 'Issued', k_served: 'Served', k_no_show: 'No-shows', k_cancelled: 'Cancelled', k_wait: 'Mean wait',
      k_p95: 'P95 wait', k_level: 'Service level', k_rating: 'Mean rating',
      k_eta_median: 'Expected-wait error (median)', k_eta_p90: 'Expected-wait error (p90)', k_eta_within: 'Wait within the range told',
      h_id: 'Id', h_name: 'Name', h_issued: 'Issued', h_called: 'Called', h_completed: 'Done', h_incomplete: 'Incomplete',
      h_no_show: 'No-show', h_cancelled: 'Cancelled', h_expired: 'Expired', h_wait: 'Mean wait', h_wait_p95: 'P95 wait',
      h_wait_max: 'Max wait', h_service: 'Mean service', h_service_p95: 'P95 service', h_level: 'Service level',
      h_ratings: 'Ratings', h_rating_mean: 'Mean', h_levels: 'Levels 5/4/3/2/1', h_code: 'Code', h_item: 'Item',
      h_queue: 'Queue', h_tickets: 'Tickets',
      min: '{n} min', loading: 'Loading…', live: 'Today, still running', final: 'A finished day',
      none: 'none', no_rows: 'No data yet',
      gone: 'This day\'s records are past the retention; only its totals remain. Unavailable: {parts}',
      p_p95: 'P95', p_service_level: 'service level', p_ratings_levels: 'rating levels', p_clerks: 'by clerk',
      p_items: 'by item', p_tickets: 'ticket rows', p_charts: 'charts',
      e_login: 'Wrong user or password', e_login_empty: 'Enter user and password', e_no_role: 'This account may not read reports',
      e_expired: 'Session expired; sign in again', e_network: 'Cannot reach the server', e_generic: 'That failed; try again',
      e_future_date: 'That day has not begun', e_bad_date: 'Not a valid date', e_report_unavailable: 'That day\'s records are gone'
    }
  };

  function $(id) { return document.getElementById(id); }
  function t(k, v) { return I.t(k, v); }

  function api(path, as) { return STAFF.api(S.token, 'GET', path, null, { as: as }); }
  function errorText(err) { return STAFF.errorText(t, err); }

  // ---- session ----
  function show(screen) {
    $('screen-login').hidden = screen !== 'login';
    $('screen-report').hidden = screen !== 'report';
    $('user-box').hidden = screen !== 'report';
    if (screen === 'login') setTimeout(function () { $('login-user').focus(); }, 0);
  }
  function logout(message) {
    STAFF.endSession(S.token);
    loginForm.signOut(message || '');
    show('login');
  }

  // ---- formatting ----
  function minutes(ms) { return ms == null ? '—' : t('min', { n: (ms / 60000).toFixed(1) }); }
  function pct(share) { return share == null ? '—' : (share * 100).toFixed(1) + '%'; }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function levelCell(g) {
    var l = g.service_level;
    var td = el('td', l ? pct(l.share) + (l.of ? ' (' + l.within + '/' + l.of + ')' : '') : '—');
    if (l && l.share != null) td.className = l.share >= 0.8 ? 'rp-good' : 'rp-bad';
    return td;
  }
  function levels(r) {
    if (!r.levels) return '—';
    return ['5', '4', '3', '2', '1'].map(function (k) { return r.levels[k]; }).join(' / ');
  }

  var GROUP_COLS = ['h_id', 'h_name', 'h_issued', 'h_called', 'h_completed', 'h_incomplete', 'h_no_show', 'h_cancelled',
    'h_expired', 'h_wait', 'h_wait_p95', 'h_wait_max', 'h_service', 'h_service_p95', 'h_level', 'h_ratings',
    'h_rating_mean', 'h_levels'];

  function groupRow(g) {
    var tr = document.createElement('tr');
    [g.id, g.name, g.issued, g.called, g.completed, g.incomplete, g.no_show, g.cancelled, g.expired,
      minutes(g.wait.mean_ms), minutes(g.wait.p95_ms), minutes(g.wait.max_ms), minutes(g.service.mean_ms),
      minutes(g.service.p95_ms)].forEach(function (v) { tr.appendChild(el('td', String(v))); });
    tr.appendChild(levelCell(g));
    tr.appendChild(el('td', String(g.ratings.count)));
    tr.appendChild(el('td', g.ratings.mean == null ? '—' : g.ratings.mean.toFixed(2)));
    tr.appendChild(el('td', levels(g.ratings)));
    return tr;
  }

  function table(id, cols, rows, rowFn) {
    var tb = $(id);
    tb.textContent = '';
    var head = document.createElement('thead'), tr = document.createElement('tr');
    cols.forEach(function (c) { tr.appendChild(el('th', t(c))); });
    head.appendChild(tr);
    tb.appendChild(head);
    var body = document.createElement('tbody');
    if (!rows.length) {
      var empty = el('td', t('no_rows'), 'rp-muted');
      empty.colSpan = cols.length;
      var etr = document.createElement('tr');
      etr.appendChild(empty);
      body.appendChild(etr);
    }
    rows.forEach(function (r) { body.appendChild(rowFn(r)); });
    tb.appendChild(body);
  }

  function kpis(r) {
    var tot = r.total, box = $('kpis');
    box.textContent = '';
    [[tot.issued, 'k_issued'], [tot.completed + tot.incomplete, 'k_served'], [tot.no_show, 'k_no_show'],
      [tot.cancelled, 'k_cancelled'], [minutes(tot.wait.mean_ms), 'k_wait'], [minutes(tot.wait.p95_ms), 'k_p95'],
      [tot.service_level ? pct(tot.service_level.share) : '—', 'k_level'],
      [tot.ratings.mean == null ? '—' : tot.ratings.mean.toFixed(2), 'k_rating']].forEach(function (k) {
      var d = el('div', null, 'rp-kpi');
      d.appendChild(el('b', String(k[0])));
      d.appendChild(el('span', t(k[1])));
      box.appendChild(d);
    });
  }

  // The expected wait told at issue against the wait got, from the day's figures.
  function etaKpis(day) {
    api('/api/v1/stats?day=' + day).then(function (s) {
      var e = s && s.total && s.total.eta_error;
      if (!e || !e.tickets || $('date').value !== day) return;
      [[minutes(e.median_abs_minutes * 60000), 'k_eta_median'],
        [minutes(e.p90_abs_minutes * 60000), 'k_eta_p90'],
        [pct(e.within_range_rate), 'k_eta_within']].forEach(function (k) {
        var d = el('div', null, 'rp-kpi');
        d.dataset.kpi = k[1];
        d.appendChild(el('b', k[0]));
        d.appendChild(el('span', t(k[1])));
        $('kpis').appendChild(d);
      });
    }, function () { /* the figures above stand without it */ });
  }

  // ---- charts and downloads through blob: URLs ----
  function forgetUrls() { S.urls.forEach(function (u) { URL.revokeObjectURL(u); }); S.urls = []; }
  function charts(day, available) {
    forgetUrls();
    Array.prototype.forEach.call(document.querySelectorAll('[data-chart]'), function (fig) {
      var box = fig.querySelector('.rp-svg');
      box.textContent = '';
      fig.hidden = !available;
      if (!available) return;
      api('/api/v1/reports/day/charts/' + fig.dataset.chart + '.svg?date=' + day, 'blob').then(function (blob) {
        var url = URL.createObjectURL(blob);
        S.urls.push(url);
        var img = el('img');
        img.alt = fig.querySelector('figcaption').textContent;
        img.src = url;
        box.appendChild(img);
      }, function (err) { box.appendChild(el('p', errorText(err), 'rp-muted')); });
    });
  }
  function download(kind) {
    var day = $('date').value;
    // The guides' figures (全程领办) are a report of their own, by `day`.
    var path = kind === 'guides' ? '/api/v1/reports/guides.csv?day=' : '/api/v1/reports/day/' + kind + '.csv?date=';
    saveCsv(path + day, 'hallq-' + kind + '-' + day + '.csv');
  }

  // Fetches a CSV report and hands it to the browser as a file named `name`; the
  // scorecards' and the stuck items' sections save theirs through it too.
  // A section's table made afresh: a head of `cols`, and a body that says `none` in one
  // muted cell when there are no rows. Returns the body, for the section's rows.
  function freshTable(tb, cols, none, empty) {
    tb.textContent = '';
    var head = document.createElement('thead'), tr = document.createElement('tr');
    cols.forEach(function (c) { tr.appendChild(el('th', c)); });
    head.appendChild(tr);
    tb.appendChild(head);
    var body = document.createElement('tbody');
    if (empty) {
      var td = el('td', none, 'rp-muted');
      td.colSpan = cols.length;
      var etr = document.createElement('tr');
      etr.appendChild(td);
      body.appendChild(etr);
    }
    return body;
  }

  function saveCsv(path, name) {
    return api(path, 'blob').then(function (blob) {
      var url = URL.createObjectURL(blob), a = el('a');
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }, fail);
  }

  function fail(err) {
    if (err.status === 401) { logout(t('e_expired')); return; }
    var box = $('report-error');
    box.textContent = errorText(err);
    box.hidden = false;
  }

  // ---- the report ----
  var last = null;
  function load() {
    var day = $('date').value;
    if (!day) return;
    $('report-error').hidden = true;
    $('status').textContent = t('loading');
    api('/api/v1/reports/day?date=' + day).then(function (r) {
      last = r;
      render(r);
      charts(r.day, r.unavailable.indexOf('charts') < 0);
      var section = { api: api, el: el, table: freshTable, save: saveCsv, lang: function () { return document.documentElement.lang; } };
      window.HallqScorecards.load(r.day, section);
      // Issue 17 §2: the week's stuck items.
      window.HallqStuck.load(r.day, section);
    }, function (err) { $('status').textContent = ''; fail(err); });
  }

  function render(r) {
    $('status').textContent = t(r.final ? 'final' : 'live');
    var note = $('unavailable');
    note.hidden = !r.unavailable.length;
    note.textContent = r.unavailable.length
      ? t('gone', { parts: r.unavailable.map(function (p) { return t('p_' + p); }).join('、') }) : '';
    $('dl-tickets').disabled = r.unavailable.indexOf('tickets') >= 0;
    kpis(r);
    etaKpis(r.day);
    table('t-queues', GROUP_COLS, r.queues, groupRow);
    table('t-windows', GROUP_COLS, r.windows, groupRow);
    table('t-clerks', GROUP_COLS, r.clerks, groupRow);
    table('t-items', ['h_code', 'h_item', 'h_queue', 'h_tickets'], r.items, function (it) {
      var tr = document.createElement('tr');
      [it.code, it.name, it.queue, it.tickets].forEach(function (v) { tr.appendChild(el('td', String(v))); });
      return tr;
    });
  }

  // The hall's service day (in the hall's time zone, from /api/v1/hall), else the
  // browser's date.
  function todayLocal() {
    if (S.hallDay) return S.hallDay;
    var d = new Date(), p = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }

  function enter() {
    $('user-name').textContent = STAFF.who(S);
    show('report');
    var asked = new URLSearchParams(location.search).get('date');
    if (!$('date').value) $('date').value = /^\d{4}-\d{2}-\d{2}$/.test(asked || '') ? asked : todayLocal();
    load();
  }

  function init() {
    I.init(TEXT);
    I.onChange(function () { if (last) render(last); });
    var hall = fetch('/api/v1/hall').then(function (r) { return r.json(); }).then(function (h) {
      if (h && h.hall && h.hall.name) $('hall-name').textContent = h.hall.name;
      if (h && /^\d{4}-\d{2}-\d{2}$/.test(h.day || '')) S.hallDay = h.day;
    }).catch(function () {});
    loginForm = STAFF.login({
      t: t, roles: ['supervisor', 'admin'], state: S, shared: true, onLogin: enter, keys: { empty: 'e_login_empty', role: 'e_no_role' }
    });
    $('logout').addEventListener('click', function () { logout(''); });
    $('date').addEventListener('change', load);
    $('refresh').addEventListener('click', load);
    $('today').addEventListener('click', function () { $('date').value = todayLocal(); load(); });
    $('dl-tickets').addEventListener('click', function () { download('tickets'); });
    $('dl-figures').addEventListener('click', function () { download('figures'); });
    $('dl-guides').addEventListener('click', function () { download('guides'); });
    hall.then(function () {
      if (loginForm.restore()) enter(); else show('login');
    });
  }

  init();
})();
