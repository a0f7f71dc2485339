#!/usr/bin/env python3
"""`make bench`: omniflow measured side by side with nginx and PostgreSQL on this machine.

Runs, in one go: (1) ingest with wrk against omniflow, nginx `return 200` and pgbench inserts
into PostgreSQL, interleaved A B C A B C ... (medians); (2) history pages over a user with 1M
interactions, beside the same queries run directly on SQLite; (3) tool_call_handler latency
when the endpoint exists; (4) storage, peak RSS, start-up time; (5) instructions per save under
callgrind; (6) the data lifecycle on a store of 1M interactions: export (rows/s, the server's peak
RSS), erasure of a user with 100k interactions and a retention purge of 500k while saves run
(the saves' throughput during each against just before it); (7) OTLP spans/s ingested
(protobuf, 10-span traces) against the save path; (8) the capture proxy's added latency
(p50/p99) and time to first event against calling its scripted provider directly. Prints a
markdown table and writes it to bench/results/latest.md. Every server,
cluster and temporary directory it starts is stopped and removed at the end, also on Ctrl-C.
"""
import argparse
import base64
import datetime
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote as urllib_quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
BODY_FILE = os.path.join(BENCH, "interaction.json")
HIST_USER, RARE_THREAD = "hist_user", "thread_rare"


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Cleanup:
    """Processes to stop and directories to remove, in reverse order, whatever happens."""

    def __init__(self):
        self.actions = []

    def add(self, fn):
        self.actions.append(fn)

    def run(self):
        while self.actions:
            fn = self.actions.pop()
            try:
                fn()
            except Exception as e:  # keep cleaning up
                log("cleanup: %s" % e)


CLEANUP = Cleanup()


def tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    CLEANUP.add(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, headers=None, timeout=5.0):
    """Minimal HTTP/1.1 GET; returns (status, body bytes)."""
    return http_request(port, "GET", path, headers, timeout=timeout)


def http_request(port, method, path, headers=None, body=None, timeout=5.0):
    """Minimal HTTP/1.1 request (not for chunked answers); returns (status, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        if body is not None:
            head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        s.sendall((head + "\r\n" + (body or "")).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def stop_process(proc, sig=signal.SIGTERM, timeout=30):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------
# Servers


class Omniflow:
    def __init__(self, binary, data_dir, log_path, store=None, log_level="info", env=None,
                 extra=()):
        self.port = free_port()
        args = [binary, "serve", "--port", str(self.port), "--data-dir", data_dir] + list(extra)
        if store:
            args += ["--store", store]
        env = dict(os.environ, OMNIFLOW_LOG_LEVEL=log_level, **(env or {}))
        for k in list(env):
            if k.startswith("FUNCTION_CODE_") or k in ("OMNIFLOW_JWT_SECRET", "OMNIFLOW_ADMIN_KEY"):
                del env[k]
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        CLEANUP.add(self.stop)
        deadline = time.time() + 30
        while True:
            try:
                if http_get(self.port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("omniflow did not start; see %s" % log_path)
            time.sleep(0.01)

    def peak_rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        stop_process(self.proc)
        self.log.close()


class Nginx:
    def __init__(self, extra=""):
        self.dir = tempdir("omniflow-bench-nginx-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes %d;
pid %s/nginx.pid;
error_log %s/error.log;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %s/body;
  proxy_temp_path %s/proxy;
  fastcgi_temp_path %s/fastcgi;
  uwsgi_temp_path %s/uwsgi;
  scgi_temp_path %s/scgi;
  server { listen 127.0.0.1:%d; %s location / { return 200; } }
}
""" % ((os.cpu_count() or 1,) + (self.dir,) * 7 + (self.port, extra)))
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir, "-e",
                                      os.path.join(self.dir, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        CLEANUP.add(lambda: stop_process(self.proc, signal.SIGQUIT))
        for _ in range(300):
            try:
                http_get(self.port, "/")
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("nginx did not start")


class Postgres:
    """A throwaway cluster in a temp dir, run as the unprivileged `postgres` user."""

    def __init__(self):
        bindirs = sorted(d for d in os.listdir("/usr/lib/postgresql") if d.isdigit())
        self.bin = "/usr/lib/postgresql/%s/bin" % bindirs[-1]
        self.dir = tempdir("omniflow-bench-pg-")
        self.port = free_port()
        self.user = "postgres"
        self.as_user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", self.user, "--"]
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        data = os.path.join(self.dir, "data")
        self.run(["initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
        opts = ("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s "
                "-c max_connections=300" % (self.port, self.dir))
        self.run(["pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(self.dir, "log"), "-w",
                  "start"])
        CLEANUP.add(lambda: self.run(["pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]))

    def run(self, args, **kw):
        args = self.as_user + [os.path.join(self.bin, args[0])] + args[1:]
        return subprocess.run(args, check=True, cwd=self.dir, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, **kw)

    def psql(self, sql, db="postgres"):
        return self.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                         db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql]).stdout

    def url(self, db):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)


# ---------------------------------------------------------------------------------------------
# Load generators


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out):
    r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, out, re.M)
        r["p" + pct] = to_ms(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["errors"] = sum(int(x) for x in m.groups()) if m else 0
    r["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    return r


def wrk(url, seconds, threads=2, connections=64, script=None, headers=(), body=BODY_FILE):
    args = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency"]
    if script:
        args += ["-s", script]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], check=True, stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, BENCH_BODY=body)).stdout
    return parse_wrk(out)


def pgbench(pg, seconds, logdir):
    for f in os.listdir(logdir):
        os.unlink(os.path.join(logdir, f))
    with open(BODY_FILE) as f:
        body = f.read()
    script = os.path.join(logdir, "..", "insert.sql")
    with open(script, "w") as f:
        f.write("INSERT INTO interactions(user_id, body) "
                "VALUES ('bench_user_' || (:client_id % 2), :body::jsonb);\n")
    args = ["pgbench", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-n",
            "-M", "prepared", "-c", "64", "-j", "2", "-T", str(seconds), "-f", script,
            "-D", "body=" + body, "-l", "--log-prefix", os.path.join(logdir, "tx"), "bench"]
    out = pg.run(args).stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    m = re.search(r"number of failed transactions: (\d+)", out)
    lat = []
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name)) as f:
            for line in f:
                lat.append(int(line.split()[2]) / 1000.0)
    lat.sort()
    return {"rps": tps, "p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99)],
            "non2xx": int(m.group(1)) if m else 0, "errors": 0, "requests": len(lat)}


# ---------------------------------------------------------------------------------------------
# Sections


def settle(pg):
    """Lets the previous run's writes reach the disk before the next run starts: PostgreSQL's
    dirty buffers (CHECKPOINT), the page cache (sync), then a second of quiet."""
    try:
        pg.psql("CHECKPOINT")
    except Exception as e:  # a benchmark without the cluster: nothing to flush there
        log("settle: CHECKPOINT failed (%s)" % e)
    os.sync()
    time.sleep(1)


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def summarize(runs):
    return {"rps": median_of(runs, "rps"), "p50": median_of(runs, "p50"),
            "p99": median_of(runs, "p99"), "non2xx": sum(r["non2xx"] + r["errors"] for r in runs),
            "runs": [round(r["rps"]) for r in runs]}


def ingest(args, results):
    work = tempdir("omniflow-bench-ingest-")
    omni = Omniflow(args.binary, os.path.join(work, "data"), os.path.join(work, "omniflow.log"))
    nginx = Nginx()
    pg = Postgres()
    pg.psql("CREATE DATABASE bench")
    pg.psql("CREATE TABLE interactions(id bigserial PRIMARY KEY, user_id text NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now(), body jsonb NOT NULL); "
            "CREATE INDEX ON interactions(user_id, id)", db="bench")
    pg_logs = os.path.join(pg.dir, "txlogs")
    os.mkdir(pg_logs)
    if pg.as_user:
        pw = pwd.getpwnam(pg.user)
        os.chown(pg_logs, pw.pw_uid, pw.pw_gid)

    lua = os.path.join(BENCH, "save.lua")
    targets = [
        ("omniflow", lambda d: wrk("http://127.0.0.1:%d/api/save_interaction" % omni.port, d,
                                   script=lua)),
        ("nginx", lambda d: wrk("http://127.0.0.1:%d/api/save_interaction" % nginx.port, d,
                                script=lua)),
        ("pgbench", lambda d: pgbench(pg, d, pg_logs)),
    ]
    # The same server without the hash chain's links, and with PII redaction of every type:
    # what each costs, as ratios to omniflow in the same rounds (issue 14's budgets).
    helptext = subprocess.run([args.binary, "serve", "--help"], capture_output=True,
                              text=True).stdout
    variants = [("omniflow_unchained", ["--unchained-benchmark"]),
                ("omniflow_redact", ["--redact", "all"])]
    for name, extra in variants:
        if extra[0] not in helptext and name != "omniflow_unchained":
            log("%s left out: this build has no %s" % (name, extra[0]))
            continue
        server = Omniflow(args.binary, os.path.join(work, "data-" + name),
                          os.path.join(work, name + ".log"), extra=extra)
        targets.append((name, lambda d, server=server: wrk(
            "http://127.0.0.1:%d/api/save_interaction" % server.port, d, script=lua)))
    omni_pg = None
    if args.pg_backend:
        pg.psql("CREATE DATABASE omniflow")
        try:
            omni_pg = Omniflow(args.binary, os.path.join(work, "data-pg"),
                               os.path.join(work, "omniflow-pg.log"), store=pg.url("omniflow"))
            targets.append(("omniflow_pg", lambda d: wrk(
                "http://127.0.0.1:%d/api/save_interaction" % omni_pg.port, d, script=lua)))
        except RuntimeError as e:
            log("omniflow on PostgreSQL did not start (%s): row left out" % e)

    for name, run in targets:
        log("warm-up %s" % name)
        run(2)
    runs = {name: [] for name, _ in targets}
    for i in range(args.rounds):
        # Each round starts one target later, so that no target always runs right after the
        # same neighbour: a PostgreSQL checkpoint or an SQLite WAL fold left behind by one run
        # would otherwise always land on the next one (seen here: the target after omniflow_pg
        # lost 20-30% in every round).
        k = i % len(targets)
        for name, run in targets[k:] + targets[:k]:
            settle(pg)
            r = run(args.duration)
            log("round %d %-12s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non-2xx %d" % (
                i + 1, name, r["rps"], r["p50"], r["p99"], r["non2xx"] + r["errors"]))
            runs[name].append(r)
    results["ingest"] = {name: summarize(rs) for name, rs in runs.items()}
    # Ratios within each round, then their median: both sides saw the same machine state.
    ratio = lambda a, b: statistics.median(x["rps"] / y["rps"] for x, y in zip(runs[a], runs[b]))
    results["ratios"] = {"omniflow/nginx": ratio("omniflow", "nginx"),
                         "omniflow/pgbench": ratio("omniflow", "pgbench")}
    for name in ("omniflow_unchained", "omniflow_redact"):
        if name in runs:
            results["ratios"]["%s/omniflow" % name] = ratio(name, "omniflow")
    if "omniflow_pg" in runs:
        results["ratios"]["omniflow_pg/pgbench"] = ratio("omniflow_pg", "pgbench")
        results["ratios"]["omniflow_pg/nginx"] = ratio("omniflow_pg", "nginx")
    results["peak_rss_mb"] = omni.peak_rss_kb() / 1024.0

    omni.stop()  # checkpoints the WAL into the database file
    db = os.path.join(work, "data", "omniflow.db")
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as c:
        rows = c.execute("SELECT count(*) FROM interactions").fetchone()[0]
    size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    raw = os.path.getsize(BODY_FILE)
    results["storage_ingest"] = {"rows": rows, "bytes_per_row": size / rows, "raw": raw,
                                 "ratio": size / rows / raw}


def startup_ms(binary, data_dir, runs):
    times = []
    for _ in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        proc = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data_dir],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if http_get(port, "/healthz", timeout=1)[0] == 200:
                        break
                except OSError:
                    time.sleep(0.0005)
                if proc.poll() is not None:
                    raise RuntimeError("omniflow exited during start-up")
            times.append((time.perf_counter() - t0) * 1000.0)
        finally:
            stop_process(proc)
    return {"median": statistics.median(times), "max": max(times)}


def index_lag(port):
    """The search index's lag in rows, from /metrics (None if the build does not report it)."""
    status, body = http_get(port, "/metrics")
    m = re.search(rb"^omniflow_search_index_lag ([0-9.e+]+)$", body, re.M)
    return int(float(m.group(1))) if status == 200 and m else None


def burst(args, results):
    """History with 4 concurrent readers during the 60 s after a 40 s full-speed ingest burst,
    while the search index catches up (issue 17: p99 <= 2 ms for newest, thread and cursor)."""
    work = tempdir("omniflow-bench-burst-")
    omni = Omniflow(args.binary, os.path.join(work, "data"), os.path.join(work, "omniflow.log"))
    lua = os.path.join(BENCH, "save.lua")
    log("burst: %d s of saves at full speed" % args.burst_seconds)
    saves = wrk("http://127.0.0.1:%d/api/save_interaction" % omni.port, args.burst_seconds,
                script=lua)
    user = "bench_user_1"  # save.lua's first thread's user
    lag_start = index_lag(omni.port)
    status, body = http_get(omni.port, "/api/get_interaction_history?limit=50",
                            {"X-User-Id": user}, timeout=30)
    page = json.loads(body)
    assert status == 200 and page["interactions"], body[:200]
    thread = page["interactions"][0]["thread_id"]
    queries = [("newest", "limit=50"),
               ("thread", "limit=50&thread_id=%s" % thread),
               ("cursor", "limit=50&cursor=%s" % page["next_cursor"])]
    slices = {name: [] for name, _ in queries}
    deadline = time.time() + args.burst_after
    i = 0
    while time.time() + args.burst_slice <= deadline + 0.5:
        name, q = queries[i % len(queries)]
        i += 1
        slices[name].append(wrk("http://127.0.0.1:%d/api/get_interaction_history?%s" % (
            omni.port, q), args.burst_slice, threads=2, connections=4,
            headers=["X-User-Id: " + user]))
    results["burst"] = {
        "saves": {"rps": saves["rps"], "requests": saves["requests"], "p99": saves["p99"]},
        "lag_start": lag_start, "lag_end": index_lag(omni.port),
        "queries": {name: {"p50": statistics.median(r["p50"] for r in rs),
                           "p99_median": statistics.median(r["p99"] for r in rs),
                           "p99_max": max(r["p99"] for r in rs),
                           "rps": statistics.median(r["rps"] for r in rs),
                           "slices": len(rs),
                           "non2xx": sum(r["non2xx"] + r["errors"] for r in rs)}
                    for name, rs in slices.items()}}


def history(args, results):
    work = tempdir("omniflow-bench-history-")
    data = os.path.join(work, "data")
    log("generating and importing %d interactions" % args.history_n)
    t0 = time.perf_counter()
    gen = subprocess.Popen([sys.executable, os.path.join(BENCH, "gen_history.py"),
                            str(args.history_n), HIST_USER, RARE_THREAD], stdout=subprocess.PIPE)
    raw_bytes = [0]
    imp = subprocess.Popen([args.binary, "import", "-", "--data-dir", data, "--batch", "10000"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    while True:
        chunk = gen.stdout.read(1 << 20)
        if not chunk:
            break
        raw_bytes[0] += len(chunk)
        imp.stdin.write(chunk)
    imp.stdin.close()
    if gen.wait() != 0 or imp.wait() != 0:
        raise RuntimeError("history import failed")
    load_s = time.perf_counter() - t0
    db = os.path.join(data, "omniflow.db")
    size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    n = args.history_n
    results["history_load"] = {"n": n, "seconds": load_s}
    results["storage_history"] = {"rows": n, "bytes_per_row": size / n,
                                  "raw": (raw_bytes[0] - n) / n,  # without the newlines
                                  "ratio": size / (raw_bytes[0] - n)}

    log("start-up on the %d-interaction store" % n)
    results["startup_full"] = startup_ms(args.binary, data, 5)

    omni = Omniflow(args.binary, data, os.path.join(work, "omniflow.log"), log_level="warn")
    hdr = {"X-User-Id": HIST_USER}
    depth = n // 2
    status, body = http_get(omni.port, "/api/get_interaction_history?limit=50&offset=%d" %
                            (depth - 50), hdr, timeout=30)
    page = json.loads(body)
    cursor = page["next_cursor"]
    _, cursor_ts, cursor_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
    status, body = http_get(omni.port, "/api/get_interaction_history?limit=50", hdr)
    assert status == 200 and json.loads(body)["total"] == n, "newest page: %d %s" % (status, body[:200])
    status, body = http_get(omni.port, "/api/get_interaction_history?limit=50&thread_id=%s" %
                            RARE_THREAD, hdr)
    assert status == 200 and json.loads(body)["total"] == n // 10000, body[:200]
    queries = [
        ("newest", "limit=50"),
        ("thread", "limit=50&thread_id=%s" % RARE_THREAD),
        ("offset", "limit=50&offset=%d" % depth),
        ("cursor", "limit=50&cursor=%s" % cursor),
    ]
    # /healthz through the same client: the HTTP round trip alone, i.e. what this machine's
    # scheduling adds to every request's tail.
    urls = [(name, "/api/get_interaction_history?" + q) for name, q in queries]
    urls.append(("healthz", "/healthz"))
    runs = {name: [] for name, _ in urls}
    for i in range(args.history_rounds):
        for name, path in urls:
            r = wrk("http://127.0.0.1:%d%s" % (omni.port, path), args.query_seconds, threads=1,
                    connections=1, headers=["X-User-Id: " + HIST_USER])
            if r["non2xx"] or r["errors"]:
                raise RuntimeError("history %s: %d non-2xx" % (name, r["non2xx"] + r["errors"]))
            runs[name].append(r)
            log("history round %d %-7s p50 %.3f ms p99 %.3f ms (%d requests)" % (
                i + 1, name, r["p50"], r["p99"], r["requests"]))
    res = {name: {"p50": median_of(rs, "p50"), "p99": median_of(rs, "p99"),
                  "n": sum(r["requests"] for r in rs)} for name, rs in runs.items()}
    omni.stop()
    out = subprocess.run([args.floor_binary, db, HIST_USER, RARE_THREAD, cursor_ts, cursor_id,
                          str(args.query_seconds)], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    for line in out.splitlines():
        name, p50, p99, runs = line.split()
        res[name]["floor_p50"] = float(p50) / 1000.0
        res[name]["floor_p99"] = float(p99) / 1000.0
    results["history"] = res


def callgrind(args, results):
    """Instructions per save (the difference of two runs over the difference of their saves), for
    omniflow as served, without the hash chain's links and with `--redact all`: repeatable
    whatever else the machine does, so the chain's and redaction's costs show below the noise
    of the throughput rounds."""
    results["ir_per_save"] = callgrind_per_save(args, {}, annotate=True)
    results["ir_per_save_unchained"] = callgrind_per_save(args, {"BENCH_UNCHAINED": "1"})
    results["ir_per_save_redact"] = callgrind_per_save(args, {"BENCH_REDACT": "all"})


def callgrind_per_save(args, env, annotate=False):
    counts = {}
    for n in (args.callgrind_small, args.callgrind_large):
        out_file = os.path.join(tempdir("omniflow-bench-cg-"), "callgrind.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out_file,
                            args.save_binary, BODY_FILE, str(n)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=dict(os.environ, **env))
        if p.returncode != 0:
            raise RuntimeError("callgrind run failed: " + p.stderr[-2000:])
        counts[n] = int(re.search(r"Collected : (\d+)", p.stderr).group(1))
        if annotate and n == args.callgrind_large:
            top = subprocess.run(["callgrind_annotate", out_file], stdout=subprocess.PIPE,
                                 text=True).stdout
            os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
            with open(os.path.join(BENCH, "results", "callgrind_save.txt"), "w") as f:
                f.write("\n".join(l[:220] for l in top.splitlines()[:60]) + "\n")
    small, large = args.callgrind_small, args.callgrind_large
    return (counts[large] - counts[small]) / (large - small)


def scripted_completion(text):
    """The chat-completions answer the scripted provider (nginx) gives at once, as JSON text."""
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "scripted",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})


def tool_call_handler(args, results):
    """Latency of POST /api/tool_call_handler against a zero-latency scripted provider (nginx
    answering every chat-completions request with the same text completion at once), with the
    automatic interaction logging on and off (--no-agent-log); runs interleaved, medians."""
    if not os.path.exists(os.path.join(ROOT, "src", "api", "tool_call_handler.cpp")):
        results["tool_call_handler"] = None
        return
    completion = scripted_completion("You have 3 tasks pending: review the roadmap, "
                                     "book travel and reply to the vendor.")
    provider = Nginx(extra="location /v1/chat/completions { default_type application/json; "
                           "return 200 '%s'; }" % completion.replace("'", "\\'"))
    work = tempdir("omniflow-bench-tools-")
    env = {"OMNIFLOW_LLM_BASE_URL": "http://127.0.0.1:%d/v1" % provider.port,
           "OMNIFLOW_LLM_MODEL": "scripted", "OMNIFLOW_LLM_API_KEY": "bench"}
    servers = {
        "on": Omniflow(args.binary, os.path.join(work, "on"), os.path.join(work, "on.log"),
                       env=env),
        "off": Omniflow(args.binary, os.path.join(work, "off"), os.path.join(work, "off.log"),
                        env=env, extra=["--no-agent-log"]),
    }
    body = os.path.join(work, "tool_call.json")
    with open(body, "w") as f:
        f.write(json.dumps({"message": "What tasks do I have?"}))
    runs = {"on": [], "off": []}
    for i in range(args.tool_rounds + 1):
        for name, omni in servers.items():
            r = wrk("http://127.0.0.1:%d/api/tool_call_handler" % omni.port, args.query_seconds,
                    threads=1, connections=1, script=os.path.join(BENCH, "save.lua"),
                    body=body)
            if r["non2xx"] or r["errors"]:
                raise RuntimeError("tool_call_handler (%s): %d non-2xx; see %s" % (
                    name, r["non2xx"] + r["errors"], work))
            if i > 0:  # the first round warms up
                runs[name].append(r)
    for omni in servers.values():
        omni.stop()
    results["tool_call_handler"] = {
        k: {"p50": median_of(v, "p50"), "p99": median_of(v, "p99"),
            "rps": median_of(v, "rps")} for k, v in runs.items()}
    log("tool_call_handler %s" % results["tool_call_handler"])


# ---------------------------------------------------------------------------------------------
# OTLP ingest: a protobuf export of one 10-span GenAI trace, encoded here by hand (the wire
# format's varints, lengths and fixed64s) so the bench needs no protobuf package.


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number, wire, payload):
    key = _varint((number << 3) | wire)
    if wire == 2:
        return key + _varint(len(payload)) + payload
    return key + payload


def _kv(key, value):
    any_value = _field(1, 2, value.encode()) if isinstance(value, str) else _field(3, 0, _varint(value))
    return _field(1, 2, key.encode()) + _field(2, 2, any_value)


def otlp_body(path, spans=10):
    """Writes an ExportTraceServiceRequest of one trace (trace id b"TRACEIDPLACEHOLD", which
    bench/otlp.lua replaces per request): invoke_agent > chat > (spans - 2) execute_tool."""
    trace = b"TRACEIDPLACEHOLD"
    start = 1764547200000000000
    out = b""
    for i in range(spans):
        span_id = bytes([0, 0, 0, 0, 0, 0, 1, i + 1])
        fields = _field(1, 2, trace) + _field(2, 2, span_id)
        if i == 1:
            fields += _field(4, 2, bytes([0, 0, 0, 0, 0, 0, 1, 1]))
        elif i > 1:
            fields += _field(4, 2, bytes([0, 0, 0, 0, 0, 0, 1, 2]))
        fields += _field(7, 1, (start + i * 1000).to_bytes(8, "little"))
        fields += _field(8, 1, (start + 900000000).to_bytes(8, "little"))
        if i == 0:
            attrs = [("gen_ai.operation.name", "invoke_agent"), ("gen_ai.agent.id", "asst_bench"),
                     ("gen_ai.conversation.id", "bench-conv")]
        elif i == 1:
            attrs = [("gen_ai.operation.name", "chat"), ("gen_ai.request.model", "gpt-4o"),
                     ("gen_ai.usage.input_tokens", 420), ("gen_ai.usage.output_tokens", 64),
                     ("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [
                         {"type": "text", "content": "What tasks do I have this week?"}]}])),
                     ("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [
                         {"type": "text", "content": "You have 3 tasks pending: review the "
                                                     "roadmap, book travel, reply to the vendor."}]}]))]
        else:
            attrs = [("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", "tool_%d" % i),
                     ("gen_ai.tool.call.id", "call_%d" % i),
                     ("gen_ai.tool.call.arguments", json.dumps({"target_blob_name": "tasks.json"})),
                     ("gen_ai.tool.call.result", json.dumps({"status": "success", "entries": i}))]
        for k, v in attrs:
            fields += _field(9, 2, _kv(k, v))
        out += _field(2, 2, fields)  # ScopeSpans.spans
    resource = _field(1, 2, _kv("user.id", "otlp_bench_user"))
    request = _field(1, 2, _field(1, 2, resource) + _field(2, 2, out))
    with open(path, "wb") as f:
        f.write(request)
    return spans


def otlp(args, results):
    """OTLP spans/s ingested (protobuf exports of one 10-span trace each, a new trace per
    request, through bench/otlp.lua) against the save path (bench/save.lua) on the same kind of
    server, interleaved, medians. The trace assembler runs meanwhile (quiet time 1 s), writing
    each trace's interaction while the next exports arrive."""
    work = tempdir("omniflow-bench-otlp-")
    body = os.path.join(work, "trace.pb")
    spans = otlp_body(body)
    servers = {
        "otlp": Omniflow(args.binary, os.path.join(work, "otlp"), os.path.join(work, "otlp.log"),
                         env={"OMNIFLOW_OTLP_QUIET_MS": "1000"}),
        "save": Omniflow(args.binary, os.path.join(work, "save"), os.path.join(work, "save.log")),
    }
    runs = {"otlp": [], "save": []}
    for i in range(args.rounds):
        for name, omni in servers.items():
            if name == "otlp":
                r = wrk("http://127.0.0.1:%d/v1/traces" % omni.port, args.duration,
                        script=os.path.join(BENCH, "otlp.lua"), body=body)
            else:
                r = wrk("http://127.0.0.1:%d/api/save_interaction" % omni.port, args.duration,
                        script=os.path.join(BENCH, "save.lua"))
            if r["non2xx"] or r["errors"]:
                raise RuntimeError("otlp bench (%s): %d non-2xx; see %s" % (
                    name, r["non2xx"] + r["errors"], work))
            runs[name].append(r)
    for omni in servers.values():
        omni.stop()
    o, s = summarize(runs["otlp"]), summarize(runs["save"])
    results["otlp"] = {"spans_per_trace": spans, "exports": o, "save": s,
                       "spans_per_s": o["rps"] * spans}
    log("otlp %s" % results["otlp"])


def first_event_ms(port, path, body):
    """One streamed request on a fresh connection (connect not timed): ms from sending it to
    the first server-sent event's bytes; the rest is read to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        request = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   "X-User-Id: bench_user_1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
                   % (path, len(body))).encode() + body
        started = time.perf_counter()
        sock.sendall(request)
        seen, first = b"", None
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            seen += chunk
            if first is None and b"data:" in seen:
                first = (time.perf_counter() - started) * 1000.0
        if first is None or b"[DONE]" not in seen:
            raise RuntimeError("no complete event stream from 127.0.0.1:%d%s: %r" % (
                port, path, seen[:200]))
        return first


def proxy(args, results):
    """The capture proxy (POST /v1/chat/completions) against calling its provider directly, side
    by side in the same run: nginx answers a fixed completion (and a fixed event stream) at
    once. Plain: wrk -t1 -c1 latency, interleaved rounds, medians of p50/p99. Streaming: time to
    the first event, sequential requests on fresh connections, interleaved."""
    if not os.path.exists(os.path.join(ROOT, "src", "api", "capture.cpp")):
        results["proxy"] = None
        return
    completion = scripted_completion("You have 3 tasks pending.")
    chunk = lambda delta, finish: json.dumps({
        "id": "chatcmpl-s", "object": "chat.completion.chunk", "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    events = "".join("data: %s\\n\\n" % e for e in (
        chunk({"role": "assistant", "content": "You have "}, None), chunk({"content": "3 tasks."}, None),
        chunk({}, "stop"), "[DONE]"))
    provider = Nginx(extra=(
        "location /v1/chat/completions { default_type application/json; return 200 '%s'; } "
        "location /sse/v1/chat/completions { default_type text/event-stream; return 200 '%s'; }"
        % (completion.replace("'", "\\'"), events.replace("'", "\\'"))))
    work = tempdir("omniflow-bench-proxy-")
    key = {"OMNIFLOW_LLM_MODEL": "scripted", "OMNIFLOW_LLM_API_KEY": "bench"}
    plain_server = Omniflow(args.binary, os.path.join(work, "plain"), os.path.join(work, "plain.log"),
                            env=dict(key, OMNIFLOW_LLM_BASE_URL="http://127.0.0.1:%d/v1" % provider.port))
    sse_server = Omniflow(args.binary, os.path.join(work, "sse"), os.path.join(work, "sse.log"),
                          env=dict(key, OMNIFLOW_LLM_BASE_URL="http://127.0.0.1:%d/sse/v1" % provider.port))
    request = {"model": "scripted", "messages": [{"role": "user", "content": "What tasks do I have?"}]}
    body = os.path.join(work, "chat.json")
    with open(body, "w") as f:
        f.write(json.dumps(request))
    targets = {"direct": "http://127.0.0.1:%d/v1/chat/completions" % provider.port,
               "omniflow": "http://127.0.0.1:%d/v1/chat/completions" % plain_server.port}
    runs = {"direct": [], "omniflow": []}
    for i in range(args.tool_rounds + 1):
        for name, url in targets.items():
            r = wrk(url, args.query_seconds, threads=1, connections=1,
                    script=os.path.join(BENCH, "save.lua"), body=body)
            if r["non2xx"] or r["errors"]:
                raise RuntimeError("proxy (%s): %d non-2xx; see %s" % (
                    name, r["non2xx"] + r["errors"], work))
            if i > 0:  # the first round warms up
                runs[name].append(r)
    stream_body = json.dumps(dict(request, stream=True)).encode()
    firsts = {"direct": [], "omniflow": []}
    stream_targets = {"direct": (provider.port, "/sse/v1/chat/completions"),
                      "omniflow": (sse_server.port, "/v1/chat/completions")}
    for i in range(args.proxy_streams + 20):
        for name, (port, path) in stream_targets.items():
            ms = first_event_ms(port, path, stream_body)
            if i >= 20:  # the first ones warm up
                firsts[name].append(ms)
    plain_server.stop()
    sse_server.stop()

    def pct(values, q):
        return statistics.quantiles(values, n=100)[q - 1]
    results["proxy"] = {
        "plain": {k: {"p50": median_of(v, "p50"), "p99": median_of(v, "p99"),
                      "rps": median_of(v, "rps")} for k, v in runs.items()},
        "first_event": {k: {"p50": pct(v, 50), "p99": pct(v, 99), "n": len(v)}
                        for k, v in firsts.items()}}
    log("proxy %s" % results["proxy"])


LIFECYCLE_VICTIM = "lifecycle_victim"
# The users bench/save.lua saves as (one per wrk thread).
SAVE_USERS = ("bench_user_1", "bench_user_2")


def saved_total(port, users=SAVE_USERS):
    """How many interactions `users` have stored (history totals)."""
    n = 0
    for user in users:
        status, body = http_get(port, "/api/get_interaction_history?limit=1",
                                {"X-User-Id": user}, timeout=60)
        if status != 200:
            raise RuntimeError("history of %s: %d %s" % (user, status, body[:200]))
        n += json.loads(body)["total"]
    return n


def save_rate_during(port, action):
    """Runs `action()` while wrk saves; returns (its result, seconds it took, saves stored per
    second meanwhile), the saves counted by the stored totals before and after."""
    n0, t0 = saved_total(port), time.perf_counter()
    result = action()
    t1 = time.perf_counter()
    n1 = saved_total(port)
    return result, t1 - t0, (n1 - n0) / (t1 - t0)


class SaveLoad:
    """wrk saving as the ingest bench does (2 threads, 64 connections), until stopped."""

    def __init__(self, port):
        self.proc = subprocess.Popen(
            ["wrk", "-t2", "-c64", "-d3600s", "-s", os.path.join(BENCH, "save.lua"),
             "http://127.0.0.1:%d/api/save_interaction" % port],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, BENCH_BODY=BODY_FILE))
        CLEANUP.add(self.stop)

    def stop(self):
        stop_process(self.proc, signal.SIGINT)


def lifecycle(args, results):
    """Export, erasure and retention purge on one store of args.lifecycle_n interactions
    (bench/gen_lifecycle.py): export first (nothing deleted yet), then the erasure, then the
    purge, the last two while wrk saves for other users."""
    n, erase_n, purge_n = args.lifecycle_n, args.erase_n, args.purge_n
    work = tempdir("omniflow-bench-lifecycle-")
    data = os.path.join(work, "data")
    log("generating and importing %d interactions (%d of the erased user, %d past retention)" % (
        n, erase_n, purge_n))
    t0 = time.perf_counter()
    gen = subprocess.Popen([sys.executable, os.path.join(BENCH, "gen_lifecycle.py"), str(n),
                            str(erase_n), str(purge_n), LIFECYCLE_VICTIM], stdout=subprocess.PIPE)
    imp = subprocess.Popen([args.binary, "import", "-", "--data-dir", data, "--batch", "10000"],
                           stdin=gen.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gen.stdout.close()
    if gen.wait() != 0 or imp.wait() != 0:
        raise RuntimeError("lifecycle import failed")
    res = {"n": n, "erase_n": erase_n, "purge_n": purge_n, "window": args.lifecycle_window,
           "load_seconds": time.perf_counter() - t0}

    # A 365-day policy that the background loop would apply only a day after the start: the
    # purge below runs on demand.
    omni = Omniflow(args.binary, data, os.path.join(work, "omniflow.log"), log_level="warn",
                    extra=["--retention-days", "365", "--retention-interval", "24h"])

    # 1. Export everything, read by curl as fast as it comes; the server's peak RSS after it.
    rss_before = omni.peak_rss_kb()
    log("export of %d rows" % n)
    t0 = time.perf_counter()
    curl = subprocess.Popen(["curl", "-sS", "--fail", "http://127.0.0.1:%d/api/export?format=jsonl"
                             % omni.port], stdout=subprocess.PIPE)
    rows = size = 0
    while True:
        chunk = curl.stdout.read(1 << 20)
        if not chunk:
            break
        rows += chunk.count(b"\n")
        size += len(chunk)
    if curl.wait() != 0:
        raise RuntimeError("export failed (curl exit %d)" % curl.returncode)
    seconds = time.perf_counter() - t0
    if rows != n:
        raise RuntimeError("export gave %d rows, expected %d" % (rows, n))
    res["export"] = {"rows": rows, "bytes": size, "seconds": seconds, "rows_per_s": rows / seconds,
                     "peak_rss_mb": omni.peak_rss_kb() / 1024.0,
                     "peak_rss_before_mb": rss_before / 1024.0}
    log("export: %d rows in %.1f s (%.0f rows/s), peak RSS %.1f MB (%.1f MB before)" % (
        rows, seconds, rows / seconds, res["export"]["peak_rss_mb"], rss_before / 1024.0))

    load = SaveLoad(omni.port)
    time.sleep(2)  # warm-up

    def measured(name, action):
        _, _, base = save_rate_during(omni.port, lambda: time.sleep(args.lifecycle_window))
        answer, took, during = save_rate_during(omni.port, action)
        log("%s: %.1f s; saves of other users %.0f/s during it, %.0f/s just before (ratio %.2f)" % (
            name, took, during, base, during / base if base else 0))
        return answer, {"seconds": took, "saves_per_s_before": base, "saves_per_s_during": during,
                        "ratio": during / base if base else 0}

    # 2. Erase the user with erase_n interactions.
    def erase():
        status, body = http_request(omni.port, "DELETE", "/api/users/" + LIFECYCLE_VICTIM,
                                    {"X-User-Id": LIFECYCLE_VICTIM}, timeout=3600)
        if status != 200:
            raise RuntimeError("erasure: %d %s" % (status, body[:300]))
        return json.loads(body)
    answer, res["erase"] = measured("erasure of %d interactions" % erase_n, erase)
    erased = answer["receipt"]["counts"]["interactions"]
    if erased != erase_n:
        raise RuntimeError("erasure erased %d interactions, expected %d" % (erased, erase_n))

    # 3. Purge the purge_n interactions past the 365-day policy.
    def purge():
        status, body = http_request(omni.port, "POST", "/api/retention/run", body="{}",
                                    timeout=3600)
        if status != 200:
            raise RuntimeError("purge: %d %s" % (status, body[:300]))
        return json.loads(body)
    answer, res["purge"] = measured("purge of %d interactions" % purge_n, purge)
    purged = answer["purged"]["interactions"]
    if purged != purge_n:
        raise RuntimeError("purge removed %d interactions, expected %d" % (purged, purge_n))
    load.stop()
    omni.stop()
    results["lifecycle"] = res


ANALYTICS_RARE = "xylophonist"  # a word the demo set never uses; the bench saves it a few times


def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)
               if os.path.isfile(os.path.join(path, f)))


def generate_analytics_store(args, data):
    """`omniflow demo-data` into data, sampling the WAL's size and the process's memory."""
    log("generating %d interactions of %d users over %d days (omniflow demo-data)" % (
        args.analytics_n, args.analytics_users, args.analytics_days))
    t0 = time.perf_counter()
    proc = subprocess.Popen([args.binary, "demo-data", "--data-dir", data, "--count",
                             str(args.analytics_n), "--users", str(args.analytics_users),
                             "--days", str(args.analytics_days)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wal = os.path.join(data, "omniflow.db-wal")
    peak_wal = peak_rss_kb = 0
    while proc.poll() is None:
        try:
            peak_wal = max(peak_wal, os.path.getsize(wal))
            with open("/proc/%d/status" % proc.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak_rss_kb = max(peak_rss_kb, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(1)
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError("demo-data failed: %s" % err[-500:])
    gen = {"seconds": time.perf_counter() - t0, "peak_wal_bytes": peak_wal,
           "peak_rss_mb": peak_rss_kb / 1024.0, "n": args.analytics_n,
           "users": args.analytics_users}
    with open(os.path.join(os.path.dirname(data), "generated.json"), "w") as f:
        json.dump(gen, f)
    return gen


def analytics(args, results):
    """Issue 17's analytics at scale: a store of args.analytics_n interactions of
    args.analytics_users users (demo-data, or a store given with --analytics-store), then each
    analytics query one request at a time (wrk -t1 -c1), the dashboard's Overview in headless
    Chromium, and the server's peak RSS throughout."""
    res = {}
    if args.analytics_store:
        # Measured as it is; generated first (and kept) when it does not exist yet.
        data = os.path.abspath(args.analytics_store)
        if not os.path.exists(os.path.join(data, "omniflow.db")):
            os.makedirs(os.path.dirname(data), exist_ok=True)
            res["generated"] = generate_analytics_store(args, data)
        else:
            sidecar = os.path.join(os.path.dirname(data), "generated.json")
            if os.path.exists(sidecar):
                with open(sidecar) as f:
                    res["generated"] = json.load(f)
            res["reused"] = data
    else:
        work = tempdir("omniflow-bench-analytics-")
        data = os.path.join(work, "data")
        res["generated"] = generate_analytics_store(args, data)
    res["store_bytes"] = dir_bytes(data)

    log("start-up on the analytics store")
    res["startup"] = startup_ms(args.binary, data, 3)
    omni = Omniflow(args.binary, data, os.path.join(os.path.dirname(data), "omniflow-bench.log"),
                    log_level="warn")
    port = omni.port
    t0 = time.perf_counter()
    while (index_lag(port) or 0) > 0:
        time.sleep(1)
    res["index_catch_up_s"] = time.perf_counter() - t0

    # A rare word: a few interactions of one user carry it (saved once per store).
    status, body = http_get(port, "/api/search?q=%s&limit=200" % ANALYTICS_RARE, timeout=60)
    if len(json.loads(body)["interactions"]) < 5:
        for i in range(5):
            doc = json.dumps({"user_message": "Who was the %s at the concert? (%d)" % (
                ANALYTICS_RARE, i), "assistant_response": "A guest %s from Oslo." % ANALYTICS_RARE})
            st, b = http_request(port, "POST", "/api/save_interaction", {"X-User-Id": "alice"},
                                 doc)
            assert st in (200, 201), b[:200]
        while (index_lag(port) or 0) > 0:
            time.sleep(0.2)

    status, body = http_get(port, "/api/stats?top=8", timeout=120)
    stats = json.loads(body)
    res["interactions"] = stats["totals"]["interactions"]
    res["users"] = stats["totals"]["active_users"]
    busiest = stats["top_users"][0]["user_id"]
    res["busiest_user"] = {"user_id": busiest,
                           "interactions": stats["top_users"][0]["interactions"]}
    since = (datetime.datetime.utcnow() - datetime.timedelta(days=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    q = lambda text: urllib_quote(text)
    queries = [
        ("stats, all time", "/api/stats?top=8", 100),
        ("stats, 30 days", "/api/stats?top=8&from=" + since, 100),
        ("stats, busiest user, all time", "/api/stats?top=8&user_id=" + busiest, 100),
        ("search, common word (`meeting`)", "/api/search?limit=50&q=meeting", 50),
        ("search, rare word (5 rows)", "/api/search?limit=50&q=" + ANALYTICS_RARE, 50),
        ("search, no hit", "/api/search?limit=50&q=zqxjvkwy", 50),
        ("search, Japanese (`最高気温`)", "/api/search?limit=50&q=" + q("最高気温"), 50),
        ("search, tool filter", "/api/search?limit=50&tool=get_weather", 50),
        ("search, word and tool", "/api/search?limit=50&q=Berlin&tool=get_weather", 50),
        ("search, failed tool calls", "/api/search?limit=50&status=failed", 50),
        ("search, negative feedback, 30 days (Overview)",
         "/api/search?limit=4&feedback=negative&from=" + since, 50),
        ("users", "/api/users?limit=50", 50),
        ("threads, all users", "/api/threads?limit=50", 50),
        ("threads, busiest user", "/api/threads?limit=50&user_id=" + busiest, 50),
    ]
    # One second of each first: the rounds measure a warm server, as a dashboard in use meets it.
    for name, path, _ in queries:
        wrk("http://127.0.0.1:%d%s" % (port, path), 1, threads=1, connections=1)
    runs = {name: [] for name, _, _ in queries}
    for i in range(args.analytics_rounds):
        for name, path, _ in queries:
            r = wrk("http://127.0.0.1:%d%s" % (port, path), args.analytics_seconds, threads=1,
                    connections=1)
            if r["non2xx"] or r["errors"]:
                raise RuntimeError("analytics %s: %d non-2xx" % (name, r["non2xx"] + r["errors"]))
            runs[name].append(r)
            log("analytics round %d %-40s p50 %7.2f ms p99 %7.2f ms (%d requests)" % (
                i + 1, name, r["p50"], r["p99"], r["requests"]))
    res["queries"] = [{"name": name, "path": path, "target_ms": target,
                       "p50": median_of(runs[name], "p50"),
                       "p99": max(r["p99"] for r in runs[name]),
                       "p99_rounds": [r["p99"] for r in runs[name]],
                       "n": sum(r["requests"] for r in runs[name])}
                      for name, path, target in queries]
    log("dashboard Overview in headless Chromium")
    out = subprocess.run(["node", os.path.join(BENCH, "overview.mjs"),
                          "http://127.0.0.1:%d" % port, str(args.analytics_overview_runs)],
                         check=True, stdout=subprocess.PIPE, text=True, timeout=900).stdout
    overview = json.loads(out.strip().splitlines()[-1])
    res["overview_ms"] = overview["runs_ms"]
    res["peak_rss_mb"] = omni.peak_rss_kb() / 1024.0
    omni.stop()
    results["analytics"] = res


# ---------------------------------------------------------------------------------------------
# Report


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    disk = subprocess.run(["df", "-h", "--output=source,fstype,size", tempfile.gettempdir()],
                          stdout=subprocess.PIPE, text=True).stdout.splitlines()[-1].split()
    return "%d cores (%s), %s; temp dir on %s (%s, %s)" % (
        os.cpu_count(), cpu, platform.platform(), disk[0], disk[1], disk[2])


def verdict(ok):
    return "met" if ok else "**missed**"


def report(args, res):
    L = []
    L.append("# omniflow benchmark (`make bench`)")
    L.append("")
    L.append("Run %s on %s. Ingest: %d interleaved rounds of %d s per target, medians." % (
        res.get("date", "?"), machine(), args.rounds,
        args.duration))
    L.append("")
    L.append("Load average (1/5/15 min) at the start: %s, at the end: %s. The machine is shared: "
             "only ratios measured side by side in one run are meaningful." % (
                 " ".join(res.get("loadavg_start", [])), " ".join(res.get("loadavg_end", []))))
    L.append("")
    if "ingest" in res:
        raw = os.path.getsize(BODY_FILE)
        L.append("## 1. Ingest: POST %d-byte interaction, wrk 2 threads x 64 connections" % raw)
        L.append("")
        L.append("| target | req/s (median) | p50 ms | p99 ms | non-2xx / failed | req/s per round |")
        L.append("|---|---:|---:|---:|---:|---|")
        names = {"omniflow": "omniflow save_interaction (SQLite, durable)",
                 "nginx": "nginx `return 200` (HTTP ceiling)",
                 "pgbench": "PostgreSQL single-row JSONB insert (pgbench, 64 clients)",
                 "omniflow_pg": "omniflow save_interaction on PostgreSQL",
                 "omniflow_unchained": "omniflow without hash-chain links (`--unchained-benchmark`)",
                 "omniflow_redact": "omniflow with `--redact all`"}
        for k, v in res["ingest"].items():
            L.append("| %s | %.0f | %.2f | %.2f | %d | %s |" % (
                names[k], v["rps"], v["p50"], v["p99"], v["non2xx"],
                " ".join(str(x) for x in v["runs"])))
        L.append("")
        L.append("| ratio (median of per-round ratios) | value | target | |")
        L.append("|---|---:|---|---|")
        r = res["ratios"]
        # Issue 17's targets (performance, round two).
        L.append("| omniflow / nginx | %.2f | >= 0.38 (stretch 0.45) | %s |" % (
            r["omniflow/nginx"], verdict(r["omniflow/nginx"] >= 0.38)))
        L.append("| omniflow / pgbench | %.1f | >= 2.5 (stretch 3) | %s |" % (
            r["omniflow/pgbench"], verdict(r["omniflow/pgbench"] >= 2.5)))
        if "omniflow_pg/pgbench" in r:
            L.append("| omniflow on PostgreSQL / pgbench | %.1f | >= 1.5 | %s |" % (
                r["omniflow_pg/pgbench"], verdict(r["omniflow_pg/pgbench"] >= 1.5)))
        else:
            L.append("| omniflow on PostgreSQL / pgbench | - | >= 1.5 | not measured: no PostgreSQL "
                     "backend in this build |")
        if "omniflow_unchained/omniflow" in r:
            cost = 1.0 - 1.0 / r["omniflow_unchained/omniflow"]
            L.append("| hash chain's cost: 1 - omniflow / unchained | %.1f%% | <= 5%% | %s |" % (
                100.0 * cost, verdict(cost <= 0.05)))
        if "omniflow_redact/omniflow" in r:
            L.append("| `--redact all` / omniflow | %.2f | >= 0.85 | %s |" % (
                r["omniflow_redact/omniflow"], verdict(r["omniflow_redact/omniflow"] >= 0.85)))
        o = res["ingest"]["omniflow"]
        L.append("| omniflow p99 at that load | %.2f ms | <= 10 ms | %s |" % (
            o["p99"], verdict(o["p99"] <= 10)))
        L.append("| omniflow non-2xx | %d | 0 | %s |" % (o["non2xx"], verdict(o["non2xx"] == 0)))
        L.append("")
    if "history" in res:
        h = res["history"]
        L.append("## 2. History: one user with %d interactions (loaded by `omniflow import` in "
                 "%.1f s)" % (res["history_load"]["n"], res["history_load"]["seconds"]))
        L.append("")
        L.append("| query (limit=50, `total` included) | omniflow p50 ms | omniflow p99 ms | "
                 "SQLite floor p50 ms | SQLite floor p99 ms | target |")
        L.append("|---|---:|---:|---:|---:|---|")
        labels = {"newest": ("newest page", "p99 <= 2 ms"),
                  "thread": ("thread-filtered page (rare thread, %d items)" %
                             (res["history_load"]["n"] // 10000), "p99 <= 2 ms"),
                  "offset": ("offset=%d" % (res["history_load"]["n"] // 2), "(O(offset))"),
                  "cursor": ("cursor at the same depth", "p99 <= 2 ms")}
        for k in ("newest", "thread", "offset", "cursor"):
            v = h[k]
            target = labels[k][1]
            if target.startswith("p99"):
                target += " " + verdict(v["p99"] <= 2.0)
            L.append("| %s | %.3f | %.3f | %.3f | %.3f | %s |" % (
                labels[k][0], v["p50"], v["p99"], v["floor_p50"], v["floor_p99"], target))
        v = h["healthz"]
        L.append("| `GET /healthz` (no query: the HTTP round trip alone) | %.3f | %.3f | | | |" % (
            v["p50"], v["p99"]))
        L.append("")
        L.append("omniflow columns: wrk -t1 -c1 (one request at a time), %d interleaved rounds of "
                 "%d s per query, medians of the rounds' p50 and p99. Floor: the same SQL "
                 "(count + page) on the same file through the sqlite3 C API in one process." % (
                     args.history_rounds, args.query_seconds))
        L.append("")
    if "burst" in res:
        b = res["burst"]
        L.append("## 2b. History after an ingest burst, 4 concurrent readers")
        L.append("")
        L.append("%d s of saves at full speed (wrk -t2 -c64: %d saves, %.0f req/s), then %d s of "
                 "history reads of one user (wrk -t2 -c4), in %d s slices rotating over the three "
                 "queries. Search index lag when the reads began: %s rows; when they ended: %s." % (
                     args.burst_seconds, b["saves"]["requests"], b["saves"]["rps"],
                     args.burst_after, args.burst_slice, b["lag_start"], b["lag_end"]))
        L.append("")
        L.append("| query (limit=50) | slices | p50 ms | p99 ms, median of slices | p99 ms, worst "
                 "slice | non-2xx | target |")
        L.append("|---|---:|---:|---:|---:|---:|---|")
        for name in ("newest", "thread", "cursor"):
            q = b["queries"][name]
            L.append("| %s | %d | %.3f | %.3f | %.3f | %d | p99 <= 2 ms %s |" % (
                name, q["slices"], q["p50"], q["p99_median"], q["p99_max"], q["non2xx"],
                verdict(q["p99_max"] <= 2.0)))
        L.append("")
    if "tool_call_handler" in res:
        L.append("## 3. tool_call_handler latency, logging on vs off")
        L.append("")
    if res.get("tool_call_handler"):
        t = res["tool_call_handler"]
        L.append("One connection, sequential requests (wrk -t1 -c1), %d interleaved rounds of %d s, "
                 "medians; the provider is nginx answering a fixed completion at once." % (
                     args.tool_rounds, args.query_seconds))
        L.append("")
        L.append("| interaction logging | p50 ms | p99 ms | req/s |")
        L.append("|---|---:|---:|---:|")
        for k in ("on", "off"):
            L.append("| %s | %.3f | %.3f | %.0f |" % (k, t[k]["p50"], t[k]["p99"], t[k]["rps"]))
        L.append("")
        L.append("Overhead at p50: %.3f ms (target <= 0.2 ms): %s" % (
            t["on"]["p50"] - t["off"]["p50"], verdict(t["on"]["p50"] - t["off"]["p50"] <= 0.2)))
    elif "tool_call_handler" in res:
        L.append("Not measured: POST /api/tool_call_handler is not in this build.")
    if "tool_call_handler" in res:
        L.append("")
    if res.get("otlp"):
        o = res["otlp"]
        L.append("## 3b. OTLP trace ingest against the save path")
        L.append("")
        L.append("POST /v1/traces with protobuf exports of one %d-span GenAI trace each (a new "
                 "trace per request, bench/otlp.lua) and POST /api/save_interaction "
                 "(bench/save.lua), wrk -t2 -c64, %d interleaved rounds of %d s, medians; the "
                 "trace assembler writes each trace's interaction 1 s after its last span." % (
                     o["spans_per_trace"], args.rounds, args.duration))
        L.append("")
        L.append("| path | req/s | p50 ms | p99 ms | spans/s |")
        L.append("|---|---:|---:|---:|---:|")
        L.append("| /v1/traces | %.0f | %.3f | %.3f | %.0f |" % (
            o["exports"]["rps"], o["exports"]["p50"], o["exports"]["p99"], o["spans_per_s"]))
        L.append("| /api/save_interaction | %.0f | %.3f | %.3f | - |" % (
            o["save"]["rps"], o["save"]["p50"], o["save"]["p99"]))
        L.append("")
    if any(k in res for k in ("storage_ingest", "storage_history", "peak_rss_mb",
                              "startup_empty", "startup_full")):
        L.append("## 4. Storage, memory, start-up")
        L.append("")
        L.append("| measure | value | target | |")
        L.append("|---|---:|---|---|")
    for key, label in (("storage_ingest", "storage after ingest"),
                       ("storage_history", "storage of the 1M-interaction store")):
        if key in res:
            s = res[key]
            L.append("| %s: %.0f bytes/interaction vs %.0f raw JSON bytes (%d rows) | %.3fx | "
                     "<= 1.3x | %s |" % (label, s["bytes_per_row"], s["raw"], s["rows"],
                                         s["ratio"], verdict(s["ratio"] <= 1.3)))
    if "peak_rss_mb" in res:
        L.append("| peak RSS of the server during ingest (VmHWM) | %.1f MB | <= 128 MB | %s |" % (
            res["peak_rss_mb"], verdict(res["peak_rss_mb"] <= 128)))
    if "startup_empty" in res:
        s = res["startup_empty"]
        L.append("| start-up until /healthz answers, empty store (median of 10, max %.1f) | "
                 "%.1f ms | <= 100 ms | %s |" % (s["max"], s["median"],
                                                 verdict(s["median"] <= 100)))
    if "startup_full" in res:
        s = res["startup_full"]
        L.append("| start-up until /healthz answers, 1M store (median of 5, max %.1f) | "
                 "%.1f ms | <= 1000 ms | %s |" % (s["max"], s["median"],
                                                  verdict(s["median"] <= 1000)))
    L.append("")
    if "ir_per_save" in res:
        L.append("## 5. Instructions per save (callgrind)")
        L.append("")
        L.append("%.0f instructions per save through router, auth, validation, writer and SQLite "
                 "commit (batches of 64; (Ir(%d) - Ir(%d)) / %d). Top functions: "
                 "bench/results/callgrind_save.txt." % (
                     res["ir_per_save"], args.callgrind_large, args.callgrind_small,
                     args.callgrind_large - args.callgrind_small))
        L.append("")
        if "ir_per_save_unchained" in res:
            ir, un, rd = res["ir_per_save"], res["ir_per_save_unchained"], res["ir_per_save_redact"]
            L.append("| instructions per save | value | target | |")
            L.append("|---|---:|---|---|")
            L.append("| omniflow as served | %.0f | | |" % ir)
            L.append("| without hash-chain links (`--unchained-benchmark`) | %.0f | | |" % un)
            L.append("| with `--redact all` | %.0f | | |" % rd)
            L.append("| the hash chain's share: 1 - unchained / omniflow | %.1f%% | <= 5%% | %s |" % (
                100.0 * (1 - un / ir), verdict(1 - un / ir <= 0.05)))
            L.append("| omniflow / `--redact all` (throughput ratio if CPU-bound) | %.2f | >= 0.85 | %s |" % (
                ir / rd, verdict(ir / rd >= 0.85)))
            L.append("")
    if "lifecycle" in res:
        lc = res["lifecycle"]
        L.append("## 6. Data lifecycle: a store of %d interactions (loaded in %.1f s)" % (
            lc["n"], lc["load_seconds"]))
        L.append("")
        e = lc["export"]
        L.append("| measure | value | target | |")
        L.append("|---|---:|---|---|")
        L.append("| export of %d rows (`GET /api/export?format=jsonl`, %.0f MB, read by curl) | "
                 "%.0f rows/s (%.1f s) | | |" % (e["rows"], e["bytes"] / 1e6, e["rows_per_s"],
                                                e["seconds"]))
        L.append("| the server's peak RSS after the export (VmHWM; %.1f MB before it) | %.1f MB | "
                 "<= 64 MB | %s |" % (e["peak_rss_before_mb"], e["peak_rss_mb"],
                                      verdict(e["peak_rss_mb"] <= 64)))
        for key, what in (("erase", "erasure of a user with %d interactions (`DELETE "
                                    "/api/users/{id}`, until the receipt)" % lc["erase_n"]),
                          ("purge", "retention purge of %d interactions (`POST "
                                    "/api/retention/run`)" % lc["purge_n"])):
            v = lc[key]
            L.append("| %s | %.2f s | | |" % (what, v["seconds"]))
            L.append("| saves of other users during it / in the %d s just before (wrk 2x64) | "
                     "%.0f / %.0f per s: %.2f | | |" % (lc["window"], v["saves_per_s_during"],
                                                        v["saves_per_s_before"], v["ratio"]))
        L.append("")
        L.append("Saves per second are counted from the stored totals of the two wrk users before "
                 "and after each window.")
        L.append("")
    if "proxy" in res:
        L.append("## 7. Capture proxy: POST /v1/chat/completions against its provider directly")
        L.append("")
        p = res["proxy"]
        if p:
            L.append("The provider is nginx answering a fixed completion (or a fixed event stream) "
                     "at once, called directly and through omniflow in the same run. Plain: wrk -t1 "
                     "-c1, %d interleaved rounds of %d s, medians. Streaming: time from sending "
                     "the request to the first event's bytes, %d sequential requests each on a "
                     "fresh connection (connect not timed), interleaved." % (
                         args.tool_rounds, args.query_seconds, p["first_event"]["direct"]["n"]))
            L.append("")
            L.append("| measure | direct p50 ms | through omniflow p50 ms | added p50 ms | "
                     "direct p99 ms | through omniflow p99 ms | added p99 ms | target | |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---|---|")
            for key, what, target in (("plain", "latency, plain answer", None),
                                      ("first_event", "time to first event, stream", 5.0)):
                d, o = p[key]["direct"], p[key]["omniflow"]
                added50, added99 = o["p50"] - d["p50"], o["p99"] - d["p99"]
                L.append("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %s | %s |" % (
                    what, d["p50"], o["p50"], added50, d["p99"], o["p99"], added99,
                    "added p50 <= %.0f ms" % target if target else "",
                    verdict(added50 <= target) if target else ""))
        else:
            L.append("Not measured: POST /v1/chat/completions is not in this build.")
        L.append("")
    if "analytics" in res:
        a = res["analytics"]
        L.append("## 8. Analytics at scale: %s interactions of %s users" % (
            "{:,}".format(a["interactions"]), "{:,}".format(a["users"])))
        L.append("")
        g = a.get("generated")
        if g:
            L.append("Generated by `omniflow demo-data --count %d --users %d` in %.0f s (%.0f rows/s); "
                     "its WAL peaked at %.1f MB and its RSS at %.1f MB." % (
                         g["n"], g["users"], g["seconds"], g["n"] / g["seconds"],
                         g["peak_wal_bytes"] / 1e6, g.get("peak_rss_mb", 0)))
        if a.get("reused"):
            L.append("Measured on an existing store (`--analytics-store`)%s." % (
                "" if g else ", generated outside this run"))
        L.append("The store: %.2f GB (%.0f B per interaction). Start-up on it: %.0f ms (median). "
                 "Search index caught up %.0f s after the start. Busiest user: %s with %s "
                 "interactions." % (a["store_bytes"] / 1e9, a["store_bytes"] / a["interactions"],
                                    a["startup"]["median"], a["index_catch_up_s"],
                                    a["busiest_user"]["user_id"],
                                    "{:,}".format(a["busiest_user"]["interactions"])))
        L.append("")
        L.append("One request at a time (wrk -t1 -c1), after 1 s of each to warm up, %d rounds of "
                 "%d s per query, interleaved; p50 is the median of the rounds, p99 the worst "
                 "round's." % (
                     args.analytics_rounds, args.analytics_seconds))
        L.append("")
        L.append("| query | requests | p50 ms | p99 ms | p99 ms per round | target | |")
        L.append("|---|---:|---:|---:|---|---|---|")
        for q in a["queries"]:
            L.append("| %s | %d | %.2f | %.2f | %s | p99 <= %d ms | %s |" % (
                q["name"], q["n"], q["p50"], q["p99"],
                " ".join("%.1f" % x for x in q.get("p99_rounds", [])), q["target_ms"],
                verdict(q["p99"] <= q["target_ms"])))
        ov = a["overview_ms"]
        L.append("| dashboard Overview rendered (headless Chromium, %d loads) | %d | %.0f | %.0f "
                 "(max) | | <= 2000 ms | %s |" % (len(ov), len(ov), statistics.median(ov), max(ov),
                                                  verdict(max(ov) <= 2000)))
        L.append("| server peak RSS | | | %.1f MB | | <= 128 MB | %s |" % (
            a["peak_rss_mb"], verdict(a["peak_rss_mb"] <= 128)))
        L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--binary", help="default: BUILD_DIR/omniflow")
    ap.add_argument("--save-binary", help="default: BUILD_DIR/bench_save_path")
    ap.add_argument("--floor-binary", help="default: BUILD_DIR/bench_sqlite_history")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10, help="seconds per ingest run")
    ap.add_argument("--history-n", type=int, default=1_000_000)
    ap.add_argument("--query-seconds", type=int, default=2)
    ap.add_argument("--tool-rounds", type=int, default=3)
    ap.add_argument("--history-rounds", type=int, default=3)
    ap.add_argument("--callgrind-small", type=int, default=1000)
    ap.add_argument("--callgrind-large", type=int, default=3000)
    ap.add_argument("--no-pg-backend", dest="pg_backend", action="store_false",
                    help="skip omniflow with --store postgresql:// (left out anyway when the "
                         "binary cannot serve from PostgreSQL)")
    ap.add_argument("--lifecycle-n", type=int, default=1_000_000,
                    help="interactions in the lifecycle bench's store")
    ap.add_argument("--erase-n", type=int, default=100_000,
                    help="of them, the erased user's")
    ap.add_argument("--purge-n", type=int, default=500_000,
                    help="of them, past the retention policy")
    ap.add_argument("--lifecycle-window", type=int, default=5,
                    help="seconds of saves measured before each erasure and purge")
    ap.add_argument("--proxy-streams", type=int, default=300,
                    help="streamed requests per side in the proxy bench's time to first event")
    ap.add_argument("--burst-seconds", type=int, default=40,
                    help="length of the full-speed ingest burst before the history reads")
    ap.add_argument("--burst-after", type=int, default=60,
                    help="seconds of history reads after the burst")
    ap.add_argument("--burst-slice", type=int, default=5,
                    help="seconds per history query slice after the burst")
    ap.add_argument("--analytics-n", type=int, default=10_000_000,
                    help="interactions in the analytics store (omniflow demo-data)")
    ap.add_argument("--analytics-users", type=int, default=1000)
    ap.add_argument("--analytics-days", type=int, default=90)
    ap.add_argument("--analytics-store",
                    help="a data dir to measure (and keep) instead of a temporary one; generated "
                         "first when it holds no store")
    ap.add_argument("--analytics-rounds", type=int, default=3)
    ap.add_argument("--analytics-seconds", type=int, default=3,
                    help="seconds per analytics query per round (wrk -t1 -c1)")
    ap.add_argument("--analytics-overview-runs", type=int, default=5)
    ap.add_argument("--only",
                    default="ingest,burst,history,startup,callgrind,tools,lifecycle,otlp,proxy",
                    help="comma-separated sections; also: analytics (10M rows, about an hour)")
    ap.add_argument("--out", default=os.path.join(BENCH, "results", "latest.md"))
    ap.add_argument("--from-json", help="only render the report of an earlier run's latest.json")
    args = ap.parse_args()
    build = os.path.abspath(args.build_dir)
    args.binary = args.binary or os.path.join(build, "omniflow")
    args.save_binary = args.save_binary or os.path.join(build, "bench_save_path")
    args.floor_binary = args.floor_binary or os.path.join(build, "bench_sqlite_history")
    only = set(args.only.split(","))

    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)

    if args.from_json:
        with open(args.from_json) as f:
            res = json.load(f)
        for k, v in res.get("args", {}).items():
            setattr(args, k, v)
        text = report(args, res) + "\nWhole run: %.0f s.\n" % res.get("seconds", 0)
        with open(args.out, "w") as f:
            f.write(text)
        print(text)
        return
    res = {"loadavg_start": open("/proc/loadavg").read().split()[:3],
           "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")}
    started = time.time()
    try:
        if "ingest" in only:
            ingest(args, res)
        if "startup" in only:
            log("start-up on an empty store")
            empty = tempdir("omniflow-bench-empty-")
            res["startup_empty"] = {}
            runs = []
            for i in range(10):
                d = os.path.join(empty, str(i))  # a fresh, empty store each time
                runs.append(startup_ms(args.binary, d, 1)["median"])
            res["startup_empty"] = {"median": statistics.median(runs), "max": max(runs)}
        if "burst" in only:
            burst(args, res)
        if "history" in only:
            history(args, res)
        if "tools" in only:
            tool_call_handler(args, res)
        if "callgrind" in only:
            log("callgrind")
            callgrind(args, res)
        if "lifecycle" in only:
            lifecycle(args, res)
        if "otlp" in only:
            otlp(args, res)
        if "proxy" in only:
            proxy(args, res)
        if "analytics" in only:
            analytics(args, res)
    finally:
        CLEANUP.run()
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    res["seconds"] = time.time() - started
    res["args"] = {k: getattr(args, k) for k in ("rounds", "duration", "query_seconds",
                                                  "history_rounds", "tool_rounds",
                                                  "callgrind_small", "callgrind_large",
                                                  "lifecycle_window", "proxy_streams",
                                                  "burst_seconds", "burst_after", "burst_slice",
                                                  "analytics_rounds", "analytics_seconds")}
    text = report(args, res)
    text += "\nWhole run: %.0f s.\n" % res["seconds"]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    with open(os.path.join(os.path.dirname(args.out), "latest.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
