"""Every number, list, mapping and text of a scenario file has bounds, so an absurd or infinite
figure, an endless list or a runaway name is refused at its field (with its line) instead of
breaking a game."""

from __future__ import annotations

from typing import Any

import pytest

from app.scenario import ScenarioError, parse_scenario
from app.scenario.schema import MAX_SEGMENTS, Scenario
from tests.scenario.test_validation_messages import VALID, break_, line_of


def _walk(schema: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every sub-schema of a JSON schema, with where it is."""
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        out.append((path, schema))
        for key, value in schema.items():
            out += _walk(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            out += _walk(value, f"{path}[{i}]")
    return out


SCHEMA = _walk(Scenario.model_json_schema())


def _of_type(kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(path, s) for path, s in SCHEMA if s.get("type") == kind]


def test_every_number_of_the_scenario_schema_has_a_lower_and_an_upper_bound() -> None:
    numbers = _of_type("number") + _of_type("integer")
    assert len(numbers) > 150
    low = {"minimum", "exclusiveMinimum"}
    high = {"maximum", "exclusiveMaximum"}
    assert [path for path, s in numbers if not (low & s.keys() and high & s.keys())] == []


def test_every_list_mapping_and_text_of_the_scenario_schema_is_capped() -> None:
    lists, mappings = (
        _of_type("array"),
        [
            (p, s)
            for p, s in _of_type("object")
            if "additionalProperties" in s and isinstance(s["additionalProperties"], dict)
        ],
    )
    texts = [(p, s) for p, s in _of_type("string") if "enum" not in s and "const" not in s]
    assert lists and mappings and texts
    assert [p for p, s in lists if "maxItems" not in s] == []
    assert [p for p, s in mappings if "maxProperties" not in s] == []
    assert [p for p, s in texts if "maxLength" not in s] == []


def _problem(text: str) -> tuple[str, int | None, str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "broken.yaml")
    (problem,) = caught.value.problems
    return problem.path, problem.line, problem.message


@pytest.mark.parametrize(
    ("edit", "path", "marker", "words"),
    [
        (("cash_musd: 500", "cash_musd: .inf"), "companies[1].cash_musd", "cash", "finite"),
        (("cash_musd: 500", "cash_musd: .nan"), "companies[1].cash_musd", "cash", "finite"),
        (("cash_musd: 500", "cash_musd: 1e308"), "companies[1].cash_musd", "cash", "1000000"),
        (
            ("reference_price: 3", "reference_price: 1e-300"),
            "market.segments[1].reference_price",
            "reference_price",
            "0.01",
        ),
        (("gpus: {H100: 100}", "gpus: {H100: 1e12}"), "companies[0].gpus.H100", "gpus", "5000000"),
        (("rounds: 4", "rounds: 400"), "rounds", "rounds", "40"),
    ],
)
def test_an_absurd_or_infinite_figure_is_refused_at_its_field_and_line(
    edit: tuple[str, str], path: str, marker: str, words: str
) -> None:
    text = break_(VALID, edit)
    where, line, message = _problem(text)
    assert (where, line) == (path, line_of(text, marker)) and words in message


def test_more_segments_than_a_decision_page_can_show_are_refused_at_the_list() -> None:
    extra = "".join(
        f"    - {{id: s{i}, name: S{i}, volume_t_tokens: 1, reference_price: 1}}\n"
        for i in range(MAX_SEGMENTS)
    )
    text = VALID.replace("  segments:\n", "  segments:\n" + extra, 1)
    path, _, message = _problem(text)
    assert path == "market.segments" and f"at most {MAX_SEGMENTS} items" in message


def test_two_data_sources_of_the_same_kind_are_refused_at_the_second() -> None:
    text = break_(
        VALID,
        (
            "    - {kind: scraped, cost_per_t_tokens_musd: 0.5, pool_t_tokens: 100}",
            "    - {kind: scraped, cost_per_t_tokens_musd: 0.5, pool_t_tokens: 100}\n"
            "    - {kind: scraped, cost_per_t_tokens_musd: 9, pool_t_tokens: 5}",
        ),
    )
    path, _, message = _problem(text)
    assert (
        path == "data.sources[1].kind" and "two data sources are both of kind 'scraped'" in message
    )


def test_a_starting_model_with_more_active_than_total_parameters_is_refused() -> None:
    text = break_(
        VALID,
        (
            "model: {name: A1, params_b: 70, tokens_t: 15}",
            "model: {name: A1, params_b: 70, active_params_b: 700, tokens_t: 15}",
        ),
    )
    path, _, message = _problem(text)
    assert path == "companies[0].model" and "cannot exceed total parameters (70B)" in message


def test_a_company_name_longer_than_a_table_cell_is_refused() -> None:
    path, _, message = _problem(break_(VALID, ("  - name: Beta\n", f"  - name: {'B' * 200}\n")))
    assert path == "companies[1].name" and "at most 60 characters" in message
