/* hallq clerk console: what the current ticket shows in the ticket panel and on the pad:
 * its items with their materials; for a bundle (一件事) its steps ("第 1/2 步：B 企业服务 →
 * A 综合受理"), the items of other steps marked, and at a step that is not the last a Done
 * button that says where it sends the ticket ("完成本步 → A"); a Recall button that counts
 * recalls against the hall's limit and, at the limit, points to No-show (issue 4, rules 4-5).
 *
 *   HallqClerkTicket.mount(ctx)  ctx gives the console's state and helpers (see clerk.js).
 *                                Returns {render(ticket), recallSpent(ticket)}.
 *
 * The daemon decides both rules; this only words them and keeps a button that would be
 * refused from being pressed. */
(function () {
  'use strict';

  var I18N = window.HallqI18n;
  function tv(key, vars) { return I18N ? I18N.t(key, vars) : key; }

  function recallSpent(tk) {
    return !!tk && tk.recall_max != null && (tk.recalls || 0) >= tk.recall_max;
  }

  // The step the ticket goes on to when Done at this one, or null at its last (or only) step.
  function nextStep(tk) {
    var steps = (tk && tk.steps) || [];
    return tk && tk.step + 1 < steps.length ? steps[tk.step + 1] : null;
  }

  // The index of the step that handles item `code`, or -1 when the ticket has no steps.
  function stepOf(tk, code) {
    var steps = (tk && tk.steps) || [];
    for (var i = 0; i < steps.length; i++) if ((steps[i].services || []).indexOf(code) >= 0) return i;
    return -1;
  }

  function mount(ctx) {
    var S = ctx.S, $ = ctx.$, t = ctx.t, esc = ctx.esc;

    function renderItems(tk) {
      var box = $('ticket-items');
      if (!tk) { box.innerHTML = ''; return; }
      var html = '', en = ctx.lang() === 'en';
      if (tk.bundle) {
        var b = S.catalog.bundles[tk.bundle];
        html += '<div class="ck-bundle-name">' + esc(t('bundle')) + (en ? ': ' : '：') + esc(b ? b.name : tk.bundle) +
          '<small>' + esc(t('n_items', (tk.services || []).length)) + '</small></div>';
      }
      html += (tk.services || []).map(function (code, i) {
        var it = S.catalog.items[code] || { name: code, materials: [] }, at = stepOf(tk, code), other = at >= 0 && at !== tk.step;
        var mats = (it.materials || []).map(function (m) { return '<li>' + esc(m) + '</li>'; }).join('');
        return '<section class="ck-item' + (other ? ' is-other-step' : '') + '"><header><span class="ck-item-idx">' + (i + 1) +
          '</span><span class="ck-item-name">' + esc(it.name) + '</span><span class="ck-item-meta">' + esc(code) +
          (it.department ? ' · ' + esc(it.department) : '') + (it.minutes ? ' · ' + it.minutes + (en ? ' min' : ' 分钟') : '') +
          (other ? '</span><span class="ck-item-step">' + esc(tv('step_n', { i: at + 1 })) : '') + '</span></header>' +
          (mats ? '<div class="ck-mat-title">' + esc(t('materials')) + '</div><ul class="ck-mats">' + mats + '</ul>' : '') + '</section>';
      }).join('');
      box.innerHTML = html;
    }

    function label(action, main, sub, title) {
      var b = document.querySelector('[data-action="' + action + '"]');
      b.querySelector('b').textContent = main;
      b.querySelector('small').textContent = sub;
      b.title = title;
      return b;
    }

    function renderRecall(tk) {
      var held = !!tk && S.win && S.win.state === 'calling';
      var count = held && tk.recall_max != null ? ' ' + (tk.recalls || 0) + '/' + tk.recall_max : '';
      var spent = held && recallSpent(tk);
      label('recall', tv('a_recall') + count, spent ? tv('recall_spent') : '', spent ? tv('recall_spent') : '').classList.toggle('is-spent', spent);
    }

    function renderDone(tk) {
      var next = nextStep(tk);
      // The where-to in full goes to the tooltip; the steps line in the panel shows it too.
      var where = next ? tv('a_done_step_sub', { q: next.queue + ' ' + ctx.queueName(next.queue) }) : '';
      label('done', next ? tv('a_done_step', { q: next.queue }) : tv('a_done'), '', where).classList.toggle('is-step', !!next);
    }

    // "第 1/2 步：B 企业服务 → A 综合受理", the step it is at in bold, done ones ticked.
    function renderSteps(tk) {
      var el = $('ticket-steps'), steps = (tk && tk.steps) || [];
      el.hidden = steps.length < 2;
      if (el.hidden) { el.innerHTML = ''; return; }
      var chain = steps.map(function (s, i) {
        var mark = s.state === 'done' ? '✓ ' : '';
        return '<span class="ck-step" data-state="' + esc(s.state) + '"' + (i === tk.step ? ' aria-current="step"' : '') + '>' +
          mark + esc(s.queue) + ' ' + esc(ctx.queueName(s.queue)) + '</span>';
      }).join('<span class="ck-step-arrow"> → </span>');
      el.innerHTML = '<span class="ck-steps-k">' + esc(tv('step_of', { i: tk.step + 1, n: steps.length })) + '</span>' + chain;
    }

    function render(tk) {
      renderItems(tk);
      renderRecall(tk);
      renderDone(tk);
      renderSteps(tk);
    }

    return { render: render, recallSpent: recallSpent };
  }

  window.HallqClerkTicket = { mount: mount, recallSpent: recallSpent, nextStep: nextStep, stepOf: stepOf };
})();
