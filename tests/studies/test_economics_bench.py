"""bench/economics.py and its one table of ranges (bench/calibration.yaml): docs/calibration.md shows
the same table, every row has a measure and a source, and a short run measures every row."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    name = "bench_economics"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "economics.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_docs_calibration_shows_the_ranges_the_bench_reads() -> None:
    bench = _bench()
    doc = (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    assert bench.doc_table(bench.rows()) in doc, (
        "docs/calibration.md is stale; regenerate it: .venv/bin/python bench/economics.py --write-doc")


def test_every_reference_row_has_a_source_a_measure_and_an_ordered_range() -> None:
    bench = _bench()
    for row in bench.rows():
        assert row.id in bench.MEASURES, f"{row.id} has no measure in bench/economics.py"
        assert row.source.strip() and row.reference.strip(), f"{row.id} needs a reference and a source"
        assert row.low < row.high, f"{row.id}: low {row.low} is not below high {row.high}"
        assert set(row.scenarios) <= set(bench.SCENARIOS), f"{row.id} names an unknown scenario"


def test_a_short_run_gives_every_row_a_finite_figure_and_a_verdict() -> None:
    bench = _bench()
    game = bench.play("mixed-ecosystem", runs=8)
    for row in bench.rows():
        if "mixed-ecosystem" not in row.scenarios or row.id in ("settlement_size", "fine_size",
                                                                "valuation_after_scandal"):
            continue  # events too rare for 8 runs
        result = bench.measure(row, game)
        assert math.isfinite(result.value), f"{row.id} measured nothing"
        assert result.p10 <= result.value <= result.p90 or row.stat == "mean"
