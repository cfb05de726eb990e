/* RAK agence en ligne — the service worker (issue 13), served as /sw.js by rak_portal.views.mobile,
 * which puts its configuration before this file: self.RAK_SW = {version, precache, offline, ...}.
 *
 * - Static files: those of every page are precached at install in a cache named after the version
 *   (a hash of this file and of those files): a new version drops the old caches when it activates.
 *   Precached files are answered from the cache; other static files from the cache too, refreshed
 *   in the background (stale-while-revalidate).
 * - Pages: always the network. When it fails, the last copy of the customer's dashboard and bills
 *   pages (the only pages ever kept, network-first) with the « Hors ligne — données du … » banner
 *   shown, else the offline page in the language of the last page seen.
 * - Never cached: anything but GET, the back office, /api/, payment, any other page. The private
 *   copies are dropped when the customer signs in or out (a POST to the login or logout page, a
 *   message from pwa.js) and whenever the login page is served (a signed-out visitor).
 * - Web Push: a push {title, body, url, tag} shows a notification; a click opens its url (this
 *   site only) or brings its window forward.
 */
"use strict";

var CONFIG = self.RAK_SW;
var STATIC_CACHE = "rak-static-" + CONFIG.version;
var PRIVATE_CACHE = "rak-private";
var META_CACHE = "rak-meta";
var LANGUAGE_KEY = "/__rak-sw/language";
var PRIVATE_MAX_ENTRIES = 12;
var READABLE = CONFIG.readable.map(function (source) {
  return new RegExp(source);
});

function isBypassed(path) {
  return CONFIG.bypass.some(function (prefix) {
    return path.indexOf(prefix) === 0;
  });
}

function isReadable(path) {
  return READABLE.some(function (pattern) {
    return pattern.test(path);
  });
}

function isPrecached(url) {
  return CONFIG.precache.indexOf(url.pathname) !== -1;
}

function forgetPrivate() {
  return caches.delete(PRIVATE_CACHE);
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      .then(function (cache) {
        var offlinePages = Object.keys(CONFIG.offline).map(function (language) {
          var url = CONFIG.offline[language];
          // without the session's cookie: the offline page is everyone's
          return fetch(new Request(url, { credentials: "omit" })).then(function (response) {
            if (!response.ok) throw new Error("offline page " + url + ": " + response.status);
            return cache.put(url, response);
          });
        });
        return Promise.all([cache.addAll(CONFIG.precache)].concat(offlinePages));
      })
      .then(function () {
        return self.skipWaiting();
      })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (keys) {
        return Promise.all(
          keys
            .filter(function (key) {
              return key.indexOf("rak-static-") === 0 && key !== STATIC_CACHE;
            })
            .map(function (key) {
              return caches.delete(key);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "logout") event.waitUntil(forgetPrivate());
});

function rememberLanguage(response) {
  var language = (response.headers.get("Content-Language") || "").split(",")[0].trim();
  if (!Object.prototype.hasOwnProperty.call(CONFIG.offline, language)) return Promise.resolve();
  return caches.open(META_CACHE).then(function (cache) {
    return cache.put(LANGUAGE_KEY, new Response(language));
  });
}

function keepCopy(url, response) {
  return caches.open(PRIVATE_CACHE).then(function (cache) {
    return cache.put(url, response).then(function () {
      // the last pages only: a put moves its entry to the end, the oldest go first
      return cache.keys().then(function (keys) {
        return Promise.all(
          keys.slice(0, Math.max(0, keys.length - PRIVATE_MAX_ENTRIES)).map(function (key) {
            return cache.delete(key);
          })
        );
      });
    });
  });
}

function afterNavigation(url, response) {
  var work = [rememberLanguage(response)];
  var html = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
  if (response.status === 200 && (url.pathname === CONFIG.home || url.pathname === CONFIG.login)) {
    work.push(forgetPrivate()); // the login page: nobody is signed in any more
  } else if (response.status === 200 && response.type === "basic" && html && isReadable(url.pathname)) {
    work.push(keepCopy(url.pathname + url.search, response));
  }
  return Promise.all(work);
}

function offlineCopy(url) {
  return caches.open(PRIVATE_CACHE).then(function (cache) {
    return cache.match(url.pathname + url.search).then(function (copy) {
      if (!copy) return null;
      return copy.text().then(function (text) {
        var shown = text
          .replace("<html ", "<html data-offline-copy ")
          .replace("data-offline-banner hidden", "data-offline-banner");
        return new Response(shown, { headers: { "Content-Type": "text/html; charset=utf-8" } });
      });
    });
  });
}

function offlinePage() {
  return caches
    .open(META_CACHE)
    .then(function (cache) {
      return cache.match(LANGUAGE_KEY);
    })
    .then(function (remembered) {
      return remembered ? remembered.text() : CONFIG.defaultLanguage;
    })
    .then(function (language) {
      var url = CONFIG.offline[language] || CONFIG.offline[CONFIG.defaultLanguage];
      return caches.match(url, { cacheName: STATIC_CACHE });
    })
    .then(function (page) {
      return (
        page ||
        new Response("Hors ligne — Offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } })
      );
    });
}

function navigate(event, url) {
  return fetch(event.request)
    .then(function (response) {
      event.waitUntil(afterNavigation(url, response.clone()));
      return response;
    })
    .catch(function () {
      var copy = isReadable(url.pathname) ? offlineCopy(url) : Promise.resolve(null);
      return copy.then(function (found) {
        return found || offlinePage();
      });
    });
}

function fromStatic(event, url) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(event.request).then(function (hit) {
      if (hit && isPrecached(url)) return hit;
      var network = fetch(event.request).then(function (response) {
        if (response.status === 200 && response.type === "basic") {
          return cache.put(event.request, response.clone()).then(function () {
            return response;
          });
        }
        return response;
      });
      if (hit) {
        event.waitUntil(network.catch(function () {}));
        return hit;
      }
      return network;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || isBypassed(url.pathname)) return;
  if (request.method !== "GET") {
    // never cached; signing in or out leaves no private copy behind
    if (url.pathname === CONFIG.logout || url.pathname === CONFIG.login) event.waitUntil(forgetPrivate());
    return;
  }
  if (url.pathname.indexOf(CONFIG.staticPrefix) === 0) {
    event.respondWith(fromStatic(event, url));
  } else if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  }
});

function sameSiteUrl(value) {
  try {
    var url = new URL(value || CONFIG.start, self.location.origin);
    return url.origin === self.location.origin ? url.href : new URL(CONFIG.start, self.location.origin).href;
  } catch (error) {
    return new URL(CONFIG.start, self.location.origin).href;
  }
}

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try {
      data = event.data.json() || {};
    } catch (error) {
      data = { body: event.data.text() };
    }
  }
  var options = {
    body: data.body || "",
    icon: CONFIG.icon,
    badge: CONFIG.icon,
    data: { url: sameSiteUrl(data.url) },
  };
  if (data.tag) options.tag = String(data.tag);
  event.waitUntil(self.registration.showNotification(data.title || "RAK", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = sameSiteUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (windows[i].url === target && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow ? self.clients.openWindow(target) : null;
    })
  );
});
