// Follow a training run: poll its status every second until it finishes.
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || root.dataset.finished === "true") { return; }
  function text(id, value) { document.getElementById(id).textContent = value || ""; }
  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        text("run-status", run.status);
        text("run-message", run.message);
        text("run-log", run.log);
        document.getElementById("run-progress").value = run.progress;
        if (run.status === "succeeded" || run.status === "failed") {
          if (run.version) { text("run-version", "Version " + run.version + " is " + run.version_status + "."); }
          if (run.error) { text("run-message", run.error.split("\n")[0]); }
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
