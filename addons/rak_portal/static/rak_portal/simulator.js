// « Simuler votre consommation »: the category list offers only the categories with a tariff for
// the chosen service (each option names them in data-services); the server checks it anyway.
(function () {
  "use strict";
  function sync(form) {
    var chosen = form.querySelector('input[name="service"]:checked');
    var select = form.querySelector('select[name="category"]');
    if (!chosen || !select) return;
    var firstAllowed = null;
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var allowed = (option.getAttribute("data-services") || "").split(" ").indexOf(chosen.value) !== -1;
      option.hidden = !allowed;
      option.disabled = !allowed;
      if (allowed && firstAllowed === null) firstAllowed = option;
    });
    var current = select.options[select.selectedIndex];
    if (current && current.disabled && firstAllowed) firstAllowed.selected = true;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector('[data-testid="simulator-form"]');
    if (!form) return;
    form.addEventListener("change", function (event) {
      if (event.target.name === "service") sync(form);
    });
    sync(form);
  });
})();
