#!/usr/bin/env python3
"""Webhook delivery benchmark (issue 19): N touches queued, delivered to a loopback receiver.

    bench/webhooks.py [sqlite|postgres|both] [--n 20000] [--timeout 300]

For each backend: a fresh database, `encore serve` (no worker) to register an endpoint for
`issued` and issue N tickets in bulk (each issuance queues its webhook in its own transaction),
then the serve process stops, the confirmation emails are set aside (status `skipped`, so the
worker measures webhooks alone) and `encore worker` delivers the N webhooks to
`examples/webhook_sink` on 127.0.0.1. The figure is N / (time from the first to the N-th distinct
webhook-id the sink received); the worker's CPU time is read from /proc.

Bounded: every wait has a deadline (--timeout), the sink stops by itself, every process started
here is killed by its PID on exit, the databases are dropped. Loopback only.
Binaries: target/release/encore and target/release/examples/webhook_sink if present, else the
debug ones (--bin / --sink to choose); the report names which.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTED = []  # processes to kill on exit


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def binary(name, given):
    if given:
        return given
    for profile in ("release", "debug"):
        path = os.path.join(REPO, "target", profile, name)
        if os.path.exists(path):
            return path
    sys.exit(f"no {name} built: cargo build --release --bin encore --example webhook_sink")


def call(method, url, key=None, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if key:
        request.add_header("authorization", f"Bearer {key}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_until(what, deadline, check, pause=0.05):
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(pause)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start(args, env, **kw):
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, **kw)
    STARTED.append(process)
    return process


def stop(process):
    if process.poll() is None:
        process.kill()
    process.wait()


def run(backend, opts, encore, sink):
    work = tempfile.mkdtemp(prefix=f"encore-webhooks-{backend}-")
    db_name = None
    if backend == "sqlite":
        url = os.path.join(work, "bench.db")
    else:
        db_name = f"encore_webhookbench_{os.getpid()}"
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {db_name}"], check=True)
        url = f"{PG}/{db_name}"
    env = dict(os.environ, DATABASE_URL=url, RUST_LOG="warn",
               ENCORE_MAIL_DIR=os.path.join(work, "mail"),
               ENCORE_KEY_FILE=os.path.join(work, "encore.key"),
               ENCORE_WEBHOOK_ALLOW_HTTP="true", ENCORE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true")
    try:
        key = subprocess.run([encore, "keys", "create", "--role", "admin", "--name", "bench"],
                             env=env, check=True, capture_output=True, text=True).stdout.strip()
        base = f"http://127.0.0.1:{opts.port}"
        serve = start([encore, "serve", "--bind", f"127.0.0.1:{opts.port}"],
                      dict(env, ENCORE_RUN_WORKER="false"))
        deadline = time.monotonic() + opts.timeout
        wait_until("encore serve", deadline,
                   lambda: urllib.request.urlopen(f"{base}/readyz", timeout=2).status == 200)
        receiver = start([sink, str(opts.sink_port), "--seconds", str(opts.timeout + 60)], env)
        wait_until("the sink", deadline, lambda: call("GET", f"http://127.0.0.1:{opts.sink_port}/count"))
        endpoint = call("POST", f"{base}/api/v1/webhooks", key,
                        {"url": f"http://127.0.0.1:{opts.sink_port}/hooks", "kinds": ["issued"]})
        event = call("POST", f"{base}/api/v1/events", key,
                     {"name": "Bench", "venue": "Hall", "time_zone": "UTC"})
        starts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        performance = call("POST", f"{base}/api/v1/events/{event['id']}/performances", key,
                           {"starts_at": starts, "capacity": opts.n})
        issued = 0
        t = time.monotonic()
        while issued < opts.n:
            count = min(1000, opts.n - issued)
            tickets = [{"holder_name": f"Guest {issued + i}", "holder_email": f"g{issued + i}@example.org",
                        "price_minor": 4500, "currency": "EUR"} for i in range(count)]
            call("POST", f"{base}/api/v1/performances/{performance['id']}/tickets/bulk", key,
                 {"tickets": tickets}, timeout=300)
            issued += count
        issue_seconds = time.monotonic() - t
        pending = call("GET", f"{base}/api/v1/webhooks/{endpoint['id']}", key)["pending_deliveries"]
        log(f"{backend}: {issued} tickets issued in {issue_seconds:.1f}s, {pending} webhooks queued")
        stop(serve)
        set_aside = "UPDATE outbox SET status = 'skipped'"
        if backend == "sqlite":
            subprocess.run(["sqlite3", url, set_aside], check=True)
        else:
            subprocess.run(["psql", url, "-qc", set_aside], check=True, stdout=subprocess.DEVNULL)

        worker_env = dict(env, ENCORE_WEBHOOK_BATCH_SIZE=str(opts.batch),
                          ENCORE_WEBHOOK_CONCURRENCY=str(opts.concurrency),
                          ENCORE_WEBHOOK_POLL_MS="50")
        started = time.monotonic()
        worker = start([encore, "worker"], worker_env)
        counts = lambda: call("GET", f"http://127.0.0.1:{opts.sink_port}/count")
        first = wait_until("the first delivery", deadline, lambda: counts()["distinct"] > 0 and time.monotonic(), 0.005)
        last = wait_until(f"{opts.n} deliveries", deadline,
                          lambda: counts()["distinct"] >= opts.n and time.monotonic(), 0.02)
        cpu, rss = cpu_seconds(worker.pid), peak_rss_mb(worker.pid)
        stop(worker)
        final = counts()
        stop(receiver)
        rate = opts.n / (last - first)
        return {
            "backend": backend, "n": opts.n, "seconds": last - first,
            "from_start": last - started, "rate": rate,
            "requests": final["requests"], "distinct": final["distinct"],
            "cpu_ms_per_delivery": cpu * 1000 / opts.n, "rss_mb": rss,
        }
    finally:
        for process in STARTED:
            stop(process)
        STARTED.clear()
        if db_name:
            subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db_name}"])
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("backend", nargs="?", default="both", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per backend, at most")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--port", type=int, default=18191)
    parser.add_argument("--sink-port", type=int, default=18192)
    parser.add_argument("--bin")
    parser.add_argument("--sink")
    opts = parser.parse_args()
    encore = binary("encore", opts.bin)
    sink = binary(os.path.join("examples", "webhook_sink"), opts.sink)
    log(f"encore: {encore}; sink: {sink}")
    backends = ["sqlite", "postgres"] if opts.backend == "both" else [opts.backend]
    print(f"binary: {os.path.relpath(encore, REPO)}; batch {opts.batch}, concurrency {opts.concurrency}")
    print("| backend | webhooks | seconds (first→last) | deliveries/s | requests (distinct ids) | worker CPU ms/delivery | worker peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for backend in backends:
        r = run(backend, opts, encore, sink)
        print(f"| {r['backend']} | {r['n']:,} | {r['seconds']:.2f} | **{r['rate']:,.0f}** | "
              f"{r['requests']:,} ({r['distinct']:,}) | {r['cpu_ms_per_delivery']:.3f} | {r['rss_mb']:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
