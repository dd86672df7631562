"""What-if overrides: each path sets exactly its number, and every mistake comes back at its path."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.scenario import Scenario, find_scenario, list_scenarios
from app.studies.overrides import (
    OverrideError,
    OverrideProblem,
    apply_overrides,
    numeric_paths,
    resolve_path,
)

SHIPPED = {s.id: s for s in list_scenarios()}


@cache
def frontier() -> Scenario:
    return find_scenario("frontier-race")


def flat(data: Any, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    """Every leaf of a dumped scenario by location."""
    if isinstance(data, dict):
        return {k: v for key, value in data.items() for k, v in flat(value, (*prefix, key)).items()} or {prefix: {}}
    if isinstance(data, list):
        return {k: v for i, value in enumerate(data) for k, v in flat(value, (*prefix, i)).items()} or {prefix: []}
    return {prefix: data}


def changes(before: Scenario, after: Scenario) -> dict[tuple[Any, ...], tuple[Any, Any]]:
    old, new = flat(before.model_dump()), flat(after.model_dump())
    return {k: (old.get(k), new.get(k)) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


def problems_of(scenario: Scenario, overrides: dict[Any, Any]) -> list[OverrideProblem]:
    with pytest.raises(OverrideError) as caught:
        apply_overrides(scenario, overrides)
    return caught.value.problems


def renamed(scenario: Scenario, names: dict[int, str]) -> Scenario:
    """The scenario with some companies renamed (all labs, so no product refers to the old names)."""
    data = scenario.model_dump()
    for i, name in names.items():
        data["companies"][i]["name"] = name
    return Scenario.model_validate(data)


# --- each example path changes exactly its value ---------------------------------------------------------

EXAMPLES = [
    ("market.outside.gain_per_round", 3.0, ("market", "outside", "gain_per_round")),
    ("compute.gpus.H100.price_usd", 60000, ("compute", "gpus", 1, "price_usd")),
    ("companies.Aurora AI.cash_musd", 5000, ("companies", 0, "cash_musd")),
    ("market.segments.enterprise.reference_price", 12, ("market", "segments", 1, "reference_price")),
    ("data.sources.scraped.pool_t_tokens", 5, ("data", "sources", 0, "pool_t_tokens")),
    ("companies[2].gpus.H100", 1000, ("companies", 2, "gpus", "H100")),
    ("scoring.profit", 2, ("scoring", "profit")),
    ("compute.gpus.0.price_usd", 9000, ("compute", "gpus", 0, "price_usd")),
    ("compute.gpus[0].price_usd", 9000, ("compute", "gpus", 0, "price_usd")),
    ('companies["Aurora AI"].cash_musd', 5000, ("companies", 0, "cash_musd")),
    ("companies[Beacon Labs].model.params_b", 250, ("companies", 1, "model", "params_b")),
    ("companies.Cinder.gpus.H800", 1, ("companies", 2, "gpus", "H800")),
    ("companies.Aurora AI.domain_skill.consumer", 5, ("companies", 0, "domain_skill", "consumer")),
    ("scoring.ranges.profit.low", -0.5, ("scoring", "ranges", "profit", "low")),
    ("events[0].magnitude", 2, ("events", 0, "magnitude")),
    ("events.0.round", 5, ("events", 0, "round")),
    ("compute.delivery_lag_rounds", 2.0, ("compute", "delivery_lag_rounds")),
    ("companies.Cinder.model.active_params_b", 40, ("companies", 2, "model", "active_params_b")),
    ("companies.Aurora AI.model.active_params_b", 100, ("companies", 0, "model", "active_params_b")),
]


@pytest.mark.parametrize(("path", "value", "loc"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_an_example_path_changes_exactly_that_value(path: str, value: float, loc: tuple[Any, ...]) -> None:
    before = frontier()
    after = apply_overrides(before, {path: value})
    diff = changes(before, after)
    assert list(diff) == [loc]
    assert diff[loc][1] == value
    assert after is not before and isinstance(after, Scenario)


def test_ints_stay_ints_and_floats_become_floats() -> None:
    after = apply_overrides(frontier(), {"compute.gpus.H100.price_usd": 60000, "compute.delivery_lag_rounds": 3.0,
                                         "rounds": 14, "market.outside.gain_per_round": Fraction(1, 2)})
    assert type(after.compute.gpus[1].price_usd) is float and after.compute.gpus[1].price_usd == 60000.0
    assert type(after.compute.delivery_lag_rounds) is int and after.compute.delivery_lag_rounds == 3
    assert type(after.rounds) is int and after.rounds == 14
    assert type(after.market.outside.gain_per_round) is float and after.market.outside.gain_per_round == 0.5
    dumped = after.model_dump()
    assert type(dumped["compute"]["gpus"][1]["price_usd"]) is float


def test_several_overrides_apply_together() -> None:
    overrides = {path: value for path, value, _ in EXAMPLES[:7]}
    diff = changes(frontier(), apply_overrides(frontier(), overrides))
    assert sorted(diff, key=str) == sorted((loc for _, _, loc in EXAMPLES[:7]), key=str)


# --- every numeric path of every shipped scenario ---------------------------------------------------------

def test_numeric_paths_are_canonical_and_cover_the_sections() -> None:
    paths = numeric_paths(frontier())
    assert len(paths) == len(set(paths))
    for path in ["rounds", "market.outside.gain_per_round", "compute.gpus.H100.price_usd",
                 "companies.Aurora AI.cash_musd", "companies.Aurora AI.gpus.H100",
                 "companies.Aurora AI.domain_skill.consumer", "companies.Aurora AI.model.params_b",
                 "market.segments.enterprise.reference_price", "data.sources.scraped.pool_t_tokens",
                 "events[0].magnitude", "events[0].round", "scoring.profit", "scoring.ranges.profit.low",
                 "talent.researchers.salary_usd", "compute.gpus.H100.available_from_round"]:
        assert path in paths
    for not_numeric in ["id", "name", "compute.gpus.H100.export_controlled", "compute.gpus.H100.name",
                        "companies.Aurora AI.kind", "companies.Aurora AI.region", "market.segments.enterprise.id"]:
        assert not_numeric not in paths
    assert all(resolve_path(frontier(), p).path == p for p in paths)


def test_unset_optional_numbers_are_listed_only_on_request() -> None:
    dense = "companies.Aurora AI.model.active_params_b"
    assert dense not in numeric_paths(frontier())
    assert dense in numeric_paths(frontier(), include_unset=True)
    assert resolve_path(frontier(), dense).current is None


@pytest.mark.parametrize("scenario_id", sorted(SHIPPED))
def test_every_numeric_path_round_trips_and_changes_only_itself(scenario_id: str) -> None:
    scenario = SHIPPED[scenario_id]
    for path in numeric_paths(scenario):
        target = resolve_path(scenario, path)
        assert apply_overrides(scenario, {path: target.current}) == scenario, path
        for other in nudged(target.current, target.number):
            try:
                after = apply_overrides(scenario, {path: other})
            except OverrideError:
                continue
            diff = changes(scenario, after)
            assert list(diff) == [target.loc], path
            assert type(diff[target.loc][1]) is target.number, path
            break
        else:
            pytest.fail(f"no other valid value found for {path}")


def nudged(value: Any, kind: type) -> list[Any]:
    if kind is int:
        return [value + 1, value - 1]
    candidates = [value * 0.9, value * 1.1, value + 0.01, value - 0.01, value + 1, 0.5]
    return [c for c in candidates if c != value]


# --- path forms and names ---------------------------------------------------------------------------------

def test_every_form_of_a_path_leads_to_the_same_field() -> None:
    forms = ["compute.gpus.H100.price_usd", "compute.gpus.1.price_usd", "compute.gpus[1].price_usd",
             "compute.gpus[H100].price_usd", 'compute.gpus["H100"].price_usd', "compute.gpus['H100'].price_usd",
             "compute . gpus . H100 . price_usd", "compute.gpus[ 1 ].price_usd", " compute.gpus.H100.price_usd "]
    targets = {resolve_path(frontier(), form) for form in forms}
    assert len(targets) == 1
    assert targets.pop().path == "compute.gpus.H100.price_usd"


def test_names_with_dots_brackets_quotes_or_digits_are_quoted() -> None:
    scenario = renamed(frontier(), {0: "Acme 2.0", 1: "42", 2: 'a]b"c', 3: " padded "})
    paths = numeric_paths(scenario)
    assert 'companies["Acme 2.0"].cash_musd' in paths
    assert 'companies["42"].cash_musd' in paths
    assert 'companies["a]b\\"c"].cash_musd' in paths
    assert 'companies[" padded "].cash_musd' in paths
    for path in paths:  # canonical paths lead back to themselves
        assert resolve_path(scenario, path).path == path
    assert resolve_path(scenario, "companies[Acme 2.0].cash_musd").loc == ("companies", 0, "cash_musd")
    assert resolve_path(scenario, "companies['Acme 2.0'].cash_musd").loc == ("companies", 0, "cash_musd")
    assert resolve_path(scenario, 'companies["42"].cash_musd').loc == ("companies", 1, "cash_musd")
    assert resolve_path(scenario, "companies['a]b\"c'].cash_musd").loc == ("companies", 2, "cash_musd")


def test_digits_are_a_position_even_when_a_name_is_the_same_number() -> None:
    scenario = renamed(frontier(), {4: "1"})
    assert resolve_path(scenario, "companies.1.cash_musd").path == "companies.Beacon Labs.cash_musd"
    assert resolve_path(scenario, "companies[1].cash_musd").loc == ("companies", 1, "cash_musd")
    assert resolve_path(scenario, 'companies["1"].cash_musd').loc == ("companies", 4, "cash_musd")
    (problem,) = problems_of(scenario, {"companies.42.cash_musd": 1})
    assert problem.message == "no company at position 42; there are 6 companies, at positions 0 to 5"


def test_an_unquoted_name_with_a_dot_says_to_quote_it() -> None:
    scenario = renamed(frontier(), {0: "Acme 2.0"})
    (problem,) = problems_of(scenario, {"companies.Acme 2.0.cash_musd": 1})
    assert problem.path == "companies.Acme 2.0.cash_musd"
    assert problem.message.startswith("no company called 'Acme 2'; the scenario has Acme 2.0, Beacon Labs")
    assert problem.message.endswith('a name with a dot goes in quotes: companies["Acme 2.0"]')


# --- bad overrides ----------------------------------------------------------------------------------------

BAD = [
    ("market.outside.gain_per_rnd", 1, "no such field; did you mean market.outside.gain_per_round?"),
    ("markt.outside.gain_per_round", 1, "no such field; did you mean market.outside.gain_per_round?"),
    ("compute.outside.gain_per_round", 1, "no such field; did you mean market.outside.gain_per_round?"),
    ("scaling.alfa", 1, "no such field; did you mean scaling.alpha?"),
    ("compute.gpus.H900.price_usd", 1, "no GPU called 'H900'; the catalogue has A100, H100, H800, H200, B200"),
    ("compute.gpus.H900", 1, "no GPU called 'H900'; the catalogue has A100, H100, H800, H200, B200"),
    ("companies[2].gpus.H900", 1, "no GPU called 'H900'; the catalogue has A100, H100, H800, H200, B200"),
    ("companies.Aurora AI.domain_skill.legal", 1,
     "no segment with id 'legal'; the segments are consumer, enterprise, developer, service, regulated"),
    ("companies.Zeta.cash_musd", 1,
     "no company called 'Zeta'; the scenario has Aurora AI, Beacon Labs, Cinder, Delta Systems, Echo, Forge"),
    ("market.segments.legal.reference_price", 1,
     "no segment with id 'legal'; the segments are consumer, enterprise, developer, service, regulated"),
    ("data.sources.stolen.pool_t_tokens", 1,
     "no data source of kind 'stolen'; the sources are scraped, licensed, synthetic"),
    ("events[9].magnitude", 1, "no event at position 9; there are 8 events, at positions 0 to 7"),
    ("events.launch.magnitude", 1, "events are picked by position (0 to 7), not by name; got 'launch'"),
    ("compute.gpus.H100.name", 1, "is a text field, not a number field"),
    ("compute.gpus.H100.export_controlled", 1, "is a yes/no field, not a number field"),
    ("companies.Aurora AI.kind", 1, "is a choice of 'lab', 'product', not a number field"),
    ("id", 1, "is a text field, not a number field"),
    ("teaching_note.objectives", 1, "is a list, not a number field"),
    ("market.outside", 1, "is a section, not a number field; its number fields are capability, gain_per_round, "
                          "max_capability, lag_points, price_factor, safety, brand, domain, freshness, ecosystem, "
                          "serving_cost_per_m_tokens"),
    ("compute.gpus", 1, "is a list, not a number field; pick an item and a field, e.g. compute.gpus.A100.tflops"),
    ("companies.Aurora AI.gpus", 1,
     "is a table of numbers, not a number field; pick an entry, e.g. companies.Aurora AI.gpus.H100"),
    ("market.outside.gain_per_round.x", 1, "market.outside.gain_per_round is a number, so it has no field 'x'"),
    ("scoring.profit", "2", "must be a number, got '2'"),
    ("scoring.profit", [1, [2]], "must be a number, got a list"),
    ("scoring.profit", {"a": 1}, "must be a number, got a mapping"),
    ("scoring.profit", True, "must be a number, got True"),
    ("scoring.profit", None, "must be a number, got None"),
    ("scoring.profit", math.nan, "must be a finite number, got nan"),
    ("scoring.profit", -math.inf, "must be a finite number, got -inf"),
    ("scoring.profit", 10**5000, "must be a number a field can hold; this one has more than 300 digits"),
    ("companies.Cinder.cash_musd", -5, "must be greater than or equal to 0, got -5"),
    ("rounds", 2.5, "must be a whole number, got 2.5"),
    ("rounds", 41, "must be less than or equal to 40, got 41"),
    ("market.outside.gain_per_round", 1e300, "must be less than or equal to 100, got 1e+300"),
    ("companies.Cinder.model.active_params_b", 1000, "active parameters (1000B) cannot exceed total parameters (671B)"),
    ("companies.Cinder.model.params_b", 10, "active parameters (37B) cannot exceed total parameters (10B)"),
    ("scoring.ranges.profit.low", 5,
     f"high ({find_scenario('frontier-race').scoring.ranges.profit.high}) must be above low (5.0)"),
    ("events[0].round", 13, "event 'B200 shipments begin' is scheduled for round 13 but the game has 12 rounds"),
    ("a..b", 1, "has an empty name (two dots in a row, or a dot at the start)"),
    ("", 1, "an empty path; name a number field, e.g. market.outside.gain_per_round"),
    ("companies[0", 1, """a '[' without its ']'; quote names with dots or brackets, e.g. companies["Acme 2.0"].cash_musd"""),
    ("companies[0]cash_musd", 1, "expected '.' or '[' after ']', got 'cash_musd'"),
    ('companies["Cinder].cash_musd', 1, 'a quoted name without its closing "'),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[f"{i}-{b[0]}"[:60] for i, b in enumerate(BAD)])
def test_a_bad_override_is_told_at_its_path(path: str, value: object, message: str) -> None:
    (problem,) = problems_of(frontier(), {path: value})
    assert problem == OverrideProblem(path, message)


def test_every_bad_override_is_reported_in_one_error_in_their_order() -> None:
    overrides = {path: value for path, value, _ in BAD if path not in {"scoring.profit", "rounds"}}
    overrides["scoring.profit"] = "two"
    overrides["compute.gpus.H100.price_usd"] = 60000  # a good one among them is no problem
    problems = problems_of(frontier(), overrides)
    assert [p.path for p in problems] == [p for p in overrides if p != "compute.gpus.H100.price_usd"]
    error = OverrideError(problems)
    assert isinstance(error, ValueError)
    assert str(error).splitlines() == [f"{p.path}: {p.message}" for p in problems]


def test_a_cross_field_check_is_told_at_every_override_that_touched_it() -> None:
    problems = problems_of(frontier(), {f"scoring.{name}": 0 for name in frontier().scoring.weights()})
    assert {p.message for p in problems} == {"at least one scoring weight must be above zero"}
    assert [p.path for p in problems] == [f"scoring.{name}" for name in frontier().scoring.weights()]
    problems = problems_of(frontier(), {"rounds": 3, "scoring.profit": 2})
    assert {p.path for p in problems} == {"rounds"}
    assert "is scheduled for round 4 but the game has 3 rounds" in problems[0].message


def test_two_paths_to_one_field_are_a_problem() -> None:
    (problem,) = problems_of(frontier(), {"compute.gpus.H100.price_usd": 1, "compute.gpus[1].price_usd": 2})
    assert problem == OverrideProblem("compute.gpus[1].price_usd", "sets the same field as compute.gpus.H100.price_usd "
                                                                   "(compute.gpus.H100.price_usd)")


def test_an_empty_section_has_nothing_to_set() -> None:
    product = SHIPPED["mixed-ecosystem"]
    name = next(c.name for c in product.companies if c.model is None)
    (problem,) = problems_of(product, {f"companies.{name}.model.params_b": 100})
    assert problem.message == f"companies.{name}.model is empty in this scenario, so it has no fields to set"


def test_messages_quote_only_a_short_part_of_long_values_and_names() -> None:
    long = "x" * 5000
    problems = problems_of(frontier(), {f"companies.{long}.cash_musd": 1, "scoring.profit": long,
                                        f"market.{long}": 1, "rounds": 10**200})
    assert len(problems) == 4
    assert all(len(p.message) <= 301 and len(p.path) <= 201 for p in problems)


def test_overrides_must_be_a_mapping() -> None:
    (problem,) = problems_of(frontier(), ["rounds", 3])  # type: ignore[arg-type]
    assert problem.message == "overrides must be a mapping of paths to numbers, got a list"


def test_no_overrides_give_an_equal_scenario() -> None:
    assert apply_overrides(frontier(), {}) == frontier()


# --- properties -------------------------------------------------------------------------------------------

PIECES = ["companies", "compute", "gpus", "market", "outside", "gain_per_round", "H100", "Aurora AI", "model",
          "cash_musd", "events", "round", "domain_skill", "scoring", "ranges", "profit", "low", "0", "7",
          "99999999999999", ".", ".", "[", "]", '"', "'", "\\", " ", "-1", "é", "\x00"]
paths = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(PIECES), max_size=10).map("".join),
    st.sampled_from(numeric_paths(frontier(), include_unset=True)),
    st.integers(), st.none(), st.tuples(st.integers()),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**400), max_value=10**400),
    st.just(5000).map(lambda digits: 10**digits), st.floats(), st.text(max_size=20), st.decimals(), st.fractions(),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                            max_size=2), max_leaves=5)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=st.dictionaries(paths, values, max_size=4))
def test_odd_input_gives_a_scenario_or_an_override_error(overrides: dict[Any, Any]) -> None:
    before = frontier().model_dump()
    try:
        after = apply_overrides(frontier(), overrides)
    except OverrideError as error:
        assert error.problems
        assert all(len(p.message) <= 301 and len(p.path) <= 201 for p in error.problems)
        assert len(str(error).splitlines()) >= len(error.problems)
    else:
        assert isinstance(after, Scenario)
    assert frontier().model_dump() == before


numeric = numeric_paths(frontier(), include_unset=True)


@settings(max_examples=200, deadline=None)
@given(picks=st.dictionaries(st.sampled_from(numeric),
                             st.one_of(st.floats(-1e7, 1e7), st.integers(-100, 100_000)), max_size=5))
def test_the_original_is_never_changed_and_only_the_paths_set_differ(picks: dict[str, float]) -> None:
    scenario = frontier()
    before = scenario.model_dump()
    try:
        after = apply_overrides(scenario, picks)
    except OverrideError as error:
        assert {p.path for p in error.problems} <= set(picks)
    else:
        touched = {resolve_path(scenario, p).loc for p in picks}
        assert set(changes(scenario, after)) <= touched
        for path, value in picks.items():
            target = resolve_path(after, path)
            assert target.current == value and type(target.current) is target.number
    assert scenario.model_dump() == before


def test_other_kinds_of_real_numbers_are_numbers() -> None:
    from decimal import Decimal

    import numpy as np

    after = apply_overrides(frontier(), {"rounds": np.int64(10), "compute.pue": np.float64(1.2),
                                         "scoring.profit": Decimal("2.5"), "scoring.brand": Fraction(3, 2)})
    assert (after.rounds, after.compute.pue, after.scoring.profit, after.scoring.brand) == (10, 1.2, 2.5, 1.5)
    assert type(after.rounds) is int and type(after.compute.pue) is float
    problems = problems_of(frontier(), {"scoring.profit": np.bool_(True), "scoring.brand": Decimal("NaN"),
                                        "compute.pue": Decimal("-1")})
    assert [p.message.split(",")[0] for p in problems] == ["must be a number", "must be a finite number",
                                                          "must be greater than or equal to 1"]


def test_resolve_path_reports_a_bad_path_as_an_override_error() -> None:
    with pytest.raises(OverrideError) as caught:
        resolve_path(frontier(), 7)  # type: ignore[arg-type]
    assert caught.value.problems == [OverrideProblem("7", "a path must be text, got 7")]
