// Point the edit form at the chosen correction (without JavaScript the server reads correction_id).
(function () {
  "use strict";
  var form = document.getElementById("edit-form");
  var select = document.getElementById("edit-id");
  if (!form || !select) { return; }
  function update() { form.action = select.dataset.actionTemplate.replace(/0\/edit$/, select.value + "/edit"); }
  select.addEventListener("change", update);
  update();
}());
