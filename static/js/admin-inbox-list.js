// The inbox list: the bulk form asks for a label only when labelling, and "/" jumps to the search.
(function () {
  "use strict";
  var action = document.getElementById("bulk-action");
  var label = document.getElementById("bulk-label");
  if (action && label) {
    var sync = function () {
      var labelling = action.value === "label";
      label.disabled = !labelling;
      label.required = labelling;
    };
    action.addEventListener("change", sync);
    sync();
  }
  // Empty fields stay out of the URL, so a bookmarked filter reads as what it asks for.
  var filters = document.getElementById("inbox-filters");
  if (filters) {
    filters.addEventListener("submit", function () {
      Array.prototype.forEach.call(filters.elements, function (field) {
        var unset = field.value === "" || (field.name === "scope" && field.value === "all") ||
          (field.name === "state" && field.value === "open");
        if (field.name && unset) {
          field.disabled = true;
        }
      });
    });
    // A page restored by "Back" keeps its fields' state: give the disabled ones back.
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(filters.elements, function (field) {
        if (field.name && field.id !== "bulk-label") {
          field.disabled = false;
        }
      });
    });
  }
  var search = document.getElementById("filter-text");
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
    if (event.key === "/" && search && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      search.focus();
    }
  });
})();
