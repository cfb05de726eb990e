/* Payment pages: totals follow the boxes (the server recomputes everything at « Valider » and at
   « Recalculer », which is how the page works without JavaScript), mandatory (exigible) boxes
   stay checked, « Imprimer » prints the receipt, « Autre image » draws a new captcha. Amounts are
   counted in centimes; rounding half-up, the fee then its VAT, as on the server. */
(function () {
  "use strict";

  function centimes(text) {
    var parts = String(text).split(".");
    var whole = parseInt(parts[0] || "0", 10);
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    return whole * 100 + parseInt(frac, 10);
  }
  // round(value / divisor), half up, for non-negative integers
  function divRound(value, divisor) { return Math.floor((2 * value + divisor) / (2 * divisor)); }
  // a decimal string as an integer number of 1/10000 (percent and VAT rates have 4 decimals)
  function tenThousandths(text) {
    var parts = String(text).split(".");
    var frac = ((parts[1] || "") + "0000").slice(0, 4);
    return parseInt(parts[0] || "0", 10) * 10000 + parseInt(frac, 10);
  }
  // the separators of the page's language, read from an amount the server formatted
  // (data-format-sample="1 234,50" in French, "1,234.50" in English)
  function separators(form) {
    var sample = form.getAttribute("data-format-sample") || "1\u202f234,50";
    var group = /\d/.test(sample.charAt(1)) ? "" : sample.charAt(1);
    return { group: group, decimal: sample.charAt(sample.length - 3) };
  }
  function format(c, seps) {
    var whole = Math.floor(c / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, seps.group);
    var cents = ("0" + (c % 100)).slice(-2);
    return whole + seps.decimal + cents;
  }

  function fee(form, amount) {
    var mode = form.getAttribute("data-fee-mode");
    if (mode === "NONE" || amount <= 0) { return 0; }
    var ht = mode === "FIXED"
      ? centimes(form.getAttribute("data-fee-fixed"))
      : divRound(amount * tenThousandths(form.getAttribute("data-fee-percent")), 100 * 10000);
    var vat = divRound(ht * tenThousandths(form.getAttribute("data-fee-vat")), 10000);
    return ht + vat;
  }

  document.querySelectorAll("[data-pay-form]").forEach(function (form) {
    var boxes = form.querySelectorAll("input[type=checkbox][name=facture]");
    function update() {
      var total = 0;
      boxes.forEach(function (box) {
        if (box.hasAttribute("data-mandatory")) { box.checked = true; }
        if (box.checked) { total += centimes(box.getAttribute("data-amount")); }
      });
      var f = fee(form, total);
      var seps = separators(form);
      form.querySelector("[data-total-bills]").textContent = format(total, seps);
      form.querySelector("[data-total-fee]").textContent = format(f, seps);
      form.querySelector("[data-total-all]").textContent = format(total + f, seps);
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    var recalc = form.querySelector("[data-recalculate]");
    if (recalc) { recalc.style.display = "none"; }  // the totals follow the boxes
    update();
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  document.querySelectorAll("[data-captcha-refresh]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var image = document.querySelector("img.captcha");
      if (!image || !window.fetch) { return; }
      event.preventDefault();
      fetch("/captcha/refresh/", { headers: { "X-Requested-With": "XMLHttpRequest" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          image.src = data.image_url;
          var key = document.querySelector("input[name=captcha_0]");
          if (key) { key.value = data.key; }
        });
    });
  });
})();
