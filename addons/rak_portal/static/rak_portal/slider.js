/* « Les actualités de la RAK »: the slider scrolls by itself every 7 s (not when the visitor
   prefers reduced motion, hovers or focuses it); the dots scroll without moving the page. In Arabic
   (dir=rtl) the slides run from right to left. No words here: the labels are in the template.
   Without JavaScript the slides stay a horizontally scrollable, snapping strip. */
(function () {
  document.querySelectorAll("[data-slider]").forEach(function (slider) {
    var strip = slider.querySelector(".slides");
    var dots = slider.querySelectorAll(".slider-dots a");
    var paused = false;
    // right to left (Arabic), the strip starts at its right edge and scrollLeft goes negative
    var sign = window.getComputedStyle(strip).direction === "rtl" ? -1 : 1;
    function current() { return Math.round(Math.abs(strip.scrollLeft) / strip.clientWidth); }
    function show(i) {
      strip.scrollTo({ left: sign * i * strip.clientWidth, behavior: "smooth" });
    }
    function mark() {
      var i = current();
      dots.forEach(function (dot, j) { dot.setAttribute("aria-current", i === j ? "true" : "false"); });
    }
    dots.forEach(function (dot, i) {
      dot.addEventListener("click", function (event) { event.preventDefault(); show(i); });
    });
    strip.addEventListener("scroll", function () { window.requestAnimationFrame(mark); }, { passive: true });
    ["mouseenter", "focusin", "touchstart"].forEach(function (name) {
      slider.addEventListener(name, function () { paused = true; }, { passive: true });
    });
    ["mouseleave", "focusout"].forEach(function (name) {
      slider.addEventListener(name, function () { paused = false; });
    });
    mark();
    if (dots.length > 1 && !window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      window.setInterval(function () {
        if (!paused && !document.hidden) { show((current() + 1) % dots.length); }
      }, 7000);
    }
  });
})();
