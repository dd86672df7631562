"""Finance: raises at a valuation, debt, interest, tax, the three statements, and distress
rescue."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.world import World

MARGIN_CREDIT = (-1.0, 0.5)  # net margins beyond these move the multiple no further
# Investors pay the full revenue multiple for a gross margin of 50% or more, less in proportion
# below it, nothing for revenue sold at or below its serving cost (AI companies report 40-60%
# gross margins, software 70-80%: The Information on OpenAI and Anthropic, 2024-25).
FULL_MULTIPLE_GROSS_MARGIN = 0.5
MAX_INCIDENT_HIT = 0.9  # the most one quarter's incidents can cut a valuation


@dataclass(frozen=True, eq=False)
class Financing:
    raised: np.ndarray
    borrowed: np.ndarray
    repaid: np.ndarray
    ownership: np.ndarray


def debt_limit(world: World, revenue: np.ndarray, ppe: np.ndarray) -> np.ndarray:
    """Most a company may owe: a multiple of annualised revenue plus half its GPU book value."""
    return world.scenario.finance.max_debt_to_revenue * 4.0 * revenue + 0.5 * ppe


def debt_room(world: World, revenue: np.ndarray, ppe: np.ndarray, debt: np.ndarray) -> np.ndarray:
    """New debt lenders will still add: the limit less what is owed, never below zero."""
    return np.maximum(debt_limit(world, revenue, ppe) - debt, 0.0)


def max_raise(world: World, valuation: np.ndarray, cash: np.ndarray, debt: np.ndarray,
              gpus_book: np.ndarray) -> np.ndarray:
    """The most investors put in this quarter: a share of what the business is worth, its
    valuation less its net assets (`enterprise_of`). They fund a business, not a bank balance: a
    company cannot raise more because it has just raised."""
    return world.scenario.finance.max_raise_share * enterprise_of(valuation, cash, debt, gpus_book)


def raise_money(
    world: World,
    raise_: np.ndarray,
    borrow: np.ndarray,
    repay: np.ndarray,
    cash: np.ndarray,
    debt: np.ndarray,
    revenue: np.ndarray,
    ppe: np.ndarray,
    valuation: np.ndarray,
    ownership: np.ndarray,
) -> Financing:
    """Raise equity (diluting the team), borrow within the limit, repay what is owed."""
    raised = np.clip(raise_, 0.0, max_raise(world, valuation, cash, debt, ppe))
    borrowed = np.clip(borrow, 0.0, debt_room(world, revenue, ppe, debt))
    repaid = np.clip(repay, 0.0, np.minimum(debt, np.maximum(cash + raised + borrowed, 0.0)))
    return Financing(raised, borrowed, repaid, ownership * valuation / (valuation + raised))


def interest(world: World, debt: np.ndarray) -> np.ndarray:
    """A quarter's interest on the debt carried into it ($M)."""
    return debt * world.scenario.finance.interest_rate_per_year / 4.0


def tax(
    world: World, pretax: np.ndarray, carryforward: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tax on profit after losses carried forward; returns (tax, new carry-forward)."""
    used = np.minimum(carryforward, np.maximum(pretax, 0.0))
    due = world.scenario.finance.tax_rate * np.maximum(pretax - used, 0.0)
    return due, carryforward - used + np.maximum(-pretax, 0.0)


def rescue(
    world: World, cash: np.ndarray, valuation: np.ndarray, ownership: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cash a company that ran dry is rescued with, and its team's stake after punitive dilution."""
    f = world.scenario.finance
    amount = np.where(cash < 0, -cash + f.rescue_buffer_musd, 0.0)
    price = f.rescue_discount * valuation
    return amount, ownership * price / (price + amount)


def revenue_quality(gross_margin: np.ndarray | float) -> np.ndarray:
    """What a dollar of revenue is worth to investors at this gross margin (R,C): all of it at
    FULL_MULTIPLE_GROSS_MARGIN or more, in proportion below, nothing at or below its serving
    cost."""
    return np.clip(np.asarray(gross_margin) / FULL_MULTIPLE_GROSS_MARGIN, 0.0, 1.0)


def enterprise_value(
    world: World,
    revenue: np.ndarray,
    previous_revenue: np.ndarray,
    net_income: np.ndarray,
    capability: np.ndarray,
    brand: np.ndarray,
    is_lab: np.ndarray,
    gross_margin: np.ndarray | float = FULL_MULTIPLE_GROSS_MARGIN,
) -> np.ndarray:
    """What investors would pay for the business on this quarter's numbers, before cash and debt:
    a revenue multiple with credit for growth and for margins, scaled down for a gross margin
    under FULL_MULTIPLE_GROSS_MARGIN (revenue sold below its serving cost is worth nothing), plus
    the value of an owned model."""
    f = world.scenario.finance
    growth = np.clip(revenue / np.maximum(previous_revenue, 1e-6) - 1.0, 0.0, f.max_growth_credit)
    margin = np.clip(net_income / np.maximum(revenue, 1e-6), *MARGIN_CREDIT)
    multiple = f.revenue_multiple + f.growth_multiple * growth + f.margin_multiple * margin
    quality = revenue_quality(gross_margin)
    operating = 4.0 * revenue * np.maximum(multiple, 0.0) * quality
    model = np.where(
        is_lab,
        f.capability_value_busd * 1000.0 * (capability / 100.0) ** 3 * np.sqrt(brand / 50.0),
        0.0,
    )
    return operating + model


def valuation(
    world: World,
    enterprise: np.ndarray,
    previous_enterprise: np.ndarray,
    cash: np.ndarray,
    debt: np.ndarray,
    gpus_book: np.ndarray,
    incident_severity: np.ndarray,
) -> np.ndarray:
    """Investors close part of the gap to this quarter's enterprise value (valuations move
    smoothly), an incident knocks what they pay at once, and the net assets are added: cash and
    the book value of the GPUs owned or on order, less debt (buying a GPU turns cash into a GPU;
    it is what the GPU then earns that moves the value)."""
    f, sf = world.scenario.finance, world.scenario.safety
    smoothed = previous_enterprise + f.valuation_smoothing * (enterprise - previous_enterprise)
    hit = np.minimum(sf.market_value_hit_share * incident_severity, MAX_INCIDENT_HIT)
    net_assets = cash + gpus_book - debt
    return np.maximum(smoothed * (1.0 - hit) + net_assets, f.valuation_floor_musd)


def enterprise_of(valuation_: np.ndarray, cash: np.ndarray, debt: np.ndarray,
                  gpus_book: np.ndarray) -> np.ndarray:
    """The business's part of a valuation: what is left after the net assets, never below
    zero."""
    return np.maximum(valuation_ - cash - gpus_book + debt, 0.0)
