"""Counter-based random draws: every draw is a pure function of (seed, round, company, purpose).

Nothing owns a generator, so a replay is exact and a counterfactual changes only what it
changes (common random numbers). SplitMix64 finaliser (Steele et al. 2014) as the hash.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TO_UNIT = 1.0 / float(1 << 53)
MARKET = -1  # the "company" of draws that belong to the whole market


class Purpose(IntEnum):
    """What a draw is for; adding a purpose never shifts another's numbers."""

    TRAINING_SETBACK = 1
    INCIDENT = 2
    INCIDENT_SEVERITY = 3
    LAWSUIT = 4
    LAWSUIT_SEVERITY = 5
    EVENT = 6
    PERSONA = 7
    PERSONA_STYLE = 8


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))  # a new array: the steps below work on it in place
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _keyed(key: np.ndarray, part: int | np.ndarray) -> np.ndarray:
    """A key mixed with one more part of a draw's address (a number, or numbers to broadcast)."""
    if np.ndim(part):
        return _mix(key * _GOLDEN + np.asarray(part, dtype=np.int64).astype(np.uint64))
    return _mix(key * _GOLDEN + np.uint64(int(part) & 0xFFFFFFFFFFFFFFFF))


def _unit(key: np.ndarray, company: np.ndarray | int) -> np.ndarray:
    """The draws in (0, 1) of a mixed key for each company."""
    comp = np.asarray(company, dtype=np.int64).astype(np.uint64) + np.uint64(7)
    key = _mix(key ^ _mix(comp * _GOLDEN))
    return ((key >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT


def uniform(
    seeds: np.ndarray, rnd: int, company: np.ndarray | int, purpose: int, extra: int = 0
) -> np.ndarray:
    """Uniform draws in (0, 1), broadcast over run seeds (R,) and companies."""
    with np.errstate(over="ignore"):
        key = (
            np.asarray(seeds, dtype=np.uint64)[..., None]
            if np.ndim(company)
            else np.asarray(seeds, dtype=np.uint64)
        )
        for part in (rnd, purpose, extra):
            key = _keyed(key, part)
        return _unit(key, company)


def uniform_pairs(seeds: np.ndarray, rnd: int, company: np.ndarray, purpose: int) -> np.ndarray:
    """(N,) the draw of each (seed, company) pair: uniform(seeds, rnd, companies, purpose)[r, c] for
    the pairs (seeds[r], c) given, without drawing for every company of every run."""
    with np.errstate(over="ignore"):
        key = np.asarray(seeds, dtype=np.uint64)
        for part in (rnd, purpose, 0):
            key = _keyed(key, part)
        return _unit(key, company)


def uniform_extras(seeds: np.ndarray, rnd: int, company: int, purpose: int,
                   extras: int) -> np.ndarray:
    """(R, extras) the draws uniform(seeds, rnd, company, purpose, extra=e) for e in
    range(extras), made together."""
    with np.errstate(over="ignore"):
        key = np.asarray(seeds, dtype=np.uint64)[..., None]
        for part in (rnd, purpose):
            key = _keyed(key, part)
        return _unit(_keyed(key, np.arange(extras)), company)


def run_seeds(seed: int, runs: int, first_run: int = 0) -> np.ndarray:
    """One seed per replication, derived from the study seed and the run number."""
    with np.errstate(over="ignore"):
        idx = np.arange(first_run, first_run + runs, dtype=np.uint64)
        return _mix(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * _GOLDEN + _mix(idx + np.uint64(1)))
