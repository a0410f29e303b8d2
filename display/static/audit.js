/* hallq audit log (/display/audit).
 * Sign in as a supervisor or admin (POST /api/v1/login; the staff portal's one sign-in, staff.js),
 * then read one service day's trail from GET /api/v1/audit — filtered by window, user and
 * action, 200 entries a page with "load more" — and export the same filters as CSV from
 * GET /api/v1/audit.csv (fetched with the token, saved through a blob link). Filters can
 * be given in the address too (?date=2026-03-10&window=5&user=clerk5&action=call). */
(function () {
  'use strict';

  var ACTIONS = [
    ['login', '登录', 'Log in'], ['logout', '退出登录', 'Log out'], ['open', '开启窗口', 'Open window'],
    ['call', '叫号', 'Call'], ['call_number', '按号呼叫', 'Call by number'], ['recall', '重呼', 'Recall'],
    ['serve', '开始办理', 'Serve'], ['done', '办结', 'Done'], ['step_done', '完成一步', 'Step done'],
    ['no_show', '过号', 'No-show'], ['transfer', '转移', 'Transfer'], ['park', '暂存', 'Park'],
    ['unpark', '恢复暂存', 'Resume parked'], ['pause', '暂停窗口', 'Pause'], ['resume', '恢复窗口', 'Resume'],
    ['close', '关闭窗口', 'Close window'], ['disable_user', '停用用户', 'Disable user'],
    ['enable_user', '启用用户', 'Enable user'], ['add_user', '添加用户', 'Add user'],
    ['reset_password', '重置密码', 'Reset password'], ['set_queues', '设置窗口队列', 'Set window queues'],
    ['force_close', '强制关闭窗口', 'Force-close window'], ['case_callback', '差评回访', 'Case call-back'],
    ['case_rectified', '差评整改', 'Case rectified'], ['alert_ack', '确认预警', 'Alert acknowledged'],
    ['day_opened', '开始服务日', 'Day opened'], ['assist', '导办代取号', 'Guide took a number'],
    ['escort', '全程领办', 'Escort taken'], ['release_escort', '结束领办', 'Escort released']
  ];
  var KIND = { login: 'session', logout: 'session', disable_user: 'user', enable_user: 'user', add_user: 'user',
    reset_password: 'user', set_queues: 'user',
    force_close: 'user', case_callback: 'user', case_rectified: 'user', alert_ack: 'user', day_opened: 'hall' };
  var ROLES = { clerk: ['窗口人员', 'Clerk'], supervisor: ['值班主任', 'Supervisor'], admin: ['管理员', 'Admin'], guide: ['导办', 'Guide'] };
  var DICT = {
    zh: {
      app: '操作日志', logout: '退出登录', login_title: '值班主任 / 管理员登录', login_sub: '登录后查看各窗口与工作人员的操作记录',
      user: '用户名', password: '密码', login: '登录', f_date: '日期', f_window: '窗口', f_user: '用户', f_action: '操作',
      all: '全部', search: '查询', export: '导出 CSV', c_time: '时间', c_user: '用户', c_role: '角色', c_action: '操作',
      c_window: '窗口', c_ticket: '票号', c_detail: '说明', empty: '当天没有符合条件的操作记录', more: '加载更多',
      count: '共显示 {n} 条', count_more: '已显示 {n} 条，还有更多', system: '系统',
      e_login: '用户名或密码错误', e_empty: '请输入用户名和密码', e_role: '仅值班主任和管理员可查看操作日志',
      e_expired: '登录已过期，请重新登录', e_network: '无法连接服务器，请检查网络', e_generic: '操作失败，请重试',
      e_user_disabled: '该用户已被停用，请联系管理员', e_rate_limited: '尝试次数过多，请稍后再试', exported: '已导出'
    },
    en: {
      app: 'Audit log', logout: 'Log out', login_title: 'Supervisor / admin sign-in', login_sub: 'Sign in to read who did what, and when',
      user: 'User', password: 'Password', login: 'Sign in', f_date: 'Day', f_window: 'Window', f_user: 'User', f_action: 'Action',
      all: 'All', search: 'Search', export: 'Export CSV', c_time: 'Time', c_user: 'User', c_role: 'Role', c_action: 'Action',
      c_window: 'Window', c_ticket: 'Ticket', c_detail: 'Detail', empty: 'Nothing matches on this day', more: 'Load more',
      count: '{n} entries', count_more: '{n} entries shown, more to load', system: 'System',
      e_login: 'Wrong user name or password', e_empty: 'Enter user name and password', e_role: 'Only supervisors and admins may read the audit log',
      e_expired: 'Your session has ended; sign in again', e_network: 'Cannot reach the server', e_generic: 'That did not work; try again',
      e_user_disabled: 'This user is disabled; ask an admin', e_rate_limited: 'Too many tries; wait a moment', exported: 'Exported'
    }
  };
  var I18N = window.HallqI18n;
  var STAFF = window.HallqStaff;
  var loginForm = null; // wired in start()
  var S = { token: null, user: null, role: null, next: null, shown: 0, users: {}, busy: false };

  function $(id) { return document.getElementById(id); }
  function t(k, n) { var s = I18N ? I18N.t(k) : (DICT.zh[k] || k); return n === undefined ? s : s.replace('{n}', n); }
  function en() { return I18N && I18N.lang && I18N.lang() === 'en'; }

  function api(path, opts) { return STAFF.api(S.token, 'GET', path, null, opts); }
  function errorText(err) { return STAFF.errorText(t, err); }
  function showError(id, text) { var el = $(id); el.textContent = text || ''; el.hidden = !text; }

  function show(screen) {
    $('screen-login').hidden = screen !== 'login';
    $('screen-log').hidden = screen !== 'log';
    $('user-box').hidden = screen !== 'log';
    $('user-name').textContent = S.user ? STAFF.who(S) + '（' + roleText(S.role) + '）' : '';
    if (screen === 'login') setTimeout(function () { $('login-user').focus(); }, 0);
  }
  function roleText(role) { var r = ROLES[role]; return r ? r[en() ? 1 : 0] : (role || ''); }
  function actionText(code, fallback) {
    for (var i = 0; i < ACTIONS.length; i++) if (ACTIONS[i][0] === code) return ACTIONS[i][en() ? 2 : 1];
    return fallback || code;
  }

  function signOut(message) { loginForm.signOut(message || ''); show('login'); }
  function logout() { STAFF.endSession(S.token).then(function () { signOut(''); }); }

  // ---- filters ----
  function fillActions() {
    var sel = $('f-action'), keep = sel.value;
    while (sel.options.length > 1) sel.remove(1);
    ACTIONS.forEach(function (a) { sel.add(new Option(a[en() ? 2 : 1], a[0])); });
    sel.value = keep;
  }
  function filters() {
    var f = { date: $('f-date').value, window: $('f-window').value, user: $('f-user').value.trim(), action: $('f-action').value };
    var q = [];
    Object.keys(f).forEach(function (k) { if (f[k]) q.push(k + '=' + encodeURIComponent(f[k])); });
    return q.join('&');
  }

  function enter() {
    show('log');
    api('/api/v1/hall').then(function (hall) {
      if (hall.hall && hall.hall.name) $('hall-name').textContent = hall.hall.name;
      var sel = $('f-window'), wanted = sel.dataset.wanted || sel.value;
      while (sel.options.length > 1) sel.remove(1);
      (hall.windows || []).forEach(function (w) { sel.add(new Option(w.name || w.id, w.id)); });
      sel.value = wanted;
      if (!$('f-date').value) $('f-date').value = hall.day || new Date().toISOString().slice(0, 10);
      search();
    }, function (err) { showError('log-error', errorText(err)); });
  }

  function time(at) { var m = /T(\d\d:\d\d:\d\d)/.exec(at || ''); return m ? m[1] : at; }
  function cell(text, cls) { var td = document.createElement('td'); if (cls) td.className = cls; td.textContent = text == null ? '' : text; return td; }
  function row(e) {
    var tr = document.createElement('tr');
    tr.dataset.action = e.action;
    tr.appendChild(cell(time(e.at), 'au-time'));
    tr.appendChild(cell(e.user ? STAFF.person(e.user, e.display_name) : t('system')));
    tr.appendChild(cell(roleText(e.role)));
    var td = cell('');
    var chip = document.createElement('span');
    chip.className = 'au-action';
    chip.dataset.kind = KIND[e.action] || 'window';
    chip.textContent = actionText(e.action, e.action_text);
    td.appendChild(chip);
    tr.appendChild(td);
    tr.appendChild(cell(e.window));
    tr.appendChild(cell(e.ticket, 'au-ticket'));
    tr.appendChild(cell(e.detail, 'au-detail'));
    if (e.user) S.users[e.user] = true;
    return tr;
  }
  function fillUsers() {
    var list = $('users-seen');
    list.textContent = '';
    Object.keys(S.users).sort().forEach(function (u) { var o = document.createElement('option'); o.value = u; list.appendChild(o); });
  }

  function load(append) {
    if (S.busy) return;
    S.busy = true;
    $('search').disabled = $('more').disabled = true;
    var q = filters() + (append && S.next ? '&after=' + S.next : '');
    api('/api/v1/audit?' + q).then(function (page) {
      showError('log-error', '');
      if (!append) { $('rows').textContent = ''; S.shown = 0; }
      var frag = document.createDocumentFragment();
      page.entries.forEach(function (e) { frag.appendChild(row(e)); });
      $('rows').appendChild(frag);
      S.shown += page.entries.length;
      S.next = page.next_after;
      $('more').hidden = S.next == null;
      $('empty').hidden = S.shown > 0;
      $('count').textContent = t(S.next == null ? 'count' : 'count_more', S.shown);
      fillUsers();
      if (window.history && history.replaceState) history.replaceState(null, '', '?' + filters());
    }, function (err) {
      if (err.status === 401) { signOut(t('e_expired')); return; }
      showError('log-error', errorText(err));
    }).then(function () { S.busy = false; $('search').disabled = $('more').disabled = false; });
  }
  function search(ev) { if (ev) ev.preventDefault(); S.next = null; load(false); }

  function exportCsv() {
    var btn = $('export');
    btn.disabled = true;
    api('/api/v1/audit.csv?' + filters(), { as: 'blob', accept: 'text/csv' }).then(function (blob) {
      var a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'audit-' + ($('f-date').value || 'today') + '.csv';
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }, function (err) {
      if (err.status === 401) { signOut(t('e_expired')); return; }
      showError('log-error', errorText(err));
    }).then(function () { btn.disabled = false; });
  }

  function start() {
    if (I18N) {
      I18N.init(DICT);
      if (I18N.onChange) I18N.onChange(function () { fillActions(); show(S.token ? 'log' : 'login'); if (S.token) search(); });
    }
    fillActions();
    var params = new URLSearchParams(location.search);
    if (params.get('date')) $('f-date').value = params.get('date');
    if (params.get('window')) $('f-window').dataset.wanted = params.get('window');
    if (params.get('user')) $('f-user').value = params.get('user');
    if (params.get('action')) $('f-action').value = params.get('action');
    loginForm = STAFF.login({
      t: t, roles: ['supervisor', 'admin'], state: S, shared: true, onLogin: enter, errorText: errorText, keys: { empty: 'e_empty', role: 'e_role' }
    });
    $('filters').addEventListener('submit', search);
    $('more').addEventListener('click', function () { load(true); });
    $('export').addEventListener('click', exportCsv);
    $('logout').addEventListener('click', logout);
    // The header names the hall before the sign-in too (it showed the placeholder).
    STAFF.api(null, 'GET', '/api/v1/hall').then(function (h) {
      if (h && h.hall && h.hall.name) $('hall-name').textContent = h.hall.name;
    }).catch(function () { /* the placeholder stays; the page still works */ });
    if (loginForm.restore()) enter(); else show('login');
  }

  start();
}());
