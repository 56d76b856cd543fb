// The arrivals page, improved: every 10 seconds while the page is visible it reads the page
// again and swaps in the new figures, so the door's progress shows without a reload. Without
// this script the page is complete as loaded (reload it for new figures).
(function () {
  'use strict';
  var live = document.getElementById('arrivals-live');
  var note = document.getElementById('refreshed');
  if (!live || !window.fetch || !window.DOMParser) {
    return;
  }
  function refresh() {
    if (document.hidden) { return; }
    fetch(window.location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('arrivals-live');
        if (fresh) {
          live.innerHTML = fresh.innerHTML;
          note.textContent = 'Figures as of ' + new Date().toLocaleTimeString() + '; they refresh every 10 seconds.';
        }
      })
      .catch(function () {
        note.textContent = 'The figures could not be refreshed; they are as of the last successful refresh.';
      });
  }
  setInterval(refresh, 10000);
}());
