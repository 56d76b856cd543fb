'use strict';
// The box office's patron journey: GET /api/v1/patrons/{email} (tickets, credit, one timeline)
// and GET /api/v1/tickets/{id}/history, told in words. The staff key is the arrivals
// dashboard's (door.js keeps it), so the box office pastes it once for both pages.

(() => {
  const KEY_SLOT = 'encore.boxoffice.key';
  const CREDIT_REASONS = {
    cancel_refund: 'refund of a cancellation',
    exchange: 'value of an exchanged ticket',
    exchange_purchase: 'spent on an exchange',
    box_office_purchase: 'spent at the box office',
  };

  const $ = (id) => document.getElementById(id);
  let key = '';
  let performances = new Map(); // performance id → a promise of its label, per key
  let round = 0; // each lookup supersedes the ones before it

  // "45.00 EUR", as the emails write it.
  function money(minor, currency) {
    const whole = Math.abs(minor);
    const cents = String(whole % 100).padStart(2, '0');
    return (minor < 0 ? '-' : '') + Math.floor(whole / 100) + '.' + cents + ' ' + currency;
  }

  const words = (code) => String(code || '').replace(/_/g, ' ');
  const VALID_THEN = ', though the ticket was valid then';
  // Scan outcomes whose code alone says too little.
  const SCAN_OUTCOMES = {
    refused_offline: 'refused offline by the scanner' + VALID_THEN,
    clock_out_of_bounds: "not counted: the scanner's clock put it before the ticket was issued, "
      + 'after the upload, or outside the scan window',
  };
  // Why a scanner turned a patron away offline (a scan's `device_refusal`): the codes the
  // scanner page uploads (scan.js, decideOffline), in words. A code not here (another scanner's
  // own) is shown as it came.
  const DEVICE_REFUSALS = {
    no_bundle: 'it had no offline list',
    cannot_verify: 'the browser could not check codes',
    malformed: 'not a ticket code',
    invalid_signature: 'not a genuine ticket',
    unknown_key: 'its offline list had no key for the code',
    not_yet_valid: 'the code was not valid yet',
    expired: 'the code had expired',
    wrong_performance: 'the code was for another performance',
    superseded: 'the code was replaced by a newer one',
    canceled: 'its offline list said canceled',
    exchanged: 'its offline list said exchanged',
    transferred: 'its offline list said transferred',
    already_admitted: 'it had admitted the ticket before',
    stale_code: 'the rotating code was out of date (a screenshot?)',
    static_code_not_accepted: 'the event admits live codes only, and this was a static one',
  };
  const person = (name, email) => name + ' (' + email + ')';

  function when(iso) {
    return new Date(iso).toLocaleString([], {
      day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  }

  // What became of a scan: the server's outcome, and for a scan the device refused offline, the
  // device's reason beside it.
  function scanOutcome({ outcome, device_refusal: refused }) {
    if (!refused) return SCAN_OUTCOMES[outcome] || words(outcome);
    const why = Object.hasOwn(DEVICE_REFUSALS, refused)
      ? DEVICE_REFUSALS[refused] : 'it said “' + refused + '”';
    return 'refused offline by the scanner (' + why + ')'
      + (outcome === 'refused_offline' ? VALID_THEN
        : "; the server's verdict: " + (SCAN_OUTCOMES[outcome] || words(outcome)));
  }

  // What one touch of the journey was, in plain words, and who made it when it was a change a
  // person asked for: "Canceled: … — by Ada Lovelace (box office)".
  function describe(touch) {
    const said = describeChange(touch);
    const by = touch.detail && touch.detail.by;
    return by ? said + ' — by ' + by : said;
  }

  function describeChange({ what, detail: d }) {
    switch (what) {
      case 'issued':
        return 'Issued to ' + person(d.holder_name, d.holder_email) + ', '
          + money(d.price_minor, d.currency)
          + (d.replaces_ticket_id ? ', in place of #' + d.replaces_ticket_id : '');
      case 'email_queued':
        return 'Email queued: ' + words(d.kind) + ' to ' + d.recipient;
      case 'email_sent':
        return 'Email sent: ' + words(d.kind);
      case 'email_failed':
        return 'Email failed: ' + words(d.kind) + ' after ' + d.attempts + ' attempts — ' + d.error;
      case 'email_skipped':
        return 'Email not sent: ' + words(d.kind) + ' — ' + d.reason;
      case 'email_retry_scheduled':
        return 'Email to be tried again: ' + words(d.kind) + ' — ' + d.error;
      case 'link_opened':
        return d.purpose === 'claim' ? 'Claim link opened' : 'Ticket page opened';
      case 'transfer_offered':
        return 'Offered to ' + person(d.to_name, d.to_email) + ' by ' + d.from_name;
      case 'transfer_claimed':
        return 'Claimed by ' + person(d.to_name, d.to_email)
          + (d.claimed_ticket_id ? ' as #' + d.claimed_ticket_id : '');
      case 'transfer_canceled':
        return 'Offer to ' + d.to_name + ' taken back';
      case 'transfer_expired':
        return 'Offer to ' + d.to_name + ' expired';
      case 'exchanged':
        if (!d || d.credited_minor === undefined) return 'Exchanged';
        return 'Exchanged: ' + money(d.credited_minor, d.currency) + ' credited'
          + (d.new_ticket_id ? ', ' + money(d.spent_minor, d.currency) + ' spent on #' + d.new_ticket_id : '');
      case 'credit':
        return 'Credit ' + (d.amount_minor > 0 ? '+' : '') + money(d.amount_minor, d.currency)
          + ': ' + (CREDIT_REASONS[d.reason] || words(d.reason));
      case 'canceled':
        return 'Canceled: ' + d.reason + ' — '
          + (d.refund_minor > 0 ? money(d.refund_minor, d.currency) + ' credited' : 'no refund');
      case 'scan':
        return 'Scanned at ' + d.gate + ': ' + scanOutcome(d)
          + (d.device ? ' (' + d.device + ')' : '')
          + (d.uploaded_at ? '; made offline, uploaded ' + when(d.uploaded_at) : '');
      default:
        return words(what);
    }
  }

  // The event and time of a performance, asked once per page and key.
  function performanceLabel(id) {
    if (!performances.has(id)) {
      performances.set(id, (async () => {
        const performance = await Door.api(key, '/api/v1/performances/' + id);
        if (!performance.ok) return 'Performance #' + id;
        const event = await Door.api(key, '/api/v1/events/' + performance.body.event_id);
        const name = event.ok ? event.body.name : 'Event #' + performance.body.event_id;
        return name + ' · ' + Door.minuteLabel(performance.body.starts_at)
          + (performance.body.canceled_at ? ' (canceled)' : '');
      })().catch(() => 'Performance #' + id));
    }
    return performances.get(id);
  }

  function cell(row, content) {
    const td = document.createElement('td');
    if (typeof content === 'string') td.textContent = content;
    else td.appendChild(content);
    row.appendChild(td);
    return td;
  }

  // A ticket number that opens that ticket's history.
  function ticketButton(id) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'link';
    button.dataset.ticket = String(id);
    button.textContent = '#' + id;
    button.addEventListener('click', () => {
      round += 1;
      showHistory(id, round);
    });
    return button;
  }

  function ticketStatus(ticket) {
    const status = ticket.admitted_at
      ? 'admitted at ' + ticket.admitted_gate + ', ' + when(ticket.admitted_at)
      : words(ticket.status);
    return status.charAt(0).toUpperCase() + status.slice(1);
  }

  function drawTimeline(list, timeline) {
    list.replaceChildren(...timeline.map((touch) => {
      const item = document.createElement('li');
      item.dataset.what = touch.what;
      const time = document.createElement('time');
      time.dateTime = touch.at;
      time.textContent = when(touch.at);
      const text = document.createElement('span');
      text.className = 'what';
      text.textContent = describe(touch);
      item.append(time, ticketButton(touch.ticket_id), text);
      return item;
    }));
    if (!timeline.length) {
      const item = document.createElement('li');
      item.textContent = 'Nothing yet.';
      list.appendChild(item);
    }
  }

  function showPatron(patron) {
    $('patron-email').textContent = patron.email;
    const balances = patron.credit.balances.filter((b) => b.balance_minor !== 0);
    $('balances').textContent = balances.length
      ? balances.map((b) => money(b.balance_minor, b.currency)).join(', ')
      : 'none';
    $('tickets').tBodies[0].replaceChildren(...patron.tickets.map((ticket) => {
      const row = document.createElement('tr');
      row.dataset.ticket = String(ticket.id);
      cell(row, ticketButton(ticket.id));
      const performance = cell(row, 'Performance #' + ticket.performance_id);
      performanceLabel(ticket.performance_id).then((label) => { performance.textContent = label; });
      cell(row, person(ticket.holder_name, ticket.holder_email));
      cell(row, ticketStatus(ticket));
      return row;
    }));
    drawTimeline($('timeline'), patron.timeline);
    $('patron').hidden = false;
  }

  function say(message, isProblem) {
    $('lookup-status').textContent = message;
    $('lookup-status').className = isProblem ? 'problem' : 'muted';
  }

  // What a refused call means, in words.
  function refusal(answer) {
    if (answer.status === 401) return 'This key does not work: ' + Door.problem(answer);
    if (answer.status === 403) return 'This key may not read patrons: ' + Door.problem(answer);
    return Door.problem(answer);
  }

  async function call(path, mine) {
    let answer;
    try {
      answer = await Door.api(key, path);
    } catch (_) {
      if (mine === round) say('The server cannot be reached; try again.', true);
      return null;
    }
    if (mine !== round) return null; // another lookup started meanwhile
    if (!answer.ok) {
      say(refusal(answer), true);
      return null;
    }
    return answer.body;
  }

  async function showHistory(id, mine) {
    say('Loading ticket #' + id + '…', false);
    const history = await call('/api/v1/tickets/' + id + '/history', mine);
    if (!history) return;
    const ticket = history.ticket;
    $('history-title').textContent = 'Ticket #' + ticket.id;
    const facts = [person(ticket.holder_name, ticket.holder_email), ticketStatus(ticket)];
    if (history.replaced_by.length) facts.push('replaced by #' + history.replaced_by.join(', #'));
    $('history-summary').textContent = facts.join(' · ');
    performanceLabel(ticket.performance_id).then((label) => {
      $('history-summary').textContent = [label, ...facts].join(' · ');
    });
    drawTimeline($('history-timeline'), history.timeline);
    $('history').hidden = false;
    say('', false);
    $('history').scrollIntoView();
  }

  async function lookUp(email, ticket) {
    round += 1;
    const mine = round;
    $('patron').hidden = true;
    $('history').hidden = true;
    if (!key) return say('Paste a staff key first (below).', true);
    if (!email && !ticket) return say('Type an email address or a ticket number.', true);
    if (ticket && !/^[0-9]+$/.test(ticket)) return say('A ticket number is digits only.', true);
    if (email) {
      say('Looking up ' + email + '…', false);
      const patron = await call('/api/v1/patrons/' + encodeURIComponent(email), mine);
      if (!patron) return undefined;
      showPatron(patron);
      say(patron.tickets.length + ' ticket(s).', false);
    }
    if (ticket) await showHistory(Number(ticket), mine);
    return undefined;
  }

  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    lookUp($('email').value.trim(), $('ticket').value.trim());
  });

  Door.keyForm(KEY_SLOT, async (pasted) => {
    key = pasted;
    performances = new Map();
    const keyStatus = $('key-status');
    if (!key) {
      keyStatus.textContent = 'Paste a key to start. It stays in this browser.';
      return;
    }
    keyStatus.textContent = 'Checking the key…';
    try {
      const answer = await Door.api(key, '/api/v1/events');
      keyStatus.textContent = answer.ok
        ? 'Key accepted. The key stays in this browser.'
        : 'This key does not work: ' + Door.problem(answer);
    } catch (_) {
      keyStatus.textContent = 'The server cannot be reached; the key is kept.';
    }
  });
})();
