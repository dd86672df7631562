"""The `moatline` command line. Bad input gets a plain message and exit code 2, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from app.scenario import Scenario, ScenarioError, find_scenario, json_schema, load_scenario
from app.studies.cli import study_cli

cli = typer.Typer(help="Moatline: a strategy simulator of the AI industry.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
scenario_cli = typer.Typer(help="Check and describe scenario files.", no_args_is_help=True)
cli.add_typer(scenario_cli, name="scenario")
cli.add_typer(study_cli, name="study")

USAGE_ERROR = 2


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Server processes (more than one: PostgreSQL, or SQLite in WAL)."),
) -> None:
    """Apply pending database migrations and serve the web app."""
    from app.web.server import serve as run_server

    run_server(host=host, port=port, workers=workers)


@scenario_cli.command("validate")
def validate(files: list[Path] = typer.Argument(..., help="Scenario files to check.")) -> None:
    """Check scenario files; list every problem with its field and line."""
    bad = 0
    for path in files:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            typer.echo(f"{path}: {len(exc.problems)} problem(s)", err=True)
            for p in exc.problems:
                typer.echo(f"  - {p}", err=True)
            continue
        typer.echo(f"{path}: ok ({sc.name}: {len(sc.companies)} companies, {len(sc.market.segments)} segments, {sc.rounds} rounds)")
    if bad:
        raise typer.Exit(1)


@scenario_cli.command("schema")
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    typer.echo(json_schema())


@cli.command()
def simulate(
    scenario: str = typer.Argument(..., help="A scenario file or a shipped scenario id (e.g. frontier-race)."),
    seats: str = typer.Option("", help="Comma-separated persona per company (default: the scenario's own)."),
    runs: int = typer.Option(1000, help="Number of seeded games."),
    seed: int = typer.Option(0, help="Study seed; each run derives its own."),
    out: Path = typer.Option(..., help="Output table: .csv or .parquet."),
    chunk: int = typer.Option(10_000, help="Games resolved together (memory vs speed)."),
) -> None:
    """Play many seeded games with computer-run personas and write a tidy table."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from app.engine.batch import StudyError
    from app.engine.batch import simulate as run_study

    sc = _scenario_or_fail(scenario)
    seat_list = [s.strip() for s in seats.split(",") if s.strip()] or None
    try:
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), transient=False, disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task(f"{sc.id}", total=runs)
            run_study(sc, runs, seed, seat_list, out, chunk, progress=lambda n: bar.advance(task, n))
    except StudyError as exc:
        fail(str(exc))
    typer.echo(f"wrote {runs} runs x {sc.rounds} rounds x {len(sc.companies)} companies to {out}")


@cli.command("plan-training")
def plan_training(
    params: float = typer.Option(..., help="Total parameters, e.g. 405e9."),
    tokens: float = typer.Option(..., help="Training tokens, e.g. 15.6e12."),
    gpu: str = typer.Option(..., help="GPU name from the scenario catalogue, e.g. H100."),
    active_params: float = typer.Option(None, help="Active parameters per token (Mixture of Experts)."),
    gpus: int = typer.Option(16384, help="GPUs in the cluster."),
    price_per_hour: float = typer.Option(None, help="Rental price per GPU-hour (default: the catalogue's)."),
    scenario: str = typer.Option("frontier-race", help="Scenario whose defaults to use."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What a pre-training run costs (FLOPs, GPU-hours, days, money, energy) and what it buys (loss, capability)."""
    from app.engine.planner import PlanError
    from app.engine.planner import plan_training as plan

    sc = _scenario_or_fail(scenario)
    try:
        result = plan(sc, params, tokens, gpu, gpus, active_params, price_per_hour)
    except PlanError as exc:
        fail(str(exc))
        return
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    per_gpu = (active_params or params) / gpus
    typer.echo(f"Training FLOPs      {result.flops:.3e}\n"
               f"Utilisation         {result.mfu:.1%} MFU ({per_gpu / 1e6:,.1f}M active parameters a GPU)"
               f" x {result.goodput:.0%} goodput\nGPU-hours           {result.gpu_hours:,.0f}\n"
               f"Wall-clock          {result.days:,.1f} days on {gpus:,} {gpu}\nRental cost         ${result.rent_cost_usd:,.0f}\n"
               f"Ownership cost      ${result.own_cost_usd:,.0f} (depreciation + electricity)\nEnergy              {result.energy_mwh:,.0f} MWh\n"
               f"Expected loss       {result.loss:.4f}\nCapability index    {result.capability:.1f} / 100")


game_cli = typer.Typer(help="Stored games.", no_args_is_help=True)
cli.add_typer(game_cli, name="game")


@game_cli.command("verify")
def verify_game(game_id: int = typer.Argument(..., help="The game's number.")) -> None:
    """Replay a stored game from its scenario, seed and decisions; report every stored result that differs."""
    from sqlmodel import Session

    from app.db import create_db_engine
    from app.errors import GameNotFound
    from app.services.rounds import verify
    from app.settings import get_settings

    engine = create_db_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            differences = verify(session, game_id)
    except GameNotFound as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    for d in differences[:50]:
        typer.echo(str(d))
    if differences:
        typer.echo(f"game {game_id}: {len(differences)} stored value(s) differ from the replay", err=True)
        raise typer.Exit(1)
    typer.echo(f"game {game_id}: every stored round matches its replay")


@game_cli.command("export")
def export_game(
    game_id: int = typer.Argument(..., help="The game's number."),
    out: Path = typer.Option(..., help="File to write: .csv (results), .xlsx (scorecard, financials, decisions) or .json (archive)."),
) -> None:
    """Export a game's results for grading, or its archive for another installation."""
    from sqlmodel import Session

    from app.db import create_db_engine
    from app.errors import GameNotFound
    from app.services import exports
    from app.services.games import get_game
    from app.settings import get_settings

    writers = {".csv": lambda s, g: exports.results_csv(s, g).encode(), ".xlsx": exports.results_xlsx,
               ".json": lambda s, g: exports.archive(s, g).encode()}
    if out.suffix.lower() not in writers:
        fail(f"write to a .csv, .xlsx or .json file, not {out.name!r}")
    if not out.parent.exists():
        fail(f"folder {str(out.parent)!r} does not exist")
    engine = create_db_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            out.write_bytes(writers[out.suffix.lower()](session, get_game(session, game_id)))
    except GameNotFound as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"wrote {out}")


@game_cli.command("import")
def import_game(
    archive: Path = typer.Argument(..., help="A game archive (.json) exported by `moatline game export`."),
    instructor: str = typer.Option(..., help="Email of the instructor who will own the game."),
) -> None:
    """Import a game archive: the game is replayed from its inputs and reproduces exactly."""
    from sqlmodel import Session, select

    from app.db import create_db_engine
    from app.errors import GameError
    from app.models import Instructor
    from app.services import archives
    from app.settings import get_settings

    most = get_settings().max_archive_bytes
    try:
        if archive.stat().st_size > most:
            fail(f"{archive} is larger than any game archive (at most {archives.in_words(most)}, "
                 "MOATLINE_MAX_ARCHIVE_BYTES)")
        text = archive.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {archive}: {exc.strerror}")
        return
    except UnicodeDecodeError:
        fail(f"{archive} is not a Moatline game archive (not text)")
        return
    engine = create_db_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            owner = session.exec(select(Instructor).where(Instructor.email == instructor.strip().lower())).first()
            if owner is None or owner.id is None:
                fail(f"no instructor has the email {instructor!r}; sign up first")
                return
            game = archives.import_archive(session, owner.id, text)
            typer.echo(f"imported game {game.id} ({game.name}): {game.current_round} round(s) replayed")
    except GameError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


account_cli = typer.Typer(help="Instructor accounts.", no_args_is_help=True)
cli.add_typer(account_cli, name="account")
LOCAL_SITE = "http://127.0.0.1:8000"  # `moatline serve`'s address, without MOATLINE_PUBLIC_URL


@account_cli.command("reset")
def reset_account(email: str = typer.Argument(..., help="The instructor's email.")) -> None:
    """Print a one-time link where the instructor sets a new password (for sites without email)."""
    from sqlmodel import Session

    from app.db import create_db_engine
    from app.services import accounts
    from app.settings import get_settings
    from app.web.auth import RESET_MINUTES, reset_url

    settings = get_settings()
    engine = create_db_engine(settings.database_url)
    try:
        with Session(engine) as session:
            token = accounts.issue_reset(session, email)
    finally:
        engine.dispose()
    if token is None:
        fail(f"no instructor has the email {email!r}")
        return
    who = accounts.normalise_email(email)
    typer.echo(f"Give this link to {who}; it works once, within {RESET_MINUTES} minutes:")
    typer.echo(reset_url(settings.public_url or LOCAL_SITE, token))


def _scenario_or_fail(name: str) -> Scenario:
    try:
        return find_scenario(name)
    except ScenarioError as exc:
        fail(str(exc))
        raise


def main() -> None:
    cli()
