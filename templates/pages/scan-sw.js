'use strict';
// The scanner page's service worker: keeps the page and its files so a door device that
// reloads the page while the server is unreachable still gets it (its key, bundle and queue
// are in localStorage). Network first, so a reachable server always serves the newest page;
// the API is never touched here.

const CACHE = 'encore-scanner-v3';
// With the camera's QR decoder for browsers that have none of their own (scan_input.js), and the
// TOTP check of rotating codes (totp.js).
const PAGE = ['/scan', '/assets/patron.css', '/assets/door.css', '/assets/door.js', '/assets/totp.js',
  '/assets/scan_input.js', '/assets/scan.js', '/assets/vendor/barcode-detector-3.2.2/ponyfill.js',
  '/assets/vendor/zxing-wasm-3.1.3/zxing_reader.wasm'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PAGE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !PAGE.includes(url.pathname)) {
    return;
  }
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(CACHE).then((cache) => cache.put(url.pathname, copy)));
    }
    return response;
  }).catch(() => caches.match(url.pathname).then((kept) => kept || Response.error())));
});
