/* « Utiliser ma position » on « Signaler une fuite ou une coupure »: the browser's Geolocation API
 * fills the hidden latitude / longitude fields. Without JavaScript (or when the customer refuses)
 * the button stays hidden and the address is asked instead; no external service is called. Its words
 * are the page's (data-* attributes written with {% translate %}), in the page's language. */
(function () {
  "use strict";

  function start() {
    var box = document.querySelector("[data-geo]");
    if (!box || !("geolocation" in navigator)) return;
    var button = box.querySelector("[data-geolocate]");
    var status = box.querySelector("[data-geo-status]");
    var form = box.closest("form");
    var lat = form.querySelector("input[name=latitude]");
    var lon = form.querySelector("input[name=longitude]");
    if (!button || !lat || !lon) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.getAttribute("data-searching");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
          var accuracy = Math.round(position.coords.accuracy || 0);
          // whole sentences from the page, in its language: « {lat} », « {lon} », « {accuracy} » filled here
          var sentence = button.getAttribute(accuracy ? "data-found-accuracy" : "data-found") || "{lat}, {lon}";
          status.textContent = sentence
            .replace("{lat}", lat.value)
            .replace("{lon}", lon.value)
            .replace("{accuracy}", String(accuracy));
          button.disabled = false;
        },
        function () {
          status.textContent = button.getAttribute("data-failed");
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
