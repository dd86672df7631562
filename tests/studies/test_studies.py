"""What-if studies as an analyst runs them: pairing, tweaks, strategies, scripts and the files they write."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.engine import batch, rng
from app.scenario import find_scenario
from app.studies import Study, StudyError, parse_study, prepare, run
from app.studies.play import MEASURES, VALUE_COLUMNS

SCENARIO = "frontier-race"
AURORA = "Aurora AI"


def study(text: str, tmp: Path | None = None):  # noqa: ANN201
    return parse_study(textwrap.dedent(text), "study.yaml", base=tmp)


def test_a_one_arm_study_plays_exactly_the_games_simulate_plays() -> None:
    p = study(f"scenario: {SCENARIO}\nruns: 40\nseed: 11\n")
    rows = run(p, workers=1).runs
    old = batch.simulate(find_scenario(SCENARIO), 40, 11, workers=1)
    assert len(rows) == len(old) == 40 * 12 * 6
    for mine, theirs in (("cash", "cash"), ("revenue", "revenue"), ("net_income", "net_income"), ("share_tokens", "share"),
                         ("capability", "capability"), ("brand", "brand"), ("safety", "safety"), ("score", "score")):
        assert np.array_equal(rows[mine].to_numpy(), old[theirs].to_numpy()), mine
    assert (rows["run"].to_numpy() == old["run"].to_numpy()).all()


def test_an_arm_identical_to_the_baseline_differs_by_exactly_zero() -> None:
    p = study(f"""
        scenario: {SCENARIO}
        runs: 30
        seed: 5
        arms:
          - name: baseline
          - name: same again
          - name: times one
            seats:
              {AURORA}:
                tweaks:
                  - {{field: products.prices, times: 1}}
                  - {{field: talent.researchers, times: 1}}
                  - {{field: compute.buy_gpus, times: 1}}
                  - {{field: tuning.safety_musd, plus: 0}}
    """)
    result = run(p, workers=1)
    diffs = result.differences
    assert set(diffs.arm) == {"same again", "times one"}
    assert len(diffs) == 2 * 6 * len(MEASURES)
    assert (diffs.diff_mean == 0).all() and (diffs.diff_ci_low == 0).all() and (diffs.diff_ci_high == 0).all()
    rows = result.runs
    by_arm = {a: rows[rows.arm == a].reset_index(drop=True) for a in ("baseline", "times one")}
    for column in VALUE_COLUMNS:
        assert np.array_equal(by_arm["baseline"][column], by_arm["times one"][column]), column


def test_a_tweak_changes_what_it_names_and_the_study_says_by_how_much() -> None:
    p = study(f"""
        scenario: {SCENARIO}
        runs: 60
        seed: 2
        arms:
          - name: baseline
          - name: undercut
            seats:
              {AURORA}:
                tweaks: [{{field: products.prices, times: 0.5}}]
    """)
    result = run(p, workers=1)
    s = result.summary
    score = s[(s.arm == "undercut") & (s.company == AURORA) & (s.measure == "share_tokens")].iloc[0]
    assert score.diff_mean > 0 and score.diff_ci_low > 0  # half the price buys share, and the interval says it is no accident
    rivals = s[(s.arm == "undercut") & (s.company != AURORA) & (s.measure == "share_tokens")]
    assert (rivals.diff_mean < 0).any()
    assert "undercut" in result.text() and "wins" in result.text()


def test_a_seat_that_holds_its_finished_models_never_releases_one() -> None:
    p = study(f"""
        scenario: {SCENARIO}
        runs: 20
        seed: 4
        arms:
          - name: baseline
          - name: holds
            seats:
              {AURORA}:
                tweaks: [{{field: training.release, set: hold}}]
    """)
    rows = run(p, workers=1).runs
    aurora = rows[rows.company == AURORA]
    held, baseline = (aurora[aurora.arm == a].pivot(index="run", columns="round", values="capability")
                      for a in ("holds", "baseline"))
    assert (held.max(axis=1) < held[1] + 1.0).all(), "a held seat sells its starting model all game"
    assert (baseline[12] > held[12] + 5.0).all(), "the baseline's persona releases better models"


def test_every_arm_plays_the_same_random_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    """A change in one seat's price changes no random draw: each draw is the same number in both arms."""
    drawn: dict[str, dict[tuple, bytes]] = {}
    real = rng.uniform

    def recording(seeds, rnd, company, purpose, extra=0):  # noqa: ANN001, ANN202
        out = real(seeds, rnd, company, purpose, extra)
        key = (rnd, int(purpose), extra, np.asarray(company).tobytes(), np.asarray(seeds).tobytes())
        drawn.setdefault(current, {})[key] = out.tobytes()
        return out

    for module in ("app.engine.rules.events", "app.engine.rules.risk", "app.engine.rules.training", "app.engine.personas"):
        target = __import__(module, fromlist=["uniform"])
        if hasattr(target, "uniform"):
            monkeypatch.setattr(target, "uniform", recording)
    for current in ("baseline", "dearer"):
        tweak = "" if current == "baseline" else f"seats: {{{AURORA}: {{tweaks: [{{field: products.prices, times: 1.8}}]}}}}"
        run(study(f"scenario: {SCENARIO}\nruns: 20\nseed: 9\n{tweak}\n"), workers=1)
    assert drawn["baseline"] and drawn["baseline"].keys() == drawn["dearer"].keys()
    assert drawn["baseline"] == drawn["dearer"]


def test_a_sweep_crosses_every_arm_with_every_point_on_the_same_seeds(tmp_path: Path) -> None:
    p = study(f"""
        scenario: {SCENARIO}
        runs: 10
        arms: [{{name: baseline}}, {{name: bold, seats: {{{AURORA}: {{aggressiveness: 1}}}}}}]
        sweep:
          market.outside.gain_per_round: [0, 4]
          finance.tax_rate: [0.1, 0.3]
    """)
    result = run(p, tmp_path / "out", workers=2)
    rows = result.runs
    assert sorted(rows.groupby(["arm", "point"], observed=True).size().index.tolist()) == [(a, j) for a in ("baseline", "bold") for j in range(4)]
    points = rows.drop_duplicates("point")[["point", "market.outside.gain_per_round", "finance.tax_rate"]]
    assert points.values.tolist() == [[0, 0, 0.1], [1, 0, 0.3], [2, 4, 0.1], [3, 4, 0.3]]
    seeds = rows.groupby(["arm", "point"], observed=True)["seed"].apply(lambda s: tuple(s.unique()))
    assert len(set(seeds)) == 1  # run r has the same seed everywhere
    assert (rows[rows.arm == "bold"].strategy.astype(str).str.contains("(1)", regex=False) | (rows[rows.arm == "bold"].company != AURORA)).all()


def test_the_output_folder_holds_every_file_and_the_columns_it_promises(tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = run(study(f"scenario: {SCENARIO}\nruns: 12\nseed: 1\n"), out, workers=2)
    assert sorted(p.name for p in out.iterdir()) == ["runs.parquet", "study.json", "summary.csv", "summary.json"]
    rows = pd.read_parquet(out / "runs.parquet")
    assert len(rows) == 12 * 12 * 6 and list(rows.columns[:7]) == ["arm", "point", "run", "seed", "round", "company", "strategy"]
    assert set(VALUE_COLUMNS) <= set(rows.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.measure) == set(MEASURES) and len(summary) == 6 * len(MEASURES)
    wins = summary[summary.measure == "win"]["mean"]
    assert wins.sum() == pytest.approx(1.0)  # exactly one company wins each game
    assert json.loads((out / "summary.json").read_text())["complete"] is True
    assert summary["mean"].tolist() == result.summary["mean"].tolist()  # the in-memory summary is the one written, exactly


def test_a_strategy_that_raises_stops_the_study_and_writes_nothing(tmp_path: Path) -> None:
    code = tmp_path / "broken.py"
    code.write_text("def decide(view):\n    if view.round == 3:\n        raise RuntimeError('no idea what to do')\n    return None\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("earlier results\n")
    p = study(f"scenario: {SCENARIO}\nruns: 8\nseats: {{{AURORA}: {{strategy: {code}:decide}}}}\n", tmp_path)
    with pytest.raises(Exception, match=r"Aurora AI's strategy .* raised RuntimeError: no idea what to do \(round 3, run 0\)"):
        run(p, out, workers=2)
    assert sorted(q.name for q in out.iterdir()) == ["summary.csv"] and (out / "summary.csv").read_text() == "earlier results\n"


def test_a_strategy_that_returns_a_bad_decision_is_named_with_its_fields(tmp_path: Path) -> None:
    code = tmp_path / "bad.py"
    code.write_text("def decide(view):\n    return {'products': {'prices': {'consumer': -1}}, 'talent': {'researchers': 'many'}}\n")
    p = study(f"scenario: {SCENARIO}\nruns: 2\nseats: {{{AURORA}: {{strategy: {code}:decide}}}}\n", tmp_path)
    with pytest.raises(Exception, match=r"(?s)round 1: 2 problems.*talent\.researchers.*products\.prices\.consumer: must be ≥ 0.0001, got -1 \(run 0\)"):
        run(p, workers=1)


def test_a_strategy_sees_rivals_public_pages_only(tmp_path: Path) -> None:
    code = tmp_path / "spy.py"
    code.write_text(textwrap.dedent("""
        SEEN = []
        def decide(view):
            SEEN.append(view.as_dict())
            return None
    """))
    p = study(f"scenario: {SCENARIO}\nruns: 3\nseats: {{{AURORA}: {{strategy: {code}:decide}}}}\n", tmp_path)
    run(p, workers=1)
    from app.engine.views import load_strategy

    seen = load_strategy(f"{code}:decide").__globals__["SEEN"]
    assert len(seen) == 3 * 12
    public = {"kind", "prices", "api_price", "capability", "share", "base_model", "brand", "score"}
    for view in seen:
        assert view["company"] == AURORA
        for name, page in view["companies"].items():
            assert set(page) <= public, (name, set(page) - public)
        text = json.dumps(view)
        assert "cash_musd" in json.dumps(view["own"]) and "cash" not in json.dumps(view["companies"])
        assert "income_statement" not in json.dumps(view["companies"]) and len(text) > 500


def test_a_python_strategy_is_fitted_to_its_budget_and_the_cut_is_reported(tmp_path: Path) -> None:
    code = tmp_path / "spender.py"
    code.write_text("def decide(view):\n    return {'compute': {'buy_gpus': {'H200': 4000000}}}\n")
    p = study(f"scenario: {SCENARIO}\nruns: 4\nseats: {{{AURORA}: {{strategy: {code}:decide}}}}\n", tmp_path)
    result = run(p, workers=1)
    s = result.summary
    cut = s[(s.company == AURORA) & (s.measure == "cut_rounds_share")]["mean"].iloc[0]
    share = s[(s.company == AURORA) & (s.measure == "cut_spend_share")]["mean"].iloc[0]
    assert cut == 1.0 and 0.9 < share < 1.0  # $140B of GPUs a quarter never fits; what it can afford is bought
    rows = result.runs
    assert (rows[rows.company == AURORA].cash >= -1e-6).all()  # fitted, so never spent into a rescue by its purchases


def test_a_fixed_script_plays_its_decisions_and_carries_on_where_it_says_null(tmp_path: Path) -> None:
    script = [{"products": {"prices": {"consumer": 1.5}}}, None, {"persona": "price_disruptor"}]
    (tmp_path / "aurora.json").write_text(json.dumps(script))
    p = study(f"scenario: {SCENARIO}\nruns: 2\nseats: {{{AURORA}: {{script: aurora.json}}}}\n", tmp_path)
    config = p.configs[0]
    seat = next(s for s in config.seats if s.company == AURORA)
    assert seat.kind == "script" and seat.script[1] is None and seat.script[2] == "price_disruptor"
    run(p, workers=1)


def test_bad_studies_are_refused_before_anything_runs_with_every_problem_at_its_line(tmp_path: Path) -> None:
    text = textwrap.dedent(f"""\
        scenario: {SCENARIO}
        runs: 100
        overrides:
          market.outside.gain_per_rnd: 3.0
        seats:
          Aurora: {{persona: fast_follower}}
          Cinder: {{strategy: "no_such_module_here:fn"}}
        arms:
          - name: baseline
          - name: x
            seats:
              Forge:
                tweaks:
                  - {{field: products.pricez, times: 0.7}}
        sweep:
          finance.tax_rate: []
    """)
    with pytest.raises(StudyError) as caught:
        parse_study(text, "bad.yaml", base=tmp_path)
    shown = "\n".join(str(p) for p in caught.value.problems)
    assert "line 4, overrides.market.outside.gain_per_rnd: no such field; did you mean market.outside.gain_per_round?" in shown
    assert "line 6, seats.Aurora: there is no company 'Aurora'" in shown
    assert "line 7, seats.Cinder.strategy: no module named 'no_such_module_here'" in shown
    assert "line 14, arms[1].seats.Forge.tweaks[0].field: the decision form has no field 'products.pricez'" in shown
    assert "line 16, sweep.finance.tax_rate: needs at least one value" in shown


@pytest.mark.parametrize(("text", "said"), [
    ("scenario: no-such-scenario\nruns: 5\n", "no such scenario file or shipped scenario"),
    (f"scenario: {SCENARIO}\nruns: 0\n", "runs: input should be greater than or equal to 1, got 0"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{persona: wizard}}}}\n", "must be one of"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{script: missing.json}}}}\n", "cannot read missing.json"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{persona: incumbent, strategy: 'a:b'}}}}\n", "a seat has one player"),
    (f"scenario: {SCENARIO}\nruns: 10\narms: []\n", "needs at least one value"),
    (f"scenario: {SCENARIO}\nruns: 10\narms: [{{name: a}}, {{name: a}}]\n", "arm names must differ"),
    (f"scenario: {SCENARIO}\nruns: 10\nsweep: {{a: [1], b: [1], c: [1], d: [1]}}\n", "at most 3"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{tweaks: [{{field: products.prices, times: 2, plus: 1}}]}}}}\n",
     "exactly one of times, plus or set"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{tweaks: [{{field: talent.researchers, times: 2, rounds: [13]}}]}}}}\n",
     "round 13 is after the game's last (12)"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{tweaks: [{{field: products.base_model, set: Nowhere}}]}}}}\n",
     "products.base_model is 'open' or one of this game's labs"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{tweaks: [{{field: training.release, set: later}}]}}}}\n",
     "training.release is 'when_better' or 'hold', not 'later'"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{tweaks: [{{field: training.release, times: 2}}]}}}}\n",
     "training.release is a choice: use set, not times or plus"),
    (f"scenario: {SCENARIO}\nruns: 10\nseats: {{{AURORA}: {{tweaks: [{{field: talent.pay_level, set: 9}}]}}}}\n",
     "talent.pay_level must be between 0.5 and 3"),
    (f"scenario: {SCENARIO}\nruns: 10\noverrides: {{compute.gpus.H100.price_usd: -1}}\n", "must be greater than 0"),
    (f"scenario: {SCENARIO}\nruns: 10\ninject: {{2: [99]}}\n", "no event 99"),
    ("[1, 2, 3]", "a study must be a mapping"),
    ("scenario: [unclosed", "not valid YAML"),
    ("a: &x 1\nb: *x\n", "anchors"),
], ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_each_kind_of_bad_study_gets_a_message_naming_what_is_wrong(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(StudyError) as caught:
        parse_study(text, "s.yaml", base=tmp_path)
    assert said in str(caught.value)


def test_a_study_larger_than_the_machine_allows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOATLINE_STUDY_MAX_RUNS", "1000")
    with pytest.raises(StudyError, match=r"plays 1,200 games \(200 runs x 2 arm\(s\) x 3 sweep point\(s\)\); this machine allows 1,000"):
        study(f"scenario: {SCENARIO}\nruns: 200\narms: [{{name: a}}, {{name: b}}]\nsweep: {{finance.tax_rate: [0.1, 0.2, 0.3]}}\n")
    with pytest.raises(StudyError, match="allows 10"):
        prepare(Study(scenario=SCENARIO, runs=11), most_runs=10)


KEYS = ["scenario", "runs", "seed", "overrides", "seats", "arms", "sweep", "inject", "sensitivity", "persona", "tweaks", "field",
        "times", "plus", "set", "rounds", "name", "Aurora AI", "market.outside.gain_per_round", "products.prices", "parameters"]


def _values():  # noqa: ANN202
    from hypothesis import strategies as st

    leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True), st.text(max_size=30),
                       st.sampled_from(["frontier-race", "fast_follower", "products.prices", "Aurora AI", "idle"]))
    return st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=4)),
                        max_leaves=20)


def test_no_study_however_odd_raises_anything_but_a_study_error() -> None:
    import yaml
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.fixed_dictionaries({"scenario": st.just("frontier-race"), "runs": st.integers(-5, 50)},
                                 optional={k: _values() for k in KEYS[2:10]}))
    def check(data: dict) -> None:
        try:
            text = yaml.safe_dump(data)
        except (yaml.YAMLError, ValueError):
            return
        try:
            parse_study(text, "fuzz.yaml", most_runs=10_000)
        except StudyError as exc:
            assert exc.problems and all(len(p.message) <= 400 for p in exc.problems)

    check()


def test_a_study_whose_summaries_would_not_fit_in_memory_is_refused() -> None:
    with pytest.raises(StudyError, match=r"the summaries of 1,500,000 games of 6 companies need 2.3 GiB of memory, more than 2 GiB"):
        prepare(Study(scenario=SCENARIO, runs=500_000, arms=[{"name": "a"}, {"name": "b"}, {"name": "c"}]), most_runs=10**8)


def test_rows_too_many_to_keep_in_memory_ask_for_an_output_folder() -> None:
    from app.studies import RunError

    with pytest.raises(RunError, match="give an output folder"):
        run(prepare(Study(scenario=SCENARIO, runs=400_000)), workers=1)


def test_decisions_that_name_nothing_in_the_game_are_refused_from_scripts_and_strategies(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps([None, {"compute": {"buy_gpus": {"H900": 10}}}]))
    with pytest.raises(StudyError, match=r"s.json round 2: compute.buy_gpus.H900: There is no GPU called 'H900'"):
        study(f"scenario: {SCENARIO}\nruns: 2\nseats: {{{AURORA}: {{script: s.json}}}}\n", tmp_path)
    (tmp_path / "seg.py").write_text("def decide(view):\n    return {'products': {'prices': {'nowhere': 3}}}\n")
    p = study(f"scenario: {SCENARIO}\nruns: 2\nseats: {{{AURORA}: {{strategy: {tmp_path / 'seg.py'}:decide}}}}\n", tmp_path)
    with pytest.raises(Exception, match=r"round 1: products.prices.nowhere: There is no segment 'nowhere'"):
        run(p, workers=1)
