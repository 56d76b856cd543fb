'use strict';
// Shared by the staff pages (/scan, /box-office/arrivals, /box-office/patron): the staff key
// this browser keeps, calls to the JSON API with it, and the performance picker. Plain script,
// no build step.

const Door = (() => {
  const TIMEOUT_MS = 4000;

  function load(slot, fallback) {
    try {
      const value = localStorage.getItem(slot);
      return value === null ? fallback : JSON.parse(value);
    } catch (_) {
      return fallback;
    }
  }

  function save(slot, value) {
    localStorage.setItem(slot, JSON.stringify(value));
  }

  // One API call with the staff key. Answers {status, ok, body} whatever the status; throws
  // (TypeError or AbortError) only when the server could not be reached in time.
  async function api(key, path, { method = 'GET', body } = {}) {
    const headers = { Authorization: 'Bearer ' + key };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (_) {
      // Not JSON (a proxy's error page): the status says enough.
    }
    return { status: response.status, ok: response.ok, body: answer };
  }

  // Whether an error thrown by `api` means the server could not be reached (or answer in time).
  function unreachable(error) {
    return error.name === 'TypeError' || error.name === 'TimeoutError' || error.name === 'AbortError';
  }

  // What went wrong with an answer, in words.
  function problem(answer) {
    return (answer.body && answer.body.message) || 'The server answered ' + answer.status + '.';
  }

  function minuteLabel(iso) {
    return new Date(iso).toLocaleString([], {
      weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
    });
  }

  function timeLabel(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function clockLabel(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // Every performance of every event, soonest first, each with its event.
  async function performances(key) {
    const events = await api(key, '/api/v1/events');
    if (!events.ok) throw new Error(problem(events));
    const lists = await Promise.all(events.body.map(async (event) => {
      const answer = await api(key, '/api/v1/events/' + event.id + '/performances');
      return answer.ok ? answer.body.map((p) => Object.assign({ event }, p)) : [];
    }));
    return lists.flat().sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  }

  // Wires the page's key form (#key-form, #key) to localStorage under `slot`: calls
  // `onKey(key)` with the key this browser kept (at once, '' if none) and with each key pasted.
  function keyForm(slot, onKey) {
    const keyInput = document.getElementById('key');
    document.getElementById('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const key = keyInput.value.trim();
      keyInput.value = '';
      save(slot, key);
      onKey(key);
    });
    onKey(load(slot, ''));
  }

  // Wires the page's key form (#key-form, #key, #key-status) and performance picker
  // (#performance) to localStorage under `slots.key` and `slots.performance`, and calls
  // `onChoose(key, performance)` whenever both are known or either changes. Until then the
  // set-up (#setup) comes first on the page: a fresh device, or one whose key is refused, has
  // nothing else to do. A refused key is said in red. Answers `{ forget, choices }`: forget()
  // drops the kept key and the performances it listed, and asks for a key; choices() lists
  // the performances the key sees (each with its event).
  function setUp(slots, onChoose) {
    const keyStatus = document.getElementById('key-status');
    const picker = document.getElementById('performance');
    let key = '';
    let choices = load(slots.performance + '.choices', []);

    function say(text, refused) {
      keyStatus.textContent = text;
      keyStatus.classList.toggle('key-refused', Boolean(refused));
      keyStatus.setAttribute('role', refused ? 'alert' : 'status');
    }

    // The set-up first while the page cannot work, last (out of the way) once it can.
    function setUpFirst(first) {
      const section = document.getElementById('setup');
      if (!section) return;
      const main = section.parentElement;
      if (first && main.firstElementChild !== section) main.prepend(section);
      if (!first && main.lastElementChild !== section) main.append(section);
    }

    function choose() {
      const chosen = choices.find((p) => String(p.id) === picker.value);
      if (chosen) {
        save(slots.performance, chosen.id);
        setUpFirst(false);
        onChoose(key, chosen);
      }
    }

    async function refresh() {
      if (!key) {
        setUpFirst(true);
        say('Paste a key to start. It stays in this browser.');
        return;
      }
      say('Loading performances…');
      let note;
      try {
        choices = await performances(key);
        save(slots.performance + '.choices', choices);
        note = choices.length
          ? 'Key accepted. The key stays in this browser.'
          : 'Key accepted, but there is no performance yet.';
      } catch (e) {
        if (!unreachable(e)) {
          setUpFirst(true);
          say('This key does not work: ' + e.message + ' Paste another key.', true);
          document.getElementById('key').focus();
          return;
        }
        // Offline (a door device reloaded the page): the list this browser loaded last.
        choices = load(slots.performance + '.choices', []);
        note = 'The server cannot be reached; the key is kept'
          + (choices.length ? ' and the performances loaded earlier are listed.' : '.');
      }
      const remembered = String(load(slots.performance, ''));
      picker.replaceChildren(...choices.map((p) => {
        const option = document.createElement('option');
        option.value = String(p.id);
        option.textContent = performanceLabel(p);
        option.selected = option.value === remembered;
        return option;
      }));
      say(note);
      choose();
    }

    function forget() {
      localStorage.removeItem(slots.key);
      localStorage.removeItem(slots.performance + '.choices');
      key = '';
      choices = [];
      picker.replaceChildren();
      refresh();
      document.getElementById('key').focus();
    }

    picker.addEventListener('change', choose);
    keyForm(slots.key, (pasted) => {
      key = pasted;
      refresh();
    });
    return { forget, choices: () => choices };
  }

  // A performance in words: its event's name and when it starts.
  function performanceLabel(performance) {
    return performance.event.name + ' · ' + minuteLabel(performance.starts_at);
  }

  // A count in words with its thousands grouped: 1,204.
  function count(n) {
    return Number(n).toLocaleString('en-US');
  }

  return {
    api, load, save, problem, keyForm, setUp, timeLabel, minuteLabel, clockLabel, performanceLabel,
    count,
  };
})();
