"""The sensitivity layer on analytic functions whose answers are known, plus its contract and its errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from SALib.test_functions import Ishigami

from app.studies.sensitivity import (
    DEFAULT_BATCH_SIZE,
    Parameter,
    SensitivityError,
    morris,
    ranked_table,
    sample_count,
    sobol,
    tornado,
)

UNIT = [Parameter("a", 0.0, 1.0), Parameter("b", 0.0, 1.0), Parameter("c", 0.0, 1.0)]


def model(*functions):
    """An evaluate callable from per-point functions, one per output."""
    def evaluate(points):
        return np.array([[f(p) for f in functions] for p in points], dtype=float)
    return evaluate


def linear(p):
    return 10 * p["a"] + 1 * p["b"] + 0 * p["c"]


def product(p):
    return p["a"] * p["b"]


class Recorder:
    """Wraps an evaluate callable and keeps every batch it was given."""

    def __init__(self, evaluate):
        self.evaluate = evaluate
        self.batches: list[list[dict[str, float]]] = []

    def __call__(self, points):
        self.batches.append([dict(p) for p in points])
        return self.evaluate(points)

    @property
    def points(self):
        return [p for batch in self.batches for p in batch]


def by_parameter(df, output):
    return df[df["output"] == output].set_index("parameter")


# ---------------------------------------------------------------------------------------------------
# Morris


def test_morris_ranks_a_linear_function_by_its_coefficients():
    df = morris(UNIT, model(linear), ["y"], trajectories=10, seed=1)
    assert list(df.columns) == ["output", "parameter", "mu_star", "mu_star_conf", "mu", "sigma", "rank"]
    assert list(df["parameter"]) == ["a", "b", "c"]
    assert list(df["rank"]) == [1, 2, 3]
    y = by_parameter(df, "y")
    # an elementary effect is the change per full range: the coefficients themselves on [0, 1]
    assert y.loc["a", "mu_star"] == pytest.approx(10.0)
    assert y.loc["b", "mu_star"] == pytest.approx(1.0)
    assert abs(y.loc["c", "mu_star"]) < 1e-12
    assert y.loc["a", "mu"] == pytest.approx(10.0)
    assert (y["sigma"] < 1e-9).all()  # linear: every effect is the same


def test_morris_effect_scales_with_the_range():
    df = morris([Parameter("a", 0.0, 2.0), Parameter("b", 0.0, 1.0)], model(lambda p: 10 * p["a"] + p["b"]), ["y"])
    assert by_parameter(df, "y").loc["a", "mu_star"] == pytest.approx(20.0)


def test_morris_shows_an_interaction_in_sigma():
    df = morris(UNIT, model(linear, product), ["linear", "product"], trajectories=20, seed=3)
    lin, prod = by_parameter(df, "linear"), by_parameter(df, "product")
    assert prod.loc["a", "sigma"] > 0.1 and prod.loc["b", "sigma"] > 0.1
    assert prod.loc["c", "sigma"] == 0 and prod.loc["c", "mu_star"] == 0
    assert lin.loc["a", "sigma"] < 1e-9
    # rows come per output in the order given, then by rank
    assert list(df["output"]) == ["linear"] * 3 + ["product"] * 3
    assert list(df[df["output"] == "product"]["parameter"])[-1] == "c"


# ---------------------------------------------------------------------------------------------------
# Sobol'


ISHIGAMI = [Parameter(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]


def ishigami(points):
    x = np.array([[p["x1"], p["x2"], p["x3"]] for p in points])
    return Ishigami.evaluate(x)[:, None]


def test_sobol_finds_the_known_ishigami_indices():
    df = sobol(ISHIGAMI, ishigami, ["y"], base_samples=1024, seed=0)
    assert list(df.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf", "rank"]
    y = by_parameter(df, "y")
    # analytic values for A=7, B=0.1: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    for name, s1, st in (("x1", 0.314, 0.558), ("x2", 0.442, 0.442), ("x3", 0.0, 0.244)):
        assert y.loc[name, "S1"] == pytest.approx(s1, abs=0.05), name
        assert y.loc[name, "ST"] == pytest.approx(st, abs=0.05), name
    assert y.loc["x3", "ST"] > y.loc["x3", "S1"] + 0.15  # x3 acts only with x1
    assert list(df["parameter"]) == ["x1", "x2", "x3"]  # ranked by ST


def test_sobol_shows_an_interaction_as_st_above_s1():
    df = sobol(UNIT, model(product), ["y"], base_samples=1024, seed=2)
    y = by_parameter(df, "y")
    # y = a b on [0, 1]^2: S1 = 3/7, ST = 4/7 for a and for b; c does nothing
    for name in ("a", "b"):
        assert y.loc[name, "S1"] == pytest.approx(3 / 7, abs=0.06)
        assert y.loc[name, "ST"] == pytest.approx(4 / 7, abs=0.06)
        assert y.loc[name, "ST"] > y.loc[name, "S1"] + 0.05
    assert y.loc["c", "ST"] == pytest.approx(0, abs=1e-12)
    assert y.loc["c", "rank"] == 3


def test_sobol_gives_zero_for_an_output_that_never_changes():
    df = sobol(UNIT, model(linear, lambda p: 7.0), ["y", "flat"], base_samples=16)
    flat = by_parameter(df, "flat")
    assert (flat[["S1", "S1_conf", "ST", "ST_conf"]] == 0).all().all()
    assert df.notna().all().all()


def test_sobol_second_order_indices_in_attrs():
    df = sobol(UNIT, model(product), ["y"], base_samples=256, second_order=True, seed=4)
    pairs = df.attrs["second_order"]
    assert list(pairs.columns) == ["output", "parameter_1", "parameter_2", "S2", "S2_conf"]
    ab = pairs[(pairs["parameter_1"] == "a") & (pairs["parameter_2"] == "b")]["S2"].item()
    assert ab == pytest.approx(1 / 7, abs=0.1)  # 1 - 3/7 - 3/7
    assert len(pairs) == 3


# ---------------------------------------------------------------------------------------------------
# tornado

TORNADO = [Parameter("a", 0.0, 2.0), Parameter("b", 1.0, 5.0)]


def three_a_minus_two_b(p):
    return 3 * p["a"] - 2 * p["b"]


def test_tornado_gives_exact_swings_signs_and_ranking():
    df = tornado(TORNADO, model(three_a_minus_two_b), ["y"])
    assert list(df.columns) == ["output", "parameter", "low", "high", "output_at_low", "output_at_high",
                                "output_at_baseline", "swing", "rank"]
    assert list(df["parameter"]) == ["b", "a"] and list(df["rank"]) == [1, 2]
    y = by_parameter(df, "y")
    # baseline a = 1, b = 3: y = -3
    assert (y["output_at_baseline"] == -3).all()
    assert y.loc["a", ["low", "high", "output_at_low", "output_at_high", "swing"]].tolist() == [0, 2, -6, 0, 6]
    assert y.loc["b", ["low", "high", "output_at_low", "output_at_high", "swing"]].tolist() == [1, 5, 1, -7, 8]
    assert y.loc["b", "output_at_low"] > 0 > y.loc["b", "output_at_high"]  # b pulls the output down


def test_tornado_uses_the_given_baseline_and_midpoints_for_the_rest():
    recorder = Recorder(model(three_a_minus_two_b))
    df = tornado(TORNADO, recorder, ["y"], baseline={"a": 0.5})
    assert recorder.points[0] == {"a": 0.5, "b": 3.0}
    assert recorder.points[1:3] == [{"a": 0.0, "b": 3.0}, {"a": 2.0, "b": 3.0}]
    assert recorder.points[3:] == [{"a": 0.5, "b": 1.0}, {"a": 0.5, "b": 5.0}]
    assert (df["output_at_baseline"] == 1.5 - 6).all()
    assert by_parameter(df, "y").loc["b", "output_at_low"] == 1.5 - 2


# ---------------------------------------------------------------------------------------------------
# reproducibility, counts, batches


def test_the_same_seed_gives_identical_tables():
    pd.testing.assert_frame_equal(morris(UNIT, model(product), ["y"], seed=5), morris(UNIT, model(product), ["y"], seed=5))
    # seed 0 too: SALib's sobol analyzer ignores a falsy int seed, which would change the confidence columns
    first = sobol(UNIT, model(product), ["y"], base_samples=32, seed=0)
    pd.testing.assert_frame_equal(first, sobol(UNIT, model(product), ["y"], base_samples=32, seed=0))
    pd.testing.assert_frame_equal(tornado(UNIT, model(product), ["y"]), tornado(UNIT, model(product), ["y"]))


@pytest.mark.parametrize("method", [morris, sobol])
def test_another_seed_gives_other_samples(method):
    one, two = Recorder(model(product)), Recorder(model(product))
    method(UNIT, one, ["y"], seed=0)
    method(UNIT, two, ["y"], seed=1)
    assert one.points != two.points
    assert len(one.points) == len(two.points)


@pytest.mark.parametrize(("name", "call", "options"), [
    ("morris", morris, {}),
    ("morris", morris, {"trajectories": 7, "levels": 6}),
    ("sobol", sobol, {}),
    ("sobol", sobol, {"base_samples": 16, "second_order": True}),
    ("tornado", tornado, {}),
])
def test_sample_count_is_what_evaluate_receives(name, call, options):
    recorder = Recorder(model(product))
    call(UNIT, recorder, ["y"], **options)
    assert sample_count(name, len(UNIT), **options) == len(recorder.points)


def test_sample_count_accepts_the_methods_other_keywords():
    options = {"trajectories": 4, "seed": 3, "batch_size": 8}
    recorder = Recorder(model(product))
    morris(UNIT, recorder, ["y"], **options)
    assert sample_count("morris", 3, **options) == len(recorder.points) == 16
    assert sample_count("tornado", 3, baseline={"a": 0.2}) == 7


def test_evaluate_gets_batches_in_order_and_progress_counts_points_done():
    done: list[int] = []
    recorder = Recorder(model(product))
    morris(UNIT, recorder, ["y"], trajectories=10, progress=done.append, batch_size=16)
    assert [len(b) for b in recorder.batches] == [16, 16, 8]
    assert done == [16, 32, 40]
    whole = Recorder(model(product))
    morris(UNIT, whole, ["y"], trajectories=10, batch_size=None)
    assert len(whole.batches) == 1 and whole.points == recorder.points
    default = Recorder(model(product))
    sobol(UNIT, default, ["y"], base_samples=64)
    assert max(len(b) for b in default.batches) == DEFAULT_BATCH_SIZE


@pytest.mark.parametrize("call", [morris, sobol, tornado])
def test_integer_parameters_are_sampled_as_integers(call):
    params = [Parameter("teams", 2, 8, integer=True), Parameter("a", 0.0, 1.0)]
    recorder = Recorder(model(lambda p: p["teams"] * p["a"]))
    call(params, recorder, ["y"])
    teams = [p["teams"] for p in recorder.points]
    assert all(type(t) is int for t in teams)
    assert min(teams) >= 2 and max(teams) <= 8 and len(set(teams)) >= 2
    assert any(type(p["a"]) is float and p["a"] != round(p["a"]) for p in recorder.points) or call is tornado


# ---------------------------------------------------------------------------------------------------
# terminal table


def test_ranked_table_lists_the_largest_effects_first_per_output_in_aligned_columns():
    df = morris(UNIT, model(linear, product), ["linear", "product"], seed=1)
    text = ranked_table(df)
    blocks = text.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == ["output: linear", "output: product"]
    lines = blocks[0].splitlines()[1:]
    assert lines[0].split() == ["rank", "parameter", "mu_star", "mu_star_conf", "mu", "sigma"]
    assert [line.split()[1] for line in lines[1:]] == ["a", "b", "c"]
    # numbers are right-aligned under their header
    end = lines[0].index("mu_star") + len("mu_star")
    assert all(line[end - 1] != " " and (len(line) == end or line[end] == " ") for line in lines)
    assert "10.0000" in lines[1]

    short = ranked_table(df, top=1)
    first = short.strip().split("\n\n")[0].splitlines()
    assert [line.split()[1] for line in first[2:3]] == ["a"] and first[-1].strip() == "... 2 more"


def test_ranked_table_of_sobol_and_tornado_results():
    assert ranked_table(sobol(UNIT, model(linear), ["y"], base_samples=32)).splitlines()[1].split()[:3] == \
        ["rank", "parameter", "ST"]
    text = ranked_table(tornado(TORNADO, model(three_a_minus_two_b), ["y"]))
    assert [line.split()[1] for line in text.splitlines()[2:]] == ["b", "a"]


# ---------------------------------------------------------------------------------------------------
# errors


def ok(points):
    return np.zeros((len(points), 1))


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Parameter("a", 1.0, 1.0), r"parameter 'a': low \(1.0\) must be below high \(1.0\)"),
    (lambda: Parameter("a", 2.0, 1.0), "must be below high"),
    (lambda: Parameter("a", float("nan"), 1.0), "low must be a finite number"),
    (lambda: Parameter("a", 0.0, float("inf")), "high must be a finite number"),
    (lambda: Parameter("", 0.0, 1.0), "non-empty string"),
    (lambda: Parameter("n", 0.5, 3, integer=True), "bounds must be whole numbers"),
])
def test_bad_parameters(build, message):
    with pytest.raises(SensitivityError, match=message):
        build()


@pytest.mark.parametrize(("call", "message"), [
    (lambda: morris([], ok, ["y"]), "no parameters"),
    (lambda: sobol([], ok, ["y"]), "no parameters"),
    (lambda: tornado([], ok, ["y"]), "no parameters"),
    (lambda: morris([Parameter("a", 0, 1), Parameter("a", 0, 2)], ok, ["y"]), "duplicate parameter paths: a"),
    (lambda: morris(UNIT, ok, []), "no outputs"),
    (lambda: morris(UNIT, ok, ["y", "y"]), "duplicate output names: y"),
    (lambda: morris(UNIT, ok, ["y"], trajectories=1), "trajectories must be at least 2"),
    (lambda: morris(UNIT, ok, ["y"], levels=5), "levels must be even"),
    (lambda: sobol(UNIT, ok, ["y"], base_samples=100), "base_samples must be a power of two"),
    (lambda: morris(UNIT, ok, ["y"], batch_size=0), "batch_size must be at least 1"),
    (lambda: tornado(UNIT, ok, ["y"], baseline={"z": 1.0}), "baseline names unknown parameters: z"),
    (lambda: tornado(UNIT, ok, ["y"], baseline={"a": 2.0}), r"baseline for 'a' \(2.0\) is outside its range"),
    (lambda: tornado(UNIT, ok, ["y"], baseline={"a": float("nan")}), "baseline for 'a' must be a finite number"),
    (lambda: sample_count("fast", 3), "unknown method 'fast'"),
    (lambda: sample_count("morris", 3, base_samples=8), "unknown option.*morris: base_samples"),
    (lambda: sample_count("tornado", 3, seed=1), "unknown option.*tornado: seed"),
    (lambda: sample_count("morris", 0), "n_parameters must be at least 1"),
    (lambda: sample_count("morris", 3, trajectories=1), "trajectories must be at least 2"),
    (lambda: ranked_table(pd.DataFrame({"x": [1]})), "not a sensitivity result"),
])
def test_bad_studies(call, message):
    with pytest.raises(SensitivityError, match=message):
        call()


@pytest.mark.parametrize(("answer", "message"), [
    (lambda points: np.zeros(len(points)), r"shape \(\d+,\) for a batch of \d+ points"),
    (lambda points: np.zeros((len(points), 2)), r"expected \(\d+, 1\)"),
    (lambda points: np.zeros((len(points) - 1, 1)), "returned shape"),
    (lambda points: [["x"]] * len(points), "not an array of numbers"),
])
@pytest.mark.parametrize("call", [morris, sobol, tornado])
def test_evaluate_with_the_wrong_shape(call, answer, message):
    with pytest.raises(SensitivityError, match=message):
        call(UNIT, answer, ["y"])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_evaluate_with_non_finite_output_names_the_point(bad):
    def evaluate(points):
        return np.array([[0.0, bad if p == {"a": 1.0, "b": 0.5, "c": 0.5} else 1.0] for p in points])

    # tornado point 2 is a at its high with the others at their midpoints
    with pytest.raises(SensitivityError, match=rf"{bad} for output 'second' at point 2 {{'a': 1.0, 'b': 0.5, 'c': 0.5}}"):
        tornado(UNIT, evaluate, ["first", "second"], batch_size=1)
