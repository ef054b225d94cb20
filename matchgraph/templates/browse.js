/* matchgraph catalog list on a static site: applies the state in the URL (?kind=..&sort=..&page=..&q=..)
 * to window.MATCHGRAPH_BROWSE (browse-data.js) with the rules of matchgraph/web/browse.py, and renders the
 * same markup the server does. Text is only ever set with textContent. On the server the page is
 * already rendered for its URL and this script does nothing. */
(function () {
  "use strict";
  var root = document.getElementById("browse");
  var data = window.MATCHGRAPH_BROWSE;
  if (!root || root.getAttribute("data-static") !== "true" || !data) { return; }
  var PER_PAGE = Number(root.getAttribute("data-per-page")) || 50;
  var SHOWN = 10, FACET_MAX = 60;
  var SORTS = [["rank", "Rank"], ["adoption", "Adoption"], ["downloads", "Downloads"], ["likes", "Likes"], ["name", "Name"]];
  var HEADINGS = {kind: "Kind", task: "Task (capability concept)", licence: "Licence", library: "Format or library",
                  status: "Described or stub"};
  var base = root.getAttribute("data-base") || "index.html";
  // entity columns: see BrowseIndex.data()
  var E = {slug: 0, name: 1, kind: 2, stub: 3, rank: 4, adoption: 5, rawRank: 6, rawAdoption: 7, downloads: 8,
           downloadsText: 9, likes: 10, likesText: 11, licence: 12, description: 13, facets: 14, names: 15, href: 16};

  var params = new URLSearchParams(window.location.search);
  var state = {q: (params.get("q") || "").trim().slice(0, 200), filters: [], sort: params.get("sort") || "rank",
               page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1)};
  if (!SORTS.some(function (s) { return s[0] === state.sort; })) { state.sort = "rank"; }
  data.facets.forEach(function (f) { if (params.get(f)) { state.filters.push([f, params.get(f)]); } });

  function chosen(st, facet) {
    for (var i = 0; i < st.filters.length; i++) { if (st.filters[i][0] === facet) { return st.filters[i][1]; } }
    return null;
  }
  function copy(st, changes) {
    var out = {q: st.q, filters: st.filters.slice(), sort: st.sort, page: st.page};
    Object.keys(changes).forEach(function (k) { out[k] = changes[k]; });
    return out;
  }
  function withFacet(st, facet, value) {
    var filters = st.filters.filter(function (fv) { return fv[0] !== facet; });
    if (value !== null) { filters.push([facet, value]); }
    filters.sort(function (a, b) { return data.facets.indexOf(a[0]) - data.facets.indexOf(b[0]); });
    return copy(st, {filters: filters, page: 1});
  }
  function url(st) {
    var p = [];
    if (st.q) { p.push(["q", st.q]); }
    st.filters.forEach(function (fv) { p.push(fv); });
    if (st.sort !== "rank") { p.push(["sort", st.sort]); }
    if (st.page !== 1) { p.push(["page", String(st.page)]); }
    var qs = new URLSearchParams(p).toString();
    return base + (qs ? "?" + qs : "");
  }
  function cmp(a, b) { return a < b ? -1 : (a > b ? 1 : 0); }

  // codes of the values each entity has, per facet
  var code = {};
  data.facets.forEach(function (f) {
    code[f] = {};
    data.values[f].forEach(function (v, i) { code[f][v] = i; });
  });
  function matches(e, st, skip) {
    for (var i = 0; i < st.filters.length; i++) {
      var f = st.filters[i][0];
      if (f === skip) { continue; }
      var c = code[f][st.filters[i][1]];
      var has = e[E.facets][f] || [];
      if (c === undefined || has.indexOf(c) < 0) { return false; }
    }
    if (st.q) {
      var q = st.q.toLowerCase();
      if (!e[E.names].some(function (n) { return n.indexOf(q) >= 0; })) { return false; }
    }
    return true;
  }
  function matchClass(e, q) {
    var best = 2;
    e[E.names].forEach(function (n) { best = Math.min(best, n === q ? 0 : (n.indexOf(q) === 0 ? 1 : 2)); });
    return best;
  }
  var BY = {
    rank: [[E.rawRank, -1]], adoption: [[E.rawAdoption, -1], [E.rawRank, -1]],
    downloads: [[E.downloads, -1, true], [E.rawRank, -1]], likes: [[E.likes, -1, true], [E.rawRank, -1]], name: []
  };
  function order(st) {
    var keys = BY[st.sort], q = st.q.toLowerCase();
    return function (a, b) {
      if (q) { var m = matchClass(a, q) - matchClass(b, q); if (m) { return m; } }
      for (var i = 0; i < keys.length; i++) {
        var k = keys[i][0], x = a[k], y = b[k];
        if (keys[i][2]) { var nx = x === null, ny = y === null; if (nx !== ny) { return nx ? 1 : -1; } }
        var c = cmp(x, y) * keys[i][1];
        if (c) { return c; }
      }
      return cmp(a[E.name].toLowerCase(), b[E.name].toLowerCase()) || cmp(a[E.slug], b[E.slug]);
    };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function link(href, text) { var a = el("a", null, text); a.setAttribute("href", href); return a; }
  function num(n) { return Number(n).toLocaleString("en-US"); }
  function label(f, value) { var c = code[f][value]; return c === undefined ? value : data.labels[f][c]; }

  var selected = data.entities.filter(function (e) { return matches(e, state, null); });
  selected.sort(order(state));
  var pages = Math.max(1, Math.ceil(selected.length / PER_PAGE));
  state.page = Math.min(state.page, pages);

  function facetItem(f, v) {
    var li = el("li", v.chosen ? "chosen" : null);
    var a = link(url(withFacet(state, f, v.chosen ? null : v.value)), (v.chosen ? "✕ " : "") + v.label);
    a.setAttribute("data-value", v.value);
    li.appendChild(a);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "count", num(v.count)));
    return li;
  }
  function facetSection(f) {
    var counts = {};
    data.entities.forEach(function (e) {
      if (!matches(e, state, f)) { return; }
      (e[E.facets][f] || []).forEach(function (c) { counts[c] = (counts[c] || 0) + 1; });
    });
    var pick = chosen(state, f);
    var values = Object.keys(counts).map(function (c) {
      var v = data.values[f][c];
      return {value: v, label: data.labels[f][c], count: counts[c], chosen: v === pick};
    });
    values.sort(function (a, b) { return b.count - a.count || cmp(a.value, b.value); });
    values = values.slice(0, FACET_MAX);
    if (pick !== null && !values.some(function (v) { return v.chosen; })) {
      values.unshift({value: pick, label: label(f, pick), count: 0, chosen: true});
    }
    var section = el("section", "facet");
    section.setAttribute("data-facet", f);
    section.appendChild(el("h3", null, HEADINGS[f] || f));
    var ul = el("ul");
    values.slice(0, SHOWN).forEach(function (v) { ul.appendChild(facetItem(f, v)); });
    if (!values.length) { ul.appendChild(el("li", "muted", "none")); }
    section.appendChild(ul);
    if (values.length > SHOWN) {
      var details = el("details"), more = el("ul");
      details.appendChild(el("summary", null, (values.length - SHOWN) + " more"));
      values.slice(SHOWN).forEach(function (v) { more.appendChild(facetItem(f, v)); });
      details.appendChild(more);
      section.appendChild(details);
    }
    return section;
  }

  function row(e) {
    var li = el("li", "entity-row");
    li.setAttribute("data-id", e[E.slug]);
    var head = el("div", "row-head");
    head.appendChild(link(e[E.href], e[E.name]));
    head.appendChild(document.createTextNode(" "));
    if (e[E.stub] || e[E.kind]) { head.appendChild(el("span", "badge", e[E.stub] ? "stub" : e[E.kind])); }
    li.appendChild(head);
    var facts = el("div", "row-facts");
    [["rank ", e[E.rank], "Rank (0-100)"], ["adoption ", e[E.adoption], "Adoption (0-100)"]].forEach(function (x) {
      var s = el("span", null, x[0]);
      s.setAttribute("title", x[2]);
      s.appendChild(el("b", null, x[1]));
      facts.appendChild(s);
      facts.appendChild(document.createTextNode(" "));
    });
    facts.appendChild(el("span", null, "⬇ " + e[E.downloadsText]));
    facts.appendChild(document.createTextNode(" "));
    facts.appendChild(el("span", null, "♥ " + e[E.likesText]));
    if (e[E.licence]) { facts.appendChild(document.createTextNode(" ")); facts.appendChild(el("span", "licence", e[E.licence])); }
    li.appendChild(facts);
    var tasks = (e[E.facets].task || []).map(function (c) { return data.labels.task[c]; }).sort(cmp);
    var libs = (e[E.facets].library || []).map(function (c) { return data.labels.library[c]; }).sort(cmp);
    if (tasks.length || libs.length) {
      var tags = el("div", "row-tags");
      tasks.slice(0, 3).forEach(function (t) { tags.appendChild(el("span", "badge task", t)); });
      if (tasks.length > 3) { tags.appendChild(el("span", "muted", "+" + (tasks.length - 3))); tags.appendChild(document.createTextNode(" ")); }
      libs.slice(0, 3).forEach(function (t) { tags.appendChild(el("span", "badge library", t)); });
      if (libs.length > 3) { tags.appendChild(el("span", "muted", "+" + (libs.length - 3))); }
      li.appendChild(tags);
    }
    if (e[E.description]) { li.appendChild(el("div", "row-description muted", e[E.description])); }
    return li;
  }

  // facets
  var aside = root.querySelector(".facets");
  while (aside.firstChild) { aside.removeChild(aside.firstChild); }
  data.facets.forEach(function (f) { aside.appendChild(facetSection(f)); });
  // search box keeps the filters
  var form = root.querySelector(".browse-search");
  document.getElementById("browse-q").value = state.q;
  Array.prototype.forEach.call(form.querySelectorAll("input[type=hidden]"), function (n) { n.parentNode.removeChild(n); });
  state.filters.concat(state.sort !== "rank" ? [["sort", state.sort]] : []).forEach(function (fv) {
    var hidden = el("input");
    hidden.type = "hidden"; hidden.name = fv[0]; hidden.value = fv[1];
    form.appendChild(hidden);
  });
  // summary
  var summary = document.getElementById("browse-summary");
  while (summary.firstChild) { summary.removeChild(summary.firstChild); }
  summary.appendChild(el("strong", null, num(selected.length)));
  summary.appendChild(document.createTextNode(" of " + num(data.entities.length) + " entities" +
    (state.q ? " matching “" + state.q + "”" : "") +
    state.filters.map(function (fv) { return " · " + HEADINGS[fv[0]].toLowerCase() + ": " + label(fv[0], fv[1]); }).join("")));
  if (state.filters.length || state.q) {
    summary.appendChild(document.createTextNode(" · "));
    summary.appendChild(link(url({q: "", filters: [], sort: state.sort, page: 1}), "clear all"));
  }
  // sort links
  var sorts = root.querySelector(".sorts");
  while (sorts.firstChild) { sorts.removeChild(sorts.firstChild); }
  sorts.appendChild(document.createTextNode("Sort by: "));
  SORTS.forEach(function (s, i) {
    var node = s[0] === state.sort ? el("strong", "sort-current", s[1]) : link(url(copy(state, {sort: s[0], page: 1})), s[1]);
    node.setAttribute("data-sort", s[0]);
    sorts.appendChild(node);
    if (i < SORTS.length - 1) { sorts.appendChild(document.createTextNode(" · ")); }
  });
  // rows
  var list = document.getElementById("entity-rows");
  while (list.firstChild) { list.removeChild(list.firstChild); }
  list.setAttribute("start", String((state.page - 1) * PER_PAGE + 1));
  var shown = selected.slice((state.page - 1) * PER_PAGE, state.page * PER_PAGE);
  shown.forEach(function (e) { list.appendChild(row(e)); });
  if (!shown.length) { list.appendChild(el("li", "muted", "No entity matches these filters.")); }
  // pager
  var pager = root.querySelector(".pager");
  while (pager.firstChild) { pager.removeChild(pager.firstChild); }
  function pageLink(p, text, rel) {
    var a = link(url(copy(state, {page: p})), text);
    a.setAttribute("data-page", String(p));
    if (rel) { a.setAttribute("rel", rel); }
    pager.appendChild(a);
  }
  if (state.page > 1) { pageLink(state.page - 1, "‹ Previous", "prev"); }
  var around = [1, pages];
  for (var p = Math.max(1, state.page - 2); p <= Math.min(pages, state.page + 2); p++) { around.push(p); }
  around = around.filter(function (x, i) { return around.indexOf(x) === i; }).sort(function (a, b) { return a - b; });
  around.forEach(function (p, i) {
    if (i && p - around[i - 1] > 1) { pager.appendChild(el("span", "gap", "…")); }
    if (p === state.page) { var cur = el("strong", "page-current", p); cur.setAttribute("aria-current", "page"); pager.appendChild(cur); }
    else { pageLink(p, String(p)); }
  });
  if (state.page < pages) { pageLink(state.page + 1, "Next ›", "next"); }
  pager.appendChild(el("span", "muted", "page " + state.page + " of " + pages));
  root.setAttribute("data-rendered", "client");
}());
