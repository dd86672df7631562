"""The scorecard's metrics by name, with the labels and definitions every page, doc and study
shows: one source, read by the engine's rules (`app.engine.rules.scoring`) and the web layer."""

from __future__ import annotations

METRICS = (
    "profit",
    "revenue_growth",
    "share",
    "valuation",
    "brand",
    "safety_record",
    "capability",
    "solvency",
)
METRIC_LABELS = {
    "profit": "Profit", "revenue_growth": "Revenue growth", "share": "Market share",
    "valuation": "Valuation", "brand": "Brand trust", "safety_record": "Safety record",
    "capability": "Capability", "solvency": "Solvency",
}
# What each raw metric is: the one text the study docs, the report pages and docs/model.md use.
METRIC_DEFINITIONS = {
    "profit": "cumulative net income over the game, in yardsticks",
    "revenue_growth": "log of the last four quarters' average revenue over the company's "
                      "starting revenue (the quarters before round 1 count at the start's level)",
    "share": "share of the revenue (or tokens: share_basis) earned from buyers so far, less the "
             "company's share at the start; sales count in full at a 50% gross margin, none at cost",
    "valuation": "the founders' stake (dilution counts) less the company's starting value, "
                 "in yardsticks",
    "brand": "brand trust (0-100)",
    "safety_record": "minus the incidents to date",
    "capability": "capability of what it sells (0-100)",
    "solvency": "cash net of debt in quarters of the game's average costs (at most 0 once "
                "rescued)",
}
