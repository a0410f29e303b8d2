/* hallq ticket-status page: what happens next to a matter its clerk could not finish (办不成事,
 * issue 17 §2). The ticket's `escalation` names the escalation queue and its windows: the
 * page tells the visitor that the matter went there, that the number stays the same and the
 * place is kept by issue time, and by when the hall answers. No clerk's name or note reaches
 * this page (the daemon sends none).
 *
 *   HallqEscalation.render(ticket)  called by status.js on every render. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      h: '您的事项已转“办不成事请找我”',
      waiting: '原窗口未能办成（{r}），已转至 {w}（{q}）专人协调办理。您的号码 {n} 不变，按取号时间排队，请留意叫号。',
      called: '{w} 正在为您协调办理，请前往。',
      due: '我们将在 {d} 前给您答复。'
    },
    en: {
      h: 'Your matter went to the escalation window',
      waiting: 'It could not be done at the first window ({r}); {w} ({q}) takes it on. Your number {n} stays the same and keeps its place by issue time; watch for your call.',
      called: '{w} is taking on your matter; please go there.',
      due: 'You will have an answer by {d}.'
    }
  };

  function word(key, vars) {
    var lang = window.HallqI18n && window.HallqI18n.lang() === 'en' ? 'en' : 'zh';
    return WORDS[lang][key].replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }

  function render(tk) {
    var box = document.getElementById('escalation');
    var e = tk && tk.escalation;
    var live = e && (tk.status === 'waiting' || tk.status === 'called' || tk.status === 'serving');
    box.hidden = !live;
    if (!live) return;
    var names = (e.windows || []).map(function (w) { return w.name; }).join('、') || e.queue_name;
    var vars = { r: e.reason_name, w: names, q: e.queue_name, n: tk.number, d: e.due };
    document.getElementById('escalation-h').textContent = word('h');
    document.getElementById('escalation-text').textContent = word(tk.status === 'waiting' ? 'waiting' : 'called', vars);
    document.getElementById('escalation-due').textContent = word('due', vars);
  }

  window.HallqEscalation = { render: render };
})();
