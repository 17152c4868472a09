// The question box: a live count against the server's limit, counted by the server's own rules,
// and Enter to send. Over the limit the count turns into a warning; the server refuses such a
// question with the same message as the API, and the text stays in the box.
(function () {
  "use strict";
  var box = document.getElementById("question");
  if (!box || !box.form) { return; }
  var count = document.getElementById("question-count");
  var limit = parseInt(box.dataset.limit, 10);
  var rules = null;
  try {
    // Character classes from qcapp/services/serving/user_text.py (counting_patterns).
    rules = {
      spaces: new RegExp("[" + box.dataset.spaces + "]+", "gu"),
      removed: new RegExp("[" + box.dataset.removed + "]", "gu"),
      stripped: new RegExp(
        "^[" + box.dataset.stripped + "]+|[" + box.dataset.stripped + "]+$", "gu")
    };
  } catch (ignore) { rules = null; }

  // len(clean_text(text).strip()) in Python: code points, not UTF-16 units.
  function length(text) {
    if (rules) {
      text = text.replace(rules.spaces, " ").replace(rules.removed, "").replace(rules.stripped, "");
    } else {
      text = text.trim();
    }
    return Array.from(text).length;
  }

  function number(value) { return value.toLocaleString("en-US"); }

  function update() {
    var used = length(box.value);
    var over = used - limit;
    var text = number(used) + " / " + number(limit) + " characters";
    if (over > 0) {
      text += ": " + number(over) + " over the limit. Shorten the question to send it.";
      box.setAttribute("aria-invalid", "true");
    } else if (!document.getElementById("question-error")) {
      box.removeAttribute("aria-invalid");
    }
    count.textContent = text;
    count.classList.toggle("near-limit", over <= 0 && used > limit * 0.9);
    count.classList.toggle("over-limit", over > 0);
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
