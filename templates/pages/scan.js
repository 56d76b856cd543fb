'use strict';
// The scanner: asks POST /api/v1/scans, and when the server cannot be reached decides from the
// performance's offline bundle (Ed25519 signature checked with WebCrypto, for compact codes
// and the JWTs issued before them), keeps every offline
// scan, admitted or refused (with the reason it gave), in a queue in localStorage and uploads
// it to POST /api/v1/scans/batch when the network is back. The bundle (GET
// /api/v1/performances/{id}/offline-bundle, refreshed with ?since=version) holds the public
// keys, the tickets to refuse despite a valid signature, and who holds each ticket that still
// admits (to name them offline). Each answer is shown with its time, beeped and vibrated
// (admitted and refused differently; the beeps can be muted), and cleared after a few seconds
// so that the next person never reads the last one's answer.

(() => {
  const SLOTS = { key: 'encore.scanner.key', performance: 'encore.scanner.performance' };
  const GATE_SLOT = 'encore.scanner.gate';
  const DEVICE_SLOT = 'encore.scanner.device';
  const QUEUE_SLOT = 'encore.scanner.queue';
  const MUTE_SLOT = 'encore.scanner.muted';
  const CLEAR_SLOT = 'encore.scanner.clear_after_seconds';
  const countSlot = (performanceId) => 'encore.scanner.count.' + performanceId;
  const CLEAR_AFTER_SECONDS = 4;
  // What each answer feels and sounds like: one short buzz and a rising pair of high beeps
  // for admitted; two long buzzes and two low tones for refused.
  const FEEDBACK = {
    admitted: { vibrate: [120], tones: [[880, 0.09], [1320, 0.12]] },
    refused: { vibrate: [300, 120, 300], tones: [[220, 0.3], [165, 0.4]] },
  };
  const bundleSlot = (performanceId) => 'encore.scanner.bundle.' + performanceId;
  const admittedSlot = (performanceId) => 'encore.scanner.admitted.' + performanceId;
  const LEEWAY_SECONDS = 30; // as the server's scan_clock_leeway_seconds
  const UPLOAD_EVERY_MS = 3000;
  const BUNDLE_EVERY_MS = 10000; // an unchanged refresh is an empty answer
  const MAX_BATCH = 1000;

  // Each outcome code of the scan API, in the words the door reads.
  const WORDS = {
    admitted: 'Admitted',
    already_admitted: 'Already admitted',
    invalid_signature: 'Not a genuine ticket',
    unknown_key: 'Unknown signing key',
    malformed: 'Not a ticket code',
    expired: 'Expired',
    not_yet_valid: 'Not valid yet',
    wrong_performance: 'Another performance',
    superseded: 'Replaced by a newer code',
    canceled: 'Canceled',
    exchanged: 'Exchanged',
    transferred: 'Transferred',
    unknown_ticket: 'Unknown ticket',
    conflict: 'Admitted at two gates (conflict)',
    refused_offline: 'Refused offline',
    clock_out_of_bounds: "Not counted: the scanner's clock is wrong",
    stale_code: 'Old code (screenshot?)',
    static_code_not_accepted: 'Show the live code',
    no_bundle: 'Cannot check offline',
    cannot_verify: 'Cannot check offline',
  };
  const OFFLINE_DETAIL = {
    invalid_signature: 'The signature does not verify.',
    unknown_key: 'The offline list has no key for this code; try again when online.',
    malformed: 'This is not a ticket code.',
    expired: 'This ticket is no longer valid.',
    not_yet_valid: 'This ticket is not valid yet.',
    wrong_performance: 'This ticket is for another performance.',
    superseded: 'This code was replaced by a newer one for the same ticket.',
    canceled: 'This ticket was canceled.',
    exchanged: 'This ticket was exchanged.',
    transferred: 'This ticket was transferred to someone else.',
    no_bundle: 'The server is unreachable and the offline list is not loaded yet.',
    stale_code: 'This rotating code is out of date: ask for the live code on the ticket page.',
    static_code_not_accepted: 'This event admits with the live code on the ticket page, not a printed or emailed one.',
  };

  const $ = (id) => document.getElementById(id);
  let key = '';
  let performance = null;
  let reachable = null;
  let uploading = false;
  let lastUpload = '';
  let importedKeys = new Map(); // kid → CryptoKey, for the current bundle
  let scans = Promise.resolve(); // the scan under way, see check()
  let clearTimer = null;
  let audio = null; // made at the first beep, after the steward has touched the page

  const device = Door.load(DEVICE_SLOT, null) || (() => {
    const name = 'web-' + crypto.randomUUID().slice(0, 8);
    Door.save(DEVICE_SLOT, name);
    return name;
  })();
  const gateInput = $('gate');
  gateInput.value = Door.load(GATE_SLOT, 'main');
  gateInput.addEventListener('change', () => {
    Door.save(GATE_SLOT, gate());
    showHeader();
  });
  const gate = () => gateInput.value.trim() || 'main';

  const clearInput = $('clear-after');
  clearInput.value = String(Door.load(CLEAR_SLOT, CLEAR_AFTER_SECONDS));
  clearInput.addEventListener('change', () => Door.save(CLEAR_SLOT, clearAfterSeconds()));
  function clearAfterSeconds() {
    const seconds = Math.round(Number(clearInput.value));
    return Number.isFinite(seconds) && seconds >= 1 ? Math.min(seconds, 60) : CLEAR_AFTER_SECONDS;
  }

  const muteButton = $('mute');
  let muted = Door.load(MUTE_SLOT, false) === true;
  function showMute() {
    muteButton.setAttribute('aria-pressed', String(muted));
  }
  muteButton.addEventListener('click', () => {
    muted = !muted;
    Door.save(MUTE_SLOT, muted);
    showMute();
  });
  showMute();

  // ---- What the door sees ----

  // A message that stays until the next one (not ready, no camera, …).
  function show(admitted, title, holder, detail, mode) {
    clearTimeout(clearTimer);
    $('result').className = 'result ' + (admitted ? 'admitted' : 'refused');
    $('result-title').textContent = title;
    $('result-holder').textContent = holder || '';
    $('result-detail').textContent = detail || '';
    $('result-mode').textContent = mode || '';
    $('result-time').textContent = '';
  }

  // The answer to a scan: shown with its time, felt and heard, and cleared after the delay
  // set up on this device.
  function showAnswer(admitted, title, holder, detail, mode, at) {
    show(admitted, title, holder, detail, mode);
    $('result-time').textContent = 'at ' + Door.timeLabel(at || new Date().toISOString());
    if (admitted) countAdmission();
    feedback(FEEDBACK[admitted ? 'admitted' : 'refused']);
    clearTimer = setTimeout(ready, clearAfterSeconds() * 1000);
  }

  function ready() {
    $('result').className = 'result idle';
    $('result-title').textContent = 'Ready';
    $('result-holder').textContent = '';
    $('result-detail').textContent = 'Scan or type a ticket code.';
    $('result-mode').textContent = '';
    $('result-time').textContent = '';
  }

  // Never in the way of the answer: a phone without vibration or sound just shows it.
  function feedback({ vibrate, tones }) {
    try {
      if (navigator.vibrate) navigator.vibrate(vibrate);
    } catch (_) { /* no vibration here */ }
    if (muted) return;
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      audio = audio || new Context();
      if (audio.state === 'suspended') audio.resume();
      let at = audio.currentTime;
      for (const [frequency, seconds] of tones) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.type = 'square';
        oscillator.frequency.value = frequency;
        gain.gain.value = 0.15;
        oscillator.connect(gain);
        gain.connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + seconds);
        at += seconds + 0.04;
      }
    } catch (_) { /* no sound here */ }
  }

  function seatText(section, seat) {
    const place = [section, seat].filter(Boolean).join(', seat ');
    return place ? (section ? 'Section ' : 'Seat ') + place : 'No numbered seat';
  }

  function firstAdmissionText(first) {
    return first ? 'First admitted at ' + Door.timeLabel(first.at) + ', gate ' + first.gate + '.' : '';
  }

  // The performance a ticket is for, in words, from the performances this key lists.
  function performanceText(performanceId) {
    const other = setup.choices().find((p) => p.id === performanceId);
    return other ? 'This ticket is for ' + Door.performanceLabel(other) + '.'
      : 'This ticket is for another performance (#' + performanceId + ').';
  }

  // This device's admissions for the performance, kept on the device.
  function countAdmission() {
    if (!performance) return;
    Door.save(countSlot(performance.id), Door.load(countSlot(performance.id), 0) + 1);
    showHeader();
  }

  function showHeader() {
    $('scanning-for').textContent = performance
      ? 'Scanning for ' + Door.performanceLabel(performance)
      : 'Door scanner: no performance chosen';
    $('header-gate').textContent = 'Gate ' + gate();
    $('device-count').textContent = performance
      ? Door.count(Door.load(countSlot(performance.id), 0)) : '0';
  }

  function showStatus() {
    $('network').textContent = reachable === null ? 'not connected yet'
      : reachable ? 'online' : 'offline: deciding from the offline list';
    const bundle = performance && currentBundle();
    const tickets = bundle ? Object.keys(bundle.holders || {}).length : 0;
    $('bundle').textContent = bundle
      ? Door.count(tickets) + (tickets === 1 ? ' ticket' : ' tickets') + ', updated '
        + Door.clockLabel(bundle.loaded_at)
      : 'not loaded';
    // The version only for whoever inspects the page: the words above are the door's.
    $('bundle').dataset.version = bundle ? String(bundle.version) : '';
    $('queue').textContent = String(queue().length);
    $('upload-status').textContent = lastUpload;
  }

  // ---- Local state: the queue, this device's admissions, the bundle ----

  const queue = () => Door.load(QUEUE_SLOT, []);
  const admittedHere = () => Door.load(admittedSlot(performance.id), {});
  const currentBundle = () => Door.load(bundleSlot(performance.id), null);

  function rememberAdmission(performanceId, ticketId, first) {
    if (ticketId === null || ticketId === undefined || !first) return;
    const all = Door.load(admittedSlot(performanceId), {});
    if (!all[ticketId]) {
      all[ticketId] = first;
      Door.save(admittedSlot(performanceId), all);
    }
  }

  // Scans run one at a time, in the order they were made; one that fails unexpectedly says so
  // and never blocks the next.
  function check(token) {
    scans = scans.then(() => scan(token)).catch((e) => {
      show(false, 'Not checked', '', 'Something went wrong in this page: ' + e.message + '. Try again.');
    });
  }

  // ---- Online: the server decides ----

  async function scan(token) {
    const chosen = performance;
    if (!key || !chosen) {
      show(false, 'Not ready', '', 'Paste the scanner key and pick the performance first.');
      return;
    }
    const request = { token, gate: gate(), device, performance_id: chosen.id };
    let answer;
    try {
      answer = await Door.api(key, '/api/v1/scans', { method: 'POST', body: request });
    } catch (_) {
      answer = null; // unreachable or timed out
    }
    // 5xx: the server could not record the scan; the door must not stall, so decide offline.
    if (answer === null || answer.status >= 500 || !answer.body) {
      setReachable(false);
      await scanOffline(token, chosen, request.gate);
      return;
    }
    setReachable(true);
    const body = answer.body;
    if (!body.outcome) {
      show(false, 'Not checked', '', Door.problem(answer));
      return;
    }
    const title = WORDS[body.outcome] || body.outcome;
    if (body.admitted) {
      rememberAdmission(chosen.id, body.ticket_id, { at: body.scanned_at, gate: request.gate });
      showAnswer(true, title, body.holder_name, seatText(body.section, body.seat), '', body.scanned_at);
    } else if (body.outcome === 'already_admitted') {
      rememberAdmission(chosen.id, body.ticket_id, body.first_admission);
      showAnswer(false, title, body.holder_name, seatText(body.section, body.seat) + '. '
        + (firstAdmissionText(body.first_admission) || body.message), '', body.scanned_at);
    } else if (body.outcome === 'wrong_performance' && body.performance_id) {
      showAnswer(false, title, '', performanceText(body.performance_id), '', body.scanned_at);
    } else {
      showAnswer(false, title, '', body.message, '', body.scanned_at);
    }
    upload(); // the network works: send anything waiting
  }

  function setReachable(now) {
    const cameBack = now && reachable === false;
    reachable = now;
    showStatus();
    if (cameBack) upload();
  }

  // ---- Offline: the bundle decides ----

  function base64url(text) {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function parseToken(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      const decode = (part) => JSON.parse(new TextDecoder().decode(base64url(part)));
      const header = decode(parts[0]);
      const claims = decode(parts[1]);
      const integers = ['tid', 'pid', 'gen', 'nbf', 'exp'].every((c) => Number.isInteger(claims[c]));
      if (!integers) return null;
      return {
        header,
        claims,
        signed: new TextEncoder().encode(parts[0] + '.' + parts[1]),
        signature: base64url(parts[2]),
      };
    } catch (_) {
      return null;
    }
  }

  // A compact code (issue 18, docs/api.md): `E`, then Base45 (RFC 9285) of the key hint (2
  // bytes), the ticket, the performance, generation × 2 + paper (varints), nbf (4 bytes,
  // big-endian), exp − nbf (varint), and the Ed25519 signature (64 bytes) over `E` and every
  // byte before it. `null`: not a compact code; `{ broken: true }`: a code's shape that
  // Base45 cannot read (a changed character), which the server calls invalid_signature.
  const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  const COMPACT_MIN_BYTES = 74;
  const COMPACT_MAX_BYTES = 100;

  function parseCompact(token) {
    if (token[0] !== 'E') return null;
    const text = token.slice(1);
    const digits = Array.from(text, (c) => BASE45.indexOf(c));
    const shaped = text.length >= COMPACT_MIN_BYTES / 2 * 3
      && text.length <= COMPACT_MAX_BYTES / 2 * 3 + 2
      && text.length % 3 !== 1 && digits.every((d) => d >= 0);
    if (!shaped) return null;
    const bytes = [];
    for (let i = 0; i < digits.length; i += 3) {
      if (i + 2 < digits.length) {
        const value = digits[i] + digits[i + 1] * 45 + digits[i + 2] * 45 * 45;
        if (value > 0xffff) return { broken: true };
        bytes.push(value >> 8, value & 0xff);
      } else {
        const value = digits[i] + digits[i + 1] * 45;
        if (value > 0xff) return { broken: true };
        bytes.push(value);
      }
    }
    if (bytes.length < COMPACT_MIN_BYTES || bytes.length > COMPACT_MAX_BYTES) return null;
    const signed = Uint8Array.from([0x45, ...bytes.slice(0, bytes.length - 64)]);
    return {
      compact: true,
      hint: signed[1] * 256 + signed[2],
      signed,
      signature: Uint8Array.from(bytes.slice(bytes.length - 64)),
    };
  }

  // The claims of a compact code whose signature verified (`null` if its fields do not read).
  function compactClaims(signed) {
    let at = 3;
    const varint = () => {
      let value = 0;
      for (let scale = 1; at < signed.length; scale *= 128) {
        const byte = signed[at++];
        value += (byte & 0x7f) * scale;
        if (byte < 0x80) return value;
      }
      throw new Error('a cut varint');
    };
    try {
      const tid = varint();
      const pid = varint();
      const genPaper = varint();
      if (at + 4 > signed.length) return null;
      const nbf = ((signed[at] * 256 + signed[at + 1]) * 256 + signed[at + 2]) * 256 + signed[at + 3];
      at += 4;
      const exp = nbf + varint();
      if (at !== signed.length) return null;
      return { tid, pid, gen: Math.floor(genPaper / 2), nbf, exp, paper: genPaper % 2 === 1 };
    } catch (_) {
      return null;
    }
  }

  // The bundle's keys whose hint (the first two bytes of SHA-256 of the public key) is `hint`.
  async function keysWithHint(bundle, hint) {
    const found = [];
    for (const jwk of bundle.keys) {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', base64url(jwk.x)));
      if (digest[0] * 256 + digest[1] === hint) found.push(jwk.kid);
    }
    return found;
  }

  // A compact code checked with the bundle's keys: `{ claims }`, or `{ outcome }` refusing it.
  async function verifyCompact(parsed, bundle) {
    if (parsed.broken) return { outcome: 'invalid_signature' };
    const kids = await keysWithHint(bundle, parsed.hint);
    if (!kids.length) return { outcome: 'unknown_key' };
    for (const kid of kids) {
      const verifier = await publicKey(bundle, kid);
      if (await crypto.subtle.verify({ name: 'Ed25519' }, verifier, parsed.signature, parsed.signed)) {
        const claims = compactClaims(parsed.signed);
        return claims ? { claims } : { outcome: 'malformed' };
      }
    }
    return { outcome: 'invalid_signature' };
  }

  async function publicKey(bundle, kid) {
    if (!importedKeys.has(kid)) {
      const jwk = bundle.keys.find((k) => k.kid === kid);
      if (!jwk) return null;
      const imported = await crypto.subtle.importKey(
        'jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
      importedKeys.set(kid, imported);
    }
    return importedKeys.get(kid);
  }

  // The contract's offline rule: the signature verifies with a key of the bundle, now is
  // inside the token's window, it is for this performance, the bundle does not refuse its
  // ticket, and this device has not admitted it. Answers {outcome, ticket_id, first}.
  async function decideOffline(token, chosen, bundle) {
    const rotating = EncoreTotp.parse(token);
    if (rotating) return decideRotating(rotating, chosen, bundle);
    // A compact code, or the JWT of codes issued before it.
    const parsed = parseCompact(token) || parseToken(token);
    if (!parsed) return { outcome: 'malformed' };
    if (!bundle) return { outcome: 'no_bundle' };
    let claims;
    if (parsed.compact || parsed.broken) {
      const verified = await verifyCompact(parsed, bundle);
      if (verified.outcome) return verified;
      claims = verified.claims;
    } else {
      if (parsed.header.alg !== 'EdDSA') return { outcome: 'invalid_signature' };
      const verifier = await publicKey(bundle, parsed.header.kid);
      if (!verifier) return { outcome: 'unknown_key' };
      const genuine = await crypto.subtle.verify(
        { name: 'Ed25519' }, verifier, parsed.signature, parsed.signed);
      if (!genuine) return { outcome: 'invalid_signature' };
      claims = parsed.claims;
    }
    const now = Date.now() / 1000;
    if (now + LEEWAY_SECONDS < claims.nbf) return { outcome: 'not_yet_valid' };
    if (now - LEEWAY_SECONDS >= claims.exp) return { outcome: 'expired' };
    if (claims.pid !== chosen.id) return { outcome: 'wrong_performance', performance_id: claims.pid };
    // A rotating performance admits only its live codes, and the paper codes the box office
    // printed on purpose.
    if (bundle.rotating && claims.paper !== true) {
      return { outcome: 'static_code_not_accepted', ticket_id: claims.tid };
    }
    const ticketId = claims.tid;
    const entry = bundle.refused[ticketId];
    if (entry && entry.status !== 'valid') return { outcome: entry.status, ticket_id: ticketId };
    if (entry && entry.generation !== claims.gen) return { outcome: 'superseded', ticket_id: ticketId };
    const first = admittedHere()[ticketId];
    if (first) return { outcome: 'already_admitted', ticket_id: ticketId, first };
    return { outcome: 'admitted', ticket_id: ticketId };
  }

  // A rotating code offline (the bundle's `rotating`, see docs/api.md): the ticket's entry at
  // the code's generation, and the TOTP value of now, give or take the leeway.
  function decideRotating(code, chosen, bundle) {
    if (!bundle) return { outcome: 'no_bundle' };
    if (code.performance_id !== chosen.id) return { outcome: 'wrong_performance' };
    const rules = bundle.rotating;
    if (!rules) return { outcome: 'cannot_verify' };
    const ticketId = code.ticket_id;
    const now = Date.now() / 1000;
    if (rules.reveal_at && now + LEEWAY_SECONDS < Date.parse(rules.reveal_at) / 1000) {
      return { outcome: 'not_yet_valid', ticket_id: ticketId };
    }
    const entry = bundle.refused[ticketId];
    const held = rules.tickets[ticketId];
    const current = held ? held.generation : entry && entry.generation;
    if (current !== undefined && code.generation < current) {
      return { outcome: 'superseded', ticket_id: ticketId };
    }
    if (entry && entry.status !== 'valid') return { outcome: entry.status, ticket_id: ticketId };
    if (!held || held.generation !== code.generation) return { outcome: 'unknown_ticket' };
    const live = code.period === rules.period_seconds && EncoreTotp.accepts(
      held.key, code.totp, now, code.period, rules.digits, rules.leeway_steps);
    if (!live) return { outcome: 'stale_code', ticket_id: ticketId };
    const first = admittedHere()[ticketId];
    if (first) return { outcome: 'already_admitted', ticket_id: ticketId, first };
    return { outcome: 'admitted', ticket_id: ticketId };
  }

  // Queues an offline scan for the upload: an admission, or (with `refused`, the reason this
  // page gave) a refusal, which the server records without ever admitting, with that reason:
  // the patron journey page says each reason in words (journey.js, DEVICE_REFUSALS).
  function enqueue(token, gateName, at, refused) {
    const waiting = queue();
    waiting.push(refused ? { token, gate: gateName, scanned_at: at, refused }
      : { token, gate: gateName, scanned_at: at });
    Door.save(QUEUE_SLOT, waiting);
  }

  async function scanOffline(token, chosen, gateName) {
    const at = new Date().toISOString();
    let decision;
    try {
      decision = await decideOffline(token, chosen, currentBundle());
    } catch (e) {
      enqueue(token, gateName, at, 'cannot_verify');
      showAnswer(false, WORDS.cannot_verify, '', 'This browser cannot verify codes (' + e.message + ').', 'offline', at);
      showStatus();
      return;
    }
    // Whom the bundle names for the ticket (a ticket that still admits), else its number.
    const holder = decision.ticket_id === undefined ? null
      : ((currentBundle() || {}).holders || {})[decision.ticket_id];
    const ticket = holder ? holder.name
      : decision.ticket_id === undefined ? '' : 'Ticket #' + decision.ticket_id;
    const seat = holder ? seatText(holder.section, holder.seat) + '. ' : '';
    if (decision.outcome === 'admitted') {
      enqueue(token, gateName, at);
      rememberAdmission(chosen.id, decision.ticket_id, { at, gate: gateName });
      showAnswer(true, WORDS.admitted, ticket, seat + 'Checked offline; uploaded when the network is back.', 'offline', at);
    } else {
      enqueue(token, gateName, at, decision.outcome);
      const detail = decision.outcome === 'already_admitted' ? seat + firstAdmissionText(decision.first)
        : decision.outcome === 'wrong_performance' ? performanceText(decision.performance_id)
          : OFFLINE_DETAIL[decision.outcome];
      showAnswer(false, WORDS[decision.outcome] || decision.outcome, ticket, detail, 'offline', at);
    }
    showStatus();
  }

  // ---- The bundle and the queue, kept fresh in the background ----

  async function refreshBundle() {
    const chosen = performance;
    if (!key || !chosen) return;
    const held = currentBundle();
    // A bundle whose holders are fewer or more than the tickets that admit is asked for whole
    // again: tickets were issued (or ended) since it was loaded.
    const whole = !held || !held.holders || Object.keys(held.holders).length !== held.tickets;
    const since = whole ? '' : '?since=' + held.version;
    let answer;
    try {
      answer = await Door.api(key, '/api/v1/performances/' + chosen.id + '/offline-bundle' + since);
    } catch (_) {
      setReachable(false);
      return;
    }
    setReachable(true);
    if (!answer.ok || !answer.body) {
      $('bundle').textContent = 'could not load: ' + Door.problem(answer);
      return;
    }
    const body = answer.body;
    const fresh = body.complete || !held ? { refused: {}, holders: {} } : held;
    const keys = (body.keys && body.keys.keys) || [];
    if (keys.length || !fresh.keys) {
      fresh.keys = keys;
      importedKeys = new Map();
    }
    // Later entries for the same ticket replace earlier ones.
    for (const entry of body.refused || []) {
      fresh.refused[entry.ticket_id] = { generation: entry.generation, status: entry.status };
    }
    for (const holder of body.holders || []) {
      fresh.holders[holder.ticket_id] = {
        name: holder.holder_name, seat: holder.seat, section: holder.section,
      };
    }
    fresh.tickets = body.tickets;
    // The rotating codes' keys come whole with every bundle (this performance's only).
    fresh.rotating = body.rotating ? {
      period_seconds: body.rotating.period_seconds,
      digits: body.rotating.digits,
      leeway_steps: body.rotating.leeway_steps,
      reveal_at: body.rotating.reveal_at,
      tickets: Object.fromEntries(body.rotating.tickets.map(
        (t) => [t.ticket_id, { generation: t.generation, key: t.key }])),
    } : null;
    fresh.version = body.version;
    fresh.loaded_at = new Date().toISOString();
    if (performance && performance.id === chosen.id) Door.save(bundleSlot(chosen.id), fresh);
    showStatus();
    // Tickets were issued or ended since the holders were loaded: the whole list, now.
    if (!body.complete && Object.keys(fresh.holders || {}).length !== fresh.tickets) refreshBundle();
  }

  // What the server made of an uploaded queue (`sent`, in the order of the answer's results),
  // for the door to read: how many offline admissions it confirmed, each one it did not (a
  // conflict: admitted at two gates), and how many refusals it recorded — of which how many
  // it would have admitted (the page had no bundle or a stale one).
  function uploadReport(sent, body) {
    const results = body.results || [];
    const unconfirmed = [];
    let refusals = 0;
    let wouldAdmit = 0;
    sent.forEach((scan, i) => {
      const result = results[i];
      if (!result) return;
      if (scan.refused) {
        refusals += 1;
        if (result.outcome === 'refused_offline') wouldAdmit += 1;
      } else if (result.outcome !== 'admitted') {
        unconfirmed.push((result.ticket_id === null ? 'a code' : 'ticket #' + result.ticket_id) + ': '
          + (WORDS[result.outcome] || result.outcome).toLowerCase());
      }
    });
    return 'Uploaded ' + sent.length + ' offline scans at ' + Door.timeLabel(new Date().toISOString())
      + ': ' + body.admitted + ' admitted' + (unconfirmed.length ? '; ' + unconfirmed.join('; ') : '')
      + (refusals ? '; ' + refusals + (refusals === 1 ? ' refusal' : ' refusals') + ' recorded' : '')
      + (wouldAdmit ? ' (' + wouldAdmit + ' valid when refused)' : '') + '.';
  }

  async function upload() {
    const waiting = queue();
    if (uploading || !key || waiting.length === 0) return;
    uploading = true;
    const sent = waiting.slice(0, MAX_BATCH);
    try {
      const answer = await Door.api(key, '/api/v1/scans/batch', {
        method: 'POST',
        body: { device, scans: sent },
      });
      if (answer.ok && answer.body) {
        // Scans made while the upload was under way were appended: keep them.
        Door.save(QUEUE_SLOT, queue().slice(sent.length));
        lastUpload = uploadReport(sent, answer.body);
        setReachable(true);
      } else if (answer.status >= 500) {
        setReachable(false);
      } else {
        // Kept: dropping a scan would lose who came in, or who was turned away. The box office
        // must look.
        setReachable(true);
        lastUpload = 'The upload was refused: ' + Door.problem(answer);
      }
    } catch (_) {
      setReachable(false);
    } finally {
      uploading = false;
      showStatus();
    }
  }

  // ---- Wiring ----

  const setup = Door.setUp(SLOTS, (chosenKey, chosen) => {
    key = chosenKey;
    performance = chosen;
    importedKeys = new Map();
    showHeader();
    showStatus();
    refreshBundle();
    upload();
  });

  // A device handed back or lost: nothing of the key, nor the offline lists it loaded, stays.
  // Scans not uploaded yet stay queued (they are the door's record) and go with the next key.
  $('forget-key').addEventListener('click', () => {
    setup.forget();
    Object.keys(localStorage)
      .filter((slot) => slot.startsWith(bundleSlot('')))
      .forEach((slot) => localStorage.removeItem(slot));
    key = '';
    performance = null;
    importedKeys = new Map();
    show(false, 'No key', '', 'This device\'s key is forgotten. Paste a key to scan again.');
    showHeader();
    showStatus();
  });

  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    $('token').value = '';
    $('token').focus();
    if (token) check(token);
  });

  setInterval(upload, UPLOAD_EVERY_MS);
  setInterval(refreshBundle, BUNDLE_EVERY_MS);
  window.addEventListener('online', () => { upload(); refreshBundle(); });
  window.addEventListener('offline', () => setReachable(false));

  // The camera and keyboard-wedge scanners (scan_input.js) check their codes as the field does.
  ScanInput.start({
    onCode: check,
    onCameraError: (detail) => show(false, 'No camera', '', detail),
  });

  // Keep the page itself for a reload while offline.
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/scan-sw.js', { scope: '/scan' })
      .then(() => navigator.serviceWorker.ready)
      .then(() => { $('page-kept').textContent = 'kept for offline use'; })
      .catch((e) => { $('page-kept').textContent = 'not kept (' + e.message + ')'; });
  }

  showHeader();
  showStatus();
})();
