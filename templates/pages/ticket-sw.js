'use strict';
// The ticket pages' service worker (scope /t/, issue 18): keeps the ticket page the patron
// opened, and the files it needs, so that a reload with weak or no signal at the venue still
// shows the code and the details, saying when they were saved ("Saved on this phone at 19:02").
//
// Privacy: it keeps only ticket pages (/t/<link>, nothing under them: no calendar, no wallet
// pass, no form answer), only those this browser opened, only answers that are the page
// (200, HTML), and forgets a page whose link stops working (404, 410). Network first: a
// reachable server always serves the page as it is now, and that copy replaces the saved one.

const CACHE = 'encore-ticket-v1';
const ASSETS = ['/assets/patron.css', '/assets/ticket-offline.js', '/assets/totp.js',
  '/assets/qrcode.js', '/assets/ticket.js'];
const TICKET_PAGE = /^\/t\/[^/]+$/;
// A network that has not answered in this long is a weak signal: the saved copy is shown.
const SLOW_MS = 6000;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names
      .filter((name) => name.startsWith('encore-ticket-') && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

function isTicketPage(url) {
  return url.origin === self.location.origin && TICKET_PAGE.test(url.pathname);
}

// Keeps a ticket page's answer as its saved copy, or forgets the copy of a link that no longer
// leads to the ticket. Whether a copy is kept now.
async function keep(path, response) {
  const cache = await caches.open(CACHE);
  const html = (response.headers.get('content-type') || '').startsWith('text/html');
  if (response.status === 200 && html) {
    await cache.put(path, response);
    return true;
  }
  if (response.status === 404 || response.status === 410) {
    await cache.delete(path);
  }
  return false;
}

// The saved copy, marked as one: its "Saved on this phone at …" notice shows.
async function saved(path) {
  const kept = await caches.match(path, { cacheName: CACHE });
  if (!kept) return null;
  const html = (await kept.text()).replace('hidden data-saved-copy', 'data-saved-copy');
  const headers = new Headers(kept.headers);
  headers.delete('content-length');
  return new Response(html, { status: 200, headers });
}

function ticketPage(event, path) {
  let saving = Promise.resolve();
  const network = fetch(event.request).then((response) => {
    saving = keep(path, response.clone());
    return response;
  });
  event.waitUntil(network.then(() => saving, () => undefined));
  const offline = network.catch(() => saved(path).then((copy) => copy || Response.error()));
  const slow = new Promise((resolve) => { setTimeout(resolve, SLOW_MS); })
    .then(() => saved(path))
    .then((copy) => copy || offline);
  return Promise.race([offline, slow]);
}

function asset(event, path) {
  return fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(CACHE).then((cache) => cache.put(path, copy)));
    }
    return response;
  }).catch(() => caches.match(path, { cacheName: CACHE }).then((kept) => kept || Response.error()));
}

self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET') return;
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin) return;
  if (event.request.mode === 'navigate' && isTicketPage(url)) {
    event.respondWith(ticketPage(event, url.pathname));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(asset(event, url.pathname));
  }
});

// A page opened before this worker ran (the first time) asks to be saved: it is fetched once
// more, without the query (a one-time notice), and kept. The page hears whether it was.
self.addEventListener('message', (event) => {
  const path = event.data && event.data.save;
  if (typeof path !== 'string' || !isTicketPage(new URL(path, self.location.origin))) return;
  event.waitUntil(fetch(path, { cache: 'no-store', credentials: 'same-origin' })
    .then((response) => keep(path, response))
    .catch(() => false)
    .then((kept) => { if (event.source) event.source.postMessage({ saved: kept }); }));
});
