// Progressive enhancement of the batch form: classify in chunks through the API, show progress,
// then download the labelled CSV at once. Without JavaScript the form posts the file and the
// server answers with the same CSV directly.
(function () {
  "use strict";
  var form = document.getElementById("batch-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var CHUNK = 100;
  var RESULTS = ["coarse", "coarse_name", "coarse_confidence", "fine", "fine_name", "fine_confidence",
    "in_scope", "scope_reason", "query_id", "query_url", "model_version", "error"];
  var panel = document.getElementById("batch-progress");
  var bar = document.getElementById("batch-bar");
  var status = document.getElementById("batch-status");
  var reported = document.getElementById("batch-reported");
  var download = document.getElementById("batch-download");
  var button = form.querySelector("button[type=submit]");

  function cell(value) {
    var text = value === undefined || value === null ? "" : String(value);
    // The same rule as the server's spreadsheet_cell: a formula start, also after white space
    // (full-width forms and the minus sign included), gets a leading quote.
    var stripped = text.replace(/^\s+/, "");
    if (/^[=+\-@\uFF1D\uFF0B\uFF0D\uFF20\u2212]/.test(stripped) ||
        (stripped !== text && /^[\t\r\n]/.test(text))) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // The server's own message, whether it answered JSON or (a proxy, a limit) an HTML page.
  async function messageOf(response) {
    var text = await response.text();
    try {
      var body = JSON.parse(text);
      if (body && body.error && body.error.message) { return body.error.message; }
    } catch (ignore) { /* not JSON: read the page's text below */ }
    var page = new DOMParser().parseFromString(text, "text/html");
    var main = page.querySelector("main p, p, h1");
    var words = main ? main.textContent.trim() : "";
    return words || "The server answered " + response.status + " " + response.statusText + ".";
  }

  async function postJson(url, payload) {
    var response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(payload)
    });
    if (!response.ok) { throw new Error(await messageOf(response)); }
    return response.json();
  }

  function fail(message) {
    status.textContent = message;
    status.classList.add("field-error");
    button.disabled = false;
  }

  function problemOf(row, result) {
    if (row.error) { return "line " + row.line + ": " + row.error; }
    if (result && !result.in_scope) {
      return "line " + row.line + ": not an English question: " + result.scope.message;
    }
    return "";
  }

  function outputRow(parsed, row, result) {
    var values = parsed.columns.map(function (_, i) { return row.cells[i]; });
    var extra = {};
    if (result) {
      extra = { in_scope: String(result.in_scope), scope_reason: result.in_scope ? "" : result.scope.reason,
        query_id: result.id, query_url: result.url, model_version: result.model_version };
      if (result.in_scope) {
        extra.coarse = result.coarse.label; extra.coarse_name = result.coarse.name;
        extra.coarse_confidence = result.coarse.confidence; extra.fine = result.fine.label;
        extra.fine_name = result.fine.name; extra.fine_confidence = result.fine.confidence;
      }
    }
    extra.error = problemOf(row, result);
    return values.concat(RESULTS.map(function (name) { return extra[name]; })).map(cell).join(",");
  }

  async function classifyAll(parsed) {
    var valid = parsed.rows.filter(function (row) { return !row.error; });
    var results = {};
    for (var start = 0; start < valid.length; start += CHUNK) {
      var chunk = valid.slice(start, start + CHUNK);
      var body = await postJson(form.dataset.classifyUrl,
        { questions: chunk.map(function (row) { return row.question; }) });
      body.results.forEach(function (result, index) { results[chunk[index].line] = result; });
      bar.value = Math.min(1, (start + chunk.length) / Math.max(valid.length, 1));
      status.textContent = "Classified " + (start + chunk.length) + " of " + valid.length + " questions…";
    }
    var lines = [parsed.output_columns.map(cell).join(",")];
    var problems = [];
    parsed.rows.forEach(function (row) {
      var result = results[row.line];
      var problem = problemOf(row, result);
      if (problem) { problems.push(problem); }
      lines.push(outputRow(parsed, row, result));
    });
    return { csv: lines.join("\r\n") + "\r\n", problems: problems };
  }

  function showProblems(problems) {
    reported.textContent = "";
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.textContent = problem;
      reported.appendChild(item);
    });
    reported.hidden = problems.length === 0;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    panel.hidden = false;
    download.hidden = true;
    reported.hidden = true;
    status.classList.remove("field-error");
    bar.value = 0;
    status.textContent = "Reading the file…";
    button.disabled = true;
    try {
      var response = await fetch(form.dataset.parseUrl, {
        method: "POST", body: new FormData(form), headers: { "Accept": "application/json" }
      });
      if (!response.ok) { return fail(await messageOf(response)); }
      var parsed = await response.json();
      var output = await classifyAll(parsed);
      if (download.href.indexOf("blob:") === 0) { URL.revokeObjectURL(download.href); }
      download.href = URL.createObjectURL(new Blob([output.csv], { type: "text/csv" }));
      var classified = parsed.rows.length - output.problems.length;
      status.textContent = "Done: " + parsed.rows.length + " rows, " + classified + " classified, " +
        output.problems.length + " reported in the error column" + (output.problems.length ? ":" : ".");
      showProblems(output.problems);
      download.hidden = false;
      button.disabled = false;
      download.click();  // the download starts now; the link stays for a second copy
    } catch (error) {
      fail(error.message);
    }
  });
}());
