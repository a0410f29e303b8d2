/* hallq ticket-status page: where an enterprise's ticket waits (助企服务, issue 17 §3 and
 * the follow-up's point 2). The ticket's `enterprise_line.kind` says `personal` (its
 * specialist's window, `enterprise_line.window`) or `queue` (the enterprise queue: the specialist is not at an open
 * window, or paused longer than the hall's hold, or closed); the page says which, and that
 * the number and the place by issue time stay. No enterprise or specialist is named (the
 * daemon sends none).
 *
 *   HallqEnterpriseLine.render(ticket)  called by status.js on every render. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      personal: '您的专属服务专员在 {w} 号窗口，请留意叫号。',
      queue: '专属服务专员暂不在窗口，您已在企业服务区排队；号码 {n} 不变，按取号时间排队，请留意叫号。'
    },
    en: {
      personal: 'Your enterprise\u2019s specialist is at window {w}; watch for your call.',
      queue: 'Your specialist is not at a window now, so you wait in the enterprise line; your number {n} stays the same and keeps its place by issue time.'
    }
  };

  function word(key, vars) {
    var lang = window.HallqI18n && window.HallqI18n.lang() === 'en' ? 'en' : 'zh';
    return WORDS[lang][key].replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }

  function render(tk) {
    var box = document.getElementById('enterprise-line');
    if (!box) return;
    var line = tk && tk.enterprise_line;
    box.hidden = !line;
    if (!line) return;
    box.dataset.line = line.kind;
    var w = line.window || tk.waits_for || '';
    document.getElementById('enterprise-line-text').textContent = word(line.kind, { w: w, n: tk.number });
  }

  window.HallqEnterpriseLine = { render: render };
})();
