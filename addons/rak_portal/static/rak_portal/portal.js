/* RAK agence en ligne — behaviour shared by every page (no inline script: the CSP forbids it).
 *
 * - The phone menu: without JavaScript a checkbox and its label « Menu » fold and unfold it (CSS);
 *   here they give way to a real button that says whether the menu is open (aria-expanded).
 *   Escape closes it and gives the focus back to the button.
 * - A form sent back with errors starts with a summary (« Le formulaire contient des erreurs »)
 *   whose links lead to the fields: the focus moves to it so that a screen reader reads it first.
 */
(function () {
  "use strict";

  function setupMenu(menu) {
    var check = menu.querySelector(".menu-check");
    var label = menu.querySelector("[data-menu-label]");
    var button = menu.querySelector("[data-menu-button]");
    if (!button) return;
    var open = Boolean(check && check.checked);
    if (check) check.remove();
    if (label) label.remove();
    button.hidden = false;

    function show(state) {
      button.setAttribute("aria-expanded", state ? "true" : "false");
      menu.classList.toggle("is-open", state);
    }
    show(open);
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        show(false);
        button.focus();
      }
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) return;
    summary.focus();
    // a form posted to « …#resultat » scrolls to that anchor once loaded, which takes the focus
    // back to the page: give it to the summary again then, unless the customer moved on
    window.addEventListener("load", function () {
      window.setTimeout(function () {
        if (document.activeElement === document.body || document.activeElement === null) summary.focus();
      }, 0);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-menu]"), setupMenu);
    focusErrorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
