/* hallq ticket-status page: a number taken on the phone (线上取号) keeps its place, but no
 * window calls it until its visitor checks in at one of the hall's kiosks. While the ticket
 * says `check_in`, the page says so plainly and shows the QR code the kiosk's scanner reads
 * (签到取票 · 线上取号签到): the page's own address with its key, from the hall's
 * /api/v1/tickets/{id}/qr.svg, or at the district (?hall=) from the district's. Without the
 * key (a link that has only the id) there is no code to show, and the page says what to do.
 *
 *   HallqCheckin.render(ticket, api, key)  called by status.js on every render;
 *   HallqCheckin.pending(ticket)           whether the ticket still waits for its check-in. */
(function () {
  'use strict';

  var WORDS = {
    zh: {
      h: '到达大厅后请先签到',
      text: '号码 {n} 已为您保留排队位置，签到后才会叫号。到达后请在自助取号机选择“预约签到 · 线上取号签到”，将下方二维码对准扫码口。',
      no_key: '请打开取号时的号票页面（带二维码的链接），到达后在自助取号机扫码签到；或请导办人员协助。'
    },
    en: {
      h: 'Check in when you arrive',
      text: 'Number {n} keeps your place, but it is called only after you check in. At the hall, choose "Check in: booking or online ticket" on a kiosk and hold the QR code below to its scanner.',
      no_key: 'Open the ticket page you got when you took the number (the link with the QR code) and scan it at a kiosk when you arrive, or ask a guide.'
    }
  };

  function word(key, vars) {
    var lang = window.HallqI18n && window.HallqI18n.lang() === 'en' ? 'en' : 'zh';
    return WORDS[lang][key].replace(/\{(\w+)\}/g, function (m, k) { return vars && k in vars ? vars[k] : m; });
  }

  function pending(tk) {
    return !!(tk && tk.check_in && tk.status === 'waiting');
  }

  function render(tk, api, key) {
    var box = document.getElementById('checkin');
    box.hidden = !pending(tk);
    if (box.hidden) return;
    document.getElementById('checkin-h').textContent = word('h');
    document.getElementById('checkin-text').textContent = word(key ? 'text' : 'no_key', { n: tk.number });
    var img = document.getElementById('checkin-qr');
    var src = key ? api + '/tickets/' + encodeURIComponent(tk.id) + '/qr.svg?k=' + encodeURIComponent(key) : '';
    img.hidden = !src;
    if (src && img.getAttribute('src') !== src) img.setAttribute('src', src);
  }

  window.HallqCheckin = { render: render, pending: pending };
})();
