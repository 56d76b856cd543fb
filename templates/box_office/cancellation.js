// The cancellation progress page, improved: it asks the console's own endpoint every half
// second and moves the bar without reloading the page; once the job is done it loads the page
// once more, in its final state. Without this script the page reloads itself every 2 seconds
// (its <noscript> refresh), so it works the same, only less smoothly.
(function () {
  'use strict';
  var bar = document.getElementById('progress');
  var status = document.getElementById('status');
  if (!bar || !status || status.dataset.status !== 'running' || !window.fetch) {
    return;
  }
  var url = status.dataset.poll;
  var shown = -1;
  function reloadSoon() {
    setTimeout(function () { window.location.reload(); }, 2000);
  }
  function poll() {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (job) {
        if (job.status === 'done') {
          window.location.reload();
          return;
        }
        if (job.total > 0) {
          bar.max = job.total;
          bar.value = Math.min(job.canceled, job.total);
          bar.textContent = Math.floor(100 * bar.value / bar.max) + ' %';
        }
        if (job.canceled !== shown) {
          // Only a change is announced (the status is a live region).
          shown = job.canceled;
          status.textContent = job.canceled + ' of ' + job.total + ' tickets canceled so far.';
        }
        setTimeout(poll, 500);
      })
      .catch(reloadSoon);
  }
  setTimeout(poll, 500);
}());
