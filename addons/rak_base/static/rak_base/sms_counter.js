/* Live SMS counter of « Modèles de messages » (back office): as staff type an SMS template, the
   length and the number of SMS are recomputed with the placeholders' typical values, exactly as
   rak_base/sms_length.py counts them (GSM-7 160/153, UCS-2 70/67). The server checks again on save. */
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "^{}\\[~]|€\f";

  function segments(units, single, part) {
    if (units === 0) { return 0; }
    return units <= single ? 1 : Math.ceil(units / part);
  }

  function measure(text) {
    var septets = 0, nonGsm = [];
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if (BASIC.indexOf(c) >= 0) { septets += 1; }
      else if (EXTENSION.indexOf(c) >= 0) { septets += 2; }
      else if (nonGsm.indexOf(c) < 0) { nonGsm.push(c); }
    }
    if (!nonGsm.length) {
      var s = segments(septets, 160, 153);
      return {encoding: "GSM-7", units: septets, segments: s, per: s <= 1 ? 160 : 153, nonGsm: nonGsm};
    }
    var u = text.length; // UTF-16 code units, as the server counts UCS-2
    var n = segments(u, 70, 67);
    return {encoding: "UCS-2", units: u, segments: n, per: n <= 1 ? 70 : 67, nonGsm: nonGsm};
  }

  function fill(text, examples) {
    // {name} -> its example; {{ and }} -> a literal brace (as Python's str.format reads them)
    return text.replace(/\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g, function (match, name) {
      if (match === "{{") { return "{"; }
      if (match === "}}") { return "}"; }
      return Object.prototype.hasOwnProperty.call(examples, name) ? examples[name] : match;
    });
  }

  function format(pattern, values) {
    return pattern.replace(/%\((\w+)\)[ds]/g, function (m, key) { return String(values[key]); });
  }

  function bind(textarea) {
    var out = document.querySelector('[data-sms-counter-for="' + textarea.id + '"]');
    if (!out) { return; }
    var examples = JSON.parse(textarea.getAttribute("data-sms-examples") || "{}");
    var max = parseInt(textarea.getAttribute("data-sms-max") || "2", 10);
    function update() {
      var m = measure(fill(textarea.value, examples));
      if (!m.segments) { out.textContent = out.getAttribute("data-pattern-empty"); return; }
      var text = format(out.getAttribute("data-pattern"), m);
      if (m.nonGsm.length) { text += " — " + format(out.getAttribute("data-pattern-ucs2"), {chars: m.nonGsm.join(" ")}); }
      if (m.segments > max) { text += " — " + out.getAttribute("data-pattern-too-long"); }
      out.textContent = text;
      out.classList.toggle("text-red-600", m.segments > max);
    }
    textarea.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var areas = document.querySelectorAll("textarea[data-sms-examples]");
    for (var i = 0; i < areas.length; i++) { bind(areas[i]); }
  });
})();
