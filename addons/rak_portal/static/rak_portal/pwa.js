/* RAK agence en ligne — the installable web app, page side (issue 13; no inline script: the CSP
 * forbids it). Included by base.html: <script src="pwa.js" data-sw="/sw.js" data-logout="…" defer>.
 *
 * - Registers the service worker (/sw.js, scope: the whole site).
 * - Signing out (a form posted to the logout page) tells the worker to drop the private copies it
 *   keeps for offline reading (it also drops them by itself when it sees the login page).
 * - The offline page's « Réessayer » button ([data-offline-retry]) reloads the page asked for.
 * - Web Push: when the page carries <meta name="rak-vapid-key" content="…"> (a customer signed in,
 *   the server has VAPID keys), any element [data-push-subscribe] subscribes this browser and posts
 *   {endpoint, keys: {p256dh, auth}} to /notifications/push/abonnement/ (or the URL given as the
 *   attribute's value), any [data-push-unsubscribe] unsubscribes it and posts {endpoint} to
 *   /notifications/push/desabonnement/; both with the CSRF header. Only the button that applies is
 *   shown. The outcome is written in [data-push-status] (created after the first button when the
 *   page has none), with the texts the meta carries (data-msg-*), and announced as a
 *   « rak:push » event on document (detail: {state: "subscribed" | "unsubscribed" | "denied" |
 *   "unsupported" | "error"}).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var WORKER_URL = script ? script.getAttribute("data-sw") : null;
  var LOGOUT_URL = script ? script.getAttribute("data-logout") : null;
  var SUBSCRIBE_URL = "/notifications/push/abonnement/";
  var UNSUBSCRIBE_URL = "/notifications/push/desabonnement/";
  var hasWorker = "serviceWorker" in navigator;

  function all(selector) {
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }

  function register() {
    if (!hasWorker || !WORKER_URL) return;
    navigator.serviceWorker.register(WORKER_URL, { scope: "/" }).catch(function () {
      /* no worker: the site works as before */
    });
  }

  function pathOf(action) {
    try {
      return new URL(action, window.location.href).pathname;
    } catch (error) {
      return "";
    }
  }

  function watchLogout() {
    document.addEventListener(
      "submit",
      function (event) {
        var form = event.target;
        if (!LOGOUT_URL || !form || !form.getAttribute || pathOf(form.getAttribute("action") || "") !== LOGOUT_URL) return;
        if (hasWorker && navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage({ type: "logout" });
        }
      },
      true
    );
  }

  function setupRetry() {
    all("[data-offline-retry]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.location.reload();
      });
    });
  }

  /* --- Web Push ---------------------------------------------------------------------------- */

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field && field.value) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function keyBytes(base64url) {
    var base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response;
    });
  }

  function setupPush() {
    var subscribeButtons = all("[data-push-subscribe]");
    var unsubscribeButtons = all("[data-push-unsubscribe]");
    var buttons = subscribeButtons.concat(unsubscribeButtons);
    if (!buttons.length) return;
    var meta = document.querySelector('meta[name="rak-vapid-key"]');
    var key = meta ? meta.getAttribute("content") : "";
    var status = document.querySelector("[data-push-status]");

    function say(state) {
      var text = meta ? meta.getAttribute("data-msg-" + state) : "";
      if (text) {
        if (!status) {
          status = document.createElement("p");
          status.className = "push-status";
          status.setAttribute("role", "status");
          status.setAttribute("data-push-status", "");
          buttons[0].insertAdjacentElement("afterend", status);
        }
        status.textContent = text;
      }
      document.dispatchEvent(new CustomEvent("rak:push", { detail: { state: state } }));
    }

    function show(subscribed) {
      subscribeButtons.forEach(function (button) {
        button.hidden = subscribed;
        button.disabled = false;
      });
      unsubscribeButtons.forEach(function (button) {
        button.hidden = !subscribed;
        button.disabled = false;
      });
    }

    function busy() {
      buttons.forEach(function (button) {
        button.disabled = true;
      });
    }

    if (!key || !hasWorker || !("PushManager" in window) || !("Notification" in window)) {
      buttons.forEach(function (button) {
        button.hidden = true;
      });
      if (key) say("unsupported");
      return;
    }

    function subscription() {
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.getSubscription();
      });
    }

    subscription().then(function (current) {
      show(Boolean(current));
      if (!current && Notification.permission === "denied") say("denied");
    });

    subscribeButtons.forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        busy();
        Notification.requestPermission()
          .then(function (permission) {
            if (permission !== "granted") {
              show(false);
              say("denied");
              return null;
            }
            return navigator.serviceWorker.ready
              .then(function (registration) {
                return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
              })
              .then(function (created) {
                var json = created.toJSON();
                var url = button.getAttribute("data-push-subscribe") || SUBSCRIBE_URL;
                return post(url, { endpoint: json.endpoint, keys: { p256dh: json.keys.p256dh, auth: json.keys.auth } });
              })
              .then(function () {
                show(true);
                say("subscribed");
              });
          })
          .catch(function () {
            subscription().then(function (current) {
              show(Boolean(current));
              say("error");
            });
          });
      });
    });

    unsubscribeButtons.forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        busy();
        subscription()
          .then(function (current) {
            if (!current) return null;
            var endpoint = current.endpoint;
            var url = button.getAttribute("data-push-unsubscribe") || UNSUBSCRIBE_URL;
            // this browser first: the customer's choice holds even if the server is unreachable
            return current.unsubscribe().then(function () {
              return post(url, { endpoint: endpoint });
            });
          })
          .then(function () {
            show(false);
            say("unsubscribed");
          })
          .catch(function () {
            subscription().then(function (current) {
              show(Boolean(current));
              say("error");
            });
          });
      });
    });
  }

  register();
  watchLogout();

  function start() {
    setupRetry();
    setupPush();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
