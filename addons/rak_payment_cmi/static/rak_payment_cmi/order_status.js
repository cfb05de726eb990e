// The return page asks every 2 s (for up to 5 minutes) whether CMI's callback has confirmed the
// payment, and reloads itself once the status is no longer pending.
(function () {
  "use strict";
  var box = document.querySelector("[data-poll-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-poll-url");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && !data.pending) { window.location.reload(); return; }
        if (tries < 150) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { if (tries < 150) { window.setTimeout(poll, 5000); } });
  }
  window.setTimeout(poll, 1500);
})();
