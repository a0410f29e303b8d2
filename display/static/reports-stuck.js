/* hallq reports: the items that get stuck (及时发现并纠正服务问题, issue 17 §2), the ISO week of
 * the chosen day: per item the matters escalated (办不成事) and why, the finishes left
 * incomplete, and how the week's cases stand now; the week as CSV.
 * Data: GET /api/v1/reports/stuck?week=YYYY-Www (…/stuck.csv).
 *
 *   HallqStuck.load(day, ctx)  ctx: {api, el, table, save, lang} from reports.js. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      title: '本周易卡事项（{w}）', csv: '导出本周 CSV', none: '本周没有办不成或未办结的事项',
      cols: ['事项编码', '事项名称', '部门', '办不成事', '原因', '未办结', '未结', '逾期', '已答复', '已转办'],
      gone: '以下日期的记录已超过保存期限：{d}'
    },
    en: {
      title: 'Items that got stuck ({w})', csv: 'Week as CSV', none: 'Nothing got stuck this week',
      cols: ['Code', 'Item', 'Department', 'Escalated', 'Reasons', 'Incomplete', 'Open', 'Overdue', 'Answered', 'Referred'],
      gone: 'Past the retention: {d}'
    }
  };
  var week = null, ctx = null;

  function w(k, vars) {
    var lang = ctx && ctx.lang() === 'en' ? 'en' : 'zh';
    var s = WORDS[lang][k];
    return typeof s === 'string' ? s.replace(/\{(\w+)\}/g, function (m, n) { return vars && n in vars ? vars[n] : m; }) : s;
  }
  function $(id) { return document.getElementById(id); }

  // The ISO week (YYYY-Www) of a YYYY-MM-DD day: the week of its Thursday.
  function isoWeek(day) {
    var d = new Date(day + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + 3 - (d.getUTCDay() + 6) % 7);
    var year = d.getUTCFullYear();
    var jan4 = new Date(Date.UTC(year, 0, 4));
    var n = 1 + Math.round(((d - jan4) / 864e5 - 3 + (jan4.getUTCDay() + 6) % 7) / 7);
    return year + '-W' + (n < 10 ? '0' : '') + n;
  }

  function render(r) {
    $('st-title').textContent = w('title', { w: r.week + ' · ' + r.from.slice(5) + '–' + r.until.slice(5) });
    $('st-gone').hidden = !r.unavailable.length;
    $('st-gone').textContent = r.unavailable.length ? w('gone', { d: r.unavailable.join('、') }) : '';
    var tb = $('t-stuck');
    var body = ctx.table(tb, w('cols'), w('none'), !r.items.length);
    r.items.forEach(function (x) {
      var why = x.reasons.map(function (p) { return p.name + '×' + p.count; }).join('；');
      var row = document.createElement('tr');
      [x.code, x.name, x.department, x.escalated, why || '—', x.incomplete, x.open, x.overdue, x.closed, x.referred]
        .forEach(function (v) { row.appendChild(ctx.el('td', String(v))); });
      row.dataset.item = x.code;
      body.appendChild(row);
    });
    tb.appendChild(body);
  }

  function load(day, c) {
    ctx = c;
    week = isoWeek(day);
    $('st-csv').textContent = w('csv');
    ctx.api('/api/v1/reports/stuck?week=' + week).then(function (r) {
      if (r.week === week) render(r);
    }, function (err) { $('st-gone').hidden = false; $('st-gone').textContent = (err && err.message) || String(err); });
  }

  function download() {
    if (!ctx || !week) return;
    ctx.save('/api/v1/reports/stuck.csv?week=' + week, 'hallq-stuck-' + week + '.csv');
  }

  document.addEventListener('DOMContentLoaded', function () { $('st-csv').addEventListener('click', download); });
  window.HallqStuck = { load: load, isoWeek: isoWeek };
})();
