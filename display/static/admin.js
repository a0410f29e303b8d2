/* hallq admin page (/display/admin).
 * Sign in as an admin (POST /api/v1/login; the staff portal's one sign-in, staff.js), then read
 * GET /api/v1/admin (windows with state, clerk and queues; users with role and status) and
 * the hall's queues from GET /api/v1/services, and change things with
 * POST /api/v1/admin/windows/{w}/queues, POST /api/v1/admin/windows/{w}/close and
 * POST /api/v1/users/{name}/disable|enable — each with a fresh Idempotency-Key, one at a
 * time; the tables reload after each change. */
(function () {
  'use strict';

  var STATES = { closed: ['已关闭', 'Closed'], open: ['空闲', 'Open'], calling: ['呼叫中', 'Calling'],
    serving: ['办理中', 'Serving'], paused: ['暂停', 'Paused'] };
  var ROLES = { clerk: ['窗口人员', 'Clerk'], supervisor: ['值班主任', 'Supervisor'], admin: ['管理员', 'Admin'], guide: ['导办', 'Guide'] };
  var DICT = {
    zh: {
      app: '系统管理', to_audit: '操作日志', logout: '退出登录', login_title: '管理员登录',
      login_sub: '管理窗口与工作人员账号，所有更改记入操作日志', user: '用户名', password: '密码', login: '登录',
      windows: '窗口', win_filter: '窗口号、名称或工作人员', win_open_only: '只看开放中', shown: '显示 {n} / {all}',
      user_filter: '用户名、姓名或角色',
      users: '工作人员账号', c_window: '窗口', c_state: '状态', c_clerk: '工作人员', c_queues: '服务队列',
      c_user: '用户', c_role: '角色', c_may: '可开窗口', c_status: '状态', any: '任意窗口', save: '保存队列',
      force_close: '强制关闭', reset_pw: '重置密码', disable: '停用', enable: '启用', active: '正常', disabled: '已停用', you: '（本人）',
      confirm_close: '确定强制关闭 {n} 号窗口？该窗口的工作人员将被签出。', confirm_disable: '确定停用用户 {n}？其登录将立即失效。',
      saved: '已保存', closed: '窗口已关闭', user_disabled: '用户已停用', user_enabled: '用户已启用',
      e_login: '用户名或密码错误', e_empty: '请输入用户名和密码', e_role: '仅管理员可使用系统管理',
      e_expired: '登录已过期，请重新登录', e_network: '无法连接服务器，请检查网络', e_generic: '操作失败，请重试',
      e_window_busy: '该窗口正在办理号码，请工作人员办结或转移后再关闭', e_parked_tickets: '该窗口有暂存号码，不能关闭',
      e_bad_queues: '请至少选择一个队列', e_cannot_disable_self: '不能停用自己的账号', e_user_disabled: '该用户已被停用'
    },
    en: {
      app: 'Administration', to_audit: 'Audit log', logout: 'Log out', login_title: 'Admin sign-in',
      login_sub: 'Manage windows and staff accounts; every change goes to the audit log', user: 'User', password: 'Password',
      login: 'Sign in', windows: 'Windows', win_filter: 'Window, name or clerk', win_open_only: 'Open only',
      shown: '{n} of {all}', user_filter: 'User, name or role', users: 'Staff accounts', c_window: 'Window', c_state: 'State', c_clerk: 'Clerk',
      c_queues: 'Queues served', c_user: 'User', c_role: 'Role', c_may: 'May open', c_status: 'Status', any: 'any window',
      save: 'Save queues', force_close: 'Force close', reset_pw: 'Reset password', disable: 'Disable', enable: 'Enable', active: 'Active',
      disabled: 'Disabled', you: ' (you)', confirm_close: 'Force-close window {n}? Its clerk will be signed out.',
      confirm_disable: 'Disable user {n}? Their sessions end at once.', saved: 'Saved', closed: 'Window closed',
      user_disabled: 'User disabled', user_enabled: 'User enabled', e_login: 'Wrong user name or password',
      e_empty: 'Enter user name and password', e_role: 'Only admins may use this page', e_expired: 'Your session has ended; sign in again',
      e_network: 'Cannot reach the server', e_generic: 'That did not work; try again',
      e_window_busy: 'The window holds a ticket; its clerk must finish or transfer it first',
      e_parked_tickets: 'The window has parked tickets', e_bad_queues: 'Choose at least one queue',
      e_cannot_disable_self: 'You cannot disable yourself', e_user_disabled: 'This user is disabled'
    }
  };
  var I18N = window.HallqI18n;
  var STAFF = window.HallqStaff;
  var loginForm = null; // wired in start()
  var S = { token: null, user: null, queues: [], data: null, busy: false };

  function $(id) { return document.getElementById(id); }
  function t(k, n) { var s = I18N ? I18N.t(k) : (DICT.zh[k] || k); return n === undefined ? s : s.replace('{n}', n); }
  function en() { return I18N && I18N.lang && I18N.lang() === 'en'; }
  function word(table, key) { var w = table[key]; return w ? w[en() ? 1 : 0] : (key || ''); }
  function api(method, path, body) { return STAFF.api(S.token, method, path, body); }
  function errorText(err) { return STAFF.errorText(t, err); }
  function note(id, text) { var el = $(id); el.textContent = text || ''; el.hidden = !text; }

  function show(screen) {
    $('screen-login').hidden = screen !== 'login';
    $('screen-admin').hidden = screen !== 'admin';
    $('user-box').hidden = screen !== 'admin';
    $('user-name').textContent = STAFF.who(S);
    if (screen === 'login') setTimeout(function () { $('login-user').focus(); }, 0);
  }
  function signOut(message) { loginForm.signOut(message || ''); show('login'); }

  function enter() {
    show('admin');
    api('GET', '/api/v1/services').then(function (cat) {
      S.queues = (cat.queues || []).map(function (q) { return { id: q.id, name: q.name }; });
      return reload();
    }).catch(fail);
  }
  function reload() {
    return api('GET', '/api/v1/admin').then(function (data) { S.data = data; render(); }, fail);
  }
  function fail(err) {
    if (err && err.status === 401) { signOut(t('e_expired')); return; }
    note('admin-ok', '');
    note('admin-error', errorText(err || {}));
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function td(child) { var c = el('td'); if (typeof child === 'string') c.textContent = child; else if (child) c.appendChild(child); return c; }
  function button(text, cls, onClick) {
    var b = el('button', 'au-btn ' + (cls || ''), text);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  // Sixty windows and as many clerks are long tables: the rows of `body` matching the
  // filter `input` stay, with a count; `exact` (a row's data key) is what a number must
  // equal (12 finds window 12, not 112 or 121), other text is looked for in the row's
  // words (`data-find`); `hide(tr)` hides more.
  function filterRows(body, input, count, exact, hide) {
    var q = $(input).value.trim().toLowerCase();
    var rows = $(body).querySelectorAll('tr');
    var shown = 0;
    Array.prototype.forEach.call(rows, function (tr) {
      var hit = !q || (exact && /^\d+$/.test(q) ? tr.dataset[exact] === q : tr.dataset.find.indexOf(q) >= 0);
      tr.hidden = !hit || (hide ? hide(tr) : false);
      if (!tr.hidden) shown += 1;
    });
    $(count).textContent = t('shown').replace('{n}', shown).replace('{all}', rows.length);
  }

  function filterWindows() {
    var openOnly = $('win-open-only').checked;
    filterRows('windows', 'win-filter', 'win-count', 'window', function (tr) { return openOnly && !!tr.dataset.closed; });
  }

  function filterUsers() {
    filterRows('users', 'user-filter', 'user-count', null, null);
  }

  function render() {
    if (!S.data) return;
    var wbody = $('windows');
    wbody.textContent = '';
    var names = {};
    S.data.users.forEach(function (u) { names[u.name] = u.display_name; });
    S.data.windows.forEach(function (w) {
      var tr = el('tr');
      tr.dataset.window = w.id;
      tr.appendChild(td(w.name || w.id));
      var st = el('span', 'au-state', word(STATES, w.state));
      st.dataset.state = w.state;
      tr.appendChild(td(st));
      tr.appendChild(td(w.clerk ? STAFF.person(w.clerk, names[w.clerk]) : '—'));
      var box = el('div', 'au-queues');
      S.queues.forEach(function (q) {
        var label = el('label');
        var input = el('input');
        input.type = 'checkbox';
        input.value = q.id;
        input.checked = w.queues.indexOf(q.id) >= 0;
        label.appendChild(input);
        label.appendChild(document.createTextNode(q.id + ' ' + q.name));
        box.appendChild(label);
      });
      tr.appendChild(td(box));
      var actions = el('div', 'au-row-actions');
      actions.appendChild(button(t('save'), 'au-btn-ghost au-save', function () { saveQueues(w.id, box); }));
      var close = button(t('force_close'), 'au-btn-danger au-close', function () { forceClose(w.id); });
      close.disabled = w.state === 'closed';
      actions.appendChild(close);
      tr.appendChild(td(actions));
      tr.dataset.find = [w.id, w.name || '', w.clerk || '', names[w.clerk] || ''].join(' ').toLowerCase();
      tr.dataset.closed = w.state === 'closed' ? '1' : '';
      wbody.appendChild(tr);
    });
    filterWindows();
    var ubody = $('users');
    ubody.textContent = '';
    S.data.users.forEach(function (u) {
      var tr = el('tr');
      tr.dataset.user = u.name;
      var shown = STAFF.person(u.name, u.display_name);
      tr.appendChild(td(shown + (u.name === S.user ? t('you') : '')));
      tr.appendChild(td(word(ROLES, u.role)));
      tr.appendChild(td(u.windows.length ? u.windows.join('、') : t('any')));
      var st = el('span', 'au-state', u.disabled ? t('disabled') : t('active'));
      st.dataset.state = u.disabled ? 'disabled' : 'open';
      tr.appendChild(td(st));
      var actions = el('div', 'au-row-actions');
      actions.appendChild(button(t('reset_pw'), 'au-btn-ghost au-reset', function () {
        if (window.HallqAdminUsers) window.HallqAdminUsers.resetFor(u.name);
      }));
      if (u.name !== S.user) {
        actions.appendChild(u.disabled
          ? button(t('enable'), 'au-btn-ghost au-enable', function () { setUser(u.name, 'enable'); })
          : button(t('disable'), 'au-btn-danger au-disable', function () { setUser(u.name, 'disable'); }));
      }
      tr.appendChild(td(actions));
      tr.dataset.find = [u.name, u.display_name || '', word(ROLES, u.role)].join(' ').toLowerCase();
      ubody.appendChild(tr);
    });
    filterUsers();
  }

  function change(path, body, done) {
    if (S.busy) return;
    S.busy = true;
    Array.prototype.forEach.call(document.querySelectorAll('#screen-admin button'), function (b) { b.disabled = true; });
    api('POST', path, body).then(function () {
      note('admin-error', '');
      note('admin-ok', t(done));
    }, fail).then(function () { S.busy = false; return reload(); });
  }
  function saveQueues(id, box) {
    var queues = Array.prototype.filter.call(box.querySelectorAll('input'), function (i) { return i.checked; })
      .map(function (i) { return i.value; });
    change('/api/v1/admin/windows/' + encodeURIComponent(id) + '/queues', { queues: queues }, 'saved');
  }
  function forceClose(id) {
    if (!window.confirm(t('confirm_close', id))) return;
    change('/api/v1/admin/windows/' + encodeURIComponent(id) + '/close', {}, 'closed');
  }
  function setUser(name, what) {
    if (what === 'disable' && !window.confirm(t('confirm_disable', name))) return;
    change('/api/v1/users/' + encodeURIComponent(name) + '/' + what, {}, what === 'disable' ? 'user_disabled' : 'user_enabled');
  }

  function start() {
    if (I18N) {
      I18N.init(DICT);
      if (I18N.onChange) I18N.onChange(function () { render(); });
    }
    loginForm = STAFF.login({
      t: t, roles: ['admin'], state: S, shared: true, keep: ['token', 'user'], onLogin: enter, errorText: errorText,
      keys: { empty: 'e_empty', role: 'e_role' }
    });
    $('logout').addEventListener('click', function () { STAFF.endSession(S.token).then(function () { signOut(''); }); });
    $('win-filter').addEventListener('input', filterWindows);
    $('win-open-only').addEventListener('change', filterWindows);
    $('user-filter').addEventListener('input', filterUsers);
    // The header names the hall, signed in or not (it showed the placeholder 政务服务中心).
    STAFF.api(null, 'GET', '/api/v1/hall').then(function (h) {
      if (h && h.hall && h.hall.name) { $('hall-name').textContent = h.hall.name; document.title = h.hall.name + ' · ' + t('app'); }
    }).catch(function () { /* the placeholder stays; the page still works */ });
    if (loginForm.restore()) enter(); else show('login');
  }

  /* For admin-users.js: the signed-in API and a reload of the tables. */
  window.HallqAdmin = { api: api, reload: reload };
  start();
}());
