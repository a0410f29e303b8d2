/* hallq ticket-status page: a matter referred to another hall of the district (跨中心转办,
 * issue 18). The ticket's `referral` (direction `out`) names the hall and the visitor's
 * number there; the page says where to go and that they check in at a kiosk there like
 * a number taken online, with a link to the new ticket's status page at the district
 * (with its key only when this page was opened with this ticket's own key). No clerk's
 * name reaches this page.
 *
 *   HallqReferral.render(ticket)  called by status.js on every render. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      h: '已转至 {h} 办理',
      text: '您在该中心的号码 {n}，到达后请在自助取号机扫码签到（选择“预约签到 · 线上取号签到”）。',
      why: '转办原因：{r}',
      link: '查看新号码的排队情况',
      badge: '已转他中心'
    },
    en: {
      h: 'Referred to {h}',
      text: 'Your number there is {n}. When you arrive, check in at a kiosk ("Check in: booking or online ticket") with the code on the new ticket page.',
      why: 'Reason: {r}',
      link: 'Follow your new number',
      badge: 'Referred'
    }
  };

  function word(key, vars) {
    var lang = window.HallqI18n && window.HallqI18n.lang() === 'en' ? 'en' : 'zh';
    return WORDS[lang][key].replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }

  function render(tk) {
    var box = document.getElementById('referral');
    var r = tk && tk.referral;
    box.hidden = !(r && r.direction === 'out');
    if (box.hidden) return;
    // Not 已完成: the matter goes on at the other hall.
    var st = document.getElementById('status');
    st.textContent = word('badge');
    st.setAttribute('data-status', 'referred');
    var vars = { h: r.hall_name, n: r.number, r: r.reason };
    document.getElementById('referral-h').textContent = word('h', vars);
    document.getElementById('referral-number').textContent = r.number;
    document.getElementById('referral-text').textContent = word('text', vars);
    document.getElementById('referral-why').textContent = word('why', vars);
    var a = document.getElementById('referral-link');
    a.hidden = !r.status_url;
    if (r.status_url) { a.href = r.status_url; a.textContent = word('link'); }
  }

  window.HallqReferral = { render: render };
})();
