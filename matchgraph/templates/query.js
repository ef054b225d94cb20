/* matchgraph SPARQL editor: a textarea, the example queries and fetch() to the endpoint.
 * Results are shown as a table built with textContent (or as text for other formats). */
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  if (!form) { return; }
  var endpoint = form.getAttribute("data-endpoint");
  var textarea = document.getElementById("query");
  var format = document.getElementById("format");
  var status = document.getElementById("query-status");
  var errorBox = document.getElementById("query-error");
  var output = document.getElementById("query-results");
  var examples = JSON.parse(document.getElementById("example-queries").textContent);

  document.getElementById("examples").addEventListener("change", function (event) {
    var ex = examples[Number(event.target.value)];
    if (ex) { textarea.value = ex.query; }
  });

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function cell(tag, text) {
    var node = document.createElement(tag);
    node.textContent = text;
    return node;
  }

  function showTable(data) {
    if (typeof data.boolean === "boolean") { output.appendChild(cell("p", "ASK: " + data.boolean)); return 1; }
    var vars = data.head.vars, rows = data.results.bindings;
    var table = document.createElement("table"), head = document.createElement("tr");
    vars.forEach(function (v) { head.appendChild(cell("th", v)); });
    table.appendChild(head);
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      vars.forEach(function (v) { tr.appendChild(cell("td", row[v] ? row[v].value : "")); });
      table.appendChild(tr);
    });
    output.appendChild(table);
    return rows.length;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clear(output);
    errorBox.classList.add("hidden");
    status.textContent = "Running…";
    var started = Date.now();
    var accept = format.value;
    var truncated = null;
    fetch(endpoint, {method: "POST", body: new URLSearchParams({query: textarea.value}),
                     headers: {"Accept": accept + ", text/turtle;q=0.5"}})
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
          count = showTable(JSON.parse(res.body)) + " rows";
        } else {
          output.appendChild(cell("pre", res.body));
          count = res.body.length + " characters";
        }
        status.textContent = count + " in " + ((Date.now() - started) / 1000).toFixed(2) + " s" +
          (truncated ? " (cut at " + truncated + ")" : "");
      })
      .catch(function (err) {
        status.textContent = "";
        errorBox.textContent = String(err.message || err);
        errorBox.classList.remove("hidden");
      });
  });
}());
