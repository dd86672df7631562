"""Scenario text is read with limits: a few hundred bytes cannot expand into gigabytes, nest without
end, or come back whole inside an error message."""

from __future__ import annotations

import pytest
import yaml

from app.scenario import ScenarioError, parse_scenario
from app.scenario.loader import MESSAGE_MAX_CHARS, NESTING_MAX, SCENARIO_TEXT_MAX_CHARS, dump_scenario
from tests.scenario.test_validation_messages import VALID


def alias_bomb(levels: int = 8) -> str:
    """Each level lists the one before ten times: 10**levels leaves from about 400 bytes."""
    lines = ["a0: &a0 [x,x,x,x,x,x,x,x,x,x]"]
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join([*lines, f"name: *a{levels - 1}", "id: bomb"]) + "\n"


def problems_of(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "uploaded")
    return [str(p) for p in caught.value.problems]


def test_an_alias_bomb_is_refused_at_its_first_anchor_without_being_expanded() -> None:
    bomb = alias_bomb()
    assert len(bomb) < 450
    problems = problems_of(bomb)
    assert problems == [
        "line 1, (top level): not valid YAML: anchors (&name) and aliases (*name) are not "
        "allowed in a scenario; write each value out"
    ]


def test_a_single_alias_is_refused_at_its_line_even_when_harmless() -> None:
    text = VALID.replace("rounds: 4  # rounds", "rounds: &r 4\nstart_year: *r")
    assert "anchors (&name) and aliases (*name)" in problems_of(text)[0]
    assert problems_of(text)[0].startswith("line 5,")


def test_nesting_far_past_any_scenario_is_refused_instead_of_exhausting_the_stack() -> None:
    problems = problems_of("[" * 100_000)
    assert problems == [
        f"line 1, (top level): not valid YAML: sections are nested more than {NESTING_MAX} deep"
    ]


def test_a_scenario_longer_than_the_cap_is_refused_before_it_is_parsed() -> None:
    text = VALID + "#" * SCENARIO_TEXT_MAX_CHARS
    assert problems_of(text) == [
        f"(top level): a scenario has at most {SCENARIO_TEXT_MAX_CHARS:,} characters; "
        f"this one has {len(text):,}"
    ]


def test_a_number_too_long_to_read_is_a_problem_not_a_crash() -> None:
    assert problems_of(VALID.replace("rounds: 4", "rounds: " + "9" * 5000)) == [
        "(top level): not valid YAML: a number is too long"
    ]


def test_a_wrong_value_is_quoted_only_in_part_and_a_wrong_list_not_at_all() -> None:
    long_name = "x" * 10_000
    text = VALID.replace("rounds: 4  # rounds", f"rounds: {long_name}").replace(
        "name: Tiny", "name: [1, 2, 3]"
    )
    problems = problems_of(text)
    assert any(
        p.startswith("line 5, rounds:") and p.endswith(f"got '{'x' * 39}…") for p in problems
    ), problems
    assert any(p.startswith("line 3, name:") and p.endswith("got a list") for p in problems), (
        problems
    )
    assert all(len(p) < 200 for p in problems)


def test_a_message_that_quotes_a_huge_name_is_cut_short() -> None:
    text = VALID.replace("base_model: Alpha  # base_model", f"base_model: {'Z' * 50_000}")
    problems = problems_of(text)
    assert any("at most 60 characters" in p for p in problems) and any("builds on 'ZZZ" in p for p in problems)
    assert all(len(p) < MESSAGE_MAX_CHARS + 100 for p in problems)


def test_a_scenario_with_no_anchors_still_reads_as_before() -> None:
    assert parse_scenario(VALID).name == "Tiny"


def test_a_scenario_whose_data_shares_values_is_written_out_without_aliases_and_reads_back() -> None:
    data = yaml.safe_load(VALID)
    data["companies"] = [{**data["companies"][0], "name": f"Lab {i}"} for i in range(3)]  # sharing nested values
    for c in data["companies"]:
        c["domain_skill"] = data["companies"][0].get("domain_skill", {})
    text = dump_scenario(data)
    assert "&" not in text and "*" not in text
    assert [c.name for c in parse_scenario(text).companies] == ["Lab 0", "Lab 1", "Lab 2"]
