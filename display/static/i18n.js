/* hallq — i18n.js: Chinese first, with an English switch, for every hallq page.
 *
 *   HallqI18n.init({zh: {key: "文字"}, en: {key: "text"}})
 *     applies the current language to the page: every [data-i18n="key"] gets its
 *     textContent, [data-i18n-placeholder], [data-i18n-title] and [data-i18n-aria-label]
 *     their attribute; fills any element with id "lang-toggle" with a 中/EN button; sets
 *     <html lang>. The choice is kept in localStorage ("hallq.lang"); the default is zh.
 *   HallqI18n.t(key, vars)   the text of key in the current language ("{n}" in the text is
 *                            replaced by vars.n); falls back to zh, then to the key itself.
 *   HallqI18n.lang()         "zh" or "en".
 *   HallqI18n.set(lang)      switches language (what the button does).
 *   HallqI18n.apply(root)    re-applies to new content under root (default: document).
 *   HallqI18n.onChange(fn)   calls fn(lang) after every switch, to redraw dynamic text.
 *   HallqI18n.wait(minutes, reason)
 *                            an expected wait in words, the same on every page and on the
 *                            printed ticket (src/printer/ticket.rs `wait_words`): 暂无窗口办理
 *                            when reason is "no_open_window", 仅限预约签到 when it is
 *                            "booked_only" (the appointment queue), 无需等候, 约 12 分钟,
 *                            约 1 小时 20 分 (to 10 minutes), 超过 4 小时; "—" when unknown.
 */
(function () {
  "use strict";

  var STORE_KEY = "hallq.lang";
  var dict = { zh: {}, en: {} };
  var current = "zh";
  var listeners = [];

  function stored() {
    try {
      var v = window.localStorage.getItem(STORE_KEY);
      return v === "en" || v === "zh" ? v : null;
    } catch (e) {
      return null; // storage blocked (private mode): stay with the default
    }
  }

  function remember(lang) {
    try {
      window.localStorage.setItem(STORE_KEY, lang);
    } catch (e) {
      /* not remembered; the page still switches */
    }
  }

  function t(key, vars) {
    var table = dict[current] || {};
    var text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
    if (text === undefined && dict.zh && Object.prototype.hasOwnProperty.call(dict.zh, key)) {
      text = dict.zh[key];
    }
    if (text === undefined) text = key;
    if (vars) {
      text = String(text).replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
      });
    }
    return text;
  }

  function eachAttr(root, attr, fn) {
    var nodes = root.querySelectorAll("[" + attr + "]");
    for (var i = 0; i < nodes.length; i++) fn(nodes[i], nodes[i].getAttribute(attr));
  }

  function apply(root) {
    root = root || document;
    eachAttr(root, "data-i18n", function (el, key) {
      el.textContent = t(key);
    });
    eachAttr(root, "data-i18n-placeholder", function (el, key) {
      el.setAttribute("placeholder", t(key));
    });
    eachAttr(root, "data-i18n-title", function (el, key) {
      el.setAttribute("title", t(key));
    });
    eachAttr(root, "data-i18n-aria-label", function (el, key) {
      el.setAttribute("aria-label", t(key));
    });
    if (root === document) {
      document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
      var toggles = document.querySelectorAll(".lang-toggle span[data-lang]");
      for (var i = 0; i < toggles.length; i++) {
        toggles[i].classList.toggle("is-active", toggles[i].getAttribute("data-lang") === current);
      }
    }
  }

  function buildToggle() {
    var host = document.getElementById("lang-toggle");
    if (!host || host.querySelector("span[data-lang]")) return;
    var button;
    if (host.tagName === "BUTTON") {
      button = host;
      button.classList.add("lang-toggle");
    } else {
      button = document.createElement("button");
      button.className = "lang-toggle";
      host.appendChild(button);
    }
    button.type = "button";
    button.setAttribute("aria-label", "切换语言 / Switch language");
    button.innerHTML = '<span data-lang="zh">中</span><span data-lang="en">EN</span>';
    button.addEventListener("click", function () {
      set(current === "zh" ? "en" : "zh");
    });
  }

  function set(lang) {
    if (lang !== "zh" && lang !== "en") return;
    current = lang;
    remember(lang);
    apply(document);
    for (var i = 0; i < listeners.length; i++) {
      try {
        listeners[i](lang);
      } catch (e) {
        /* one broken listener must not stop the others */
      }
    }
  }

  // The words of an expected wait, kept here so that no page words it its own way.
  var WAIT = {
    zh: { none: "暂无窗口办理", booked: "仅限预约签到", zero: "无需等候", min: "约 {m} 分钟", hm: "约 {h} 小时 {m} 分", h: "约 {h} 小时", long: "超过 {h} 小时" },
    en: { none: "No window open", booked: "Booked visitors only", zero: "No wait", min: "about {m} min", hm: "about {h} h {m} min", h: "about {h} h", long: "over {h} hours" },
  };
  // Beyond this a figure means little: the hall closes first or things change.
  var WAIT_LONG_MIN = 240;

  function wait(minutes, reason) {
    var w = WAIT[current] || WAIT.zh;
    function fill(text, vars) {
      return text.replace(/\{(\w+)\}/g, function (m, k) { return String(vars[k]); });
    }
    if (reason === "no_open_window") return w.none;
    // The appointment queue takes no walk-in: there is no wait for taking a ticket now.
    if (reason === "booked_only") return w.booked;
    if (typeof minutes !== "number") return "—";
    if (minutes <= 0) return w.zero;
    if (minutes < 60) return fill(w.min, { m: minutes });
    if (minutes >= WAIT_LONG_MIN) return fill(w.long, { h: WAIT_LONG_MIN / 60 });
    var rounded = Math.round(minutes / 10) * 10;
    var h = Math.floor(rounded / 60);
    return rounded % 60 ? fill(w.hm, { h: h, m: rounded % 60 }) : fill(w.h, { h: h });
  }

  function init(d) {
    dict = { zh: (d && d.zh) || {}, en: (d && d.en) || {} };
    current = stored() || "zh";
    buildToggle();
    apply(document);
  }

  window.HallqI18n = {
    init: init,
    t: t,
    lang: function () {
      return current;
    },
    set: set,
    apply: apply,
    wait: wait,
    onChange: function (fn) {
      if (typeof fn === "function") listeners.push(fn);
    },
  };
})();
