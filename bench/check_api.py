"""Benchmark: the credit check over HTTP at a fixed request rate, against a trivial endpoint of the same server.

    .venv/bin/python bench/check_api.py --engine sqlite|postgresql [--subjects 1000000] [--rate 1000]
                                        [--duration 60] [--users 100] [--logs batch,sync] [--build-only] [--rebuild]

Target (issue #5): ``POST /api/v1/checks`` at 1,000 requests/s with p99 under 20 ms on 2 cores with 1,000,000
subjects, and at least 50% of the throughput of ``GET /healthz`` (a trivial JSON endpoint of the same server)
measured in the same run.

1. The database (built once, reused: SQLite ``var/bench/check_<S>.db`` or PostgreSQL ``chengxin_bench_check_<S>``,
   keys in ``var/bench/keys``): S subjects, half persons (encrypted identities, blind indexes, masked forms), half
   organisations, written by the ingest's own bulk path (``bench/_common.load_subjects``: ``ensure_subjects``
   through ``BulkWriter`` — executemany / COPY); ~5% of them listed (60% black, 20% watch, 20% red; 10% of
   those with a term that has already ended): ``list_entry`` rows and their ``subject_list_status`` rows, as
   ``lists.status.refresh_status`` writes them, inserted in bulk.
2. The database files read once into the page cache (as bench/file_api.py does; ``--cold`` to skip).
   The server: ``chengxin serve`` (uvicorn, 1 worker) in a subprocess; its check log in the default
   ``batch`` mode (writer thread, ~50 ms) and then, restarted, in ``sync`` mode (CHENGXIN_CHECK_LOG=sync).
3. The load: locust headless (``bench/locust_check_api.py``, FastHttpUser), ``--users`` users with Poisson
   arrivals adding up to ``--rate``; the subjects are uniformly random (90% registered, 10% unknown codes),
   scenarios random among those that fit the subject. Runs: ``GET /healthz`` (baseline), then the check.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import file_api  # noqa: E402  (server, CPU and percentile helpers of the previous HTTP benchmark)
from _common import PG_ADMIN, ROOT, load_subjects  # noqa: E402
from lookup import identity  # noqa: E402  (subject n: even → person, odd → organisation)
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

VAR = ROOT / "var" / "bench"
KEYS = VAR / "keys"
OUT = ROOT / "bench" / "out"
LISTED_SHARE = 0.05
PERSON_SCENARIOS = ("admin_licensing", "civil_service", "high_consumption", "honours", "financing", "platform_entry")
ORG_SCENARIOS = ("admin_licensing", "gov_procurement", "bidding", "fiscal_support", "high_consumption",
                 "platform_entry", "financing", "daily_supervision")


def database_url(engine: str, subjects: int) -> str:
    if engine == "sqlite":
        return f"sqlite:///{VAR / f'check_{subjects}.db'}"
    admin = make_url(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1))
    return admin.set(database=f"chengxin_bench_check_{subjects}").render_as_string(hide_password=False)


def marker(engine: str, subjects: int) -> Path:
    return VAR / f"check_{subjects}.{engine}.json"


def build(engine: str, subjects: int) -> dict[str, Any]:
    from chengxin.core.crypto import KeyRing
    from chengxin.core.db import BulkWriter, Database, make_engine, utcnow

    url = database_url(engine, subjects)
    file_api.fresh(engine, url)
    db = Database(make_engine(url))
    keyring = KeyRing.open(KEYS)
    t0 = time.perf_counter()
    load_subjects(db, keyring, subjects, identity)
    t1 = time.perf_counter()
    rng = random.Random(5)
    listed = sorted(rng.sample(range(subjects), int(subjects * LISTED_SHARE)))
    today = dt_today()
    now = utcnow()
    with db.write() as session:
        writer = BulkWriter(session)
        entries, status = [], []
        for i, n in enumerate(listed, start=1):
            kind = "black" if i % 5 < 3 else ("watch" if i % 5 == 3 else "red")
            ended = i % 10 == 0
            term_from = today.replace(year=today.year - 2) if ended else today.replace(year=today.year - 1)
            term_to = today.replace(year=today.year - 1) if ended else today.replace(year=today.year + 2)
            basis = "《浙江省公共信用信息管理条例》第二十五条；基准测试认定"
            entries.append((i, kind, n + 1, "listed", "office", "bench", "samr", writer.datetime(now), "[]", "[]", basis,
                            f"常信〔{today.year}〕{i}号", writer.date(term_from), writer.date(term_from),
                            writer.date(term_to), "[]"))
            membership = [{"list": kind, "entry_id": i, "term_from": term_from.isoformat(),
                           "term_to": term_to.isoformat(), "decision_no": f"常信〔{today.year}〕{i}号",
                           "department_code": "samr", "basis_zh": basis}]
            status.append((n + 1, json.dumps(membership, ensure_ascii=False) if engine == "sqlite"
                           else _jsonb(membership), writer.datetime(now)))
        writer.insert("list_entry", ("id", "list_kind", "subject_id", "state", "source", "proposed_by", "department_code",
                                     "proposed_at", "record_ids", "reasons", "basis_zh", "decision_no", "decided_on",
                                     "term_from", "term_to", "related_persons"), entries)
        writer.insert("subject_list_status", ("subject_id", "memberships", "updated_at"), status)
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    meta = {"subjects": subjects, "listed": len(listed), "build_seconds": {"subjects": round(t1 - t0, 1),
                                                                            "lists": round(time.perf_counter() - t1, 1)}}
    if engine == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('list_entry', 'id'), :n)"), {"n": len(listed) + 1})
            conn.commit()
    db.engine.dispose()
    marker(engine, subjects).write_text(json.dumps(meta))
    return meta


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def dt_today() -> Any:
    from chengxin.core.clock import today_cn

    return today_cn()


def ensure(engine: str, subjects: int, rebuild: bool) -> dict[str, Any]:
    path = marker(engine, subjects)
    if path.exists() and not rebuild:
        meta: dict[str, Any] = json.loads(path.read_text())
        return meta
    print(f"building {subjects:,} subjects on {engine} …", flush=True)
    return build(engine, subjects)


def requests(subjects: int, count: int, rng: random.Random) -> list[list[str]]:
    from chengxin.core.identifiers import make_uscc

    out = []
    for _ in range(count):
        if rng.random() < 0.1:
            key = make_uscc("9", "1", "320500", f"{rng.randrange(10**8):08d}")  # not registered
            out.append([key, rng.choice(ORG_SCENARIOS)])
            continue
        k = identity(rng.randrange(subjects))
        out.append([k.identifier, rng.choice(PERSON_SCENARIOS if k.kind.value == "person" else ORG_SCENARIOS)])
    return out


def api_key(url: str) -> str:
    from chengxin.accounts.service import create_api_key
    from chengxin.core.audit import Actor
    from chengxin.core.db import Database, make_engine

    db = Database(make_engine(url))
    with db.write() as session:
        issued = create_api_key(session, department_code="samr", label="bench check_api",
                                actor=Actor(kind="cli", name="bench"))
    db.engine.dispose()
    return issued.key


def start(url: str, port: int, log: Path, mode: str, quiet: bool, workers: int = 1) -> subprocess.Popen[bytes]:
    """``chengxin serve``; with ``quiet`` the same app and uvicorn settings but no access log (one line
    written per request), started with uvicorn's own command line."""
    os.environ["CHENGXIN_CHECK_LOG"] = mode
    file_api.KEYS = KEYS
    if not quiet:
        return file_api.start_server(url, port, log, workers)
    import httpx

    env = {**os.environ, "CHENGXIN_DATABASE_URL": url, "CHENGXIN_KEY_DIR": str(KEYS)}
    cmd = [sys.executable, "-m", "uvicorn", "chengxin.api.app:create_served_app", "--factory", "--port", str(port),
           "--proxy-headers", "--no-access-log", "--log-level", "warning", "--workers", str(workers)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


def run(target: str, port: int, rate: float, duration: int, users: int, ids: Path, key: str,
        server: subprocess.Popen[bytes], engine: str, tag: str) -> dict[str, Any]:
    import psutil

    prefix = OUT / f"check_api_{engine}_{tag}"
    samples = Path(f"{prefix}_samples.json")
    samples.unlink(missing_ok=True)
    spawn = max(1, users // 2)
    env = {**os.environ, "CHECK_API_TARGET": target, "CHECK_API_RATE": str(rate / users), "CHECK_API_IDS": str(ids),
           "CHECK_API_KEY": key, "CHECK_API_SAMPLES": str(samples)}
    cmd = [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locust_check_api.py"),
           "--headless", "-u", str(users), "-r", str(spawn), "--run-time", f"{duration + math.ceil(users / spawn) + 1}s",
           "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--reset-stats", "--only-summary",
           "--loglevel", "WARNING", "--stop-timeout", "5"]
    server_before = file_api._cpu([server.pid])
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    locust_cpu = 0.0
    while proc.poll() is None:
        try:
            t = ps.cpu_times()
            locust_cpu = t.user + t.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.5)
    output = proc.stdout.read().decode() if proc.stdout else ""
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"locust failed ({proc.returncode}):\n{output}")
    data = json.loads(samples.read_text()) if samples.exists() else []
    ms = [s[2] for s in data]
    window = (max(s[0] for s in data) - min(s[0] for s in data)) if data else 1.0
    fails = sum(1 for s in data if not s[3])
    return {"tag": tag, "requests": len(ms), "achieved": len(ms) / window if window else 0.0, "failures": fails,
            "p50": file_api.exact(ms, 0.5), "p95": file_api.exact(ms, 0.95), "p99": file_api.exact(ms, 0.99),
            "max": max(ms, default=0.0), "server_cpu": (file_api._cpu([server.pid]) - server_before) / seconds,
            "locust_cpu": locust_cpu / seconds, "load": os.getloadavg()[0]}


def run_wrk(target: str, port: int, rate: float | None, duration: int, connections: int, bodies: Path, key: str,
            server: subprocess.Popen[bytes], tag: str) -> dict[str, Any]:
    """One wrk run (C, event-driven: a few % of a core where locust needed most of one). ``rate=None``:
    closed loop, the server's throughput; else each connection pauses ~connections/rate between requests
    (exponential), offering ``rate`` while the server keeps up — the latency at that rate."""
    gap = 0.0 if rate is None else connections * 1000.0 / rate
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s",
           str(ROOT / "bench" / "wrk_check.lua"), f"http://127.0.0.1:{port}", "--", target, str(bodies), key,
           f"{gap:.3f}"]
    server_before = file_api._cpu([server.pid])
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    line = next(x for x in proc.stdout.splitlines() if x.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON "):])
    return {"tag": tag, "requests": r["requests"], "achieved": r["requests"] / r["seconds"],
            "failures": r["errors"], "p50": r["p50"], "p95": r["p90"], "p99": r["p99"], "max": r["max"],
            "server_cpu": (file_api._cpu([server.pid]) - server_before) / seconds, "locust_cpu": float("nan"),
            "load": os.getloadavg()[0]}


def main_wrk(args: argparse.Namespace, url: str, ids: Path, key: str) -> None:
    """--load wrk: per log mode, the closed-loop throughput of /healthz and of the check (the ratio), then
    both at --rate (the latency)."""
    bodies = OUT / f"check_api_bodies_{args.engine}.jsonl"
    bodies.write_text("".join(json.dumps({"subject": s, "scenario": c}) + "\n" for s, c in json.loads(ids.read_text())))
    results = []
    for mode in args.logs.split(","):
        port = file_api.free_port()
        server = start(url, port, OUT / f"check_api_server_{args.engine}_{mode}.log", mode, args.no_access_log,
                       args.workers)
        try:
            for target, tag in (("health", "healthz"), ("check", f"check ({mode} log)")):
                run_wrk(target, port, None, 10, args.connections, bodies, key, server, "warm-up")
                results.append(run_wrk(target, port, None, args.duration, args.connections, bodies, key, server,
                                       f"{tag}, closed loop"))
                results.append(run_wrk(target, port, args.rate, args.duration, args.connections, bodies, key, server,
                                       f"{tag} at {args.rate:.0f}/s"))
        finally:
            file_api.stop(server)
    print(f"\n{args.subjects:,} subjects, {args.engine}, {args.workers} worker(s), wrk -t1 -c{args.connections}, "
          f"{args.duration} s each\n")
    print("| run | requests | achieved req/s | errors | p50 ms | p90 ms | p99 ms | max ms | CPU server | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tag']} | {r['requests']:,} | {r['achieved']:.0f} | {r['failures']} | {r['p50']:.1f} | "
              f"{r['p95']:.1f} | **{r['p99']:.1f}** | {r['max']:.0f} | {r['server_cpu'] * 100:.0f}% | {r['load']:.2f} |")
    base = next(r for r in results if r["tag"] == "healthz, closed loop")
    for r in results:
        if r["tag"].startswith("check") and r["tag"].endswith("closed loop"):
            print(f"{r['tag']}: {100 * r['achieved'] / base['achieved']:.0f}% of the /healthz throughput")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--logs", default="batch,sync", help="check-log modes to measure, in order")
    parser.add_argument("--no-access-log", action="store_true",
                        help="run the app under uvicorn without its access log (chengxin serve writes one)")
    parser.add_argument("--cold", action="store_true", help="do not read the database into the page cache first")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--load", choices=("wrk", "locust"), default="wrk",
                        help="load generator: wrk (C; Debian package, `make bench-deps`) or locust")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (chengxin serve --workers)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    VAR.mkdir(parents=True, exist_ok=True)
    meta = ensure(args.engine, args.subjects, args.rebuild)
    url = database_url(args.engine, args.subjects)
    print(f"database: {url}: {meta}", flush=True)
    if args.build_only:
        return
    ids = OUT / f"check_api_ids_{args.engine}.json"
    ids.write_text(json.dumps(requests(args.subjects, 100_000, random.Random(7))))
    if not args.cold:
        print(f"page cache: {file_api.prewarm(url)}", flush=True)
    key = api_key(url)
    if args.load == "wrk":
        main_wrk(args, url, ids, key)
        return
    results = []
    for i, mode in enumerate(args.logs.split(",")):
        port = file_api.free_port()
        server = start(url, port, OUT / f"check_api_server_{args.engine}_{mode}.log", mode, args.no_access_log)
        try:
            import httpx

            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:  # warm-up
                for subject, scenario in json.loads(ids.read_text())[:3000]:
                    client.post("/api/v1/checks", json={"subject": subject, "scenario": scenario},
                                headers={"Authorization": f"Bearer {key}"})
                    client.get("/healthz")
            if i == 0:
                print(f"locust: /healthz at {args.rate:.0f} req/s for {args.duration} s …", flush=True)
                results.append(run("health", port, args.rate, args.duration, args.users, ids, key, server,
                                   args.engine, "health"))
            print(f"locust: check (log {mode}) at {args.rate:.0f} req/s for {args.duration} s …", flush=True)
            results.append(run("check", port, args.rate, args.duration, args.users, ids, key, server, args.engine,
                               f"check_{mode}"))
        finally:
            file_api.stop(server)
    print(f"\n{args.subjects:,} subjects ({meta['listed']:,} listed), {args.engine}, target {args.rate:.0f} req/s, "
          f"{args.users} users, {args.duration} s each, server: "
          f"{'uvicorn without access log' if args.no_access_log else 'chengxin serve'}\n")
    print("| run | requests | achieved req/s | failures | p50 ms | p95 ms | p99 ms | max ms | CPU server / locust | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['tag']} | {r['requests']:,} | {r['achieved']:.0f} | {r['failures']} | {r['p50']:.1f} | "
              f"{r['p95']:.1f} | **{r['p99']:.1f}** | {r['max']:.0f} | {r['server_cpu'] * 100:.0f}% / "
              f"{r['locust_cpu'] * 100:.0f}% | {r['load']:.2f} |")
    base = next((r for r in results if r["tag"] == "health"), None)
    for r in results:
        if base and r is not base:
            print(f"{r['tag']}: {100 * r['achieved'] / base['achieved']:.0f}% of the /healthz throughput")


if __name__ == "__main__":
    main()
