/* matchgraph graph viewer: draws the JSON a page embeds with vis-network.
 *
 * Catalog text is only ever set with textContent (never innerHTML), so names and descriptions
 * holding markup or script stay plain text. Physics is switched off once the layout settles.
 */
(function () {
  "use strict";

  var SCORE_LABELS = [["rank", "Rank"], ["adoption", "Adoption"], ["quality", "Quality"],
                      ["ecosystem", "Ecosystem"], ["match_graph", "Match graph"]];
  var SETTLE_LIMIT_MS = 20000;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fmt(value) {  // scores arrive rounded by the server (matchgraph.scores.display)
    return String(value);
  }

  function safeHref(href) {
    if (typeof href !== "string" || !href) { return null; }
    var scheme = /^([a-z][a-z0-9+.\-]*):/i.exec(href);
    return scheme && !/^https?$/i.test(scheme[1]) ? null : href;
  }

  function kindLine(info) {
    var line = info.stub ? "stub: named by the catalog, not described" : (info.kind || "entity");
    if (info.scores && info.scores.rank !== undefined) { line += " · rank " + fmt(info.scores.rank); }
    return line;
  }

  function tooltip(info) {
    var box = el("div", "tip");
    box.appendChild(el("strong", null, info.name));
    box.appendChild(el("div", "muted", kindLine(info)));
    if (info.capabilities && info.capabilities.length) {
      var list = el("ul");
      info.capabilities.forEach(function (title) { list.appendChild(el("li", null, title)); });
      box.appendChild(list);
    }
    return box;
  }

  function showDetails(panel, info) {
    while (panel.firstChild) { panel.removeChild(panel.firstChild); }
    panel.appendChild(el("h3", null, info.name));
    panel.appendChild(el("p", "muted", kindLine(info)));
    if (info.description) { panel.appendChild(el("p", null, info.description)); }
    var scores = el("dl", "scores");
    SCORE_LABELS.forEach(function (pair) {
      if (info.scores && info.scores[pair[0]] !== undefined) {
        scores.appendChild(el("dt", null, pair[1]));
        scores.appendChild(el("dd", null, fmt(info.scores[pair[0]])));
      }
    });
    if (scores.firstChild) { panel.appendChild(scores); }
    if (info.capabilities && info.capabilities.length) {
      panel.appendChild(el("h4", null, "Top capabilities"));
      var list = el("ul");
      info.capabilities.forEach(function (title) { list.appendChild(el("li", null, title)); });
      panel.appendChild(list);
    }
    var href = safeHref(info.href);
    if (href) {
      var link = el("a", null, "Open the page of " + info.name);
      link.setAttribute("href", href);
      panel.appendChild(link);
    }
  }

  var STUB_KIND = "stub (named, not described)";
  var DIM_NODE = "rgba(190,190,190,0.35)", DIM_EDGE = "rgba(200,200,200,0.25)";

  function init(container) {
    var data = JSON.parse(document.getElementById(container.getAttribute("data-graph")).textContent);
    var status = document.getElementById(container.getAttribute("data-status"));
    var details = document.getElementById(container.getAttribute("data-details"));
    var searchBox = document.getElementById(container.getAttribute("data-search"));
    var hits = document.getElementById(container.getAttribute("data-hits"));
    var filters = document.getElementById(container.getAttribute("data-filters"));
    var count = document.getElementById(container.getAttribute("data-count"));
    var infos = {}, looks = {}, edgeLooks = {};
    data.nodes.forEach(function (node) {
      infos[node.id] = node.info;
      looks[node.id] = {color: node.color, font: node.font};
      node.title = tooltip(node.info);
      delete node.info;
    });
    data.edges.forEach(function (edge, i) {
      edge.id = "e" + i;
      edgeLooks[edge.id] = {color: edge.color, relation: edge.relation};
    });
    var nodes = new vis.DataSet(data.nodes), edges = new vis.DataSet(data.edges);
    var network = new vis.Network(container, {nodes: nodes, edges: edges}, data.options);
    var view = {network: network, stabilised: false, nodes: data.nodes.length, edges: data.edges.length,
                iterations: 0, started: Date.now(), firstPaint: null, focused: null, highlighted: null};
    window.matchgraphViews.push(view);

    network.once("afterDrawing", function () {
      view.firstPaint = (Date.now() - view.started) / 1000;
      container.setAttribute("data-first-paint", String(view.firstPaint));
      container.setAttribute("data-painted-at", String(Math.round(window.performance.now())));  // ms since navigation
    });

    function settle(reason) {
      if (view.stabilised) { return; }
      view.stabilised = true;
      view.seconds = (Date.now() - view.started) / 1000;
      network.setOptions({physics: {enabled: false}});
      container.setAttribute("data-stabilised", "true");
      status.textContent = data.nodes.length + " nodes. Layout settled (" + reason + "), physics off: " +
        "drag nodes, scroll to zoom, click a node for details.";
    }

    network.on("stabilizationProgress", function (progress) {
      view.iterations = progress.iterations;
      status.textContent = "Laying out " + data.nodes.length + " nodes: " + progress.iterations + " / " + progress.total;
    });
    network.once("stabilizationIterationsDone", function () { settle("after stabilisation"); });
    network.once("stabilized", function () { settle("stable"); });
    window.setTimeout(function () { settle("time limit"); }, SETTLE_LIMIT_MS);
    if (data.nodes.length < 2) { settle("nothing to lay out"); }
    else if (!data.options.physics || !data.options.physics.enabled) { settle("computed by the server"); }

    // ---- neighbourhood highlight: the clicked node, its neighbours and their relations stand out
    function highlight(id) {
      view.highlighted = id;
      var keep = {};
      if (id !== null) {
        keep[id] = true;
        network.getConnectedNodes(id).forEach(function (n) { keep[n] = true; });
      }
      var connected = {};
      if (id !== null) { network.getConnectedEdges(id).forEach(function (e) { connected[e] = true; }); }
      nodes.update(nodes.getIds().map(function (n) {
        var on = id === null || keep[n];
        return {id: n, color: on ? looks[n].color : DIM_NODE,
                font: on ? looks[n].font : {size: looks[n].font ? looks[n].font.size : 12, color: "rgba(0,0,0,0.2)"}};
      }));
      edges.update(edges.getIds().map(function (e) {
        return {id: e, color: id === null || connected[e] ? edgeLooks[e].color : DIM_EDGE};
      }));
      container.setAttribute("data-highlighted", id === null ? "" : id);
    }

    network.on("click", function (params) {
      if (params.nodes.length && infos[params.nodes[0]]) {
        showDetails(details, infos[params.nodes[0]]);
        highlight(params.nodes[0]);
      } else if (!params.edges.length) {
        highlight(null);
      }
    });

    // ---- filters by kind and relation
    function kindOf(id) { return infos[id].stub ? STUB_KIND : (infos[id].kind || ""); }
    function applyFilters() {
      var hiddenKinds = {}, hiddenRelations = {};
      Array.prototype.forEach.call(filters.querySelectorAll("input[data-filter]"), function (box) {
        if (!box.checked) { (box.getAttribute("data-filter") === "kind" ? hiddenKinds : hiddenRelations)[box.value] = true; }
      });
      var shownNodes = 0, shownEdges = 0, visible = {};
      nodes.update(nodes.getIds().map(function (n) {
        var hidden = !!hiddenKinds[kindOf(n)];
        if (!hidden) { shownNodes++; visible[n] = true; }
        return {id: n, hidden: hidden};
      }));
      edges.update(edges.get().map(function (e) {
        var hidden = !!hiddenRelations[edgeLooks[e.id].relation] || !visible[e.from] || !visible[e.to];
        if (!hidden) { shownEdges++; }
        return {id: e.id, hidden: hidden};
      }));
      count.textContent = (shownNodes === data.nodes.length && shownEdges === data.edges.length)
        ? data.summary
        : "Showing " + shownNodes + " of " + data.nodes.length + " entities and " + shownEdges + " of " +
          data.edges.length + " relations (filters on)";
      container.setAttribute("data-shown", shownNodes + "/" + shownEdges);
    }
    if (filters) {
      Array.prototype.forEach.call(filters.querySelectorAll("input[data-filter]"), function (box) {
        box.addEventListener("change", applyFilters);
      });
    }

    // ---- search: find a node by name or id and focus it
    function focus(id) {
      view.focused = id;
      network.selectNodes([id]);
      network.focus(id, {scale: 1.6, animation: {duration: 300, easingFunction: "easeInOutQuad"}});
      showDetails(details, infos[id]);
      highlight(id);
      container.setAttribute("data-focused", id);
    }
    function find(text) {
      var q = text.trim().toLowerCase();
      if (!q) { return []; }
      var found = [];
      Object.keys(infos).forEach(function (id) {
        var name = String(infos[id].name).toLowerCase();
        var s = name === q || id === q ? 0 : (name.indexOf(q) === 0 || id.indexOf(q) === 0 ? 1 :
                (name.indexOf(q) >= 0 || id.indexOf(q) >= 0 ? 2 : -1));
        if (s >= 0) { found.push([s, -((infos[id].scores || {}).rank || 0), name, id]); }
      });
      found.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0); });
      return found.map(function (f) { return f[3]; });
    }
    function showHits(ids) {
      while (hits.firstChild) { hits.removeChild(hits.firstChild); }
      if (!searchBox.value.trim()) { return; }
      if (!ids.length) { hits.appendChild(el("span", "muted", "not in this view")); return; }
      ids.slice(0, 8).forEach(function (id) {
        var button = el("button", null, infos[id].name);
        button.type = "button";
        button.setAttribute("data-node", id);
        button.addEventListener("click", function () { focus(id); });
        hits.appendChild(button);
      });
      if (ids.length > 8) { hits.appendChild(el("span", "muted", "+" + (ids.length - 8) + " more")); }
    }
    if (searchBox) {
      searchBox.addEventListener("input", function () { showHits(find(searchBox.value)); });
      searchBox.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {
          event.preventDefault();
          var ids = find(searchBox.value);
          showHits(ids);
          if (ids.length) { focus(ids[0]); }
        }
      });
    }

    if (data.center && infos[data.center]) {
      network.selectNodes([data.center]);
      showDetails(details, infos[data.center]);
    }
  }

  window.matchgraphViews = window.matchgraphViews || [];
  Array.prototype.forEach.call(document.querySelectorAll(".graph-canvas"), init);
}());
