/* hallq admin page — adding users and resetting passwords (admin-users.js).
 *
 * A second script on admin.html, after admin.js: it fills <section id="users-manage">
 * with two forms and talks to the daemon through admin.js's signed-in API
 * (window.HallqAdmin.api) — POST /api/v1/users {user, role, password} and
 * POST /api/v1/users/{name}/password {password} — then asks admin.js to reload the users
 * table. The daemon checks every rule (name pattern and length, unique names, role,
 * password length) and answers each with its own error code, shown here in words; the
 * page checks only that nothing is left empty. Passwords leave the field as soon as they
 * are sent and are kept nowhere.
 */
(function () {
  'use strict';

  var DICT = {
    zh: {
      title: '添加工作人员', name: '用户名', role: '角色', password: '初始密码', add: '添加',
      name_hint: '2–32 位小写字母、数字、- 或 _，以字母开头', password_hint: '至少 8 位',
      reset_title: '重置密码', reset_user: '用户名', reset_password: '新密码', reset: '重置',
      clerk: '窗口人员', supervisor: '值班主任', admin: '管理员', guide: '导办',
      added: '已添加用户 {n}，可立即登录', was_reset: '已重置 {n} 的密码，其其他登录已退出',
      e_empty: '请填写用户名和密码', e_bad_user_name: '用户名须为 2–32 位小写字母、数字、- 或 _，以字母开头',
      e_bad_role: '请选择角色', e_password_too_short: '密码至少 8 位', e_password_too_long: '密码太长（最多 256 字节）',
      e_user_exists: '已有同名用户（含 hall.toml 中的用户），请换一个用户名', e_unknown_user: '没有这个用户',
      e_too_many_users: '添加的用户已达上限', e_forbidden: '只有管理员可以管理账号',
      e_network: '无法连接服务器，请稍后重试', e_generic: '操作失败'
    },
    en: {
      title: 'Add a staff member', name: 'User name', role: 'Role', password: 'Initial password', add: 'Add',
      name_hint: '2–32 lowercase letters, digits, - or _, starting with a letter', password_hint: 'at least 8 characters',
      reset_title: 'Reset a password', reset_user: 'User name', reset_password: 'New password', reset: 'Reset',
      clerk: 'Clerk', supervisor: 'Supervisor', admin: 'Admin', guide: 'Guide',
      added: 'User {n} added; they can log in now', was_reset: "{n}'s password reset; their other sessions ended",
      e_empty: 'Fill in the user name and the password',
      e_bad_user_name: 'A user name has 2–32 lowercase letters, digits, - or _, starting with a letter',
      e_bad_role: 'Choose a role', e_password_too_short: 'A password needs at least 8 characters',
      e_password_too_long: 'The password is too long (256 bytes at most)',
      e_user_exists: 'A user of that name exists (also in hall.toml); choose another name', e_unknown_user: 'No such user',
      e_too_many_users: 'Too many added users', e_forbidden: 'Only admins manage accounts',
      e_network: 'Cannot reach the server; try again', e_generic: 'That did not work'
    }
  };
  var ROLES = ['clerk', 'supervisor', 'admin', 'guide'];
  /* admin.js's action rows sit at the right of a table; these forms read left to right. */
  var ROW = 'justify-content:flex-start;align-items:flex-start;flex-wrap:wrap;gap:12px';
  var I18N = window.HallqI18n;
  var busy = false;

  function t(key, n) {
    var lang = I18N && I18N.lang ? I18N.lang() : 'zh';
    var s = (DICT[lang] && DICT[lang][key]) || DICT.zh[key] || key;
    return n === undefined ? s : s.replace('{n}', n);
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text != null) e.textContent = text;
    return e;
  }
  function field(labelKey, input, hintKey) {
    var label = el('label', { class: 'au-field' });
    label.appendChild(el('span', { 'data-uk': labelKey }, t(labelKey)));
    label.appendChild(input);
    if (hintKey) label.appendChild(el('small', { class: 'au-muted', 'data-uk': hintKey }, t(hintKey)));
    return label;
  }
  // A form's button, level with the inputs beside it (not with their labels).
  function submit(id, cls, key) {
    var box = el('div', { class: 'au-field' });
    box.appendChild(el('span', { 'aria-hidden': 'true' }, '\u00a0'));
    box.appendChild(el('button', { type: 'submit', class: cls, id: id, 'data-uk': key }, t(key)));
    return box;
  }
  function say(ok, text) {
    $('users-manage-error').textContent = ok ? '' : text;
    $('users-manage-error').hidden = ok || !text;
    $('users-manage-ok').textContent = ok ? text : '';
    $('users-manage-ok').hidden = !ok || !text;
  }
  function errorText(err) {
    if (!err || err.status === 0) return t('e_network');
    var key = 'e_' + err.code;
    return DICT.zh[key] ? t(key) : (err.message || t('e_generic'));
  }

  function build(host) {
    var add = el('form', { id: 'add-user-form', autocomplete: 'off', novalidate: '' });
    add.appendChild(el('h2', { class: 'au-h2', 'data-uk': 'title' }, t('title')));
    var row = el('div', { class: 'au-row-actions', style: ROW });
    row.appendChild(field('name', el('input', { id: 'new-user', autocomplete: 'off', maxlength: '32' }), 'name_hint'));
    var role = el('select', { id: 'new-role' });
    ROLES.forEach(function (r) { role.appendChild(el('option', { value: r, 'data-uk': r }, t(r))); });
    row.appendChild(field('role', role));
    row.appendChild(field('password', el('input', { id: 'new-password', type: 'password', autocomplete: 'new-password' }),
      'password_hint'));
    row.appendChild(submit('add-user', 'au-btn', 'add'));
    add.appendChild(row);

    var reset = el('form', { id: 'reset-password-form', autocomplete: 'off', novalidate: '', style: 'margin-top:24px' });
    reset.appendChild(el('h2', { class: 'au-h2', 'data-uk': 'reset_title' }, t('reset_title')));
    var row2 = el('div', { class: 'au-row-actions', style: ROW });
    row2.appendChild(field('reset_user', el('input', { id: 'reset-user', autocomplete: 'off' })));
    row2.appendChild(field('reset_password', el('input', { id: 'reset-password', type: 'password', autocomplete: 'new-password' }),
      'password_hint'));
    row2.appendChild(submit('reset-submit', 'au-btn au-btn-ghost', 'reset'));
    reset.appendChild(row2);

    host.appendChild(el('div', { class: 'au-error', id: 'users-manage-error', role: 'alert', hidden: '' }));
    host.appendChild(el('div', { class: 'au-ok', id: 'users-manage-ok', role: 'status', hidden: '' }));
    host.appendChild(add);
    host.appendChild(reset);
    add.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var name = $('new-user').value.trim();
      send('/api/v1/users', { user: name, role: $('new-role').value, password: $('new-password').value },
        'new-password', function () { $('new-user').value = ''; say(true, t('added', name)); });
    });
    reset.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var name = $('reset-user').value.trim();
      send('/api/v1/users/' + encodeURIComponent(name) + '/password', { password: $('reset-password').value },
        'reset-password', function () { $('reset-user').value = ''; say(true, t('was_reset', name)); }, name);
    });
  }

  /* One request at a time; the password field is emptied whatever the answer. */
  function send(path, body, passwordField, done, name) {
    var admin = window.HallqAdmin;
    if (busy || !admin) return;
    if ((name !== undefined && !name) || (body.user !== undefined && !body.user) || !body.password) {
      say(false, t('e_empty'));
      return;
    }
    busy = true;
    $(passwordField).value = '';
    admin.api('POST', path, body).then(function () {
      done();
      return admin.reload();
    }, function (err) {
      if (err && err.status === 401) { admin.reload(); return; }
      say(false, errorText(err));
    }).then(function () { busy = false; });
  }

  function relabel() {
    Array.prototype.forEach.call(document.querySelectorAll('#users-manage [data-uk]'), function (e) {
      e.textContent = t(e.getAttribute('data-uk'));
    });
  }

  // A user's row's 重置密码 (admin.js): their name in the form, the cursor on the password.
  function resetFor(name) {
    $('reset-user').value = name;
    $('reset-password-form').scrollIntoView({ block: 'center' });
    $('reset-password').focus();
  }

  var host = $('users-manage');
  if (!host) return;
  build(host);
  window.HallqAdminUsers = { resetFor: resetFor };
  if (I18N && I18N.onChange) I18N.onChange(relabel);
}());
