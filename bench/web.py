"""Web benchmarks: a class of 200 students playing one 40-team game over HTTP, on loopback only.

Prints one `name=value` line per figure; the last line is always `p95_ms=X` (the load phase's overall p95).
No assertions: the targets below are for a reader comparing figures on one machine.

  load phase   40 teams x 5 students load the decision page, autosave 3 times and submit, within one minute
               p95 latency <= 100 ms, no errors (HTTP 5xx, other unexpected statuses, connection failures)
  advance      one 40-team round resolved in-process by `rounds.advance`                    <= 1,000 ms
  throughput   GET /play (the student dashboard, after round 1) vs a bare FastAPI JSON endpoint, both served
               by uvicorn with the same workers, measured in the same run                    ratio >= 0.25
               (one student's dashboard, rendered once and then served from the page cache while its
               revision counters stand still: app/web/page_cache.py; `after_roundK_dashboard_first_view_ms`
               is the render a student waits for after each round)
  page weight  the dashboard's HTML plus every script and stylesheet it references, gzip-compressed
                                                                                              <= 150 KB

Servers: `uvicorn --factory app.web.main:create_app --workers 2` over a fresh temporary SQLite database
(migrated with `app.db.migrate`), and a bare one-endpoint FastAPI app with the same options, each in a
subprocess on a free 127.0.0.1 port, stopped at the end. Throughput uses `wrk` if installed
(`apt-get install -y wrk`), else async httpx clients (slower, so the ratio then means less).

    .venv/bin/python bench/web.py            # 60 s load phase, 5 s per throughput run (the targets refer to these)
    .venv/bin/python bench/web.py --quick    # 6 s load phase, 2 s per throughput run
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.db import create_db_engine, migrate  # noqa: E402
from app.engine.decisions import Decision  # noqa: E402
from app.models import Instructor, Seat  # noqa: E402
from app.scenario import parse_scenario  # noqa: E402
from app.scenario.loader import dump_scenario  # noqa: E402
from app.services import drafts, games, rounds  # noqa: E402
from app.services.setup import GameSetup, create_game_from  # noqa: E402

HOST = "127.0.0.1"
TEAMS = 40
TEAM_SIZE = 5
SAVES_PER_STUDENT = 3
WORKERS = 2
THROUGHPUT_CONNECTIONS = 8
SERVER_START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
PHASE_TIMEOUT_S = 300.0  # hard bound on any phase of client traffic
CSRF_COOKIE = "moatline_csrf"
STUDENT_COOKIE = "moatline_student"
GZIP_LEVEL = 6
MAX_AFTER_ROUNDS = 10  # frontier-race has 12 rounds and the bench resolves two more
KEEPALIVE_S = 3.0  # uvicorn closes idle connections after 5 s (--timeout-keep-alive)

SEAT_RE = re.compile(r'id="seat-(\d+)"\s+name="seat_id"\s+value="(\d+)"')
CSRF_RE = re.compile(r'name="csrf_token"\s+value="([^"]+)"')
VERSION_RE = re.compile(r'id="draft-version"\s+name="version"\s+value="(\d+)"')
ASSET_RE = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\srel="stylesheet"[^>]*\shref)="([^"]+)"')

BARE_APP = textwrap.dedent('''
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/json")
    async def hello() -> dict[str, bool]:
        return {"ok": True}
''')


def emit(name: str, value: object) -> None:
    if isinstance(value, float):
        value = f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    print(f"{name}={value}", flush=True)


# --- servers ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """A uvicorn subprocess (its own process group, so that its workers stop with it)."""

    def __init__(self, label: str, app: str, env: dict[str, str], cwd: Path, log: Path):
        self.label, self.port, self.log = label, free_port(), log
        cmd = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(self.port), "--workers", str(WORKERS),
               "--log-level", "warning", "--no-access-log"]
        if app.endswith("create_app"):
            cmd.insert(4, "--factory")
        self.out = log.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.label} server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                # several answers in a row, so that both workers are most likely up
                if all(httpx.get(self.base + path, timeout=2).status_code < 500 for _ in range(2 * WORKERS)):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.label} server did not answer within {SERVER_START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this script created for this server
                self.proc.wait(timeout=5)
        self.out.close()


# --- the game --------------------------------------------------------------------------------------


def big_scenario_text(n: int) -> str:
    """frontier-race with its companies cloned round-robin to `n`, each under a unique name."""
    data = yaml.safe_load((ROOT / "scenarios" / "frontier-race.yaml").read_text(encoding="utf-8"))
    originals = data["companies"]
    data["companies"] = [{**originals[i % len(originals)], "name": f"{originals[i % len(originals)]['name']} #{i // len(originals) + 1}"}
                         for i in range(n)]
    return dump_scenario(data)


def set_up_game(url: str) -> tuple[int, str]:
    text = big_scenario_text(TEAMS)
    scenario = parse_scenario(text, "bench 40-company scenario")
    engine = create_db_engine(url)
    with Session(engine) as session:
        instructor = Instructor(email="bench@example.com", display_name="Bench", password_hash="-", created_at=datetime.now(UTC))
        session.add(instructor)
        session.commit()
        session.refresh(instructor)
        assert instructor.id is not None
        setup = GameSetup(name="Bench class", scenario_id=scenario.id, seats=(None,) * TEAMS, team_size_max=TEAM_SIZE, seed=2025)
        game = create_game_from(session, instructor.id, scenario, text, setup)
        assert game.id is not None
        out = game.id, game.join_code
    engine.dispose()
    return out


def time_advance(url: str, game_id: int, expected_round: int) -> float:
    engine = create_db_engine(url)
    with Session(engine) as session:
        t0 = time.perf_counter()
        rounds.advance(session, game_id, expected_round)
        ms = 1e3 * (time.perf_counter() - t0)
    engine.dispose()
    return ms


def submit_all_in_process(url: str, game_id: int) -> None:
    """Every team saves and submits a draft for the coming round (so the next advance has 40 decisions)."""
    engine = create_db_engine(url)
    with Session(engine) as session:
        game = games.get_game(session, game_id)
        for seat in games.seats_of(session, game):
            draft = drafts.draft_of(session, seat, game.current_round + 1)
            decision = Decision.model_validate({"products": {"prices": {"consumer": 3.8}}})
            drafts.save_draft(session, game, seat, decision, draft.version if draft else 0, "bench")
            drafts.set_submitted(session, game, seat, True)
    engine.dispose()


def submitted_count(url: str, game_id: int) -> int:
    engine = create_db_engine(url)
    with Session(engine) as session:
        game = games.get_game(session, game_id)
        seats: list[Seat] = games.seats_of(session, game)
        n = sum(1 for s in seats if (d := drafts.draft_of(session, s, game.current_round + 1)) is not None and d.submitted)
    engine.dispose()
    return n


# --- clients ---------------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    conflicts: int = 0
    reloads: int = 0
    saved: int = 0
    submitted: int = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(detail[:300])


@dataclass
class Student:
    index: int
    team: int
    client: httpx.AsyncClient
    csrf: str = ""
    version: int = 0


async def timed(stats: Stats, endpoint: str, method: str, client: httpx.AsyncClient, url: str,
                ok: tuple[int, ...], **kw: Any) -> httpx.Response | None:
    t0 = time.perf_counter()
    try:
        response = await client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        stats.latencies[endpoint].append(1e3 * (time.perf_counter() - t0))
        stats.error(f"{endpoint}:connection", f"{endpoint}: {type(exc).__name__}: {exc}")
        return None
    stats.latencies[endpoint].append(1e3 * (time.perf_counter() - t0))
    if response.status_code >= 500:
        stats.error(f"{endpoint}:5xx", f"{endpoint}: HTTP {response.status_code}: {response.text[:200]}")
        return None
    if response.status_code not in ok:
        stats.error(f"{endpoint}:status", f"{endpoint}: unexpected HTTP {response.status_code}: {response.text[:200]}")
        return None
    return response


async def join_all(base: str, code: str, stats: Stats, rng: random.Random) -> list[Student]:
    """200 students join like browsers: the join page (CSRF cookie + field), then the form (student cookie)."""
    # a browser-like connection per student; idle connections are dropped before uvicorn's 5 s keep-alive timeout,
    # so a request never races the server closing the connection it is sent on (browsers retry those silently)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_S)
    students = [Student(i, i // TEAM_SIZE, httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits))
                for i in range(TEAMS * TEAM_SIZE)]
    gate = asyncio.Semaphore(20)  # a class arriving, not a flood: 20 at a time

    async def one(s: Student) -> None:
        async with gate:
            page = await timed(stats, "GET /join/{code}", "GET", s.client, f"/join/{code}", (200,))
            if page is None:
                return
            seats = [int(a) for a, _ in SEAT_RE.findall(page.text)]
            token = CSRF_RE.search(page.text)
            if len(seats) != TEAMS or token is None:
                stats.error("join:page", f"join page shows {len(seats)} seats, csrf field {'found' if token else 'missing'}")
                return
            s.csrf = token.group(1)
            form = {"display_name": f"Student {s.index:03d}", "seat_id": str(seats[s.team]), "csrf_token": s.csrf}
            done = await timed(stats, "POST /join/{code}", "POST", s.client, f"/join/{code}", (303,), data=form)
            if done is not None and STUDENT_COOKIE not in s.client.cookies:
                stats.error("join:cookie", "no student cookie after joining")

    order = list(students)
    rng.shuffle(order)
    await asyncio.wait_for(asyncio.gather(*(one(s) for s in order)), PHASE_TIMEOUT_S)
    await asyncio.gather(*(s.client.aclose() for s in students if STUDENT_COOKIE not in s.client.cookies))
    return [s for s in students if STUDENT_COOKIE in s.client.cookies]


def _version(text: str) -> int | None:
    found = VERSION_RE.search(text)
    return int(found.group(1)) if found else None


async def load_decide(s: Student, stats: Stats) -> bool:
    page = await timed(stats, "GET /play/decide", "GET", s.client, "/play/decide", (200,))
    if page is None:
        return False
    version, token = _version(page.text), CSRF_RE.search(page.text)
    if version is None or token is None:
        stats.error("decide:page", "decision page without draft-version or csrf field")
        return False
    s.version, s.csrf = version, token.group(1)
    return True


async def play(s: Student, start_at: float, think: tuple[float, float], team_done: dict[int, list[int]],
               stats: Stats, rng: random.Random) -> None:
    """Open the decision page, autosave 3 times (reloading after a teammate's newer save, as the page asks),
    and, for the last of the team to finish, submit."""
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    if not await load_decide(s, stats):
        return
    for k in range(SAVES_PER_STUDENT):
        await asyncio.sleep(rng.uniform(*think))
        price = f"{3.0 + 0.1 * ((s.index + k) % 10):.2f}"
        form = {"version": str(s.version), "products.prices.consumer": price, "csrf_token": s.csrf}
        headers = {"HX-Request": "true", "X-CSRF-Token": s.csrf}
        r = await timed(stats, "POST /play/decide/autosave", "POST", s.client, "/play/decide/autosave", (200, 409),
                        data=form, headers=headers)
        if r is None:
            continue
        if r.status_code == 200 and "status-message\">Saved.</strong>" in r.text:
            stats.saved += 1
            s.version = _version(r.text) or s.version
        else:  # a teammate saved first: expected, not an error; reload like the status line says
            stats.conflicts += 1
            stats.reloads += 1
            await load_decide(s, stats)
    team_done[s.team].append(s.index)
    if len(team_done[s.team]) == TEAM_SIZE:
        r = await timed(stats, "POST /play/submit", "POST", s.client, "/play/submit", (303, 409),
                        data={"submitted": "1", "csrf_token": s.csrf})
        if r is not None and r.status_code == 303:
            stats.submitted += 1


async def load_phase(students: list[Student], spread_s: float, think: tuple[float, float], stats: Stats,
                     rng: random.Random) -> float:
    t0 = time.monotonic()
    starts = [t0 + spread_s * i / len(students) for i in range(len(students))]
    rng.shuffle(starts)
    team_done: dict[int, list[int]] = defaultdict(list)
    await asyncio.wait_for(asyncio.gather(*(play(s, at, think, team_done, stats, rng) for s, at in zip(students, starts, strict=True))),
                           spread_s + PHASE_TIMEOUT_S)
    return time.monotonic() - t0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]  # nearest rank


SHORT = {"GET /join/{code}": "join_get", "POST /join/{code}": "join_post", "GET /play/decide": "decide_get",
         "POST /play/decide/autosave": "autosave", "POST /play/submit": "submit"}


def report_latencies(prefix: str, stats: Stats) -> list[float]:
    everything: list[float] = []
    for endpoint, values in stats.latencies.items():
        short = SHORT.get(endpoint, endpoint)
        emit(f"{prefix}{short}_requests", len(values))
        emit(f"{prefix}{short}_p50_ms", statistics.median(values))
        emit(f"{prefix}{short}_p95_ms", percentile(values, 95))
        emit(f"{prefix}{short}_max_ms", max(values))
        everything += values
    return everything


# --- throughput ------------------------------------------------------------------------------------


def wrk_rate(url: str, seconds: float, headers: dict[str, str]) -> tuple[float, str]:
    cmd = ["wrk", "-t2", f"-c{THROUGHPUT_CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    rate = re.search(r"Requests/sec:\s*([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = re.search(r"Socket errors:(.*)", out)
    notes = ", ".join(x for x in [f"non-2xx {bad.group(1)}" if bad else "", f"socket errors{errors.group(1)}" if errors else ""] if x)
    return (float(rate.group(1)) if rate else float("nan")), notes


async def httpx_rate(url: str, seconds: float, headers: dict[str, str]) -> tuple[float, str]:
    done, bad = 0, 0
    end = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done, bad
        async with httpx.AsyncClient(headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
            while time.monotonic() < end:
                r = await client.get(url)
                done += 1
                bad += r.status_code >= 400

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(THROUGHPUT_CONNECTIONS)))
    return done / (time.monotonic() - t0), f"non-2xx {bad}" if bad else ""


def rate(url: str, seconds: float, headers: dict[str, str]) -> tuple[float, str]:
    if shutil.which("wrk"):
        return wrk_rate(url, seconds, headers)
    return asyncio.run(httpx_rate(url, seconds, headers))


async def probe(base: str, cookies: dict[str, str], rnd: int, n: int = 20) -> None:
    """Median latency of one student's requests, one at a time, after `rnd` resolved rounds (pages that
    rebuild the game's state grow with the rounds played)."""
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=REQUEST_TIMEOUT_S) as client:
        for name, path in [("dashboard", "/play"), ("decide", "/play/decide"), ("status_poll", "/play/decide/status?mine=0")]:
            times = []
            for _ in range(n + 2):
                t0 = time.perf_counter()
                r = await client.get(path)
                times.append(1e3 * (time.perf_counter() - t0))
                if r.status_code != 200:
                    emit(f"after_round{rnd}_{name}_status", r.status_code)
                    break
            if name == "dashboard":  # the first view after a round is rendered; the rest come from the page cache
                emit(f"after_round{rnd}_dashboard_first_view_ms", times[0])
            emit(f"after_round{rnd}_{name}_p50_ms", statistics.median(times[2:] or times))  # the first two warm each worker


# --- page weight -----------------------------------------------------------------------------------


async def page_weight(base: str, cookies: dict[str, str]) -> None:
    headers = {"Accept-Encoding": "gzip"}
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=REQUEST_TIMEOUT_S) as client:

        async def fetch(path: str) -> tuple[bytes, bytes, bool]:
            """(the bytes on the wire, the decoded body, whether the server compressed them)"""
            async with client.stream("GET", path, headers=headers) as r:
                wire = b"".join([chunk async for chunk in r.aiter_raw()])
                compressed = r.headers.get("content-encoding", "") == "gzip"
                if r.status_code != 200:
                    raise SystemExit(f"GET {path} answered {r.status_code}")
            return wire, (gzip.decompress(wire) if compressed else wire), compressed

        wire, html, compressed = await fetch("/play")
        assets = list(dict.fromkeys(ASSET_RE.findall(html.decode())))
        parts = [("html", wire, html, compressed)]
        for path in assets:
            parts.append((path, *(await fetch(path))))
    server_compressed = sum(1 for *_, c in parts if c)
    emit("page_server_compresses", f"{server_compressed}/{len(parts)} responses (the rest gzipped here, level {GZIP_LEVEL})")
    total_raw = total_gz = 0
    for name, wire, body, was in parts:
        gz = len(wire) if was else len(gzip.compress(body, GZIP_LEVEL))
        total_raw += len(body)
        total_gz += gz
        label = "page_html" if name == "html" else "page_asset_" + re.sub(r"[^A-Za-z0-9]+", "_", name.strip("/")).strip("_")
        emit(f"{label}_bytes", f"{len(body)} raw, {gz} gzip")
    emit("page_assets", len(assets))
    emit("page_raw_bytes", total_raw)
    emit("page_gzip_bytes", total_gz)
    emit("page_gzip_kb", total_gz / 1000)


# --- main ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="6 s load phase and 2 s throughput runs (a smoke run)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--after-rounds", type=int, default=0, metavar="K",
                        help="resolve K rounds (every team carrying on) before the class plays, to see a mid-game load "
                             "(default 0: the first round; the targets refer to that)")
    args = parser.parse_args()
    if not 0 <= args.after_rounds <= MAX_AFTER_ROUNDS:
        parser.error(f"--after-rounds must be between 0 and {MAX_AFTER_ROUNDS} (the game has 12 rounds; two more are resolved)")
    spread_s = 6.0 if args.quick else 60.0
    think = (0.05, 0.2) if args.quick else (0.5, 2.0)  # between one autosave and the next (htmx waits 1.2 s after a change)
    tput_s = 2.0 if args.quick else 5.0
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="moatline-bench-web-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        migrate(url)
        game_id, code = set_up_game(url)
        for k in range(args.after_rounds):
            time_advance(url, game_id, k)
        (folder / "bare_app.py").write_text(BARE_APP)
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        env.pop("MOATLINE_ENVIRONMENT", None)
        servers = [Server("moatline", "app.web.main:create_app", env, ROOT, folder / "moatline.log"),
                   Server("bare", "bare_app:app", {**env, "PYTHONPATH": str(folder)}, folder, folder / "bare.log")]
        try:
            app_server, bare_server = servers
            app_server.wait_ready("/join")
            bare_server.wait_ready("/json")
            emit("mode", "quick" if args.quick else "full")
            emit("workers", WORKERS)
            emit("teams", TEAMS)
            emit("students", TEAMS * TEAM_SIZE)
            emit("rounds_resolved_before_load", args.after_rounds)
            run(app_server, bare_server, url, game_id, code, args.after_rounds, spread_s, think, tput_s, rng)
        finally:
            for server in servers:
                server.stop()
            for server in servers:
                lines = server.log.read_text(errors="replace").splitlines()
                errors = [i for i, line in enumerate(lines) if line.startswith("ERROR")]
                if errors:
                    emit(f"{server.label}_server_log_errors", len(errors))
                    last = lines[errors[-1]:][-12:]  # the end of the last traceback: where it failed and why
                    print("\n".join(f"# {server.label} log: {line}" for line in last), flush=True)


def run(app_server: Server, bare_server: Server, url: str, game_id: int, code: str, before: int, spread_s: float,
        think: tuple[float, float], tput_s: float, rng: random.Random) -> None:
    # joining (not part of the load phase's figures)
    join_stats = Stats()
    result = asyncio.run(_class(app_server.base, code, spread_s, think, join_stats, rng))
    students_joined, load_stats, load_wall, cookie = result
    emit("joined", students_joined)
    report_latencies("join_", join_stats)
    emit("join_errors", sum(join_stats.errors.values()))

    emit("load_spread_s", spread_s)
    emit("load_wall_s", load_wall)
    overall = report_latencies("", load_stats)
    errors = sum(load_stats.errors.values())
    emit("saves_ok", load_stats.saved)
    emit("version_conflicts", load_stats.conflicts)
    emit("reloads_after_conflict", load_stats.reloads)
    emit("teams_submitted_http", load_stats.submitted)
    emit("teams_submitted_db", submitted_count(url, game_id))
    for kind, n in sorted(load_stats.errors.items()):
        emit(f"errors_{kind}", n)
    for sample in load_stats.error_samples + join_stats.error_samples:
        print(f"# error sample: {sample}", flush=True)
    emit("requests", len(overall))
    emit("errors", errors)
    emit("overall_p50_ms", statistics.median(overall) if overall else float("nan"))
    emit("overall_p95_ms", percentile(overall, 95))
    emit("overall_max_ms", max(overall) if overall else float("nan"))

    emit(f"advance_round{before + 1}_ms", time_advance(url, game_id, before))
    headers = {"Cookie": f"{STUDENT_COOKIE}={cookie[STUDENT_COOKIE]}; {CSRF_COOKIE}={cookie[CSRF_COOKIE]}"}
    asyncio.run(probe(app_server.base, cookie, before + 1))

    rate(app_server.base + "/play", 1.0, headers)  # warm both workers (scenario parse, templates)
    rate(bare_server.base + "/json", 1.0, {})
    dash, dash_notes = rate(app_server.base + "/play", tput_s, headers)
    small, small_notes = rate(app_server.base + "/join", tput_s, headers)
    bare, bare_notes = rate(bare_server.base + "/json", tput_s, {})
    emit("throughput_tool", "wrk" if shutil.which("wrk") else "httpx")
    emit("throughput_connections", THROUGHPUT_CONNECTIONS)
    emit("throughput_seconds", tput_s)
    for name, value, notes in [("dashboard", dash, dash_notes), ("code_page", small, small_notes), ("bare_json", bare, bare_notes)]:
        emit(f"{name}_rps", value)
        if notes:
            emit(f"{name}_notes", notes)
    emit("code_page_over_bare", small / bare if bare else float("nan"))
    emit("dashboard_over_bare", dash / bare if bare else float("nan"))

    asyncio.run(page_weight(app_server.base, cookie))

    submit_all_in_process(url, game_id)
    emit(f"advance_round{before + 2}_ms", time_advance(url, game_id, before + 1))
    asyncio.run(probe(app_server.base, cookie, before + 2))
    print(f"p95_ms={percentile(overall, 95):.1f}", flush=True)


async def _class(base: str, code: str, spread_s: float, think: tuple[float, float], join_stats: Stats,
                 rng: random.Random) -> tuple[int, Stats, float, dict[str, str]]:
    students = await join_all(base, code, join_stats, rng)
    if not students:
        raise SystemExit("no student could join; see the error samples above")
    try:
        stats = Stats()
        wall = await load_phase(students, spread_s, think, stats, rng)
        first = students[0].client.cookies
        cookie = {STUDENT_COOKIE: first[STUDENT_COOKIE], CSRF_COOKIE: first[CSRF_COOKIE]}
        return len(students), stats, wall, cookie
    finally:
        await asyncio.gather(*(s.client.aclose() for s in students))


if __name__ == "__main__":
    main()
