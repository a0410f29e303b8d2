/* hallq ticket-status page: what to bring and by when (一次性告知, issue 17 §5). From the
 * catalogue the page already loads: the materials of the ticket's items, each once in the
 * items' order, and the promised time limit (承诺办结时限, the longest of its items: the
 * matter is done when its last item is). An enterprise ticket's line is
 * status-enterprise.js's.
 *
 *   HallqMaterials.catalog(c)  once the catalogue is in;
 *   HallqMaterials.ticket(tk)  on every render of the ticket;
 *   HallqMaterials.render()    on a language change. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      h: '请准备以下材料（一次性告知）', limit: '承诺时限', days: '{n} 个工作日内办结', now: '即办（当场办结）'
    },
    en: {
      h: 'Please bring (the full list)', limit: 'Time limit', days: 'Done within {n} working days', now: 'Done on the spot'
    }
  };
  var items = null, tk = null;

  function word(key, vars) {
    var lang = window.HallqI18n && window.HallqI18n.lang() === 'en' ? 'en' : 'zh';
    return WORDS[lang][key].replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }

  function $(id) { return document.getElementById(id); }

  function render() {
    var codes = (tk && tk.services) || [], materials = [], days = null;
    codes.forEach(function (c) {
      var it = items && items[c];
      if (!it) return;
      (it.materials || []).forEach(function (m) { if (materials.indexOf(m) < 0) materials.push(m); });
      if (it.limit_days != null && (days == null || it.limit_days > days)) days = it.limit_days;
    });
    var box = $('materials'), active = tk && tk.status !== 'cancelled' && tk.status !== 'expired';
    box.hidden = !active || (!materials.length && days == null);
    if (box.hidden) return;
    $('materials-h').textContent = word('h');
    $('limit-row').hidden = days == null;
    $('limit-k').textContent = word('limit');
    $('limit').textContent = days == null ? '' : days === 0 ? word('now') : word('days', { n: days });
    var list = $('material-list');
    list.textContent = '';
    materials.forEach(function (m) {
      var li = document.createElement('li');
      li.textContent = m;
      list.appendChild(li);
    });
  }

  window.HallqMaterials = {
    catalog: function (c) {
      items = {};
      (c.items || []).forEach(function (it) { items[it.code] = it; });
      render();
    },
    ticket: function (t) { tk = t; render(); },
    render: render
  };
})();
