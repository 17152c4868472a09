// Progressive enhancement of the batch form: classify in chunks through the API and show progress.
// Without JavaScript the form posts the file and the server answers with the CSV directly.
(function () {
  "use strict";
  var form = document.getElementById("batch-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var CHUNK = 100;
  var panel = document.getElementById("batch-progress");
  var bar = document.getElementById("batch-bar");
  var status = document.getElementById("batch-status");
  var download = document.getElementById("batch-download");

  function cell(value) {
    var text = value === undefined || value === null ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function fail(message) {
    status.textContent = message;
    form.querySelector("button").disabled = false;
  }

  function toRow(columns, item) {
    return columns.map(function (column) { return cell(item[column]); }).join(",");
  }

  async function classifyAll(rows, columns) {
    var valid = rows.filter(function (row) { return !row.error; });
    var results = {};
    for (var start = 0; start < valid.length; start += CHUNK) {
      var chunk = valid.slice(start, start + CHUNK);
      var response = await fetch(form.dataset.classifyUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ questions: chunk.map(function (row) { return row.question; }) })
      });
      var body = await response.json();
      if (!response.ok) { throw new Error(body.error ? body.error.message : "HTTP " + response.status); }
      body.results.forEach(function (result, index) { results[chunk[index].line] = result; });
      bar.value = Math.min(1, (start + chunk.length) / Math.max(valid.length, 1));
      status.textContent = "Classified " + (start + chunk.length) + " of " + valid.length + " questions…";
    }
    var lines = [columns.join(",")];
    rows.forEach(function (row) {
      var r = results[row.line];
      lines.push(toRow(columns, r ? {
        question: row.question, coarse: r.coarse.label, coarse_name: r.coarse.name,
        coarse_confidence: r.coarse.confidence, fine: r.fine.label, fine_name: r.fine.name,
        fine_confidence: r.fine.confidence, query_id: r.id, model_version: r.model_version
      } : { question: row.question, error: "line " + row.line + ": " + row.error }));
    });
    return lines.join("\r\n") + "\r\n";
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    panel.hidden = false;
    download.hidden = true;
    bar.value = 0;
    status.textContent = "Reading the file…";
    form.querySelector("button").disabled = true;
    try {
      var parsed = await fetch(form.dataset.parseUrl, { method: "POST", body: new FormData(form) });
      var body = await parsed.json();
      if (!parsed.ok) { return fail(body.error ? body.error.message : "The file could not be read."); }
      var csv = await classifyAll(body.rows, body.columns);
      download.href = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      download.hidden = false;
      status.textContent = "Done: " + body.rows.length + " rows.";
      form.querySelector("button").disabled = false;
      download.focus();
    } catch (error) {
      fail("Something went wrong: " + error.message);
    }
  });
}());
