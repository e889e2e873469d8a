// The scanner's service worker (served as /sw.js by expo/onsite/pwa.py, scope "/"; docs/scanner.md).
// It makes the two scan pages work without a network once visited:
//  - the shell files (styles, scripts, icon font, QR decoder) are kept in a cache named after the worker's
//    version (?v= in its URL: a hash of those files), so a changed file installs a new worker and cache;
//  - the scan pages (/portal/scan, /org/editions/<id>/checkin) are fetched from the network first and the
//    last good copy is kept, to be shown when the network is gone;
//  - signing out (POST /logout) forgets the kept pages.
// Every other request goes to the network untouched: the worker never answers for other pages or the API.
// The scans themselves are queued by static/scanner.js in IndexedDB, not here.
"use strict";

var VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
var SHELL = "expo-scanner-shell-" + VERSION;
var PAGES = "expo-scanner-pages";
var SHELL_FILES = [
  "/static/vendor/bootstrap/css/bootstrap.min.css",
  "/static/vendor/bootstrap-icons/font/bootstrap-icons.min.css",
  "/static/vendor/bootstrap-icons/font/fonts/bootstrap-icons.woff2",
  "/static/app.css",
  "/static/scanner.css",
  "/static/vendor/bootstrap/js/bootstrap.bundle.min.js",
  "/static/ui.js",
  "/static/scanner.js",
  "/static/vendor/jsqr/jsQR.js",
  "/static/scanner-icon.svg"
];
var SCAN_PAGE = /^\/(portal\/scan|org\/editions\/[1-9][0-9]{0,9}\/checkin)$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(SHELL_FILES.map(function (url) { return new Request(url, { cache: "no-cache" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("expo-scanner-shell-") === 0 && name !== SHELL;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function forgetPages() {
  return caches.delete(PAGES);
}

// A scan page: the network's answer when there is one (kept for later), else the copy kept last time.
function scanPage(request, path) {
  return fetch(request).then(function (response) {
    // A page load is answered "opaqueredirect" when the server redirects it (to the sign-in page, most often):
    // whoever uses the device now is not the user whose page is kept, so nothing kept is served any more.
    var signedOut = response.type === "opaqueredirect" ||
      (response.redirected && new URL(response.url).pathname === "/login");
    if (signedOut || response.status === 401 || response.status === 403) {
      return forgetPages().then(function () { return response; });
    }
    if (response.ok && response.type === "basic") {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { return cache.put(path, copy); });
    }
    if (response.status >= 500) {  // the server is in trouble: the kept page still scans (into the queue)
      return caches.open(PAGES).then(function (cache) { return cache.match(path); }).then(function (kept) {
        return kept || response;
      });
    }
    return response;
  }, function (error) {
    return caches.open(PAGES).then(function (cache) { return cache.match(path); }).then(function (kept) {
      if (kept) { return kept; }
      throw error;
    });
  });
}

// A shell file: the kept copy (the cache belongs to this version of the worker), else the network.
function shellFile(request) {
  return caches.open(SHELL).then(function (cache) {
    return cache.match(request, { ignoreSearch: true }).then(function (kept) {
      return kept || fetch(request);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(forgetPages());
    return;
  }
  if (request.method !== "GET") { return; }
  if (SCAN_PAGE.test(url.pathname) && request.mode === "navigate") {
    event.respondWith(scanPage(request, url.pathname));
  } else if (SHELL_FILES.indexOf(url.pathname) !== -1) {
    event.respondWith(shellFile(request));
  }
});

self.addEventListener("message", function (event) {
  if (event.data === "forget-pages") { event.waitUntil(forgetPages()); }
});
