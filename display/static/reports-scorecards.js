/* hallq reports: 考勤考核, the clerks' scorecards of the chosen day's month (issue 17 §5):
 * per clerk and day, the time with a window open (and signed in, from sign-in to sign-out), pauses and their reasons, tickets
 * finished, no-shows, mean service, ratings and 办不成事; and the month as CSV.
 * Data: GET /api/v1/reports/scorecards?month=YYYY-MM (…/scorecards.csv).
 *
 *   HallqScorecards.load(day, ctx)  ctx: {api, el, table, save, lang} from reports.js. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      title: '考勤考核（{m}）', csv: '导出本月考勤 CSV', none: '本月暂无开窗记录',
      cols: ['日期', '工作人员', '窗口', '首次开窗', '最后关窗', '开窗(分)', '暂停', '暂停(分)', '暂停原因', '办结', '未办结', '过号', '平均办理(分)', '评价', '不满意', '办不成事', '签到(分)'],
      noreason: '未注明', gone: '以下日期的记录已超过保存期限：{d}'
    },
    en: {
      title: 'Scorecards ({m})', csv: 'Month as CSV', none: 'No window was opened this month',
      cols: ['Day', 'Clerk', 'Windows', 'First open', 'Last close', 'Open (min)', 'Pauses', 'Paused (min)', 'Why paused', 'Done', 'Not completed', 'No-shows', 'Mean service (min)', 'Ratings', 'Unsatisfied', 'Escalated', 'Signed in (min)'],
      noreason: 'no reason', gone: 'Past the retention: {d}'
    }
  };
  var month = null, ctx = null;

  function w(k, vars) {
    var lang = ctx && ctx.lang() === 'en' ? 'en' : 'zh';
    var s = WORDS[lang][k];
    return typeof s === 'string' ? s.replace(/\{(\w+)\}/g, function (m, n) { return vars && n in vars ? vars[n] : m; }) : s;
  }
  function $(id) { return document.getElementById(id); }
  function hm(s) { return s ? s.slice(11, 16) : '—'; }

  function render(r) {
    var names = {};
    (r.pause_reasons || []).forEach(function (p) { names[p.code] = p.name; });
    $('sc-title').textContent = w('title', { m: r.month });
    $('sc-gone').hidden = !r.unavailable.length;
    $('sc-gone').textContent = r.unavailable.length ? w('gone', { d: r.unavailable.join('、') }) : '';
    var tb = $('t-scorecards');
    var body = ctx.table(tb, w('cols'), w('none'), !r.rows.length);
    r.rows.forEach(function (x) {
      var why = x.paused_by_reason.map(function (p) { return (p[0] ? names[p[0]] || p[0] : w('noreason')) + ' ' + p[1]; }).join('；');
      var row = document.createElement('tr');
      [x.day.slice(5), x.name, x.windows.join(' '), hm(x.first_open), hm(x.last_close), x.open_minutes.toFixed(1), x.pauses,
        x.paused_minutes.toFixed(1), why || '—', x.completed, x.incomplete, x.no_shows,
        x.service_mean_minutes == null ? '—' : x.service_mean_minutes.toFixed(1), x.ratings, x.unsatisfied, x.escalations,
        x.signed_in_minutes.toFixed(1)
      ].forEach(function (v) { row.appendChild(ctx.el('td', String(v))); });
      row.dataset.clerk = x.clerk;
      body.appendChild(row);
    });
    tb.appendChild(body);
  }

  function load(day, c) {
    ctx = c;
    month = day.slice(0, 7);
    $('sc-csv').textContent = w('csv');
    ctx.api('/api/v1/reports/scorecards?month=' + month).then(function (r) {
      if (r.month === month) render(r);
    }, function (err) { $('sc-gone').hidden = false; $('sc-gone').textContent = (err && err.message) || String(err); });
  }

  function download() {
    if (!ctx || !month) return;
    ctx.save('/api/v1/reports/scorecards.csv?month=' + month, 'hallq-scorecards-' + month + '.csv');
  }

  document.addEventListener('DOMContentLoaded', function () { $('sc-csv').addEventListener('click', download); });
  window.HallqScorecards = { load: load };
})();
