// Follow a training run: poll its status every second until it finishes, then show the outcome.
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || root.dataset.finished === "true") { return; }
  var shown = 0;
  function text(id, value) { document.getElementById(id).textContent = value || ""; }
  function remaining(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    if (seconds < 90) { return "about " + seconds + " s left"; }
    return "about " + Math.round(seconds / 60) + " min left";
  }
  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (run) {
        var finished = run.status === "succeeded" || run.status === "failed";
        // The bar only moves forward, even if an answer arrives out of order.
        shown = Math.max(shown, run.progress || 0);
        document.getElementById("run-progress").value = shown;
        text("run-percent", Math.round(shown * 100) + "%");
        text("run-status", run.status);
        text("run-message", run.message);
        text("run-log", run.log);
        text("run-remaining", finished ? "" : remaining(run.remaining_seconds));
        if (run.kind) {
          var kind = document.getElementById("run-kind");
          kind.textContent = "";
          var strong = document.createElement("strong");
          strong.textContent = run.kind;
          kind.appendChild(strong);
          kind.appendChild(document.createTextNode(": " + (run.kind_reason || "")));
        }
        var outcome = document.getElementById("run-outcome");
        if (finished) {
          outcome.textContent = run.outcome || ("Training run " + run.id + " " + run.status + ".");
          outcome.className = "alert " + (run.status === "failed" ? "alert-danger"
            : run.nothing_new_since ? "alert-info" : "alert-success");
          if (run.version) { text("run-version", "Version " + run.version + " is " + run.version_status + "."); }
          if (run.error) { text("run-message", run.error.split("\n")[0]); }
          return;
        }
        outcome.textContent = "Training run " + run.id + " is " + run.status + ".";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
}());
