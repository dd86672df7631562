"""Bursts: 200 simultaneous student requests at a served Moatline, on loopback only.

Target (the hardening issue, point 3): every request answers 200 or 503 (with `Retry-After`) within 2 s, no 500,
no connection error, and no lost save: every autosave answered "Saved." is in the database, and no other is.

Servers, each a subprocess stopped at the end:
  sqlite     `moatline serve` (one worker) over a fresh temporary SQLite file
  postgres   `moatline serve --workers 2` over a PostgreSQL database this script creates and drops
             (on the server of --postgres-url / MOATLINE_BENCH_POSTGRES_URL; skipped when none answers)

The class: 5 games of 40 companies (frontier-race cloned), 200 students each alone on a team, joined in-process.
Every student's client opens its connection first (a static file), then all requests of a scenario leave at once:
  pages       200 students GET /play/decide
  dashboards  200 students GET /play (a real browser's cookies: the page cache reads the revision counters first)
  autosaves   200 students POST /play/decide/autosave (htmx, CSRF header), each a first draft at version 0
  one_student one student's token on 60 connections GETs /api/v1/games/{id}/decision, while 140 other students
              GET /play/decide (`others_200` says how many of them were served)

Prints `name=value` lines per scenario (counts by status, p50/p95/max latency in ms, saves) and PASS or FAIL;
the last line is always `burst=PASS` or `burst=FAIL`. Bounded: every request times out after 10 s, every phase
after 60 s.

    .venv/bin/python bench/burst.py                  # both servers
    .venv/bin/python bench/burst.py --only sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from app.db import create_db_engine, migrate  # noqa: E402
from app.models import Instructor, TeamDecision  # noqa: E402
from app.scenario import parse_scenario  # noqa: E402
from app.services import games, students  # noqa: E402
from app.services.setup import GameSetup, create_game_from  # noqa: E402
from app.web.security import CSRF_COOKIE, binding_for, csrf_token_for, new_csrf_token  # noqa: E402
from bench.web import big_scenario_text, emit, free_port, percentile  # noqa: E402

HOST = "127.0.0.1"
GAMES, TEAMS = 5, 40  # 200 students, one per team: each autosave is its team's own first draft
ONE_STUDENT_CONNECTIONS = 60
DEADLINE_MS = 2000.0  # the target: every answer within 2 s
REQUEST_TIMEOUT_S = 10.0
PHASE_TIMEOUT_S = 60.0
SERVER_START_TIMEOUT_S = 60.0
SECRET = "burst-bench-secret-" + "x" * 32
STUDENT_COOKIE = "moatline_student"
PRICE = "3.70"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
SAVED = "status-message\">Saved.</strong>"  # the status block of templates/play/decide.html


# --- the class -------------------------------------------------------------------------------------


@dataclass
class Student:
    name: str
    token: str
    game_id: int
    csrf: str = field(default_factory=lambda: new_csrf_token(SECRET))


def set_up_class(url: str) -> list[Student]:
    """5 games of 40 one-student teams, on a migrated database; the students' tokens."""
    scenario_text = big_scenario_text(TEAMS)
    scenario = parse_scenario(scenario_text, "burst 40-company scenario")
    engine = create_db_engine(url)
    out: list[Student] = []
    with Session(engine) as session:
        for g in range(GAMES):
            teacher = Instructor(email=f"burst{g}@example.com", display_name="Burst", password_hash="-", created_at=datetime.now(UTC))
            session.add(teacher)
            session.commit()
            setup = GameSetup(name=f"Burst {g}", scenario_id=scenario.id, seats=(None,) * TEAMS, team_size_max=1, seed=g)
            game = create_game_from(session, teacher.id or 0, scenario, scenario_text, setup)
            for i, seat in enumerate(games.seats_of(session, game)):
                name = f"Student {g}-{i:02d}"
                out.append(Student(name, students.join(session, game, seat.id, name).token, game.id or 0))
    engine.dispose()
    return out


def saved_in_database(url: str, names: set[str]) -> set[str]:
    """The students whose first draft is stored, with the price they sent."""
    engine = create_db_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(TeamDecision).where(col(TeamDecision.updated_by).in_(names))).all()
        found = {r.updated_by for r in rows if f'"consumer":{float(PRICE)}' in r.payload.replace(" ", "")}
    engine.dispose()
    return found


# --- servers ---------------------------------------------------------------------------------------


class Server:
    """`moatline serve` in a subprocess (its own process group, so that its workers stop with it)."""

    def __init__(self, url: str, workers: int, log: Path):
        self.port, self.log = free_port(), log
        env = {**os.environ, "DATABASE_URL": url, "MOATLINE_ENVIRONMENT": "production", "MOATLINE_SECRET_KEY": SECRET}
        cmd = [str(Path(sys.executable).with_name("moatline")), "serve", "--host", HOST, "--port", str(self.port),
               "--workers", str(workers)]
        self.out = log.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://{HOST}:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if all(httpx.get(self.base + "/healthz", timeout=2).status_code == 200 for _ in range(4)):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server did not answer within {SERVER_START_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this script created for this server
                self.proc.wait(timeout=5)
        self.out.close()


# --- bursts ----------------------------------------------------------------------------------------


@dataclass
class Shot:
    """One request of a burst, and what came back."""

    who: Student
    kind: str  # page, dashboard, autosave, api
    status: int = 0  # 0: no answer (connection error or timeout)
    ms: float = 0.0
    retry_after: str | None = None
    saved: bool = False
    error: str = ""


class Connection:
    """One keep-alive HTTP/1.1 connection, spoken by hand: 200 of them cost the client little CPU (httpx spends
    about a millisecond a request, which on 2 shared cores would be counted as the server's latency)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection(HOST, port))

    async def ask(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one request; its status, headers (lower-case names) and body."""
        self.writer.write(request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:] if line)}
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = await self._chunks()
        else:
            body = b""
        return int(head[0].split()[1]), headers, body

    async def _chunks(self) -> bytes:
        body = b""
        while size := int((await self.reader.readuntil(b"\r\n")).strip() or b"0", 16):
            body += (await self.reader.readexactly(size + 2))[:-2]
        await self.reader.readuntil(b"\r\n")
        return body

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass


def http_request(port: int, method: str, path: str, s: Student, headers: dict[str, str] | None = None,
                 form: dict[str, str] | None = None) -> bytes:
    body = urlencode(form).encode() if form else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Cookie: {STUDENT_COOKIE}={s.token}; {CSRF_COOKIE}={s.csrf}",
             *(f"{k}: {v}" for k, v in (headers or {}).items()), f"Content-Length: {len(body)}"]
    if form:
        lines.append("Content-Type: application/x-www-form-urlencoded")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def request_of(port: int, shot: Shot) -> bytes:
    s = shot.who
    if shot.kind == "page":
        return http_request(port, "GET", "/play/decide", s)
    if shot.kind == "dashboard":
        return http_request(port, "GET", "/play", s)
    if shot.kind == "api":
        return http_request(port, "GET", f"/api/v1/games/{s.game_id}/decision", s, {"Authorization": f"Bearer {s.token}"})
    token = csrf_token_for(SECRET, s.csrf, binding_for(None, s.token))  # what the student's page would carry
    form = {"version": "0", "products.prices.consumer": PRICE, "csrf_token": token}
    return http_request(port, "POST", "/play/decide/autosave", s, {"HX-Request": "true", "X-CSRF-Token": token}, form)


async def fire(connection: Connection, request: bytes, shot: Shot, go: asyncio.Event) -> None:
    await go.wait()
    t0 = time.perf_counter()
    try:
        status, headers, body = await asyncio.wait_for(connection.ask(request), REQUEST_TIMEOUT_S)
        shot.status, shot.retry_after = status, headers.get("retry-after")
        shot.saved = status == 200 and SAVED.encode() in body
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
        shot.error = f"{type(exc).__name__}: {exc}"
    shot.ms = 1e3 * (time.perf_counter() - t0)


async def burst(port: int, shots: list[Shot]) -> None:
    """Open every connection (answering a static file), then send every shot at the same moment."""
    connections = await asyncio.wait_for(asyncio.gather(*(Connection.open(port) for _ in shots)), PHASE_TIMEOUT_S)
    try:
        warm = [c.ask(http_request(port, "GET", "/static/app.css", shot.who)) for c, shot in zip(connections, shots, strict=True)]
        await asyncio.wait_for(asyncio.gather(*warm), PHASE_TIMEOUT_S)
        requests = [request_of(port, shot) for shot in shots]
        go = asyncio.Event()
        sent = asyncio.gather(*(fire(c, r, s, go) for c, r, s in zip(connections, requests, shots, strict=True)))
        await asyncio.sleep(0.2)  # every task waiting at the gate
        go.set()
        await asyncio.wait_for(sent, PHASE_TIMEOUT_S)
    finally:
        await asyncio.gather(*(c.close() for c in connections))


def judge(label: str, shots: list[Shot], saved_db: set[str] | None = None) -> bool:
    """Print the scenario's figures; PASS if every answer is a 200 or a 503 with Retry-After within 2 s and, for
    autosaves, the stored drafts are exactly the answered saves."""
    statuses = Counter(s.status for s in shots)
    times = [s.ms for s in shots]
    emit(f"{label}_requests", len(shots))
    for status, n in sorted(statuses.items()):
        emit(f"{label}_status_{status or 'no_answer'}", n)
    emit(f"{label}_p50_ms", statistics.median(times))
    emit(f"{label}_p95_ms", percentile(times, 95))
    emit(f"{label}_max_ms", max(times))
    for status in (200, 503):  # the refusals should be the fast ones
        of_status = [s.ms for s in shots if s.status == status]
        if of_status:
            emit(f"{label}_{status}_p50_ms", statistics.median(of_status))
            emit(f"{label}_{status}_max_ms", max(of_status))
    problems = [f"HTTP {st} x{n}" for st, n in statuses.items() if st not in (200, 503)]
    problems += ["503 without Retry-After"] * any(s.status == 503 and s.retry_after != "1" for s in shots)
    problems += [f"{sum(t > DEADLINE_MS for t in times)} answers after 2 s"] * any(t > DEADLINE_MS for t in times)
    if saved_db is not None:
        answered = {s.who.name for s in shots if s.saved}
        emit(f"{label}_saves_answered", len(answered))
        emit(f"{label}_saves_in_database", len(saved_db))
        lost, unasked = answered - saved_db, saved_db - answered
        problems += [f"{len(lost)} saves answered but not stored"] * bool(lost)
        problems += [f"{len(unasked)} stored without a Saved answer"] * bool(unasked)
    errors = [s.error for s in shots if s.error][:3]
    if errors:
        emit(f"{label}_error_samples", " | ".join(errors))
    verdict = "PASS" if not problems else "FAIL: " + "; ".join(problems)
    emit(f"{label}_verdict", verdict)
    return not problems


def warm_up(prefix: str, base: str, class_: list[Student]) -> None:
    """Each game's decision page once per worker, as when the class joined (the first replays the game), then
    one student's page alone: what a request costs without a crowd."""
    firsts = [s for i, s in enumerate(class_) if i % TEAMS == 0]
    times = []
    for s in firsts * 4 + class_[1:11]:
        t0 = time.perf_counter()
        httpx.get(base + "/play/decide", cookies={STUDENT_COOKIE: s.token}, timeout=REQUEST_TIMEOUT_S).raise_for_status()
        times.append(1e3 * (time.perf_counter() - t0))
    emit(f"{prefix}_page_alone_ms", statistics.median(times[-10:]))


def run_scenarios(prefix: str, base: str, port: int, url: str, class_: list[Student]) -> bool:
    warm_up(prefix, base, class_)
    pages = [Shot(s, "page") for s in class_]
    asyncio.run(burst(port, pages))
    ok = judge(f"{prefix}_pages", pages)
    dashboards = [Shot(s, "dashboard") for s in class_]
    asyncio.run(burst(port, dashboards))
    ok &= judge(f"{prefix}_dashboards", dashboards)
    autosaves = [Shot(s, "autosave") for s in class_]
    asyncio.run(burst(port, autosaves))
    ok &= judge(f"{prefix}_autosaves", autosaves, saved_in_database(url, {s.name for s in class_}))
    greedy, others = class_[0], class_[1:1 + len(class_) - ONE_STUDENT_CONNECTIONS]
    mixed = [Shot(greedy, "api") for _ in range(ONE_STUDENT_CONNECTIONS)] + [Shot(s, "page") for s in others]
    asyncio.run(burst(port, mixed))
    ok &= judge(f"{prefix}_one_student", mixed)
    emit(f"{prefix}_one_student_token_200", sum(s.status == 200 for s in mixed if s.kind == "api"))
    emit(f"{prefix}_one_student_others_200", sum(s.status == 200 for s in mixed if s.kind == "page"))
    return ok


# --- backends --------------------------------------------------------------------------------------


def on_sqlite(folder: Path) -> bool:
    url = f"sqlite:///{folder / 'burst.db'}"
    migrate(url)
    class_ = set_up_class(url)
    server = Server(url, workers=1, log=folder / "sqlite-server.log")
    try:
        server.wait_ready()
        return run_scenarios("sqlite", server.base, server.port, url, class_)
    finally:
        server.stop()


def on_postgres(folder: Path, admin_url: str) -> bool | None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error: no server to use
        print(f"# postgres skipped: {admin_url} does not answer ({type(exc).__name__})", flush=True)
        return None
    name = f"moatline_burst_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", admin_url)
    server: Server | None = None
    try:
        migrate(url)
        class_ = set_up_class(url)
        server = Server(url, workers=2, log=folder / "postgres-server.log")
        server.wait_ready()
        return run_scenarios("postgres", server.base, server.port, url, class_)
    finally:
        if server is not None:
            server.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default=os.environ.get("MOATLINE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES))
    args = parser.parse_args()
    results: list[bool | None] = []
    with tempfile.TemporaryDirectory(prefix="moatline-burst-") as tmp:
        if args.only != "postgres":
            results.append(on_sqlite(Path(tmp)))
        if args.only != "sqlite":
            results.append(on_postgres(Path(tmp), args.postgres_url))
    emit("burst", "PASS" if all(r is not False for r in results) else "FAIL")


if __name__ == "__main__":
    main()
