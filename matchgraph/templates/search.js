/* matchgraph client-side search over window.MATCHGRAPH_INDEX (loaded by a <script> tag, so it
 * works from file:// too). Results are built with textContent only. */
(function () {
  "use strict";
  var index = window.MATCHGRAPH_INDEX || [];
  var box = document.getElementById("search");
  var list = document.getElementById("search-results");
  var browse = document.getElementById("browse");
  if (!box || !list) { return; }
  var LIMIT = 50;

  function fold(text) {
    return String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var prepared = index.map(function (e) {
    return {entry: e, name: fold(e.name), id: e.id, aliases: fold((e.aliases || []).join(" ")),
            text: fold(e.text), kind: fold(e.kind)};
  });

  function score(p, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var w = words[i], s = 0;
      if (p.name === w || p.id === w) { s = 10; }
      else if (p.name.indexOf(w) === 0) { s = 6; }
      else if (p.name.indexOf(w) >= 0 || p.id.indexOf(w) >= 0) { s = 4; }
      else if (p.aliases.indexOf(w) >= 0) { s = 3; }
      else if (p.kind === w) { s = 2; }
      else if (p.text.indexOf(w) >= 0) { s = 1; }
      if (!s) { return 0; }
      total += s;
    }
    return total;
  }

  function render(query) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var words = fold(query).split(/\s+/).filter(Boolean);
    if (!words.length) {
      list.classList.add("hidden");
      if (browse) { browse.classList.remove("hidden"); }
      return;
    }
    var hits = [];
    prepared.forEach(function (p) { var s = score(p, words); if (s) { hits.push([s, p.entry]); } });
    hits.sort(function (a, b) { return b[0] - a[0] || a[1].name.localeCompare(b[1].name); });
    hits.slice(0, LIMIT).forEach(function (hit) {
      var e = hit[1], li = document.createElement("li"), a = document.createElement("a");
      a.textContent = e.name;
      a.setAttribute("href", e.href);
      li.appendChild(a);
      if (e.kind) {
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = e.kind;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(badge);
      }
      list.appendChild(li);
    });
    if (!hits.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "No entity matches.";
      list.appendChild(none);
    }
    list.setAttribute("data-count", String(hits.length));
    list.classList.remove("hidden");
    if (browse) { browse.classList.add("hidden"); }
  }

  box.addEventListener("input", function () { render(box.value); });
  if (box.value) { render(box.value); }
}());
