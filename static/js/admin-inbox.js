// The inbox card without page loads: a decision is posted in the background while the next
// card, fetched ahead from /admin/inbox/cards, is already on screen. The queue is kept by query
// ids, never by positions, since items leave the inbox (and other reviewers work) meanwhile.
// Every control is a plain form or link too, so the card works (by page loads) without this.
// Cards arrive as HTML that the server rendered and escaped with the page's own template;
// whatever this script writes itself goes in through textContent.
(function () {
  "use strict";
  var shell = document.getElementById("inbox-card");
  if (!shell) { return; }
  var slot = document.getElementById("card-slot");
  var statusLine = document.getElementById("card-status");
  var countLine = document.getElementById("inbox-count");
  var undoForm = document.getElementById("undo-form");
  var picker = document.getElementById("picker");
  var pickerInput = document.getElementById("picker-input");
  var pickerList = document.getElementById("picker-list");
  var pickerNone = document.getElementById("picker-none");
  var keysDialog = document.getElementById("keys-dialog");
  var args = shell.getAttribute("data-args") || "";
  var cardsUrl = shell.getAttribute("data-cards-url");
  var tokenField = document.querySelector('input[name="csrf_token"]');
  var csrfToken = tokenField ? tokenField.value : "";

  // Cards held ahead of the current one, fetched in batches: one /cards request ranks the
  // inbox once (about half a second on a busy 2-core machine) for several cards.
  var PREFETCH = 8;
  var LOW_WATER = 4;      // fetch again when no more than this many are left
  // Decided ids still named to the server and kept out of fetched batches: a batch ranked
  // while a post was on its way may hold its item. Decisions are posted one after another, so
  // the latest few suffice; each id named makes the server rank one item more per batch.
  var KEEP_DECIDED = 32;
  var queue = [];         // prefetched cards, in the server's order
  var skipped = [];       // cards skipped past, the latest last (k brings them back)
  var decided = [];       // query ids decided here, newest last
  var total = parseInt(shell.getAttribute("data-total"), 10);
  var fetching = null;
  var posting = Promise.resolve();
  var returnFocus = null;

  document.documentElement.classList.add("qc-js");

  function current() { return slot.querySelector(".qc-card-item"); }

  function idsOf(card) {
    return (card.getAttribute("data-query-ids") || "").split(",").filter(Boolean);
  }

  function heldIds() {
    var ids = [];
    var cards = queue.concat(skipped);
    if (current()) { cards.push(current()); }
    cards.forEach(function (card) { ids = ids.concat(idsOf(card)); });
    return ids.concat(decided);
  }

  function holds(ids) {
    var held = heldIds();
    return ids.some(function (id) { return held.indexOf(String(id)) >= 0; });
  }

  function withArgs(url, extra) {
    var query = [args, extra].filter(Boolean).join("&");
    return query ? url + "?" + query : url;
  }

  function say(message) { statusLine.textContent = message || ""; }

  function showCount() {
    if (!isNaN(total)) { countLine.textContent = Math.max(total, 0) + " waiting"; }
  }

  function note(id, text) {
    var paragraph = document.createElement("p");
    paragraph.id = id;
    paragraph.textContent = text;
    return paragraph;
  }

  function parseCard(html) {
    var parsed = new DOMParser().parseFromString(html, "text/html");
    var card = document.adoptNode(parsed.body.firstElementChild);
    // DOMParser runs no scripts, so it builds the <noscript> fallbacks as real fields (the
    // "another label" select would post an empty other_fine): they go.
    Array.prototype.forEach.call(card.querySelectorAll("noscript"), function (element) {
      element.remove();
    });
    return card;
  }

  function cardError(card, message) {
    var box = card.querySelector(".qc-card-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function show(card) {
    if (!card) {
      slot.replaceChildren(fetching ? note("inbox-loading", "Fetching the next question…")
        : note("inbox-empty", "Nothing waits for review."));
      return;
    }
    slot.replaceChildren(card);
    updateOverride(card);
    var heading = card.querySelector("#card-question");
    if (heading && !picker.contains(document.activeElement)) { heading.focus({ preventScroll: true }); }
  }

  function failure(response, data) {
    var error = (data && data.error) || {};
    return {
      status: response ? response.status : 0,
      code: error.code || "",
      message: error.message || (response
        ? "The server answered " + response.status + " and saved nothing; try again."
        : "The server could not be reached; nothing was saved. Try again.")
    };
  }

  function readJson(response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") < 0) {
      // A login page after the session ended, say: nothing was done.
      return Promise.reject({ status: response.status, code: "not_json",
        message: "The server did not take the decision (has the session ended? reload the page); nothing was saved." });
    }
    return response.json().then(function (data) {
      if (!response.ok) { throw failure(response, data); }
      return data;
    });
  }

  function request(url, options) {
    options.headers = { "Accept": "application/json", "X-Requested-With": "fetch",
      "X-CSRFToken": csrfToken };
    options.credentials = "same-origin";
    return fetch(url, options).then(readJson, function () { throw failure(null, null); });
  }

  function refill() {
    if (fetching || queue.length > LOW_WATER) { return; }
    var extra = "n=" + (PREFETCH - queue.length) + "&exclude=" + heldIds().join(",");
    fetching = request(withArgs(cardsUrl, extra), { method: "GET" }).then(function (data) {
      fetching = null;
      total = data.total - decidedPending;
      showCount();
      data.cards.forEach(function (entry) {
        if (!holds(entry.query_ids)) { queue.push(parseCard(entry.html)); }
      });
      if (!current()) { show(queue.shift() || null); }
    }, function (error) {
      fetching = null;
      say(error.message);
      if (!current()) { show(null); }
    });
  }

  function advance() {
    show(queue.shift() || null);
    refill();
  }

  var decidedPending = 0; // decisions posted whose answer has not come yet

  function setPending(change) {
    decidedPending += change;
    // Read by the browser tests and the bench: 0 once every decision was answered.
    shell.setAttribute("data-pending", String(decidedPending));
  }

  // Leaving while a decision is still on its way would lose it: the browser asks first.
  window.addEventListener("beforeunload", function (event) {
    if (decidedPending > 0) { event.preventDefault(); event.returnValue = ""; }
  });

  function forget(ids) {
    decided = decided.filter(function (id) { return ids.indexOf(id) < 0; });
  }

  function restore(card, error) {
    var shown = current();
    if (shown && shown !== card) { queue.unshift(shown); }
    show(card);
    cardError(card, error.message);
  }

  // Post a card's form in the background; the next card is shown at once. On a refusal the
  // card comes back as the current one with the server's message, nothing decided.
  function decideInBackground(card, form) {
    var body = new URLSearchParams(new FormData(form));
    var ids = idsOf(card);
    decided = decided.concat(ids).slice(-KEEP_DECIDED);
    setPending(1);
    total -= 1;
    showCount();
    cardError(card, "");
    advance();
    posting = posting.then(function () {
      return request(form.action, { method: "POST", body: body }).then(function (answer) {
        say(answer.message);
        undoForm.hidden = !answer.can_undo;
      }, function (error) {
        forget(ids);
        total += 1;
        showCount();
        if (error.code === "changed") {
          // Someone else moved the item on: show it as it is now, with why.
          return request(withArgs(cardsUrl, "ids=" + ids[0]), { method: "GET" }).then(
            function (data) { restore(parseCard(data.cards[0].html), error); },
            function () { restore(card, error); });
        }
        restore(card, error);
      }).then(function () { setPending(-1); });
    });
  }

  function chosenLabel(card) {
    var other = card.querySelector('input[name="other_fine"]');
    if (other && other.value) { return other.value; }
    var checked = card.querySelector('input[name="fine"]:checked');
    return checked ? checked.value : "";
  }

  function overrideText(card, label) {
    var base = card.getAttribute("data-base-label");
    if (!base || !label || label === base) { return ""; }
    return "The training data (" + card.getAttribute("data-base-dataset") + ") labels this question " +
      base + "; approving " + label + " overrides it. Press Enter again (or o) to confirm.";
  }

  function updateOverride(card) {
    var message = card.querySelector(".qc-override");
    if (!message) { return; }
    var text = overrideText(card, chosenLabel(card));
    message.textContent = text;
    message.hidden = !text;
  }

  function approve(label) {
    var card = current();
    if (!card) { return; }
    var form = card.querySelector(".qc-decide-form");
    var other = form.querySelector('input[name="other_fine"]');
    if (label) {
      var radio = form.querySelector('input[name="fine"][value="' + label + '"]');
      if (radio) { radio.checked = true; }
      if (!other) {
        other = document.createElement("input");
        other.type = "hidden";
        other.name = "other_fine";
        form.appendChild(other);
      }
      other.value = radio ? "" : label;
    }
    var chosen = chosenLabel(card);
    var box = form.querySelector(".qc-confirm-override");
    if (overrideText(card, chosen) && box && !box.checked) {
      // One message, in words: the first Enter shows it, a second one confirms.
      if (card.getAttribute("data-override-asked") !== chosen) {
        card.setAttribute("data-override-asked", chosen);
        updateOverride(card);
        card.querySelector(".qc-override").classList.add("qc-asked");
        return;
      }
      box.checked = true;
    }
    decideInBackground(card, form);
  }

  function submitCardForm(selector) {
    var card = current();
    var form = card && card.querySelector(selector);
    if (form) { decideInBackground(card, form); }
  }

  function skip() {
    var card = current();
    if (!card) { return; }
    skipped.push(card);
    advance();
  }

  function previous() {
    var card = skipped.pop();
    if (!card) { return; }
    var shown = current();
    if (shown) { queue.unshift(shown); }
    show(card);
  }

  function undo() {
    var body = new URLSearchParams(new FormData(undoForm));
    posting = posting.then(function () {
      return request(undoForm.action, { method: "POST", body: body }).then(function (answer) {
        return request(withArgs(cardsUrl, "ids=" + answer.query_id), { method: "GET" })
          .then(function (data) {
            var card = parseCard(data.cards[0].html);
            var ids = idsOf(card);
            forget(ids);
            // The undone item is the current card again; the one it replaces waits next.
            queue = queue.filter(function (held) { return !idsOf(held).some(function (id) { return ids.indexOf(id) >= 0; }); });
            skipped = skipped.filter(function (held) { return !idsOf(held).some(function (id) { return ids.indexOf(id) >= 0; }); });
            var shown = current();
            if (shown) { queue.unshift(shown); }
            total += 1;
            showCount();
            show(card);
            say(answer.message);
            undoForm.hidden = !answer.can_undo;
          });
      }, function (error) { say(error.message); });
    });
  }

  // --- the picker: any of the 50 classes by code or words ---------------------------------

  var options = Array.prototype.slice.call(pickerList.querySelectorAll('[role="option"]'));
  var active = null;

  function score(option, text) {
    if (!text) { return 1; }
    var label = option.getAttribute("data-label").toLowerCase();
    var fine = label.split(":")[1];
    var search = option.getAttribute("data-search");
    if (option.getAttribute("data-code") === text) { return 100; }
    if (label === text || fine === text) { return 90; }
    if (fine.indexOf(text) === 0 || label.indexOf(text) === 0) { return 80; }
    if ((" " + search).indexOf(" " + text) >= 0) { return 50; }
    if (search.indexOf(text) >= 0) { return 20; }
    return 0;
  }

  function setActive(option) {
    if (active) { active.setAttribute("aria-selected", "false"); }
    active = option;
    if (option) {
      option.setAttribute("aria-selected", "true");
      pickerInput.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      pickerInput.removeAttribute("aria-activedescendant");
    }
  }

  function filter() {
    var text = pickerInput.value.trim().toLowerCase();
    var ranked = options.map(function (option, index) {
      return { option: option, score: score(option, text), index: index };
    }).filter(function (entry) { return entry.score > 0; });
    ranked.sort(function (a, b) { return b.score - a.score || a.index - b.index; });
    options.forEach(function (option) { option.hidden = true; });
    ranked.forEach(function (entry) {
      entry.option.hidden = false;
      pickerList.appendChild(entry.option);
    });
    pickerNone.hidden = ranked.length > 0;
    setActive(ranked.length ? ranked[0].option : null);
  }

  function visibleOptions() {
    return Array.prototype.filter.call(pickerList.children, function (option) { return !option.hidden; });
  }

  function openPicker() {
    if (!current()) { return; }
    returnFocus = document.activeElement;
    picker.hidden = false;
    pickerInput.value = "";
    filter();
    pickerInput.focus();
  }

  function closePicker() {
    picker.hidden = true;
    var card = current();
    var heading = card && card.querySelector("#card-question");
    var target = returnFocus && document.contains(returnFocus) ? returnFocus : heading;
    if (target) { target.focus({ preventScroll: true }); }
  }

  function pick(option) {
    if (!option) { return; }
    var label = option.getAttribute("data-label");
    closePicker();
    approve(label);
  }

  pickerInput.addEventListener("input", filter);
  pickerInput.addEventListener("keydown", function (event) {
    var list = visibleOptions();
    var index = list.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var step = event.key === "ArrowDown" ? 1 : -1;
      if (list.length) { setActive(list[(index + step + list.length) % list.length]); }
    } else if (event.key === "Enter") {
      pick(active);
    } else if (event.key === "Escape") {
      closePicker();
    } else {
      return; // letters go into the field
    }
    event.preventDefault();
    event.stopPropagation();
  });
  pickerList.addEventListener("click", function (event) {
    var option = event.target.closest('[role="option"]');
    if (option) { pick(option); }
  });
  document.getElementById("picker-close").addEventListener("click", closePicker);

  // --- the keys overlay ----------------------------------------------------------------------

  function openKeys() {
    returnFocus = document.activeElement;
    keysDialog.showModal();
    document.getElementById("keys-close").focus();
  }
  document.getElementById("keys-button").addEventListener("click", openKeys);
  document.getElementById("keys-close").addEventListener("click", function () { keysDialog.close(); });
  keysDialog.addEventListener("close", function () {
    if (returnFocus && document.contains(returnFocus)) { returnFocus.focus({ preventScroll: true }); }
  });

  // --- clicks, taps and keys -----------------------------------------------------------------

  slot.addEventListener("change", function (event) {
    var card = current();
    if (!card) { return; }
    if (event.target.name === "fine") {
      var other = card.querySelector('input[name="other_fine"]');
      if (other) { other.value = ""; }
    }
    updateOverride(card);
  });

  slot.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("qc-split-form")) { return; } // regroups: a page load
    event.preventDefault();
    if (form.classList.contains("qc-decide-form")) {
      approve("");
    } else if (current() && current().contains(form)) {
      decideInBackground(current(), form); // reject or discard
    }
  });

  shell.addEventListener("click", function (event) {
    var control = event.target.closest("[data-action]");
    if (!control) { return; }
    event.preventDefault();
    var action = control.getAttribute("data-action");
    if (action === "skip") { skip(); } else if (action === "prev") { previous(); } else if (action === "picker") { openPicker(); }
  });

  undoForm.addEventListener("submit", function (event) {
    event.preventDefault();
    undo();
  });

  var KEYS = {
    "Enter": function () { approve(""); },
    "o": function () {
      var box = current() && current().querySelector(".qc-confirm-override");
      if (box) { box.checked = !box.checked; }
    },
    "x": function () { submitCardForm(".qc-reject-form"); },
    "d": function () { submitCardForm(".qc-discard-form"); },
    "s": skip,
    "j": skip,
    "k": previous,
    "u": function () { if (!undoForm.hidden) { undo(); } },
    "/": openPicker,
    "l": openPicker,
    "?": openKeys
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    if (keysDialog.open) { return; } // the dialog keeps its own keys (Escape closes it)
    if (!picker.hidden) {
      if (event.key === "Escape") { event.preventDefault(); closePicker(); }
      return;
    }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" ||
        (tag === "INPUT" && target.type !== "radio" && target.type !== "checkbox")) { return; }
    var key = event.key;
    // A focused button or link keeps Enter and Space: they press it.
    if ((key === "Enter" || key === " ") && (tag === "BUTTON" || tag === "A" || tag === "SUMMARY")) { return; }
    var card = current();
    if (/^[1-9]$/.test(key) && card) {
      var choice = card.querySelector('input[data-key="' + key + '"]');
      if (choice) {
        choice.checked = true;
        choice.dispatchEvent(new Event("change", { bubbles: true }));
      }
      event.preventDefault();
      return;
    }
    if (Object.prototype.hasOwnProperty.call(KEYS, key)) {
      event.preventDefault();
      KEYS[key]();
    }
  }, true);

  showCount();
  if (current()) { updateOverride(current()); }
  refill();
}());
