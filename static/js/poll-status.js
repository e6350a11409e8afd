// Follows a piece of long work (a transcript being made) without a manual reload.
// The element with data-poll-url is polled every two seconds; its JSON answer has "label" (the
// state in words), "ready" and "failed". The badge named by data-poll-target shows the label;
// when the work is over the page reloads once to show the result.
(function () {
  "use strict";
  var box = document.querySelector("[data-poll-url]");
  if (!box || !window.fetch) {
    return;
  }
  var badge = document.getElementById(box.getAttribute("data-poll-target"));
  var url = box.getAttribute("data-poll-url");
  var tries = 0;

  function poll() {
    tries += 1;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state && badge) {
          badge.textContent = state.label;
          badge.className = "badge badge--" + state.status;
        }
        if (state && (state.ready || state.failed)) {
          window.location.reload();
        } else if (tries < 900) {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        if (tries < 900) {
          window.setTimeout(poll, 5000);
        }
      });
  }

  window.setTimeout(poll, 1000);
})();
