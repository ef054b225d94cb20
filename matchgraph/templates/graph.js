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

  function fmt(value) {
    return typeof value === "number" ? String(Math.round(value * 10) / 10) : String(value);
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

  function init(container) {
    var data = JSON.parse(document.getElementById(container.getAttribute("data-graph")).textContent);
    var status = document.getElementById(container.getAttribute("data-status"));
    var details = document.getElementById(container.getAttribute("data-details"));
    var infos = {};
    data.nodes.forEach(function (node) {
      infos[node.id] = node.info;
      node.title = tooltip(node.info);
      delete node.info;
    });
    var network = new vis.Network(container, {nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges)},
                                  data.options);
    var view = {network: network, stabilised: false, nodes: data.nodes.length, iterations: 0, started: Date.now()};
    window.matchgraphViews.push(view);

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
    network.on("click", function (params) {
      if (params.nodes.length && infos[params.nodes[0]]) { showDetails(details, infos[params.nodes[0]]); }
    });
    if (data.center && infos[data.center]) {
      network.selectNodes([data.center]);
      showDetails(details, infos[data.center]);
    }
  }

  window.matchgraphViews = window.matchgraphViews || [];
  Array.prototype.forEach.call(document.querySelectorAll(".graph-canvas"), init);
}());
