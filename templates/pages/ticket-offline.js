'use strict';
// The ticket page kept on the phone (issue 18): registers the ticket pages' service worker
// (/assets/ticket-sw.js, scope /t/), which saves this page and its files so that it opens again
// with weak or no signal. The first time, this page was loaded before the worker ran, so the
// worker is asked to save it; then the page says it is saved (#offline-ready, whose room is
// kept while it is invisible, so that nothing moves under a finger about to tap). A saved copy
// shown offline says so itself (#saved-copy, unhidden by the worker).

(() => {
  if (!('serviceWorker' in navigator)) return;
  const ready = document.getElementById('offline-ready');
  const savedCopy = document.getElementById('saved-copy');
  const fromCache = savedCopy && !savedCopy.hidden;
  const controlled = Boolean(navigator.serviceWorker.controller);

  function showReady() {
    if (ready && !fromCache) ready.classList.remove('not-yet');
  }

  // Asks the cache a few times: the worker saves the page while it is being shown.
  function checkSaved(tries) {
    caches.match(location.pathname).then((copy) => {
      if (copy) showReady();
      else if (tries > 0) setTimeout(() => checkSaved(tries - 1), 300);
    }).catch(() => {});
  }

  navigator.serviceWorker.addEventListener('message', (event) => {
    if (event.data && event.data.saved) showReady();
  });
  navigator.serviceWorker.register('/assets/ticket-sw.js', { scope: '/t/' })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      if (!controlled && registration.active) {
        registration.active.postMessage({ save: location.pathname });
      } else {
        checkSaved(15);
      }
    })
    .catch(() => {});
})();
