// The question box: a live count against the server's limit, and Enter to send.
(function () {
  "use strict";
  var box = document.getElementById("question");
  if (!box || !box.form) { return; }
  var count = document.getElementById("question-count");
  var limit = parseInt(box.dataset.limit, 10) || box.maxLength;

  function update() {
    var used = box.value.length;
    count.textContent = used + " / " + limit + " characters";
    count.classList.toggle("near-limit", used > limit * 0.9);
  }

  box.addEventListener("input", update);
  box.addEventListener("keydown", function (event) {
    // Shift+Enter keeps its newline; Enter while an input method is composing confirms the word.
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) { return; }
    event.preventDefault();
    if (!box.value.trim()) { return; }
    if (box.form.requestSubmit) { box.form.requestSubmit(); } else { box.form.submit(); }
  });
  update();
}());
