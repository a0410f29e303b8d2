/* hallq — staff.js: what every staff page (clerk, supervisor, admin, audit, cases,
 * reports) does the same way, loaded before the page's own script like feed.js and i18n.js.
 *
 *   HallqStaff.api(token, method, path, body, opts)
 *     fetch with the Bearer token (when there is one); a POST carries a fresh
 *     Idempotency-Key, so a double click never acts twice, and `body` (or {}) as JSON.
 *     Resolves to the parsed JSON (opts.as "blob" or "text": that instead; opts.accept: the
 *     Accept header of such a download). Rejects with {status, code, message}: the daemon's
 *     error (with retry_after_s from a 429's Retry-After), or status 0 and code "network"
 *     when the daemon could not be reached.
 *   HallqStaff.endSession(token)   POST /api/v1/logout; never rejects.
 *   HallqStaff.errorText(t, err)   the words for an API error: the page's "e_<code>" text,
 *                                  else the daemon's message, else "e_generic".
 *   HallqStaff.store(key, where)   {save(obj), load(), clear()}: an object in sessionStorage
 *                                  (where "local": in localStorage, shared by every tab).
 *   HallqStaff.login(opts)         wires #login-form (#login-user, #login-password,
 *                                  #login-error, #login-submit) and keeps the session it
 *                                  opens (the portal's in localStorage, the clerk console's
 *                                  in sessionStorage); see login() below.
 *   HallqStaff.uuid(), HallqStaff.esc(s)
 *   HallqStaff.who(S)              the signed-in user's display name, else login name.
 *   HallqStaff.person(user, name)  a user in a staff table: "张敏（clerk3）" — the display
 *                                  name and the login name staff search and filter by —
 *                                  or the login name alone when there is no other.
 *
 * One sign-in serves the staff portal: the supervisor, reports, audit, cases and admin
 * pages (opts.shared) keep it under one localStorage key, so that going from one to
 * another through the menu (drawn under the page's header, with only the pages the
 * role may use), or opening one in a new tab, asks for no second sign-in. Every tab
 * follows the key (the `storage` event): signing out of one, or a session the daemon
 * turned away (401) in one, returns every tab to its sign-in; a sign-in in one signs in
 * the others. The clerk console keeps its own, per tab.
 */
(function () {
  "use strict";

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function api(token, method, path, body, opts) {
    opts = opts || {};
    var as = opts.as || "json";
    var headers = {};
    if (as === "json") headers.Accept = "application/json";
    else if (opts.accept) headers.Accept = opts.accept;
    if (token) headers.Authorization = "Bearer " + token;
    var init = { method: method, headers: headers, cache: "no-store" };
    if (method === "POST") {
      headers["Idempotency-Key"] = uuid();
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    return fetch(path, init).then(function (resp) {
      if (resp.ok && as !== "json") return as === "blob" ? resp.blob() : resp.text();
      return resp.json().catch(function () { return null; }).then(function (data) {
        if (resp.ok) return data;
        var e = (data && data.error) || {};
        var err = { status: resp.status, code: e.code || "http_" + resp.status, message: e.message || "" };
        // A rate limit's 429 says when to ask again.
        var after = Number(resp.headers.get("Retry-After"));
        if (after > 0) err.retry_after_s = after;
        throw err;
      });
    }, function () { throw { status: 0, code: "network", message: "" }; });
  }

  function endSession(token) {
    return token ? api(token, "POST", "/api/v1/logout").catch(function () {}) : Promise.resolve();
  }

  function errorText(t, err) {
    if (err.status === 0) return t("e_network");
    if (err.status === 401) return t("e_expired");
    var s = t("e_" + err.code);
    return s !== "e_" + err.code ? s : (err.message || t("e_generic"));
  }

  var SHARED = "hallq.staff";
  // The staff portal's pages, in menu order, with the roles each admits.
  var PAGES = [
    { id: "supervisor", path: "/display/supervisor", zh: "值班监控", en: "Supervision", roles: ["supervisor", "admin"] },
    { id: "reports", path: "/display/reports", zh: "统计报表", en: "Reports", roles: ["supervisor", "admin"] },
    { id: "audit", path: "/display/audit", zh: "操作日志", en: "Audit log", roles: ["supervisor", "admin"] },
    { id: "cases", path: "/display/cases", zh: "差评处理", en: "Bad ratings", roles: ["supervisor", "admin", "clerk"] },
    { id: "admin", path: "/display/admin", zh: "系统管理", en: "Administration", roles: ["admin"] }
  ];

  function who(S) { return (S && (S.display_name || S.user)) || ""; }

  function person(user, name) {
    if (!user) return "";
    return name && name !== user ? name + "（" + user + "）" : String(user);
  }

  function lang() { return window.HallqI18n && window.HallqI18n.lang ? window.HallqI18n.lang() : "zh"; }

  /* The menu between the portal's pages, right under the page's header; none when
   * signed out. The current page is marked, not linked. */
  function menu(role) {
    var nav = document.getElementById("staff-menu");
    if (!role) { if (nav) nav.remove(); return; }
    var header = document.querySelector("header");
    if (!header) return;
    if (!nav) {
      nav = document.createElement("nav");
      nav.id = "staff-menu";
      nav.className = "hq-staff-menu";
      header.insertAdjacentElement("afterend", nav);
    }
    nav.setAttribute("aria-label", lang() === "en" ? "Staff pages" : "工作人员页面");
    var here = location.pathname.replace(/\/+$/, "");
    nav.innerHTML = PAGES.filter(function (p) { return p.roles.indexOf(role) >= 0; }).map(function (p) {
      var label = esc(lang() === "en" ? p.en : p.zh);
      return p.path === here
        ? '<a class="is-here" aria-current="page" data-page="' + p.id + '">' + label + "</a>"
        : '<a href="' + p.path + '" data-page="' + p.id + '">' + label + "</a>";
    }).join("");
  }

  function store(key, where) {
    function area() { return where === "local" ? window.localStorage : window.sessionStorage; }
    return {
      save: function (obj) { try { area().setItem(key, JSON.stringify(obj)); } catch (e) { /* this tab only */ } },
      load: function () { try { return JSON.parse(area().getItem(key) || "null"); } catch (e) { return null; } },
      clear: function () { try { area().removeItem(key); } catch (e) { /* nothing kept */ } }
    };
  }

  /* Another tab signed in or out, or had its session turned away: this tab follows by
   * loading again, so that it shows the sign-in, or the page signed in, as a fresh load
   * does (every page restores the shared session on load). */
  function followOtherTabs(session, S) {
    window.addEventListener("storage", function (e) {
      if (e.key !== SHARED && e.key !== null) return;
      var saved = session.load();
      if (((saved && saved.token) || null) === (S.token || null)) return;
      location.reload();
    });
  }

  /* The sign-in form and the session it opens. opts:
   *   t          the page's text function
   *   roles      the roles this page serves; any other sign-in is ended at once
   *   state      the page's state object: `keep` fields of the daemon's answer are set on
   *              it at sign-in, saved under `store` in sessionStorage (the portal's, with
   *              `shared`, under one key in localStorage), and emptied at sign-out
   *   store      the sessionStorage key; keep: the fields (default token, user, role)
   *   shared     one of the staff portal's pages: one sign-in for all, in every tab
   *   onLogin(r) then called with the daemon's answer ({token, user, role, windows})
   *   keys       the page's text keys: empty (no user or password; "e_login_empty"), role
   *              (a role not served; "e_role"), busy (the button's words while signing in;
   *              none: the button keeps its words)
   *   errorText  words for a failure other than a wrong user or password (default:
   *              "e_network" when unreachable, else "e_generic")
   *   before()   called as the form is sent (the supervisor page unlocks its sound here)
   * Returns {error(text): a line under the form; restore(): the saved session back on
   * `state` (the saved object, or null when there is none); signOut(message): forget the
   * session (the page ends it at the daemon if it wants) and empty the password, with a
   * line under the form; session: the store}. */
  function login(opts) {
    var $ = function (id) { return document.getElementById(id); };
    var t = opts.t, keys = opts.keys || {}, S = opts.state, session = opts.shared ? store(SHARED, "local") : store(opts.store);
    var keep = (opts.keep || ["token", "user", "role"]).concat(["role", "display_name"]).filter(function (k, i, all) {
      return all.indexOf(k) === i;
    });
    var failText = opts.errorText || function (err) { return t(err.status === 0 ? "e_network" : "e_generic"); };
    function error(text) { var el = $("login-error"); el.textContent = text || ""; el.hidden = !text; }
    function restore() {
      var saved = session.load();
      if (!saved || !saved.token) return null;
      // Signed in on another page of the portal with a role this one does not admit:
      // the session stays for those pages; this one asks for another sign-in.
      if (opts.shared && opts.roles.indexOf(saved.role) < 0) { error(t(keys.role || "e_role")); return null; }
      keep.forEach(function (k) { S[k] = saved[k]; });
      if (opts.shared) menu(saved.role);
      return saved;
    }
    function signOut(message) {
      keep.forEach(function (k) { S[k] = null; });
      session.clear();
      if (opts.shared) menu(null);
      $("login-password").value = "";
      error(message);
    }
    function signedIn(r) {
      var saved = {};
      keep.forEach(function (k) { S[k] = saved[k] = r[k]; });
      session.save(saved);
      if (opts.shared) menu(r.role);
      return opts.onLogin(r);
    }
    if (opts.shared) followOtherTabs(session, S);
    if (opts.shared && window.HallqI18n && window.HallqI18n.onChange) {
      window.HallqI18n.onChange(function () { if (S.role && S.token) menu(S.role); });
    }
    function submit(ev) {
      ev.preventDefault();
      var btn = $("login-submit");
      if (btn.disabled) return;
      var user = $("login-user").value.trim(), password = $("login-password").value;
      if (!user || !password) { error(t(keys.empty || "e_login_empty")); return; }
      btn.disabled = true;
      if (keys.busy) btn.textContent = t(keys.busy);
      error("");
      if (opts.before) opts.before();
      api(null, "POST", "/api/v1/login", { user: user, password: password }).then(function (r) {
        $("login-password").value = "";
        if (opts.roles.indexOf(r.role) < 0) { endSession(r.token); error(t(keys.role || "e_role")); return; }
        return signedIn(r);
      }).catch(function (err) {
        error(err.status === 401 || err.status === 400 ? t("e_login") : failText(err));
      }).then(function () { btn.disabled = false; if (keys.busy) btn.textContent = t("login"); });
    }
    $("login-form").addEventListener("submit", submit);
    return { error: error, restore: restore, signOut: signOut, session: session };
  }

  window.HallqStaff = {
    api: api, endSession: endSession, errorText: errorText, store: store, login: login, uuid: uuid, esc: esc, who: who, person: person
  };
})();
