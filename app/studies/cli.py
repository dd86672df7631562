"""`moatline study ...`: check, run and screen study files from the command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

study_cli = typer.Typer(help="What-if studies: many seeded games, paired arms, sweeps and sensitivity.", no_args_is_help=True)
USAGE_ERROR, INTERRUPTED = 2, 130


def _fail(message: str, code: int = USAGE_ERROR) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _stopped(message: str, code: int) -> None:
    """After a study was stopped (Ctrl-C, a dead worker): say so and leave at once. The output is already cleaned
    up and the workers are gone; the process pool's exit hooks would only wait for its thread, or print its errors."""
    typer.echo(f"error: {message}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _load(path: Path, most_runs: int | None = None):  # noqa: ANN202
    from app.studies.files import StudyError, load_study

    # strategies named `package.module:function` are found from where the command runs and beside the file
    for folder in (str(path.resolve().parent), os.getcwd()):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        return load_study(path, most_runs=most_runs)
    except StudyError as exc:
        typer.echo(f"{path}: {len(exc.problems)} problem(s)", err=True)
        for p in exc.problems:
            typer.echo(f"  - {p}", err=True)
        raise typer.Exit(1) from None


@study_cli.command("validate")
def validate(files: list[Path] = typer.Argument(..., help="Study files to check.")) -> None:
    """Check study files against their scenarios; list every problem with its field and line."""
    bad = 0
    for path in files:
        try:
            p = _load(path)
        except typer.Exit:
            bad += 1
            continue
        s = p.study
        typer.echo(f"{path}: ok ({p.scenario.id}: {s.runs:,} runs x {len(s.arms)} arm(s) x {len(s.sweep_points)} sweep point(s) "
                   f"= {s.total_runs:,} games)")
    if bad:
        raise typer.Exit(1)


@study_cli.command("schema")
def schema() -> None:
    """Print the JSON Schema of study files."""
    from app.studies.schema import Study

    typer.echo(json.dumps(Study.model_json_schema(), indent=2))


@study_cli.command("run")
def run(
    file: Path = typer.Argument(..., help="The study file."),
    out: Path = typer.Option(..., help="Folder for runs.parquet, summary.csv, summary.json and study.json."),
    workers: int = typer.Option(0, help="Worker processes (default: one per core)."),
    backend: str = typer.Option("local", help="local (worker processes) or dask (a Dask cluster)."),
    scheduler: str = typer.Option("", help="With --backend dask: the scheduler's address, e.g. tcp://10.0.0.5:8786."),
    chunk: int = typer.Option(2_500, min=1, help="Runs a job plays together (memory vs speed)."),
    max_runs: int = typer.Option(0, help="Refuse a study of more games than this (default: MOATLINE_STUDY_MAX_RUNS or 2,000,000)."),
) -> None:
    """Play every arm at every sweep point on the same seeds; write the rows and the paired summaries."""
    from app.studies.play import StrategyFailed
    from app.studies.runner import RunError
    from app.studies.runner import run as run_study

    prepared = _load(file, max_runs or None)
    total = prepared.study.total_runs
    try:
        with _bar(f"{prepared.scenario.id}", total) as advance:
            result = run_study(prepared, out, workers=workers or None, backend=backend, scheduler=scheduler or None,
                               progress=advance, chunk=chunk)
    except KeyboardInterrupt:
        _stopped(f"interrupted: nothing was written to {out} (earlier results there are untouched)", INTERRUPTED)
        return
    except (RunError, StrategyFailed) as exc:
        _fail(f"{exc}\nnothing was written to {out} (earlier results there are untouched)")
        return
    except Exception as exc:  # a worker that died, a Dask error: never a traceback, never half an output
        _stopped(f"the study stopped: {type(exc).__name__}: {exc}\nnothing was written to {out}", USAGE_ERROR)
        return
    typer.echo(result.text())
    lengths = sorted({c.scenario.rounds for c in prepared.configs})
    rounds = f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]}-{lengths[-1]}"
    typer.echo(f"wrote {total:,} games x {rounds} rounds x {len(prepared.scenario.companies)} companies to {out}/")


@study_cli.command("sensitivity")
def sensitivity(
    file: Path = typer.Argument(..., help="A study file with a sensitivity section."),
    method: str = typer.Option("", help="morris, sobol or tornado (default: the file's)."),
    out: Path = typer.Option(None, help="CSV file for the ranked table (default: STUDY-sensitivity.csv beside the study file)."),
    workers: int = typer.Option(0, help="Worker processes (default: one per core)."),
    backend: str = typer.Option("local", help="local or dask."),
    scheduler: str = typer.Option("", help="With --backend dask: the scheduler's address."),
    top: int = typer.Option(0, help="Show only the largest effects of each output."),
) -> None:
    """Screen the named parameter ranges: Morris elementary effects, Sobol indices or a tornado; print and write the ranking."""
    from app.studies import sensitivity as sa
    from app.studies.files import StudyError
    from app.studies.runner import RunError
    from app.studies.screen import point_count, screen

    prepared = _load(file)
    target = out or file.with_name(f"{file.stem}-sensitivity.csv")
    if not target.parent.exists():
        _fail(f"folder {str(target.parent)!r} does not exist")
    s = prepared.study.sensitivity
    try:
        points = point_count(prepared, method or None)
        with _bar(f"{method or (s.method if s else '')} screen", points * (s.runs_per_point if s else 0)) as advance:
            table = screen(prepared, method or None, workers=workers or None, backend=backend, scheduler=scheduler or None,
                           progress=advance)
    except StudyError as exc:
        _fail("; ".join(p.message for p in exc.problems))
        return
    except (RunError, sa.SensitivityError) as exc:
        _fail(str(exc))
        return
    except KeyboardInterrupt:
        _stopped("interrupted: nothing was written", INTERRUPTED)
        return
    tmp = target.with_name(f".{target.name}.partial")
    table.to_csv(tmp, index=False, float_format="%.6g")
    os.replace(tmp, target)
    typer.echo(sa.ranked_table(table, top=top or None))
    typer.echo(f"wrote {target}")


@study_cli.command("from-game")
def from_game(
    archive: Path = typer.Argument(..., help="A game archive (.json) from `moatline game export`."),
    out: Path = typer.Option(..., help="Folder for study.yaml, scenario.yaml and a copy of the archive (game.json)."),
) -> None:
    """Write a study that replays an exported game: its teams' decisions as fixed scripts, its personas, its seed."""
    from app.studies.files import StudyError, study_from_archive

    try:
        text = archive.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {archive} ({exc.strerror if isinstance(exc, OSError) else 'not text'})")
        return
    try:
        scenario_yaml, study_yaml = study_from_archive(text)
    except StudyError as exc:
        _fail(f"{archive}: {exc.problems[0].message}")
        return
    if not out.parent.exists():
        _fail(f"folder {str(out.parent)!r} does not exist")
    out.mkdir(exist_ok=True)
    for name, content in (("game.json", text), ("scenario.yaml", scenario_yaml), ("study.yaml", study_yaml)):
        (out / name).write_text(content, encoding="utf-8")
    typer.echo(f"wrote {out}/study.yaml; run it with: moatline study run {out}/study.yaml --out {out}/results")


@contextmanager
def _bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar with time left, on a terminal; silent otherwise."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("games"),
                  TimeElapsedColumn(), TextColumn("elapsed,"), TimeRemainingColumn(), TextColumn("left"),
                  console=Console(stderr=True), disable=not sys.stderr.isatty(), transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
