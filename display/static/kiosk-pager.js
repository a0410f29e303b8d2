/* The kiosk's long lists a page at a time (issue 17 §5): a search that finds 400 items or
 * a service line of 500 is shown ten rows a page, with big 上一页 / 下一页 keys and
 * "第 x / y 页", so that every item is reachable by touch alone and the screen never holds
 * hundreds of buttons. Used by kiosk.js for the search results and the item lists.
 *
 * HallqPager.make(list, bar, size, t) returns a pager; pager.show(entries, build, page)
 * shows entries[page*size .. +size] built by build(entry) in `list`, and the keys in `bar`
 * (hidden when one page holds everything). pager.page is the page shown; the keys move it.
 */
(function () {
  "use strict";

  function make(list, bar, size, t) {
    var prev = document.createElement("button"), next = document.createElement("button");
    var label = document.createElement("span");
    prev.type = next.type = "button";
    prev.className = "k-page-key k-page-prev";
    next.className = "k-page-key k-page-next";
    label.className = "k-page-no";
    bar.textContent = "";
    bar.appendChild(prev);
    bar.appendChild(label);
    bar.appendChild(next);
    var p = { page: 0, entries: [], build: null };

    function pages() { return Math.max(1, Math.ceil(p.entries.length / size)); }

    function render() {
      var n = pages();
      p.page = Math.min(Math.max(0, p.page), n - 1);
      list.textContent = "";
      p.entries.slice(p.page * size, (p.page + 1) * size).forEach(function (e) {
        var node = p.build(e);
        if (node) list.appendChild(node);
      });
      bar.hidden = n < 2;
      prev.disabled = p.page === 0;
      next.disabled = p.page >= n - 1;
      prev.textContent = "‹ " + t("page_prev");
      next.textContent = t("page_next") + " ›";
      label.textContent = t("page_n", { x: p.page + 1, y: n });
      bar.setAttribute("data-page", String(p.page + 1));
      bar.setAttribute("data-pages", String(n));
    }

    function go(delta) {
      p.page += delta;
      render();
      // The new page starts at the top of the list, where the eye already is.
      list.scrollIntoView({ block: "start" });
    }
    prev.addEventListener("click", function () { go(-1); });
    next.addEventListener("click", function () { go(1); });

    p.show = function (entries, build, page) {
      p.entries = entries;
      p.build = build;
      p.page = page || 0;
      render();
    };
    return p;
  }

  window.HallqPager = { make: make };
})();
