// Follows a batch of certificate decisions while its certificates are issued, without a manual
// reload. The element with data-batch-progress holds the URL of the batch's progress.json; it is
// polled every two seconds and the page's counts, <progress> and state in words (an aria-live
// region) are updated from the answer. Polling stops once the batch is finished (nothing waits
// any more), or after an hour. No inline script: the page loads this file, so a strict CSP holds.
(function () {
  "use strict";
  var box = document.querySelector("[data-batch-progress]");
  if (!box || !window.fetch || box.hasAttribute("data-finished")) {
    return;
  }
  var url = box.getAttribute("data-batch-progress");
  var tries = 0;
  var MAX_TRIES = 1800;

  function field(name) {
    return box.querySelector('[data-field="' + name + '"]');
  }

  function setText(element, text) {
    // Only on change: a live region that is rewritten with the same words is read out again.
    if (element && element.textContent !== String(text)) {
      element.textContent = text;
    }
  }

  function show(state) {
    setText(field("label"), state.label);
    var badge = field("state-badge");
    if (badge) {
      setText(badge, state.state_label);
      badge.className = "badge badge--" + state.state;
    }
    var bar = field("progress");
    if (bar) {
      bar.max = state.total || 1;
      bar.value = state.processed;
      setText(bar, state.processed + " / " + state.total);
    }
    ["issued", "waiting", "failed", "total"].forEach(function (name) {
      setText(box.querySelector('[data-count="' + name + '"]'), state[name]);
    });
    var failed = field("failed-link");
    if (failed) {
      failed.hidden = !state.failed;
    }
  }

  function again(delay) {
    if (tries < MAX_TRIES) {
      window.setTimeout(poll, delay);
    }
  }

  function poll() {
    tries += 1;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state) {
          show(state);
        }
        if (!state || !state.finished) {
          again(2000);
        }
      })
      .catch(function () {
        again(5000);
      });
  }

  window.setTimeout(poll, 2000);
})();
