/* matchgraph query page: a textarea over a highlighted copy, the example queries, fetch() to the
 * endpoint, a permalink (the query in the URL, run on load), results as a table whose entity IRIs
 * link to entity pages, CSV/TSV/JSON downloads, and results with two entity columns as a graph.
 * Every text from the catalog is set with textContent. */
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  if (!form) { return; }
  var endpoint = form.getAttribute("data-endpoint");
  var entityBase = form.getAttribute("data-entity-base");
  var entityPage = form.getAttribute("data-entity-page");
  var textarea = document.getElementById("query");
  var code = document.getElementById("query-highlight");
  var status = document.getElementById("query-status");
  var errorBox = document.getElementById("query-error");
  var output = document.getElementById("query-results");
  var graphBox = document.getElementById("query-graph");
  var bar = document.getElementById("result-bar");
  var permalink = document.getElementById("permalink");
  var showTable = document.getElementById("show-table"), showGraph = document.getElementById("show-graph");
  var examples = JSON.parse(document.getElementById("example-queries").textContent);
  var last = null, network = null;

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // ---- syntax highlighting: tokens as spans in a <pre> under the (transparent) textarea
  var KEYWORDS = /^(select|construct|describe|ask|where|filter|optional|union|minus|graph|service|bind|values|as|prefix|base|distinct|reduced|order|by|group|having|limit|offset|asc|desc|not|exists|in|from|named|a|count|sum|min|max|avg|sample|group_concat|separator|str|lang|langmatches|datatype|bound|iri|uri|bnode|regex|contains|strstarts|strends|lcase|ucase|concat|coalesce|if|isiri|isuri|isblank|isliteral|true|false|insert|delete|data|with|using|load|clear|drop|create|add|move|copy)$/i;
  var TOKENS = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(<[^<>"{}|^`\\\s]*>)|([?$][A-Za-z0-9_]+)|([A-Za-z][\w\-.]*:[\w\-.%]*)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z_]*)/g;
  function highlight() {
    var text = textarea.value, pos = 0, match;
    clear(code);
    TOKENS.lastIndex = 0;
    while ((match = TOKENS.exec(text)) !== null) {
      if (match.index > pos) { code.appendChild(document.createTextNode(text.slice(pos, match.index))); }
      var cls = match[1] ? "tok-cmt" : match[2] ? "tok-str" : match[3] ? "tok-iri" : match[4] ? "tok-var" :
                match[5] ? "tok-pn" : match[6] ? "tok-num" : (KEYWORDS.test(match[7]) ? "tok-kw" : null);
      code.appendChild(cls ? el("span", cls, match[0]) : document.createTextNode(match[0]));
      pos = match.index + match[0].length;
    }
    code.appendChild(document.createTextNode(text.slice(pos) + "\n"));
    code.parentNode.scrollTop = textarea.scrollTop;
  }
  textarea.addEventListener("input", highlight);
  textarea.addEventListener("scroll", function () { code.parentNode.scrollTop = textarea.scrollTop; });

  // ---- examples and the permalink
  document.getElementById("examples").addEventListener("change", function (event) {
    var ex = examples[Number(event.target.value)];
    if (ex) { textarea.value = ex.query; highlight(); run(); }
  });
  function address(query) { return "?" + new URLSearchParams({query: query}).toString(); }
  function download(id, fmt) {
    document.getElementById(id).setAttribute("href", endpoint + "?" + new URLSearchParams({query: textarea.value, format: fmt}).toString());
  }

  // ---- results
  function slugOf(term) {
    return term && term.type === "uri" && term.value.indexOf(entityBase) === 0 ? term.value.slice(entityBase.length) : null;
  }
  function entityHref(slug) { return entityPage ? entityPage.replace("SLUG", encodeURIComponent(slug)) : null; }
  function termCell(term) {
    var td = el("td");
    if (!term) { return td; }
    var slug = slugOf(term);
    if (slug && slug.indexOf("/") < 0 && entityHref(slug)) {
      var a = el("a", "entity-iri", "mgid:" + slug);
      a.setAttribute("href", entityHref(slug));
      a.setAttribute("title", term.value);
      td.appendChild(a);
    } else {
      td.textContent = term.value;
      if (term.type === "uri") { td.className = "iri"; }
    }
    return td;
  }
  function entityColumns(data) {
    if (!data.head || !data.head.vars || !data.results) { return []; }
    return data.head.vars.filter(function (v) {
      var seen = 0;
      var all = data.results.bindings.every(function (row) {
        if (!row[v]) { return true; }
        seen++;
        var slug = slugOf(row[v]);
        return slug !== null && slug.indexOf("/") < 0;
      });
      return all && seen > 0;
    });
  }
  function table(data) {
    if (typeof data.boolean === "boolean") { output.appendChild(el("p", null, "ASK: " + data.boolean)); return 1; }
    var vars = data.head.vars, rows = data.results.bindings;
    var tbl = el("table", "results-table"), head = el("tr");
    vars.forEach(function (v) { head.appendChild(el("th", null, v)); });
    tbl.appendChild(head);
    rows.forEach(function (row) {
      var tr = el("tr");
      vars.forEach(function (v) { tr.appendChild(termCell(row[v])); });
      tbl.appendChild(tr);
    });
    output.appendChild(tbl);
    return rows.length;
  }
  function label(row, v) {
    var names = [v + "Name", v + "Label", v + "_name", v + "_label"];
    for (var i = 0; i < names.length; i++) { if (row[names[i]]) { return row[names[i]].value; } }
    return slugOf(row[v]);
  }
  function drawGraph(data) {
    var cols = entityColumns(data).slice(0, 2), nodes = {}, edges = [];
    data.results.bindings.slice(0, 2000).forEach(function (row) {
      var a = row[cols[0]], b = row[cols[1]];
      [[a, cols[0]], [b, cols[1]]].forEach(function (pair) {
        if (pair[0]) { var s = slugOf(pair[0]); if (!nodes[s]) { nodes[s] = {id: s, label: label(row, pair[1]), group: pair[1]}; } }
      });
      if (a && b) { edges.push({from: slugOf(a), to: slugOf(b), arrows: "to"}); }
    });
    graphBox.classList.remove("hidden");
    output.classList.add("hidden");
    var list = Object.keys(nodes).map(function (k) { return nodes[k]; });
    network = new vis.Network(graphBox, {nodes: new vis.DataSet(list), edges: new vis.DataSet(edges)}, {
      nodes: {shape: "dot", size: 12, font: {size: 14, strokeWidth: 3, strokeColor: "#fff"}},
      edges: {color: {color: "#9aa4ae"}, smooth: false},
      physics: {stabilization: {iterations: 150}, barnesHut: {gravitationalConstant: -4000, springLength: 120}},
      interaction: {hover: true}
    });
    network.once("stabilizationIterationsDone", function () { network.setOptions({physics: {enabled: false}}); });
    network.on("doubleClick", function (params) {
      if (params.nodes.length && entityHref(params.nodes[0])) { window.location.href = entityHref(params.nodes[0]); }
    });
    graphBox.setAttribute("data-nodes", String(list.length));
    graphBox.setAttribute("data-edges", String(edges.length));
    status.textContent = list.length + " entities and " + edges.length + " relations from columns ?" + cols[0] +
      " and ?" + cols[1] + " (double-click an entity to open its page)";
  }
  showGraph.addEventListener("click", function () { if (last) { drawGraph(last); } });
  showTable.addEventListener("click", function () {
    graphBox.classList.add("hidden");
    output.classList.remove("hidden");
  });

  function run() {
    var query = textarea.value;
    window.history.replaceState(null, "", address(query));
    permalink.setAttribute("href", address(query));
    clear(output);
    output.classList.remove("hidden");
    graphBox.classList.add("hidden");
    errorBox.classList.add("hidden");
    bar.classList.add("hidden");
    showGraph.classList.add("hidden");
    showTable.classList.add("hidden");
    status.textContent = "Running…";
    last = null;
    var started = Date.now(), truncated = null;
    fetch(endpoint, {method: "POST", body: new URLSearchParams({query: query}),
                     headers: {"Accept": "application/sparql-results+json, text/turtle;q=0.5"}})
      .then(function (response) {
        truncated = response.headers.get("X-Matchgraph-Truncated");
        var type = response.headers.get("Content-Type") || "";
        return response.text().then(function (body) {
          if (!response.ok) { throw new Error(response.status + ": " + body); }
          return {type: type, body: body};
        });
      })
      .then(function (res) {
        var count;
        if (res.type.indexOf("sparql-results+json") >= 0) {
          last = JSON.parse(res.body);
          count = table(last) + " rows";
          download("download-csv", "csv");
          download("download-tsv", "tsv");
          download("download-json", "json");
          bar.classList.remove("hidden");
          if (entityColumns(last).length >= 2) {
            showGraph.classList.remove("hidden");
            showTable.classList.remove("hidden");
          }
        } else {
          output.appendChild(el("pre", null, res.body));
          count = res.body.length + " characters";
        }
        status.textContent = count + " in " + ((Date.now() - started) / 1000).toFixed(2) + " s" +
          (truncated ? " (cut at " + truncated + ")" : "");
        form.setAttribute("data-done", String(Date.now()));
      })
      .catch(function (err) {
        status.textContent = "";
        errorBox.textContent = String(err.message || err);
        errorBox.classList.remove("hidden");
        form.setAttribute("data-done", String(Date.now()));
      });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  textarea.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
  });
  highlight();
  var initial = new URLSearchParams(window.location.search).get("query");
  if (initial) { run(); } else { permalink.setAttribute("href", address(textarea.value)); }
}());
