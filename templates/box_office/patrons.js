'use strict';
// Find a patron as the clerk types: the form works without this; with it, each pause in typing
// asks /box-office/patrons/results for the results (an HTML fragment rendered by the server),
// puts them in place, and the live region says how many were found.
(() => {
  const input = document.getElementById('q');
  const results = document.getElementById('results');
  if (!input || !results || !window.fetch) return;
  const WAIT_MS = 200;
  let timer = 0;
  let round = 0; // each request supersedes the ones before it
  let last = input.value;

  async function search() {
    const q = input.value;
    if (q === last) return;
    last = q;
    const mine = ++round;
    let response;
    try {
      response = await fetch('/box-office/patrons/results?q=' + encodeURIComponent(q), {
        credentials: 'same-origin',
        headers: { Accept: 'text/html' },
      });
    } catch (e) {
      return; // offline for a moment: the Search button still works
    }
    if (mine !== round || !response.ok) return;
    const html = await response.text();
    if (mine !== round) return;
    const fresh = new DOMParser().parseFromString(html, 'text/html');
    const list = fresh.getElementById('result-list');
    const count = fresh.getElementById('result-count');
    if (!list || !count) return;
    document.getElementById('result-list').replaceWith(document.importNode(list, true));
    // The live region stays in place; only its words change, so they are announced.
    document.getElementById('result-count').textContent = count.textContent;
    history.replaceState(null, '', '/box-office/patrons' + (q ? '?q=' + encodeURIComponent(q) : ''));
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, WAIT_MS);
  });
})();
