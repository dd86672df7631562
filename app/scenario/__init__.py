"""Scenario files: schema and loading."""

from app.scenario.loader import (
    Problem,
    ScenarioError,
    find_scenario,
    json_schema,
    list_scenarios,
    load_scenario,
    parse_scenario,
)
from app.scenario.schema import PERSONAS, Scenario

__all__ = ["PERSONAS", "Problem", "Scenario", "ScenarioError", "find_scenario", "json_schema", "list_scenarios", "load_scenario", "parse_scenario"]
