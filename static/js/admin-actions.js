// Confirmations and bulk actions on admin pages. The CSP allows no inline handlers, so forms
// and menu items declare what they need in data attributes and this one script does the rest.
(function () {
  "use strict";

  function settings() {
    var element = document.getElementById("bulk-actions-data");
    return element ? JSON.parse(element.textContent) : { noneSelected: "", confirmations: {} };
  }

  // <form data-confirm="..."> is only sent once the question is answered with OK.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Flask-Admin's menus use href="javascript:void(0)", which the CSP refuses to run, and our
  // filter menu uses href="#": keep such links from navigating; their own handlers still run.
  document.addEventListener("click", function (event) {
    var link = event.target.closest &&
      event.target.closest('a[href^="javascript:"], a[data-no-navigation]');
    if (link) {
      event.preventDefault();
    }
  }, true);

  // "With selected" → an action: copy the ticked rows into the hidden form and post it.
  document.addEventListener("click", function (event) {
    var item = event.target.closest && event.target.closest("[data-bulk-action]");
    if (!item) {
      return;
    }
    event.preventDefault();
    var options = settings();
    var ticked = document.querySelectorAll("input.action-checkbox:checked");
    if (ticked.length === 0) {
      window.alert(options.noneSelected);
      return;
    }
    var name = item.getAttribute("data-bulk-action");
    var question = options.confirmations[name];
    if (question && !window.confirm(question)) {
      return;
    }
    var form = document.getElementById("action_form");
    form.querySelector("[name=action]").value = name;
    Array.prototype.forEach.call(form.querySelectorAll("input[name=rowid]"), function (old) {
      old.remove();
    });
    Array.prototype.forEach.call(ticked, function (box) {
      var copy = document.createElement("input");
      copy.type = "hidden";
      copy.name = "rowid";
      copy.value = box.value;
      form.appendChild(copy);
    });
    form.submit();
  });

  // Flask-Admin names its row checkboxes by a tooltip alone, which nobody sees before ticking;
  // the checkboxes only work with this script, so it names each one by the row it selects.
  Array.prototype.forEach.call(
    document.querySelectorAll("input.action-checkbox, input.action-rowtoggle"),
    function (box) {
      var name = box.classList.contains("action-rowtoggle")
        ? "Select every row of this page" : "Select row " + box.value;
      box.setAttribute("aria-label", name);
    }
  );

  // The header checkbox ticks or clears every row; it follows the rows in turn.
  document.addEventListener("change", function (event) {
    var target = event.target;
    var boxes = document.querySelectorAll("input.action-checkbox");
    if (target.matches(".action-rowtoggle")) {
      Array.prototype.forEach.call(boxes, function (box) { box.checked = target.checked; });
    } else if (target.matches("input.action-checkbox")) {
      var toggle = document.querySelector(".action-rowtoggle");
      if (toggle) {
        toggle.checked = Array.prototype.every.call(boxes, function (box) { return box.checked; });
      }
    }
  });
})();
