"""Every scenario shipped in scenarios/ loads and is ready for a class."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.scenario import Scenario, load_scenario
from app.scenario.loader import SCENARIO_DIR
from app.scenario.plausible import (
    AUTHORED_STARTS,
    FIT_BRAND_BOUND,
    FIT_CASH_BOUNDS,
    PLAUSIBLE_BRAND,
    PLAUSIBLE_CASH_MUSD,
)

SHIPPED = sorted(SCENARIO_DIR.glob("*.yaml"))
REQUIRED = {"frontier-race", "product-builders", "trust-and-safety", "mixed-ecosystem"}  # PRODUCT.md: "at least"
SEAT_PERSONAS = {"scale_maximalist", "fast_follower", "safety_first", "price_disruptor", "incumbent"}


def _load(name: str) -> Scenario:
    return load_scenario(SCENARIO_DIR / f"{name}.yaml")


def test_at_least_four_scenarios_are_shipped() -> None:
    assert len(SHIPPED) >= 4
    assert REQUIRED <= {p.stem for p in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_loads_and_id_matches_file_name(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.id == path.stem


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_teaching_note_is_complete(path: Path) -> None:
    note = load_scenario(path).teaching_note
    assert len(note.objectives) >= 3, "3-5 learning objectives"
    assert len(note.discussion_questions) >= 4, "4-6 discussion questions"
    assert note.class_plan, "a class plan"
    assert any("min" in step for step in note.class_plan), "class plan steps say how many minutes they take"
    assert note.concepts, "course concepts the scenario makes tangible"
    assert note.sources, "sources of the figures"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_product_companies_build_on_an_existing_model(path: Path) -> None:
    scenario = load_scenario(path)
    labs = {c.name for c in scenario.companies if c.kind == "lab"}
    for company in scenario.companies:
        if company.kind == "product":
            assert company.base_model == "open" or company.base_model in labs, company.name
        else:
            assert company.model is not None, company.name


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_seats_have_a_mix_of_playing_personas(path: Path) -> None:
    personas = Counter(c.persona for c in load_scenario(path).companies)
    assert set(personas) <= SEAT_PERSONAS, "idle is never a seat default"
    assert max(personas.values()) <= 2, f"no persona holds more than 2 seats: {dict(personas)}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_events_include_instructor_catalogue(path: Path) -> None:
    events = load_scenario(path).events
    assert any(e.round is None and e.probability_per_round == 0 for e in events), "catalogue events to inject"
    assert all(e.round is None or e.probability_per_round == 0 for e in events), "scheduled or random, not both"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_segments_with_domain_skill_exist(path: Path) -> None:
    scenario = load_scenario(path)
    segments = {s.id for s in scenario.market.segments}
    for company in scenario.companies:
        assert set(company.domain_skill) <= segments


def test_product_builders_is_one_vendor_and_five_products() -> None:
    sc = _load("product-builders")
    labs = [c for c in sc.companies if c.kind == "lab"]
    products = [c for c in sc.companies if c.kind == "product"]
    assert len(labs) == 1  # the vendor is played as a price disruptor: a cheap MoE model keeps its API market alive
    assert len(products) == 5
    bases = {c.base_model for c in products}
    assert "open" in bases and labs[0].name in bases, "some on open weights, some on the vendor"
    assert 8 <= sc.rounds <= 12
    for c in products:
        assert c.domain_skill, f"{c.name} differentiates with SFT"
        assert sum(c.gpus.values()) <= 5000 and c.engineers <= 60, "small teams and GPU fleets"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_start_is_a_plausible_2025_company(path: Path) -> None:
    """The bands and their sources: app/scenario/plausible.py."""
    for c in load_scenario(path).companies:
        low, high = PLAUSIBLE_CASH_MUSD[c.kind]
        assert low <= c.cash_musd <= high, f"{c.name}: ${c.cash_musd:,.0f}M of cash for a {c.kind}"
        assert PLAUSIBLE_BRAND[0] <= c.brand <= PLAUSIBLE_BRAND[1], f"{c.name}: brand {c.brand}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_start_is_within_a_fits_reach_of_its_authored_sourced_figure(path: Path) -> None:
    """A balance fit moves a start at most x1/2 to x2 in cash and 10 brand points from the authored figure: four
    successive fits, each within its own bounds of the last, had taken Cinder from $2B to $20B and a creative-tools
    start-up from $120M to $1.2B."""
    sc = load_scenario(path)
    authored = AUTHORED_STARTS[sc.id]
    assert set(authored) == {c.name for c in sc.companies}, "every shipped company has its authored start"
    for c in sc.companies:
        cash, brand = authored[c.name]
        ratio = c.cash_musd / cash
        assert FIT_CASH_BOUNDS[0] - 0.01 <= ratio <= FIT_CASH_BOUNDS[1] + 0.01, f"{c.name}: ${c.cash_musd:,.0f}M, x{ratio:.2f} its authored ${cash:,.0f}M"
        assert abs(c.brand - brand) <= FIT_BRAND_BOUND + 1e-9, f"{c.name}: brand {c.brand}, authored {brand}"


def test_trust_and_safety_has_regulation_and_copyright_pressure() -> None:
    sc = _load("trust-and-safety")
    assert 5 <= len(sc.companies) <= 6 and all(c.kind == "lab" for c in sc.companies)
    assert len({c.safety for c in sc.companies}) == len(sc.companies), "differing safety starting points"
    assert sum(s.min_safety > 0 for s in sc.market.segments) >= 3, "regulated segments"
    scheduled = {e.kind for e in sc.events if e.round is not None}
    assert {"regulation", "copyright_wave"} <= scheduled
    assert sc.safety.fine_share_of_revenue == pytest.approx(0.07)
    assert sc.safety.base_incident_rate > Scenario.model_fields["safety"].default_factory().base_incident_rate  # type: ignore[misc]


def test_mixed_ecosystem_is_a_two_sided_market() -> None:
    sc = _load("mixed-ecosystem")
    labs = {c.name for c in sc.companies if c.kind == "lab"}
    products = [c for c in sc.companies if c.kind == "product"]
    assert len(labs) == 3 and len(products) == 3
    assert sum(c.base_model in labs for c in products) >= 2, "product companies buy API access from labs"
    assert any(c.model and c.model.active_params_b for c in sc.companies if c.kind == "lab"), "an MoE lab"
