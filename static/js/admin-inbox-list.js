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
