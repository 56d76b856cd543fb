#!/usr/bin/env python3
"""The box office console's pages under a real season (issue 16): every page ≤ 50 ms p95
server-side.

For each backend: the season of bench/console_search.py (100,000 tickets for 30,000 patrons
over 50 performances, issued through the real bulk API of a release `encore serve`), a
box-office account made with `encore staff create --password-stdin`, a real sign-in through
POST /box-office/login, and then, one request at a time over one keep-alive connection with the
session cookie, a seeded mix of the console's pages:

  GET /box-office/                              Today
  GET /box-office/events                        the events
  GET /box-office/performances/{id}[?q=…]       a performance's tickets (first pages, searches)
  GET /box-office/patrons?q=…                   Find a patron
  GET /box-office/patrons/{email}               a patron: tickets, credit, journey

Server-side times come from the server's own access log (actix's %D). Bounded: REQUESTS pages
per kind and backend (default 200), and the whole run stops after TIME_LIMIT seconds.

  bench/console_pages.py both          # or sqlite, postgres

Settings (environment) as bench/console_search.py, with REQUESTS defaulting to 200.
"""

import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

os.environ.setdefault("REQUESTS", "200")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console_search as season  # noqa: E402  (the same season, server and figures)

PASSWORD = "a long bench password for the box office"
STAFF_EMAIL = "bench@box-office.example"
PAGES = {
    "today": r"/box-office/",
    "events": r"/box-office/events",
    "performance": r"/box-office/performances/\d+",
    "find a patron": r"/box-office/patrons",
    "patron": r"/box-office/patrons/[^/?]+",
}


class Session:
    """A signed-in browser, as far as the server can tell: the session cookie on every GET."""

    def __init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", season.PORT, timeout=120)
        self.cookie = None

    def sign_in(self):
        body = urllib.parse.urlencode({"email": STAFF_EMAIL, "password": PASSWORD})
        self.conn.request("POST", "/box-office/login", body=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = self.conn.getresponse()
        response.read()
        cookie = response.getheader("Set-Cookie") or ""
        if response.status != 303 or not cookie.startswith("encore_staff="):
            sys.exit(f"sign-in failed: {response.status} {cookie!r}")
        self.cookie = cookie.split(";")[0]

    def get(self, path):
        self.conn.request("GET", path, headers={"Cookie": self.cookie})
        response = self.conn.getresponse()
        response.read()
        return response.status


def create_staff(env):
    subprocess.run([season.BIN, "staff", "create", "--email", STAFF_EMAIL, "--name", "Bench",
                    "--role", "box_office", "--password-stdin"],
                   env=env, input=PASSWORD + "\n", text=True, check=True, capture_output=True)


def page_paths(performances, sample, rnd):
    paths = []
    for k in range(season.REQUESTS + season.WARMUP):
        ticket_id, name, email, seat = rnd.choice(sample)
        performance = rnd.choice(performances)
        paths.append("/box-office/")
        paths.append("/box-office/events")
        search = rnd.choice([{}, {"q": name.split()[-1][:3]}, {"q": seat or "A1"},
                             {"status": "valid"}, {"q": str(ticket_id)}])
        query = f"?{urllib.parse.urlencode(search)}" if search else ""
        paths.append(f"/box-office/performances/{performance}{query}")
        paths.append("/box-office/patrons?" + urllib.parse.urlencode(
            {"q": name.split()[k % len(name.split())][: rnd.randint(2, 5)]}))
        paths.append("/box-office/patrons/" + urllib.parse.quote(email, safe=""))
    return paths


def bench(backend, work):
    url = season.database_url(backend, work)
    env = season.server_env(work, url)
    key = subprocess.run([season.BIN, "keys", "create", "--role", "admin", "--name", "bench"],
                         env=env, check=True, capture_output=True, text=True).stdout.strip()
    create_staff(env)
    log_path = os.path.join(work, f"serve-{backend}.log")
    server = season.start_server(work, url, log_path)
    try:
        client = season.Client(key)
        season.log(f"{backend}: seeding {season.TICKETS} tickets for {season.PATRONS} patrons")
        performances, sample = season.seed(client)
        if backend == "postgres":
            season.psql("ANALYZE", season.PG_DB)
        browser = Session()
        browser.sign_in()
        paths = page_paths(performances, sample, random.Random(16))
        with open(log_path, encoding="utf-8", errors="replace") as f:
            before = sum(1 for _ in f)
        statuses = {}
        for path in paths:
            status = browser.get(path)
            statuses[status] = statuses.get(status, 0) + 1
            season.check_time("the pages")
        if set(statuses) != {200}:
            sys.exit(f"{backend}: answers by status {statuses}")
        time.sleep(0.5)  # the log's last lines
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()[before:]
        times = {name: [] for name in PAGES}
        for m in map(season.LOG_LINE.search, lines):
            if not m:
                continue
            path = m.group(1).split("?")[0]
            for name, pattern in PAGES.items():
                if re.fullmatch(pattern, path):
                    times[name].append(float(m.group(3)))
                    break
        return {name: season.figures(ms[season.WARMUP:]) for name, ms in times.items()}
    finally:
        season.stop_server(server)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    backends = {"sqlite": ["sqlite"], "postgres": ["postgres"],
                "both": ["sqlite", "postgres"]}.get(which)
    if backends is None:
        sys.exit("usage: bench/console_pages.py [sqlite|postgres|both]")
    if not os.path.exists(season.BIN):
        season.log("building the release binary")
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "encore"],
                       cwd=season.REPO, check=True)
    work = tempfile.mkdtemp(prefix="encore-console-pages-")
    report = {}
    try:
        for backend in backends:
            report[backend] = bench(backend, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if "postgres" in backends:
            season.psql(f"DROP DATABASE IF EXISTS {season.PG_DB}")
    print(f"\nConsole pages, {season.TICKETS} tickets / {season.PATRONS} patrons / "
          f"{season.PERFORMANCES} performances, {season.REQUESTS} of each page after "
          f"{season.WARMUP} warm-up, one at a time, server-side\n")
    print("| backend | page | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    failed = False
    for backend, pages in report.items():
        for page, f in pages.items():
            print(f"| {backend} | {page} | {f['n']} | {f['p50']:.2f} | {f['p95']:.2f} | "
                  f"{f['p99']:.2f} | {f['max']:.2f} |")
            failed |= f["p95"] > 50
    if failed:
        print("\nFAIL: a page's server-side p95 is over 50 ms")
        sys.exit(1)


if __name__ == "__main__":
    main()
