"""Checks that span sections of a scenario (names that must exist elsewhere), located by field path.

Works on the raw parsed file as well as on a validated scenario, so these mistakes are reported
together with field mistakes, each at its own place.
"""

from __future__ import annotations

from typing import Any

Location = tuple[str | int, ...]


def _names(items: Any, key: str) -> list[str]:
    return [str(x.get(key)) for x in items if isinstance(x, dict) and key in x] if isinstance(items, list) else []


def reference_problems(data: Any) -> list[tuple[Location, str]]:
    """Every cross-reference mistake in a scenario mapping, with where it is."""
    if not isinstance(data, dict):
        return []
    compute: Any = data.get("compute") or {}
    market: Any = data.get("market") or {}
    gpus = set(_names(compute.get("gpus") if isinstance(compute, dict) else None, "name"))
    segs = set(_names(market.get("segments") if isinstance(market, dict) else None, "id"))
    companies: list[Any] = data["companies"] if isinstance(data.get("companies"), list) else []
    labs = {str(c.get("name")) for c in companies if isinstance(c, dict) and c.get("kind") == "lab"}
    out: list[tuple[Location, str]] = []
    out += _duplicates(companies, "companies", "name", "two companies are both called")
    if isinstance(compute, dict):
        out += _duplicates(compute.get("gpus"), "compute.gpus", "name", "two GPUs are both called")
    if isinstance(market, dict):
        out += _duplicates(market.get("segments"), "market.segments", "id", "two segments share the id")
    data_section: Any = data.get("data") or {}
    if isinstance(data_section, dict):
        out += _duplicates(data_section.get("sources"), "data.sources", "kind",
                           "two data sources are both of kind")
    for i, c in enumerate(companies):
        if isinstance(c, dict):
            out += _company_references(i, c, gpus, segs, labs)
    rounds = data.get("rounds", 12)
    for i, e in enumerate(data.get("events") or []):
        if isinstance(e, dict) and isinstance(e.get("round"), int) and isinstance(rounds, int) and e["round"] > rounds:
            out.append((("events", i, "round"), f"event {e.get('title')!r} is scheduled for round {e['round']} but the game has {rounds} rounds"))
    return out


def _duplicates(items: Any, path: str, key: str, words: str) -> list[tuple[Location, str]]:
    seen: set[str] = set()
    out: list[tuple[Location, str]] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and key in item:
            if str(item[key]) in seen:
                out.append(((*path.split("."), i, key), f"{words} {item[key]!r}"))
            seen.add(str(item[key]))
    return out


def _company_references(i: int, c: dict[str, Any], gpus: set[str], segs: set[str], labs: set[str]) -> list[tuple[Location, str]]:
    name, out = c.get("name"), list[tuple[Location, str]]()
    for g in c.get("gpus") or {} if isinstance(c.get("gpus"), dict) else {}:
        if g not in gpus:
            out.append((("companies", i, "gpus", g), f"company {name!r} owns unknown GPU {g!r} (catalogue: {', '.join(sorted(gpus))})"))
    for s in c.get("domain_skill") or {} if isinstance(c.get("domain_skill"), dict) else {}:
        if s not in segs:
            out.append((("companies", i, "domain_skill", s), f"company {name!r} has SFT data for unknown segment {s!r} (segments: {', '.join(sorted(segs))})"))
    base = c.get("base_model", "open")
    if c.get("kind") == "product" and base != "open" and base not in labs:
        out.append((("companies", i, "base_model"), f"company {name!r} builds on {base!r}, which is not a lab in this scenario (labs: {', '.join(sorted(labs)) or 'none'})"))
    return out
