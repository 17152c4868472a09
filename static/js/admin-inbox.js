// Keyboard layer of the inbox card: every key does what a click on the card's own controls
// does, so the page keeps working (by plain form posts) without this script.
(function () {
  "use strict";
  var card = document.getElementById("inbox-card");
  if (!card) { return; }

  function click(id) {
    var element = document.getElementById(id);
    if (element) { element.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var typing = target && (target.tagName === "SELECT" || target.tagName === "TEXTAREA" ||
      (target.tagName === "INPUT" && target.type !== "radio" && target.type !== "checkbox"));
    if (typing) { return; }
    var key = event.key;
    var handled = false;
    if (/^[1-9]$/.test(key)) {
      var choice = card.querySelector('input[data-key="' + key + '"]');
      if (choice) { choice.checked = true; choice.focus(); handled = true; }
    } else if (key === "Enter") {
      var form = document.getElementById("decide-form");
      if (form) { form.requestSubmit(document.getElementById("approve-button")); handled = true; }
    } else if (key === "o") {
      var override = document.getElementById("confirm-override");
      if (override) { override.checked = !override.checked; handled = true; }
    } else if (key === "x") {
      handled = click("reject-button");
    } else if (key === "d") {
      handled = click("discard-button");
    } else if (key === "s") {
      handled = click("skip-link");
    } else if (key === "j") {
      handled = click("next-link");
    } else if (key === "k") {
      handled = click("prev-link");
    } else if (key === "u") {
      handled = click("undo-button");
    }
    if (handled) { event.preventDefault(); }
  });
}());
