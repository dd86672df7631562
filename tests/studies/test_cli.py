"""`moatline study` as an analyst types it: a progress bar with time left, a summary, and nothing left behind when stopped."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from app.cli import cli

MOATLINE = [sys.executable, "-c", "from app.cli import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_run_writes_the_files_and_prints_win_rates_and_paired_differences(tmp_path: Path) -> None:
    study = write(tmp_path, "s.yaml", """\
        scenario: frontier-race
        runs: 40
        seed: 3
        arms:
          - name: baseline
          - name: undercut
            seats: {Aurora AI: {tweaks: [{field: products.prices, times: 0.7}]}}
    """)
    result = CliRunner().invoke(cli, ["study", "run", str(study), "--out", str(tmp_path / "out"), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "baseline: wins" in result.output and "undercut: wins" in result.output
    assert "score differences from the baseline (same seeds), largest first:" in result.output
    assert re.search(r"undercut, Aurora AI: score [+-]", result.output)  # a paired difference, either way
    assert "wrote 80 games x 12 rounds x 6 companies" in result.output
    assert len(pd.read_parquet(tmp_path / "out" / "runs.parquet")) == 80 * 12 * 6


def test_validate_and_schema(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", "scenario: frontier-race\nruns: 10\nsweep: {finance.tax_rate: [0.1, 0.2]}\n")
    bad = write(tmp_path, "bad.yaml", "scenario: frontier-race\nruns: 10\nseats: {Nobody: {persona: idle}}\n")
    ok = CliRunner().invoke(cli, ["study", "validate", str(good)])
    assert ok.exit_code == 0 and "ok (frontier-race: 10 runs x 1 arm(s) x 2 sweep point(s) = 20 games)" in ok.output
    no = CliRunner().invoke(cli, ["study", "validate", str(good), str(bad)])
    assert no.exit_code == 1 and "line 3, seats.Nobody: there is no company 'Nobody'" in no.output
    schema = json.loads(CliRunner().invoke(cli, ["study", "schema"]).output)
    assert {"scenario", "runs", "seed", "overrides", "seats", "arms", "sweep", "sensitivity"} <= set(schema["properties"])


def test_sensitivity_prints_a_ranked_table_and_writes_it(tmp_path: Path) -> None:
    study = write(tmp_path, "s.yaml", """\
        scenario: frontier-race
        runs: 1
        sensitivity:
          method: morris
          output: score
          companies: [Aurora AI]
          runs_per_point: 20
          trajectories: 4
          parameters:
            market.segments.consumer.price_sensitivity: [1.5, 3.0]
            finance.tax_rate: [0.0, 0.4]
            scoring.brand: [0, 0.0001]
    """)
    result = CliRunner().invoke(cli, ["study", "sensitivity", str(study), "--out", str(tmp_path / "sens.csv")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "sens.csv")
    assert list(table.parameter) == list(table.sort_values("rank").parameter) and len(table) == 3
    assert "mu_star" in result.output and "market.segments.consumer.price_sensitivity" in result.output
    tornado = CliRunner().invoke(cli, ["study", "sensitivity", str(study), "--method", "tornado", "--out", str(tmp_path / "t.csv")])
    assert tornado.exit_code == 0 and "swing" in pd.read_csv(tmp_path / "t.csv").columns
    missing = write(tmp_path, "n.yaml", "scenario: frontier-race\nruns: 5\n")
    assert "has no sensitivity section" in CliRunner().invoke(cli, ["study", "sensitivity", str(missing)]).output


def test_on_a_terminal_the_run_shows_a_progress_bar_with_time_left(tmp_path: Path) -> None:
    study = write(tmp_path, "s.yaml", "scenario: frontier-race\nruns: 600\n")
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*MOATLINE, "study", "run", str(study), "--out", str(tmp_path / "o"), "--chunk", "50"],
                            stdin=follower, stdout=follower, stderr=follower, cwd=ROOT, close_fds=True)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            part = os.read(leader, 4096)
        except OSError:
            break
        if not part:
            break
        seen += part
    proc.wait(timeout=60)
    os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))  # colours and cursor moves
    assert proc.returncode == 0, text
    assert "frontier-race" in text and "/600 games" in text and "left" in text and "elapsed" in text


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_ctrl_c_stops_every_worker_and_leaves_earlier_results_untouched(tmp_path: Path) -> None:
    study = write(tmp_path, "s.yaml", "scenario: frontier-race\nruns: 400000\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("earlier\n")
    # as from a terminal: a shell running the suite as a background job (`... &`) ignores SIGINT, and its
    # children, this study among them, would inherit that and never see the Ctrl-C
    proc = subprocess.Popen([*MOATLINE, "study", "run", str(study), "--out", str(out), "--workers", "2"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    import psutil

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(psutil.Process(proc.pid).children(recursive=True)) < 2:
        time.sleep(0.2)
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert len(workers) >= 2
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does: every process of the group gets it
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 130, output
    assert "interrupted: nothing was written" in output and "Traceback" not in output
    psutil.wait_procs(workers, timeout=10)
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    assert not _group_alive(proc.pid)
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"] and (out / "summary.csv").read_text() == "earlier\n"


def test_a_worker_that_dies_stops_the_study_with_a_message_and_no_output(tmp_path: Path) -> None:
    write(tmp_path, "dies.py", "import os\ndef decide(view):\n    if view.round == 2:\n        os._exit(3)\n")
    study = write(tmp_path, "s.yaml", f"scenario: frontier-race\nruns: 40\nseats: {{Aurora AI: {{strategy: {tmp_path / 'dies.py'}:decide}}}}\n")
    out = tmp_path / "out"
    proc = subprocess.run([*MOATLINE, "study", "run", str(study), "--out", str(out), "--workers", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, start_new_session=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the study stopped" in proc.stderr and "nothing was written" in proc.stderr and "Traceback" not in proc.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("flags", [["--backend", "spark"], ["--backend", "dask"]])
def test_a_wrong_backend_is_named(tmp_path: Path, flags: list[str]) -> None:
    study = write(tmp_path, "s.yaml", "scenario: frontier-race\nruns: 4\n")
    result = CliRunner().invoke(cli, ["study", "run", str(study), "--out", str(tmp_path / "o"), *flags])
    assert result.exit_code == 2 and ("backend must be one of" in result.output or "--scheduler ADDRESS" in result.output)
