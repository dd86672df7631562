"""The books of one quarter: income statement, tax, cash, the distress rescue and debt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.rules import finance
from app.engine.world import World

STATEMENT_LINES = (
    "revenue_retail", "revenue_api",
    "compute_rental", "compute_energy", "compute_datacenter", "compute_depreciation",
    "api_fees", "api_serving", "open_serving", "retrieval",
    "staff", "data", "sft", "safety", "marketing",
    "incidents", "fines", "settlements",
    "interest", "tax",
)
COST_LINES = STATEMENT_LINES[2:STATEMENT_LINES.index("interest")]  # after revenue, before interest
FLEET_LINES = ("compute_rental", "compute_energy", "compute_datacenter", "compute_depreciation")
SERVING_BILLS = ("api_fees", "api_serving", "open_serving", "retrieval")


def gross_margin(lines: dict[str, np.ndarray], revenue: np.ndarray,
                 serving_share: np.ndarray) -> np.ndarray:
    """(R,C) revenue less the cost of serving it (model bills, retrieval and the serving share of
    the fleet's costs), over revenue; 0 for a company with no revenue."""
    cost = sum(lines[k] for k in SERVING_BILLS) + serving_share * sum(lines[k] for k in FLEET_LINES)
    return np.where(revenue > 0, (revenue - cost) / np.maximum(revenue, 1e-9), 0.0)


@dataclass(frozen=True, eq=False)
class Books:
    """What a quarter did to each company's accounts (R,C, $M)."""

    lines: dict[str, np.ndarray]  # the income statement, in STATEMENT_LINES order
    operating_income: np.ndarray
    net_income: np.ndarray
    loss_carryforward: np.ndarray
    cash: np.ndarray  # at the end of the quarter, rescue included
    debt: np.ndarray
    rescue: np.ndarray  # cash injected into a company that ran dry
    ownership: np.ndarray  # the team's stake after raises and any rescue
    cash_flow: dict[str, np.ndarray]  # operating, investing, financing


def book_accounts(world: World, lines: dict[str, np.ndarray], revenue: np.ndarray, cash: np.ndarray,
                  debt: np.ndarray, carryforward: np.ndarray, valuation: np.ndarray,
                  depreciation: np.ndarray, capex: np.ndarray, money: finance.Financing) -> Books:
    """Close the quarter: operating income, tax after losses carried forward, net income, cash (a
    company that ran dry is rescued at a punitive price) and debt. `lines` has every line but
    tax."""
    costs = 0 + lines[COST_LINES[0]]  # sum(lines[k] for k in COST_LINES), added in place
    for k in COST_LINES[1:]:
        costs += lines[k]
    operating = revenue - costs
    pretax = operating - lines["interest"]
    tax, carry = finance.tax(world, pretax, carryforward)
    net = pretax - tax
    cash = cash + net + depreciation - capex + money.raised + money.borrowed - money.repaid
    rescue, ownership = finance.rescue(world, cash, valuation, money.ownership)
    cash_flow = {
        "operating": net + depreciation,
        "investing": -capex,
        "financing": money.raised + money.borrowed - money.repaid + rescue,
    }
    return Books(
        lines={**lines, "tax": tax}, operating_income=operating, net_income=net,
        loss_carryforward=carry, cash=cash + rescue, debt=debt + money.borrowed - money.repaid,
        rescue=rescue, ownership=ownership, cash_flow=cash_flow,
    )
