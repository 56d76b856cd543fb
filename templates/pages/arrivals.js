'use strict';
// The box office's arrivals dashboard: GET /api/v1/performances/{id}/arrivals every few
// seconds, drawn as inline SVG: arrivals per minute (bars) and admitted so far against the
// capacity (a line whose top is the capacity), the count per gate, who is still to arrive, and
// the refused scans by reason.

(() => {
  const SLOTS = { key: 'encore.boxoffice.key', performance: 'encore.boxoffice.performance' };
  const REFRESH_MS = 3000;
  const MINUTE_MS = 60000;
  const SVG = 'http://www.w3.org/2000/svg';
  // The chart's drawing area inside its 640 × 260 viewBox.
  const LEFT = 48;
  const RIGHT = 628;
  const TOP = 18;
  const BOTTOM = 226;

  // The refusals' reasons in the words of the door (scan.js says the same to the steward).
  const REASONS = {
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
    refused_offline: 'Refused offline (valid)',
    clock_out_of_bounds: "Scanner's clock wrong",
  };
  // Outcomes that let the person in: not refusals (conflicts are counted on their own).
  const NOT_REFUSED = new Set(['admitted', 'conflict']);
  // A code the page has no words for yet reads as words all the same: stale_code → Stale code.
  const reason = (code) => REASONS[code] || (code.charAt(0).toUpperCase() + code.slice(1)).replace(/_/g, ' ');

  const $ = (id) => document.getElementById(id);
  let key = '';
  let performance = null;
  let round = 0; // each choice starts a new refresh loop; older loops stop

  function element(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [attribute, value] of Object.entries(attributes)) node.setAttribute(attribute, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const minuteOf = (ms) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

  // The minutes shown: from doors open (or the first arrival, if earlier) until now, but no
  // further than a few hours after the start once the evening is over; ten minutes at least.
  function timeSpan(arrivals) {
    const minutes = arrivals.per_minute.map((m) => Date.parse(m.minute));
    const doors = minuteOf(Date.parse(performance.doors_open_at));
    const over = Date.parse(performance.starts_at) + 3 * 60 * MINUTE_MS;
    const start = Math.min(doors, ...minutes);
    const end = Math.max(minuteOf(Math.min(Date.now(), over)), ...minutes, start + 9 * MINUTE_MS) + MINUTE_MS;
    return { start, end };
  }

  function draw(arrivals) {
    const chart = $('chart');
    const { start, end } = timeSpan(arrivals);
    const x = (ms) => LEFT + ((ms - start) / (end - start)) * (RIGHT - LEFT);
    const barWidth = Math.max(1, x(start + MINUTE_MS) - x(start) - 1);
    const busiest = Math.max(1, ...arrivals.per_minute.map((m) => m.admitted));
    const ceiling = Math.max(1, arrivals.capacity, arrivals.admitted);
    const yBar = (count) => BOTTOM - (count / busiest) * (BOTTOM - TOP);
    const yTotal = (count) => BOTTOM - (count / ceiling) * (BOTTOM - TOP);
    const shapes = [
      element('line', { class: 'axis', x1: LEFT, y1: BOTTOM, x2: RIGHT, y2: BOTTOM }),
      element('line', { class: 'capacity', x1: LEFT, y1: yTotal(arrivals.capacity), x2: RIGHT, y2: yTotal(arrivals.capacity) }),
      element('text', { x: RIGHT, y: yTotal(arrivals.capacity) - 4, 'text-anchor': 'end' }, 'capacity ' + arrivals.capacity),
      element('text', { x: LEFT - 6, y: TOP + 4, 'text-anchor': 'end' }, busiest + '/min'),
      element('text', { x: LEFT - 6, y: BOTTOM, 'text-anchor': 'end' }, '0'),
    ];
    let total = 0;
    const line = ['M', x(start), BOTTOM];
    for (const { minute, admitted } of arrivals.per_minute) {
      const at = Date.parse(minute);
      const bar = element('rect', {
        class: 'bar', x: x(at), y: yBar(admitted), width: barWidth, height: BOTTOM - yBar(admitted),
      });
      bar.appendChild(element('title', {}, Door.timeLabel(minute) + ': ' + admitted));
      shapes.push(bar);
      line.push('L', x(at), yTotal(total));
      total += admitted;
      line.push('L', x(at + MINUTE_MS), yTotal(total));
    }
    line.push('L', x(Math.min(end, Math.max(minuteOf(Date.now()) + MINUTE_MS, start))), yTotal(total));
    shapes.push(element('path', { class: 'cumulative', d: line.join(' ') }));
    const startsAt = Date.parse(performance.starts_at);
    if (startsAt > start && startsAt < end) {
      shapes.push(element('line', { class: 'axis', x1: x(startsAt), y1: TOP, x2: x(startsAt), y2: BOTTOM }));
      shapes.push(element('text', { x: x(startsAt) + 4, y: TOP + 12 }, 'curtain'));
    }
    for (const [ms, anchor] of [[start, 'start'], [(start + end) / 2, 'middle'], [end, 'end']]) {
      const label = new Date(minuteOf(ms)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      shapes.push(element('text', { x: x(ms), y: BOTTOM + 18, 'text-anchor': anchor }, label));
    }
    chart.replaceChildren(...shapes);
    // The labels as large on a phone as on a desk: the drawing shrinks with the screen, its
    // text must not (12 px at the full 640 units).
    const shown = chart.getBoundingClientRect().width || 640;
    chart.style.setProperty('--label-size', Math.max(12, Math.round((12 * 640) / shown)) + 'px');
  }

  function rows(body, pairs, name) {
    body.replaceChildren(...pairs.map(([label, count, key]) => {
      const row = document.createElement('tr');
      row.dataset[name] = key;
      for (const text of [label, Door.count(count)]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.appendChild(cell);
      }
      return row;
    }));
  }

  function show(arrivals) {
    $('admitted').textContent = Door.count(arrivals.admitted);
    $('still-to-arrive').textContent = Door.count(arrivals.still_to_arrive);
    $('capacity').textContent = Door.count(arrivals.capacity);
    $('issued').textContent = Door.count(arrivals.tickets_issued);
    const refusals = Object.entries(arrivals.attempts_by_outcome || {})
      .filter(([code, count]) => !NOT_REFUSED.has(code) && count > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => [reason(code), count, code]);
    rows($('refusals').tBodies[0], refusals, 'reason');
    $('refusals').hidden = refusals.length === 0;
    $('no-refusals').hidden = refusals.length > 0;
    const conflicts = arrivals.conflicts || 0;
    $('conflicts').hidden = conflicts === 0;
    $('conflicts').textContent = conflicts + ' ticket(s) admitted offline at two gates (conflicts).';
    rows($('gates').tBodies[0], arrivals.by_gate.map(({ gate, admitted }) => [gate, admitted, gate]), 'gate');
    draw(arrivals);
  }

  async function refresh(mine) {
    try {
      const answer = await Door.api(key, '/api/v1/performances/' + performance.id + '/arrivals');
      if (mine !== round) return; // another key or performance was chosen meanwhile
      if (answer.ok && answer.body) {
        show(answer.body);
        $('refreshed').textContent = 'Updated ' + Door.timeLabel(new Date().toISOString()) + '.';
      } else {
        $('refreshed').textContent = 'Not updated: ' + Door.problem(answer);
      }
    } catch (_) {
      $('refreshed').textContent = 'The server cannot be reached; trying again.';
    }
    if (mine === round) setTimeout(() => refresh(mine), REFRESH_MS);
  }

  Door.setUp(SLOTS, (chosenKey, chosen) => {
    key = chosenKey;
    performance = chosen;
    $('performance-name').textContent = Door.performanceLabel(chosen);
    document.title = 'Arrivals: ' + Door.performanceLabel(chosen);
    round += 1;
    refresh(round);
  });
})();
