'use strict';
// The box office's arrivals dashboard: GET /api/v1/performances/{id}/arrivals every few
// seconds, drawn as inline SVG: arrivals per minute (bars) and admitted so far against the
// capacity (a line whose top is the capacity), and the count per gate.

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
  }

  function show(arrivals) {
    $('admitted').textContent = String(arrivals.admitted);
    $('capacity').textContent = String(arrivals.capacity);
    $('issued').textContent = String(arrivals.tickets_issued);
    const conflicts = arrivals.conflicts || 0;
    $('conflicts').hidden = conflicts === 0;
    $('conflicts').textContent = conflicts + ' ticket(s) admitted offline at two gates (conflicts).';
    $('gates').tBodies[0].replaceChildren(...arrivals.by_gate.map(({ gate, admitted }) => {
      const row = document.createElement('tr');
      row.dataset.gate = gate;
      for (const text of [gate, String(admitted)]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.appendChild(cell);
      }
      return row;
    }));
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
    round += 1;
    refresh(round);
  });
})();
