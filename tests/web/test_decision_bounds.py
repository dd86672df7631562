"""A number typed outside its bounds on the decision form is told at its own field, in the field's
words ("At most 50,000 researchers."), and nothing is saved; a number at a bound is taken as
typed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.engine import decisions as bounds
from app.scenario.schema import MAX_SEGMENTS
from app.settings import Settings
from app.web import decision_form
from app.web.main import create_app
from tests.classroom import TWO_TEAMS, a_game
from tests.engine.factories import world

W = world("frontier-race")
RUN = {
    "training.start.enabled": "on",
    "training.start.params_b": "400",
    "training.start.tokens_t": "10",
}


@pytest.mark.parametrize(
    ("field", "typed", "told"),
    [
        ("talent.researchers", "50001", "At most 50,000 researchers."),
        ("talent.engineers", "1e308", "At most 50,000 engineers."),
        ("talent.safety_staff", "-1", "At least 0 safety staff."),
        ("talent.pay_level", "4", "At most 3 times the market pay."),
        ("compute.buy_gpus.H100", "6,000,000", "At most 5,000,000 H100 GPUs a quarter."),
        ("compute.rent_gpus.A100", "-5", "At least 0 A100 GPUs a quarter."),
        ("compute.serving_share", "60", "At most 1 (a share: 0.6 is 60%)."),
        ("finance.borrow_musd", "1e300", "At most $1,000,000M."),
        ("tuning.sft_musd.consumer", "2e6", "At most $1,000,000M."),
        ("data.synthetic_t_tokens", "1e308", "At most 1,000 trillion tokens a quarter."),
        ("products.prices.consumer", "1e308", "At most $10,000 per million tokens."),
        ("products.prices.consumer", "5e-324", "At least $0.0001 per million tokens."),
        ("products.api_price", "20000", "At most $10,000 per million tokens."),
        ("training.start.params_b", "0.01", "At least 0.1 billion parameters."),
        ("training.start.active_params_b", "1e308", "At most 20,000 billion parameters."),
        ("training.start.tokens_t", "5000", "At most 1,000 trillion tokens."),
    ],
)
def test_a_number_beyond_its_bound_is_told_at_its_field_in_the_fields_words(
    field: str, typed: str, told: str
) -> None:
    decision, problems = decision_form.parse({**RUN, field: typed}, W)
    assert decision is None and problems == {field: told}


def test_more_active_than_total_parameters_is_told_at_the_active_parameters() -> None:
    _, problems = decision_form.parse({**RUN, "training.start.active_params_b": "500"}, W)
    assert problems == {
        "training.start.active_params_b": "Active parameters (500B) cannot exceed total parameters "
        "(400B)."
    }


def test_every_number_at_its_bound_is_taken_as_typed() -> None:
    typed = {
        **RUN,
        "training.start.params_b": f"{bounds.MAX_PARAMS_B:g}",
        "training.start.tokens_t": f"{bounds.MIN_RUN_TOKENS_T:g}",
        "talent.researchers": "50,000",
        "compute.buy_gpus.H100": "5,000,000",
        "finance.repay_musd": "1,000,000",
        "products.prices.consumer": "0.0001",
        "products.prices.developer": "10000",
        "compute.serving_share": "1",
    }
    decision, problems = decision_form.parse(typed, W)
    assert problems == {} and decision is not None
    assert decision.talent.researchers == bounds.MAX_HEADCOUNT and decision.compute.buy_gpus == {
        "H100": bounds.MAX_GPUS
    }
    assert decision.products.prices == {"consumer": bounds.MIN_PRICE, "developer": bounds.MAX_PRICE}


def test_a_draft_stored_before_the_bounds_refills_the_form_and_is_told_at_its_field() -> None:
    stored = (
        '{"talent": {"researchers": 1e308}, "training": {"start": null}, '
        '"products": {"prices": {"consumer": 2.5}}}'
    )
    typed = decision_form.stored_values(stored)
    assert typed["talent.researchers"] == "1e+308" and typed["training.start.enabled"] == ""
    _, problems = decision_form.parse(typed, W)
    assert problems == {"talent.researchers": "At most 50,000 researchers."}


def test_a_stored_draft_within_bounds_refills_the_form_as_the_decision_itself_does() -> None:
    decision, _ = decision_form.parse(
        {**RUN, "products.prices.consumer": "2.5", "talent.engineers": "900"}, W
    )
    assert decision is not None
    assert decision_form.stored_values(decision.model_dump_json()) == decision_form.values(decision)


# --- through the page --------------------------------------------------------------------------


@pytest.fixture
def student_page(prepared_sqlite_url: str) -> Iterator[TestClient]:
    """A student of team Echo on the decision page of a fresh game."""
    app = create_app(Settings(database_url=prepared_sqlite_url))
    with Session(app.state.engine) as s:
        code = a_game(s, name="Bounds 101", seats=TWO_TEAMS, seed=3).join_code
    with TestClient(app) as client:
        page = client.get(f"/join/{code}").text
        seat = re.search(
            r'id="seat-(\d+)" name="seat_id" value="\d+"[^>]*>\s*<label for="seat-\d+">Echo', page
        )
        assert seat, page
        client.post(
            f"/join/{code}", data={"display_name": "Ann", "seat_id": seat.group(1), **_csrf(page)}
        )
        yield client


def _csrf(page: str) -> dict[str, str]:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return {"csrf_token": found.group(1)} if found else {}


def test_the_page_tells_an_absurd_headcount_at_its_field_and_saves_nothing(
    student_page: TestClient,
) -> None:
    page = student_page.get("/play/decide").text
    saved = student_page.post(
        "/play/decide", data={"version": "0", "talent.researchers": "1e308", **_csrf(page)}
    )
    shown = html.unescape(saved.text)
    assert saved.status_code == 422
    assert "At most 50,000 researchers." in shown.split('id="err-talent.researchers"')[1][:200]
    assert "Nothing saved yet for this round." in shown


def test_an_untouched_form_always_saves_even_when_todays_prices_lie_outside_the_bounds() -> None:
    prices = np.full((1, W.n_companies, W.n_segments), 1e-9)
    prices[0, 0, 0] = 1e9
    staff = np.full((1, W.n_companies, 3), 1e6)
    typed = decision_form.starting_values(W, 0, prices, staff)
    decision, problems = decision_form.parse(typed, W)
    assert problems == {} and decision is not None
    assert decision.products.prices[W.segment_ids[0]] == bounds.MAX_PRICE
    assert decision.products.prices[W.segment_ids[1]] == bounds.MIN_PRICE
    assert decision.talent.researchers == bounds.MAX_HEADCOUNT


def test_the_apis_openapi_schema_shows_the_bounds_of_a_decision(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    researchers = schemas["TalentDecision"]["properties"]["researchers"]["anyOf"][0]
    prices = schemas["ProductDecision"]["properties"]["prices"]
    assert (researchers["minimum"], researchers["maximum"]) == (0, bounds.MAX_HEADCOUNT)
    assert prices["additionalProperties"] == {
        "type": "number",
        "minimum": bounds.MIN_PRICE,
        "maximum": bounds.MAX_PRICE,
    }
    assert prices["maxProperties"] == MAX_SEGMENTS
