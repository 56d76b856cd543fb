#!/usr/bin/env python3
"""Instructions the server executes per door scan, counted by valgrind's callgrind.

Throughput on this 2-core machine moves by 5 % between two runs of the same binary, and by far
more while anything else builds; an instruction count does not. So when a change is suspected of
slowing the scan path by a few microseconds, count instead of timing:

    bench/instructions.py target/release/encore /path/to/older/encore [--requests 2000]

For each binary: a fresh SQLite database, tickets issued through the API by the plain server,
then the server again under callgrind (one worker). After a warm-up, each phase zeroes the
counters, sends its scans one after another over one keep-alive connection, and dumps them:

* invalid   - genuine tokens with one signature character changed (refused, still recorded)
* accepted  - fresh tokens, each admitted once
* duplicate - the accepted tokens again (already admitted)

With --codes rotating the event's codes rotate (rotation_seconds=300, so a code computed before
the phases stays live through them under callgrind) and the accepted and duplicate phases scan
the tickets' rotating codes (from the offline bundle's keys, bench/rotating_codes.py) instead of
their signed tokens; the invalid phase still sends signed tokens with a bad signature.

It prints instructions per scan for every binary and phase (all of the server's threads, so
the HTTP stack, the scan writer and SQLite are all in it). With --keep DIR the callgrind files
stay for `callgrind_annotate --inclusive=yes DIR/<binary>-<phase>.out`, to see where the
difference is. Counts include the work the client does not see (the writer's batches), and
they are repeatable to well under 1 % for the same binary.

With --concurrency N the phases send their scans over N connections at once, so the writer
batches them as at the door in a rush (its per-batch work is then shared by the batch); how
many scans a batch holds depends on timing, so these counts move a little more between runs.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rotating_codes  # noqa: E402  (beside this file)

BULK_MAX = 1000  # the bulk endpoint's maximum


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`encore serve` on a SQLite file, optionally under callgrind; stopped on exit."""

    def __init__(self, binary, workdir, database, callgrind_out=None):
        self.port = free_port()
        # Only the settings below (and ENCORE_METRICS_ENABLED, to compare metrics on and off;
        # a binary older than that setting refuses it, as it refuses any unknown ENCORE_*).
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("ENCORE_") or key == "ENCORE_METRICS_ENABLED"
        }
        env.update(
            DATABASE_URL=f"sqlite://{database}",
            ENCORE_BIND=f"127.0.0.1:{self.port}",
            ENCORE_CONFIG=os.path.join(workdir, "no-config-file.toml"),
            ENCORE_RUN_WORKER="false",
            ENCORE_MAIL_DIR=os.path.join(workdir, "mail"),
            ENCORE_WORKERS="1",
            RUST_LOG="warn",
        )
        self.env = env
        command = [binary, "serve"]
        if callgrind_out:
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={callgrind_out}"] + command
        self.log = open(os.path.join(workdir, "server.log"), "ab")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)
        self.wait_ready(timeout=120 if callgrind_out else 20)

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the server exited with {self.process.returncode}; see its log")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit("the server did not answer /healthz in time")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Client:
    """One keep-alive connection, as a door scanner (and wrk) holds."""

    def __init__(self, port, key):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, path, body):
        self.connection.request("POST", path, json.dumps(body), self.headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"null")

    def scan(self, token):
        status, body = self.post("/api/v1/scans", {"token": token, "gate": "g1", "device": "cg"})
        return body.get("outcome") if isinstance(body, dict) else status


def with_bad_signature(token, n):
    """One signature character changed: in a compact code (`E` + Base45) its last 90
    characters are all signature; in a JWT the part after the last dot (not the last two
    characters: their low bits may be padding)."""
    start = len(token) - 90 if token.startswith("E") else token.rindex(".") + 1
    at = start + n % (len(token) - start - 2)
    return token[:at] + ("B" if token[at] == "A" else "A") + token[at + 1 :]


def issue(binary, workdir, database, count, rotating=False):
    """Issues `count` tickets through the API; returns the key, their tokens and (rotating)
    their rotating codes of now, in order."""
    env = {**os.environ, "DATABASE_URL": f"sqlite://{database}", "RUST_LOG": "warn",
           "ENCORE_CONFIG": os.path.join(workdir, "no-config-file.toml")}
    created = subprocess.run([binary, "keys", "create", "--role", "admin", "--name", "bench"],
                             env=env, capture_output=True, text=True)
    if created.returncode != 0:
        sys.exit(f"{binary} keys create failed: {created.stderr.strip()}")
    key = created.stdout.strip()
    server = Server(binary, workdir, database)
    try:
        client = Client(server.port, key)
        event = {"name": "Bench", "venue": "Hall", "time_zone": "Europe/Vienna"}
        if rotating:
            event.update(barcode="rotating", rotation_seconds=300)
        status, event = client.post("/api/v1/events", event)
        assert status == 201, (status, event)
        starts_at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        status, performance = client.post(f"/api/v1/events/{event['id']}/performances",
                                          {"starts_at": starts_at, "capacity": count})
        assert status == 201, (status, performance)
        tokens = []
        for start in range(0, count, BULK_MAX):
            tickets = [{"holder_name": f"Holder {n}", "holder_email": f"a{n}@example.org",
                        "price_minor": 4500, "currency": "EUR"}
                       for n in range(start, min(start + BULK_MAX, count))]
            status, answer = client.post(
                f"/api/v1/performances/{performance['id']}/tickets/bulk", {"tickets": tickets})
            assert status == 201, (status, answer)
            tokens += [ticket["token"] for ticket in answer["tickets"]]
        codes = []
        if rotating:
            client.connection.request("GET", f"/api/v1/performances/{performance['id']}/offline-bundle",
                                      headers=client.headers)
            bundle = json.loads(client.connection.getresponse().read())
            codes = [code for _, code in rotating_codes.codes(bundle, performance["id"])]
            assert len(codes) == count, len(codes)
    finally:
        server.stop()
    return key, tokens, codes


def scan_all(client, port, key, scans, concurrency):
    """Scans them all, one at a time over `client`, or over `concurrency` connections at once
    (connection i takes scans i, i+c, i+2c, …); returns how many got each outcome."""
    if concurrency == 1:
        answers = [client.scan(token) for token in scans]
    else:
        clients = [Client(port, key) for _ in range(concurrency)]
        slices = [[] for _ in range(concurrency)]
        threads = [threading.Thread(target=lambda c=c, i=i: slices[i].extend(
                       c.scan(token) for token in scans[i::concurrency]))
                   for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answers = [answer for part in slices for answer in part]
    outcomes = {}
    for outcome in answers:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def callgrind_total(path):
    """The `totals:` (or `summary:`) line of a callgrind dump: instructions executed."""
    with open(path) as dump:
        for line in dump:
            match = re.match(r"(?:totals|summary):\s+(\d+)", line)
            if match:
                return int(match.group(1))
    sys.exit(f"no totals in {path}")


def measure(binary, requests, warmup, keep, rotating=False, concurrency=1):
    workdir = tempfile.mkdtemp(prefix="encore-instructions-")
    database = os.path.join(workdir, "encore.db")
    try:
        log(f"{binary}: issuing {warmup + requests} tickets")
        key, tokens, codes = issue(binary, workdir, database, warmup + requests, rotating)
        # What the door is shown: the rotating codes where the event rotates.
        shown = codes or tokens
        base = os.path.join(workdir, "callgrind.out")
        log(f"{binary}: serving under callgrind")
        server = Server(binary, workdir, database, callgrind_out=base)
        results = {}
        try:
            client = Client(server.port, key)
            # Warm-up: every kind of answer once or more, so lazy set-up is not counted.
            for n, (token, code) in enumerate(zip(tokens[:warmup], shown[:warmup])):
                client.scan(with_bad_signature(token, n))
                client.scan(code)
                client.scan(code)
            fresh = shown[warmup:]
            phases = {
                "invalid": [with_bad_signature(t, n) for n, t in enumerate(tokens[warmup:])],
                "accepted": fresh,
                "duplicate": fresh,
            }
            expected = {"invalid": "invalid_signature", "accepted": "admitted",
                        "duplicate": "already_admitted"}
            for number, (phase, scans) in enumerate(phases.items(), start=1):
                subprocess.run(["callgrind_control", "--zero", str(server.process.pid)],
                               check=True, capture_output=True)
                outcomes = scan_all(client, server.port, key, scans, concurrency)
                subprocess.run(["callgrind_control", "--dump", str(server.process.pid)],
                               check=True, capture_output=True)
                if outcomes != {expected[phase]: len(scans)}:
                    sys.exit(f"{phase}: expected {len(scans)} × {expected[phase]}, got {outcomes}")
                dump = f"{base}.{number}"
                # Let the dump land (callgrind writes it between two requests of the process).
                for _ in range(100):
                    if os.path.exists(dump):
                        break
                    time.sleep(0.1)
                results[phase] = callgrind_total(dump) / len(scans)
                if keep:
                    os.makedirs(keep, exist_ok=True)
                    name = os.path.basename(os.path.dirname(os.path.abspath(binary)))
                    shutil.copy(dump, os.path.join(keep, f"{name}-{os.getpid()}-{phase}.out"))
        finally:
            server.stop()
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binaries", nargs="+", help="encore binaries to compare")
    parser.add_argument("--requests", type=int, default=2000, help="scans per phase")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up scans of each kind")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind files in DIR")
    parser.add_argument("--codes", choices=("static", "rotating"), default="static",
                        help="scan the signed tokens (static) or the rotating codes")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="connections scanning at once (the writer then batches their scans)")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install valgrind")
    rotating = args.codes == "rotating"
    rows = [(binary, measure(binary, args.requests, args.warmup, args.keep, rotating,
                             args.concurrency))
            for binary in args.binaries]
    print(f"\nInstructions per scan (callgrind, all server threads, {args.requests} scans per phase, "
          f"{args.codes} codes, {args.concurrency} connection(s))\n")
    print("| binary | invalid | accepted | duplicate |")
    print("|---|---:|---:|---:|")
    for binary, results in rows:
        cells = " | ".join(f"{results[p]:,.0f}" for p in ("invalid", "accepted", "duplicate"))
        print(f"| `{binary}` | {cells} |")


if __name__ == "__main__":
    main()
