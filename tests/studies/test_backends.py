"""The same study on one process, on worker processes and on a Dask cluster gives the same files, byte for byte."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.studies import RunError, parse_study, run

FILES = ("runs.parquet", "summary.csv", "summary.json", "study.json")
STUDY = textwrap.dedent("""\
    scenario: product-builders
    runs: 30
    seed: 4
    arms:
      - name: baseline
      - name: cheaper
        seats:
          Quillworks:
            tweaks: [{field: products.prices, times: 0.8}]
    sweep:
      market.outside.gain_per_round: [0.5, 2]
""")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed: pip install -e '.[dask]'")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c.scheduler_address


def files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in FILES}


def test_dask_local_processes_and_one_process_write_identical_files(tmp_path: Path, cluster: str) -> None:
    prepared = parse_study(STUDY, "study.yaml")
    run(prepared, tmp_path / "one", workers=1)
    run(prepared, tmp_path / "pool", workers=2, chunk=7)
    run(prepared, tmp_path / "dask", backend="dask", scheduler=cluster, workers=2, chunk=7)
    one = files(tmp_path / "one")
    assert files(tmp_path / "pool") == one
    assert files(tmp_path / "dask") == one
    assert len(one["runs.parquet"]) > 10_000


def test_chunking_never_changes_a_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.studies.runner.ROW_GROUP_ROWS", 1000)  # row groups that straddle the jobs
    prepared = parse_study(STUDY, "study.yaml")
    run(prepared, tmp_path / "a", workers=1, chunk=30)
    run(prepared, tmp_path / "b", workers=1, chunk=4)
    assert files(tmp_path / "a") == files(tmp_path / "b")
    import pyarrow.parquet as pq

    assert pq.ParquetFile(tmp_path / "a" / "runs.parquet").metadata.num_row_groups == 8  # 7,200 rows


def test_an_unreachable_scheduler_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    with pytest.raises(RunError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run(parse_study(STUDY, "study.yaml"), tmp_path / "out", backend="dask", scheduler="tcp://127.0.0.1:9")
    assert not any((tmp_path / "out").iterdir())


def test_the_dask_backend_needs_an_address(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="--scheduler ADDRESS"):
        run(parse_study(STUDY, "study.yaml"), tmp_path / "out", backend="dask")
    with pytest.raises(RunError, match="backend must be one of local, dask"):
        run(parse_study(STUDY, "study.yaml"), backend="spark")


def test_rows_still_arrive_when_shared_memory_is_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A default Docker container has 64 MB of /dev/shm: a worker that cannot write its rows there sends them pickled."""
    prepared = parse_study(STUDY, "study.yaml")
    run(prepared, tmp_path / "normal", workers=2, chunk=7)
    full = tmp_path / "full"
    full.mkdir()
    full.chmod(0o500)  # nothing can be written in it (root ignores this, so the write is made to fail below too)
    monkeypatch.setattr("app.studies.runner._SHARED", str(full))
    import pyarrow as pa

    def no_room(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pa, "OSFile", no_room)
    run(prepared, tmp_path / "pickled", workers=2, chunk=7)
    assert files(tmp_path / "pickled") == files(tmp_path / "normal")


def test_two_studies_never_write_one_folder_at_once(tmp_path: Path) -> None:
    """Two at once could leave one study's rows beside the other's summary: the second is refused, the first lands."""
    from app.studies.runner import _Output

    out = tmp_path / "out"
    first = _Output(out)
    with pytest.raises(RunError, match="another study is writing to .* now"):
        run(parse_study(STUDY, "study.yaml"), out, workers=1)
    first.abandon()
    run(parse_study(STUDY, "study.yaml"), out, workers=1)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(FILES)
