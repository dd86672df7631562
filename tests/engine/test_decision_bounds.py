"""Every number a team can decide has bounds in the decision model itself, so every path that builds
a decision (pages, API, archive import) refuses an absurd value at its field, and the API's schema
shows them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.engine.decisions import MAX_HEADCOUNT, MAX_PARAMS_B, MAX_PRICE, MIN_PRICE, Decision

from .factories import SCENARIO_IDS, simple_decision, world


def _numbers_and_mappings(
    schema: Any, path: str = ""
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """Every number and every mapping in a JSON schema, with where it is."""
    numbers: list[tuple[str, Any]] = []
    mappings: list[tuple[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "number":
            numbers.append((path, schema))
        if schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
            mappings.append((path, schema))
        for key, value in schema.items():
            n, m = _numbers_and_mappings(value, f"{path}.{key}")
            numbers, mappings = numbers + n, mappings + m
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            n, m = _numbers_and_mappings(value, f"{path}[{i}]")
            numbers, mappings = numbers + n, mappings + m
    return numbers, mappings


def test_every_number_in_the_decision_schema_has_a_minimum_and_a_maximum() -> None:
    numbers, _ = _numbers_and_mappings(Decision.model_json_schema())
    assert len(numbers) >= 20
    unbounded = [path for path, s in numbers if "minimum" not in s or "maximum" not in s]
    assert unbounded == []


def test_every_mapping_in_the_decision_schema_caps_its_entries_and_the_length_of_its_names() -> (
    None
):
    _, mappings = _numbers_and_mappings(Decision.model_json_schema())
    assert len(mappings) == 4  # GPUs bought, GPUs rented, SFT spend and prices, by name
    uncapped = [
        path
        for path, s in mappings
        if "maxProperties" not in s or "maxLength" not in s.get("propertyNames", {})
    ]
    assert uncapped == []


def _refusal(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Decision.model_validate(payload)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


@pytest.mark.parametrize(
    ("payload", "field", "limit"),
    [
        (
            {"training": {"start": {"params_b": 1000, "active_params_b": 1e308, "tokens_t": 10}}},
            "training.start.active_params_b",
            f"{MAX_PARAMS_B:g}",
        ),
        ({"talent": {"researchers": 1e308}}, "talent.researchers", f"{MAX_HEADCOUNT:g}"),
        ({"talent": {"engineers": 1e308}}, "talent.engineers", f"{MAX_HEADCOUNT:g}"),
        (
            {"products": {"prices": {"consumer": 1e308}}},
            "products.prices.consumer",
            f"{MAX_PRICE:g}",
        ),
        (
            {"products": {"prices": {"consumer": 5e-324}}},
            "products.prices.consumer",
            f"{MIN_PRICE:g}",
        ),
        ({"data": {"synthetic_t_tokens": 1e308}}, "data.synthetic_t_tokens", "1000"),
        ({"finance": {"borrow_musd": 1e300}}, "finance.borrow_musd", "1000000"),
        ({"compute": {"buy_gpus": {"H100": 1e9}}}, "compute.buy_gpus.H100", "5000000"),
        ({"compute": {"rent_gpus": {"H100": -1}}}, "compute.rent_gpus.H100", "0"),
    ],
)
def test_the_absurd_numbers_of_the_security_probe_are_refused_at_their_field_naming_the_limit(
    payload: dict[str, Any], field: str, limit: str
) -> None:
    refused = _refusal(payload)
    assert list(refused) == [field] and limit in refused[field]


def test_a_run_with_more_active_than_total_parameters_is_refused_at_the_active_parameters() -> None:
    refused = _refusal(
        {"training": {"start": {"params_b": 10, "active_params_b": 20, "tokens_t": 1}}}
    )
    assert refused == {
        "training.start.active_params_b": "Value error, Active parameters (20B) cannot exceed "
        "total parameters (10B)."
    }


def test_a_decision_naming_more_gpus_than_any_catalogue_holds_is_refused() -> None:
    refused = _refusal({"compute": {"buy_gpus": {f"GPU{i}": 1.0 for i in range(100)}}})
    assert list(refused) == ["compute.buy_gpus"]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_plain_decision_of_every_company_of_every_shipped_scenario_is_within_bounds(
    scenario_id: str,
) -> None:
    w = world(scenario_id)
    for c in range(w.n_companies):
        plain = simple_decision(w, c)
        assert Decision.model_validate_json(plain.model_dump_json()) == plain
