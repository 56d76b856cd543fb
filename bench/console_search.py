#!/usr/bin/env python3
"""The box office console's searches under a real season (issue 16).

For each backend: a fresh database, 100,000 tickets for 30,000 patrons over 50 performances,
issued through the real bulk API (POST /api/v1/performances/{id}/tickets/bulk, 1000 a request)
of a release `encore serve` on loopback; then a fixed, seeded list of queries against

  GET /api/v1/performances/{id}/tickets?q=&status=&cursor=&limit=   (tickets)
  GET /api/v1/patrons?q=                                            (patrons)

one request at a time over one keep-alive connection, after a warm-up. Server-side times are
read from the server's own access log (actix's %D, the time to serve each request); the client's
round trips are printed beside them. Bounded: REQUESTS queries per endpoint and backend (default
500), and the whole run stops after TIME_LIMIT seconds (default 900).

  bench/console_search.py both          # or sqlite, postgres
  REQUESTS=200 bench/console_search.py sqlite

Settings (environment): TICKETS (100000), PATRONS (30000), PERFORMANCES (50), REQUESTS (500),
WARMUP (50), TIME_LIMIT (900), BENCH_PORT (18191), BENCH_PG (postgres://postgres@127.0.0.1:5432),
BENCH_BIN (target/release/encore, built with `cargo build --release` when missing), KEEP=1.
Needs python3 and, for PostgreSQL, psql and a server that trusts user postgres.
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKETS = int(os.environ.get("TICKETS", "100000"))
PATRONS = int(os.environ.get("PATRONS", "30000"))
PERFORMANCES = int(os.environ.get("PERFORMANCES", "50"))
REQUESTS = int(os.environ.get("REQUESTS", "500"))
WARMUP = int(os.environ.get("WARMUP", "50"))
TIME_LIMIT = float(os.environ.get("TIME_LIMIT", "900"))
PORT = int(os.environ.get("BENCH_PORT", "18191"))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BIN = os.environ.get("BENCH_BIN", os.path.join(REPO, "target", "release", "encore"))
KEEP = os.environ.get("KEEP") == "1"
PG_DB = "encore_bench_console_search"
STARTED = time.monotonic()


def log(*args):
    print(time.strftime("%H:%M:%S", time.gmtime()), *args, file=sys.stderr, flush=True)


def check_time(what):
    if time.monotonic() - STARTED > TIME_LIMIT:
        sys.exit(f"stopped: over TIME_LIMIT={TIME_LIMIT:.0f}s during {what}")


# --- a season's patrons: deterministic names, emails and seats --------------------------------

FIRST = """Ada Alan Alice Amara Anna Arjun Ben Bianca Carla Chen Clara Daniel David Diego Elena
Emil Emma Eva Felix Fatima Grace Hana Hugo Ines Ivan Jakob James Jana Jonas Julia Karl Kofi Lars
Laura Lea Leo Lina Luca Lucia Maria Mark Marta Max Mia Mohammed Nadia Nina Noah Olga Omar Oskar
Paul Petra Priya Rafael Rosa Sara Sofia Stefan Tariq Theo Tom Vera Victor Yuki Zoe""".split()
SYLLABLES = """ber ka lo mi ste van der hof man son sen ling ton wick ford ley bach mann ric
ova enko ski ez ra to na wa bu sch ein ger tal berg lund strom""".split()


def surnames(n):
    rnd = random.Random(7)
    seen, out = set(), []
    while len(out) < n:
        s = "".join(rnd.choice(SYLLABLES) for _ in range(rnd.choice((2, 2, 3))))
        if s not in seen:
            seen.add(s)
            out.append(s.capitalize())
    return out


LAST = surnames(3000)


def patron(i):
    """Patron i: a name (some with a middle name) and an email address."""
    rnd = random.Random(i)
    first, last = rnd.choice(FIRST), rnd.choice(LAST)
    name = f"{first} {last}" if i % 5 else f"{first} {rnd.choice(FIRST)} {last}"
    return name, f"{first.lower()}.{last.lower()}{i}@example.org"


# --- HTTP -------------------------------------------------------------------------------------


class Client:
    def __init__(self, key):
        self.key = key
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)

    def call(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.key}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                return response.status, (json.loads(payload) if payload else None)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
                if attempt == 2:
                    raise

    def ok(self, method, path, body=None, expected=(200, 201)):
        status, answer = self.call(method, path, body)
        if status not in expected:
            sys.exit(f"{method} {path}: {status} {answer}")
        return answer


# --- the server and the databases -------------------------------------------------------------


def server_env(work, url):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        ENCORE_BIND=f"127.0.0.1:{PORT}",
        ENCORE_CONFIG=os.path.join(work, "no-config-file.toml"),
        ENCORE_RUN_WORKER="false",
        ENCORE_MAIL_DIR=os.path.join(work, "mail"),
        RUST_LOG="warn,encore::http=info",
    )
    return env


def start_server(work, url, log_path):
    logfile = open(log_path, "ab")
    process = subprocess.Popen(
        [BIN, "serve"], env=server_env(work, url), stdout=logfile, stderr=logfile
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited ({process.returncode}); see {log_path}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    sys.exit("the server was not ready within 60 s")


def stop_server(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def psql(sql, db="postgres"):
    subprocess.run(
        ["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql],
        check=True,
        env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"),
    )


def database_url(backend, work):
    if backend == "sqlite":
        return os.path.join(work, "season.db")
    psql(f"DROP DATABASE IF EXISTS {PG_DB}")
    psql(f"CREATE DATABASE {PG_DB}")
    return f"{PG}/{PG_DB}"


# --- seeding ----------------------------------------------------------------------------------


def seed(client):
    """A season: PERFORMANCES performances, TICKETS tickets for PATRONS patrons. Returns the
    performance ids, a sample of (ticket id, name, email, seat), and a few canceled ids."""
    event = client.ok("POST", "/api/v1/events",
                      {"name": "Season", "venue": "The Hall", "time_zone": "Europe/Berlin"})
    per_show = -(-TICKETS // PERFORMANCES)
    performances = []
    for p in range(PERFORMANCES):
        starts = time.strftime("%Y-%m-%dT19:30:00Z", time.gmtime(time.time() + 86400 * (p + 1)))
        performances.append(client.ok(
            "POST", f"/api/v1/events/{event['id']}/performances",
            {"starts_at": starts, "capacity": per_show + 10})["id"])
    sample, issued, started = [], 0, time.monotonic()
    batch = []

    def flush(performance):
        nonlocal issued
        answer = client.ok("POST", f"/api/v1/performances/{performance}/tickets/bulk",
                           {"tickets": batch})
        for t in answer["tickets"]:
            if t["id"] % 97 == 0:
                sample.append((t["id"], t["holder_name"], t["holder_email"], t.get("seat")))
        issued += len(batch)
        batch.clear()

    for n in range(TICKETS):
        show = n // per_show
        # Each patron holds about TICKETS / PATRONS tickets, spread over the season.
        name, email = patron((n * 7919) % PATRONS)
        seat = f"{chr(65 + (n % per_show) // 100 % 26)}{n % 100 + 1}"
        batch.append({"holder_name": name, "holder_email": email, "price_minor": 3500,
                      "currency": "EUR", "seat": seat})
        last_of_show = (n + 1) // per_show != show or n + 1 == TICKETS
        if len(batch) == 1000 or last_of_show:
            flush(performances[show])
            check_time("seeding")
    seconds = time.monotonic() - started
    log(f"issued {issued} tickets in {seconds:.0f} s ({issued / seconds:.0f}/s)")
    canceled = []
    for ticket_id, *_ in sample[:40]:
        client.ok("POST", f"/api/v1/tickets/{ticket_id}/cancel",
                  {"reason": "bench", "refund_to_credit": False})
        canceled.append(ticket_id)
    return performances, sample


# --- the queries ------------------------------------------------------------------------------


def typo(word, rnd):
    """One edit after the first two letters: a swap, a substitution or a deletion."""
    if len(word) < 5:
        return word
    i = rnd.randrange(2, len(word) - 1)
    kind = rnd.choice(("swap", "sub", "del"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "sub":
        return word[:i] + rnd.choice("aeiouxyz") + word[i + 1:]
    return word[:i] + word[i + 1:]


def ticket_queries(client, performances, sample, rnd):
    """A mix the console makes: first pages, later pages, and searches by name, email, seat, id
    and status."""
    queries = []
    for k in range(REQUESTS + WARMUP):
        performance = rnd.choice(performances)
        ticket_id, name, email, seat = rnd.choice(sample)
        kind = k % 8
        params = {}
        if kind == 0:
            params = {}
        elif kind == 1:
            params = {"limit": "100"}
        elif kind == 2:
            params = {"q": name.split()[-1][: rnd.randint(2, 5)]}
        elif kind == 3:
            params = {"q": name.split()[0] + " " + name.split()[-1][:3]}
        elif kind == 4:
            params = {"q": email[: rnd.randint(3, 10)]}
        elif kind == 5:
            params = {"q": seat or "A1"}
        elif kind == 6:
            params = {"q": str(ticket_id)}
        else:
            params = {"status": rnd.choice(("valid", "canceled"))}
        queries.append(f"/api/v1/performances/{performance}/tickets?{urllib.parse.urlencode(params)}")
    # A later page: the cursor of each query's first page, fetched now (not timed).
    paged = []
    for path in queries[3::10]:
        answer = client.ok("GET", path)
        if answer["next_cursor"]:
            paged.append(f"{path}&cursor={answer['next_cursor']}")
    for i, path in enumerate(paged):
        queries[i * 7 % len(queries)] = path
    return queries


def patron_queries(sample, rnd):
    """What a clerk types: 2 to 5 letters of a name word, a first name and part of the last,
    a last name with one typo, the start of an email, a ticket id."""
    queries = []
    for k in range(REQUESTS + WARMUP):
        ticket_id, name, email, _ = rnd.choice(sample)
        words = name.split()
        kind = k % 6
        if kind == 0:
            q = words[-1][:2]
        elif kind == 1:
            q = rnd.choice(words)[: rnd.randint(3, 5)]
        elif kind == 2:
            q = words[0] + " " + words[-1][: rnd.randint(1, 4)]
        elif kind == 3:
            q = typo(words[-1].lower(), rnd)
        elif kind == 4:
            q = email[: rnd.randint(2, 12)]
        else:
            q = str(ticket_id)
        queries.append("/api/v1/patrons?" + urllib.parse.urlencode({"q": q}))
    return queries


# --- measuring --------------------------------------------------------------------------------

LOG_LINE = re.compile(r'"GET (\S+)" (\d{3}) \d+ ([0-9.]+)ms')


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def run(client, queries):
    """Runs the queries (the first WARMUP untimed); client-side round trips in ms, and the
    number of answers per status."""
    times, statuses = [], {}
    for i, path in enumerate(queries):
        started = time.perf_counter()
        status, _ = client.call("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        statuses[status] = statuses.get(status, 0) + 1
        if i >= WARMUP:
            times.append(elapsed)
        check_time("the queries")
    return times, statuses


def server_times(log_path, pattern, skip):
    """Server-side times (ms) of the GETs whose path matches `pattern`, after the first `skip`."""
    with open(log_path, encoding="utf-8", errors="replace") as f:
        matched = [float(m.group(3)) for m in map(LOG_LINE.search, f)
                   if m and re.fullmatch(pattern, m.group(1))]
    return matched[skip:]


def figures(values):
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def bench(backend, work):
    url = database_url(backend, work)
    env = server_env(work, url)
    key = subprocess.run([BIN, "keys", "create", "--role", "admin", "--name", "bench"],
                         env=env, check=True, capture_output=True, text=True).stdout.strip()
    log_path = os.path.join(work, f"serve-{backend}.log")
    server = start_server(work, url, log_path)
    try:
        client = Client(key)
        log(f"{backend}: seeding {TICKETS} tickets for {PATRONS} patrons")
        performances, sample = seed(client)
        if backend == "postgres":
            psql("ANALYZE", PG_DB)
        rnd = random.Random(16)
        tq = ticket_queries(client, performances, sample, rnd)
        pq = patron_queries(sample, rnd)
        # Only what follows is measured from the log: note where it starts.
        with open(log_path, encoding="utf-8", errors="replace") as f:
            before = sum(1 for _ in f)
        results = {}
        for name, queries, pattern in (
            ("tickets", tq, r"/api/v1/performances/\d+/tickets"),
            ("patrons", pq, r"/api/v1/patrons"),
        ):
            client_ms, statuses = run(client, queries)
            if set(statuses) != {200}:
                sys.exit(f"{backend} {name}: answers by status {statuses}")
            results[name] = (client_ms, pattern, statuses)
        time.sleep(0.5)  # the log's last lines
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()[before:]
        measured = os.path.join(work, f"measured-{backend}.log")
        with open(measured, "w", encoding="utf-8") as f:
            f.writelines(lines)
        out = {}
        for name, (client_ms, pattern, statuses) in results.items():
            server_ms = server_times(measured, pattern, WARMUP)
            out[name] = {"server": figures(server_ms), "client": figures(client_ms),
                         "statuses": statuses}
        return out
    finally:
        stop_server(server)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    backends = {"sqlite": ["sqlite"], "postgres": ["postgres"],
                "both": ["sqlite", "postgres"]}.get(which)
    if backends is None:
        sys.exit("usage: bench/console_search.py [sqlite|postgres|both]")
    if not os.path.exists(BIN):
        log("building the release binary")
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "encore"],
                       cwd=REPO, check=True)
    work = tempfile.mkdtemp(prefix="encore-console-search-")
    report = {}
    try:
        for backend in backends:
            report[backend] = bench(backend, work)
    finally:
        if KEEP:
            log(f"kept {work} and database {PG_DB}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            if "postgres" in backends:
                psql(f"DROP DATABASE IF EXISTS {PG_DB}")
    print(f"\nConsole search, {TICKETS} tickets / {PATRONS} patrons / {PERFORMANCES} "
          f"performances, {REQUESTS} requests per endpoint after {WARMUP} warm-up, one at a time\n")
    print("| backend | endpoint | side | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    failed = False
    for backend, endpoints in report.items():
        for endpoint, sides in endpoints.items():
            for side in ("server", "client"):
                f = sides[side]
                print(f"| {backend} | {endpoint} | {side} | {f['n']} | {f['p50']:.2f} | "
                      f"{f['p95']:.2f} | {f['p99']:.2f} | {f['max']:.2f} |")
            failed |= sides["server"]["p95"] > 20
    if failed:
        print("\nFAIL: a server-side p95 is over 20 ms")
        sys.exit(1)


if __name__ == "__main__":
    main()
