"""Reductions over the short axes of the world's arrays (companies, segments, GPU types), and
rules applied to only the rows that need them.

NumPy reduces a short trailing axis slowly when the leading axis holds thousands of runs;
adding slices one by one is several times faster and gives the same result for any batch size.
Each helper here gives exactly the numbers of the plain NumPy expression it replaces (its
docstring says which), so using one never changes a game.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FEW_RUNS = 256  # up to this many runs a running sum over the companies beats adding them one by one


def sum_last(a: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Sum (optionally weighted) over the last axis."""
    n = a.shape[-1]
    if n == 0:
        return np.zeros(a.shape[:-1])
    if weights is None:
        if n == 1:
            return a[..., 0].copy()
        out = a[..., 0] + a[..., 1]
        for i in range(2, n):
            out += a[..., i]
        return out
    out = a[..., 0] * weights[..., 0]
    term = np.empty_like(out)  # one buffer for every weighted item
    for i in range(1, n):
        out += np.multiply(a[..., i], weights[..., i], out=term)
    return out


def power(base: np.ndarray, exponent: float | np.ndarray) -> np.ndarray:
    """base ** exponent (a number, or one for each item of the last axis), raised only where the
    base is not 1: 1 ** x is exactly 1, and most bases met here are (prices that did not rise,
    orders within supply)."""
    out = np.ones(np.shape(base))
    flat = np.ascontiguousarray(base).reshape(-1)
    where = np.flatnonzero(flat != 1.0)
    if np.ndim(exponent):
        exponent = np.asarray(exponent)[where % np.size(exponent)]
    out.reshape(-1)[where] = flat[where] ** exponent
    return out


def put_last(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(...,n) zeros with `values` (...) at `index` (...) along the last axis: what
    np.put_along_axis(zeros, index[..., None], values[..., None], axis=-1) gives, by flat index."""
    out = np.zeros(index.size * n)
    out[np.arange(0, index.size * n, n) + index.reshape(-1)] = values.reshape(-1)
    return out.reshape(*index.shape, n)


def total_last(a: np.ndarray) -> np.ndarray:
    """a.sum(-1), the same numbers: over fewer than 8 items NumPy adds them in order from zero
    (over more it sums pairwise, and so does this)."""
    if a.shape[-1] >= 8:
        return a.sum(-1)
    out = sum_last(a)
    out += 0.0  # as NumPy's sum from zero: -0.0 becomes 0.0
    return out


def mean_last(a: np.ndarray) -> np.ndarray:
    """a.mean(-1), the same numbers (NumPy's sum divided by the count)."""
    return total_last(a) / a.shape[-1]


def cumsum_last(a: np.ndarray) -> np.ndarray:
    """Running sum over the last axis (np.cumsum(a, axis=-1): the same additions in the same
    order), a slice at a time."""
    out = np.empty(a.shape, np.result_type(a, 0.0))
    if a.shape[-1]:
        out[..., 0] = a[..., 0]
    for i in range(1, a.shape[-1]):
        np.add(out[..., i - 1], a[..., i], out=out[..., i])
    return out


def cumsum_first(a: np.ndarray) -> np.ndarray:
    """Running sum over the first axis (np.add.accumulate(a, axis=0): the same additions in the
    same order), a slice at a time: many times faster over a short first axis."""
    out = np.empty(a.shape, np.result_type(a, 0.0))
    if a.shape[0]:
        out[0] = a[0]
    for i in range(1, a.shape[0]):
        np.add(out[i - 1], a[i], out=out[i])
    return out


def max_last(a: np.ndarray) -> np.ndarray:
    """Maximum over the last axis, a slice at a time."""
    out = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        np.maximum(out, a[..., i], out=out)
    return out


def min_last(a: np.ndarray) -> np.ndarray:
    """Minimum over the last axis (a.min(-1)), a slice at a time."""
    out = a[..., 0].copy()
    for i in range(1, a.shape[-1]):
        np.minimum(out, a[..., i], out=out)
    return out


def along(op: np.ufunc, a: np.ndarray, axis: int, runs: int) -> np.ndarray:
    """`op` (np.add, np.maximum) over `axis`, item after item in order, the axis dropped. With
    few `runs` in the batch one running op.accumulate (the same steps in the same order) is
    faster; with many, slice after slice."""
    if runs <= FEW_RUNS:
        return np.take(op.accumulate(a, axis=axis), -1, axis=axis)
    def item(i: int) -> np.ndarray:
        return a[(slice(None),) * axis + (i,)]

    out = item(0).copy()
    for i in range(1, a.shape[axis]):
        op(out, item(i), out=out)
    return out


def sum_companies(a: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """Sum over axis 1 (companies), company after company."""
    out = along(np.add, a, 1, a.shape[0])
    return out[:, None] if keepdims else out


def max_companies(a: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """Maximum over axis 1 (companies), company after company."""
    out = along(np.maximum, a, 1, a.shape[0])
    return out[:, None] if keepdims else out


class Rows:
    """The (run, company) pairs where a mask (R,C) holds, to apply a rule to them alone.

    A rule that treats each company of each run on its own (element-wise arithmetic, reductions
    over trailing axes) gives the same numbers on the rows it is given as on the whole batch, so
    what only matters where the mask holds can be computed there: `take` the rows of each input
    (R,C,...) -> (N,...), apply the rule, `put` its result back (R,C,...) with `fill` elsewhere.
    """

    def __init__(self, mask: np.ndarray):
        self.shape = mask.shape
        self.index = np.flatnonzero(mask)

    def take(self, a: np.ndarray) -> np.ndarray:
        """The rows of `a` (R,C,...), or of an array broadcast to (R,C,...), in order (N,...)."""
        lead = len(self.shape)
        if np.shape(a)[:lead] != self.shape:
            a = np.broadcast_to(a, self.shape + np.shape(a)[lead:])
        return np.take(a.reshape(-1, *a.shape[lead:]), self.index, axis=0)  # faster than [index]

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The run and the company of each row (N,), (N,)."""
        runs, companies = np.divmod(self.index, self.shape[1])
        return runs, companies

    def over(self, values: np.ndarray, base: np.ndarray) -> np.ndarray:
        """np.where(mask, new, base) given `values`, the rows of new (N,...): a copy of base
        (R,C,...) with the rows' values, cheaper when the rows are few."""
        lead = len(self.shape)
        out = np.array(np.broadcast_to(base, self.shape + np.shape(base)[lead:]),
                       dtype=np.result_type(values, base), order="C")
        out.reshape(-1, *out.shape[lead:])[self.index] = values
        return out

    def apply(self, rule: Callable[..., np.ndarray], *arrays: np.ndarray,
              fill: float = 0.0) -> np.ndarray:
        """(R,C) `rule` (one number a row) applied to the rows of `arrays`, `fill` elsewhere; with
        no rows, nothing to work out."""
        if not self.index.size:
            return np.full(self.shape, fill)
        return self.put(rule(*(self.take(a) for a in arrays)), fill)

    def put(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """(R,C,...) `values` (N,...) on the rows, `fill` elsewhere."""
        out = np.full(self.shape + values.shape[1:], fill, dtype=values.dtype)
        out.reshape(-1, *values.shape[1:])[self.index] = values
        return out
