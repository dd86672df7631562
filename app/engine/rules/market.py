"""Demand: a multinomial logit per segment over every offer plus the open-weight outside option,
an installed base that churns slowly, and serving capacity that caps what can be sold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.arrays import along, min_last, power, sum_companies, sum_last
from app.engine.world import OPEN_MODEL, OWN_MODEL, World
from app.scenario.schema import SECONDS_PER_ROUND

LOCK_IN_REFERENCE_CHURN = 0.25  # the default churn: installed buyers meet a rise as new ones do
MIN_LEAVING = 1.5  # however locked in, installed buyers leave a rise faster than it adds revenue
ATTRIBUTES = ("capability", "domain", "safety", "freshness", "brand", "ecosystem", "price")
UNLIMITED = 1e18  # no capacity limit (a product company before its engineers are counted)
MONTHS_PER_ROUND = 3.0


@dataclass(frozen=True, eq=False)
class Offers:
    """What buyers compare (R,C,...): capability after the alignment tax, skills, safety, freshness,
    brand, price."""

    capability: np.ndarray
    domain: np.ndarray  # (R,C,S)
    safety: np.ndarray
    freshness: np.ndarray
    brand: np.ndarray
    ecosystem: np.ndarray
    price: np.ndarray  # (R,C,S)


@dataclass(frozen=True, eq=False)
class ClassChoice:
    """How one class of buyers chooses: its share of every segment's buyers and its logit."""

    weight: float
    frontier: bool  # the buyers who pay for the best model (`market.frontier_buyers`)
    probability: np.ndarray  # (R,C,S)
    outside_probability: np.ndarray  # (R,S)


@dataclass(frozen=True, eq=False)
class Choice:
    offers: Offers
    open_capability: np.ndarray  # (R,)
    round: int
    eligible: np.ndarray  # (R,C,S)
    probability: np.ndarray  # (R,C,S) share of buyers choosing now, every class together
    outside_probability: np.ndarray  # (R,S)
    classes: tuple[ClassChoice, ...]

    def parts(self, world: World, frontier: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Each attribute's part of every utility of a class of buyers: (R,C,S,A) for offers,
        (R,S,A) for the outside option."""
        return utility_parts(world, self.offers, self.open_capability, self.round, frontier)


def base_of(base: np.ndarray, values: np.ndarray, open_value: np.ndarray) -> np.ndarray:
    """Per company, the value of the model it builds on: its own, a lab's, or the open-weight one
    (R,C)."""
    if (base == OWN_MODEL).all():  # every company sells its own model (a game of labs)
        return np.array(values, dtype=np.result_type(values, open_value))
    idx = np.where(base >= 0, base, np.arange(base.shape[1])[None, :])
    theirs = np.take_along_axis(values, idx, axis=1)
    return np.where(base == OPEN_MODEL, open_value[:, None], theirs)


def freshness(world: World, rnd: int, cutoff: np.ndarray, rag: np.ndarray) -> np.ndarray:
    """Knowledge decays from the cut-off (tau ~12 months); retrieval recovers most of it."""
    m = world.scenario.market
    months = (rnd - cutoff) * MONTHS_PER_ROUND + m.release_lag_months
    fresh = 100.0 * np.exp(-np.maximum(months, 0.0) / m.freshness_tau_months)
    return fresh + rag * m.rag_recovery * (100.0 - fresh)


def outside_attributes(world: World, open_cap: np.ndarray, rnd: int) -> np.ndarray:
    """(R,S,A-1) non-price attributes of the open-weight option."""
    o = world.scenario.market.outside
    fixed = np.array([o.domain, o.safety, o.freshness, o.brand, o.ecosystem])
    R, S = open_cap.shape[0], world.n_segments
    return np.concatenate(
        [np.broadcast_to(open_cap[:, None, None], (R, S, 1)), np.broadcast_to(fixed, (R, S, 5))],
        axis=-1,
    )


def utility_parts(
    world: World, offers: Offers, open_cap: np.ndarray, rnd: int, frontier: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Each attribute's part of every utility of a class of buyers (the frontier buyers' if
    `frontier`), for explaining a result (the same sums `choose` makes)."""
    w, k, ref = (
        world.seg_weights,
        world.scenario.market.attribute_scale / 10.0,
        world.reference_price(rnd),
    )
    R, C, S = offers.price.shape
    per_company = np.stack(
        [offers.capability, offers.safety, offers.freshness, offers.brand, offers.ecosystem],
        axis=-1,
    )
    attrs = np.concatenate(
        [
            np.broadcast_to(per_company[:, :, None, :1], (R, C, S, 1)),
            offers.domain[..., None],
            np.broadcast_to(per_company[:, :, None, 1:], (R, C, S, 4)),
        ],
        axis=-1,
    )
    cap_times, sens = _class_terms(world, frontier)
    w = w.copy()
    w[:, 0] *= cap_times
    price_part = -sens * np.log(np.maximum(offers.price, 1e-6) / ref)
    parts = np.concatenate([attrs * w * k, price_part[..., None]], axis=-1)
    out_attrs = outside_attributes(world, open_cap, rnd)
    out_price = -sens * np.log(world.scenario.market.outside.price_factor)
    outside_parts = np.concatenate(
        [out_attrs * w * k, np.broadcast_to(out_price, (R, S))[..., None]], axis=-1
    )
    return parts, outside_parts


def _class_terms(world: World, frontier: bool) -> tuple[float, np.ndarray]:
    """A class's multiple of the segments' capability weights, and its price sensitivity (S,)."""
    if not frontier:
        return 1.0, world.seg_price_sens
    f = world.scenario.market.frontier_buyers
    return f.capability_weight, world.seg_price_sens * f.price_sensitivity


def open_weight_frontier(world: World, previous: np.ndarray, jump: np.ndarray,
                         best_closed: np.ndarray) -> np.ndarray:
    """The best open-weight model (R,): it gains steadily and jumps on a release, up to its ceiling
    and to `lag_points` behind the best model a lab sold last quarter (`best_closed`, R,); it
    never falls back."""
    o = world.scenario.market.outside
    ceiling = np.minimum(o.max_capability, best_closed - o.lag_points)
    return np.maximum(previous, np.minimum(previous + o.gain_per_round + jump, ceiling))


def safety_floor(world: World, min_safety_add: np.ndarray) -> np.ndarray:
    """Least safety each segment's buyers accept this round (R,S), regulation included."""
    return world.seg_min_safety + min_safety_add[:, None]


def choose(
    world: World, offers: Offers, open_cap: np.ndarray, rnd: int, min_safety_add: np.ndarray
) -> Choice:
    """Logit choice probabilities over every offer and the outside option, per segment, for each
    class of buyers and all together (`market.frontier_buyers`: a share of every segment's buyers
    weighs capability more and price less; the rest weigh attributes as the segment says).

    The offers' utilities are worked out segment by segment with runs along the fast axis
    ((S,C,R) arrays, `_flip`): the same sums, in the same order, as over (R,C,S) arrays, without
    multiplying each company's attributes by five segments' weights a few numbers at a time."""
    w, ref = (
        world.seg_weights * (world.scenario.market.attribute_scale / 10.0),
        world.reference_price(rnd),
    )
    o = world.scenario.market.outside
    ws = w.T[:, :, None, None]  # (attribute, S, 1, 1)
    safety = np.ascontiguousarray(offers.safety.T)  # (C,R)
    u = ws[0] * np.ascontiguousarray(offers.capability.T)  # (S,C,R)
    u += _flip(offers.domain) * ws[1]
    u += ws[2] * safety
    u += ws[3] * np.ascontiguousarray(offers.freshness.T)
    u += ws[4] * np.ascontiguousarray(offers.brand.T)
    u += ws[5] * np.ascontiguousarray(offers.ecosystem.T)
    price = np.maximum(_flip(offers.price), 1e-6)
    price /= ref[:, None, None]
    u -= world.seg_price_sens[:, None, None] * np.log(price)
    fixed = (
        o.domain * w[:, 1]
        + o.safety * w[:, 2]
        + o.freshness * w[:, 3]
        + o.brand * w[:, 4]
        + o.ecosystem * w[:, 5]
    )
    u_out = open_cap[:, None] * w[:, 0] + fixed - world.seg_price_sens * np.log(o.price_factor)
    floor = safety_floor(world, min_safety_add)
    eligible = safety >= np.ascontiguousarray(floor.T)[:, None, :]  # (S,C,R)
    # buyers can always stay with open weights, in-house tools or no AI
    u = np.where(eligible, u, -np.inf)
    f = world.scenario.market.frontier_buyers
    if f.share <= 0.0:
        e, e_out = _logit(u, u_out)
        one = ClassChoice(1.0, False, _flip(e), e_out)
        return Choice(offers, open_cap, rnd, _flip(eligible), one.probability, e_out, (one,))
    # the frontier buyers: capability weighs (capability_weight - 1) more, price
    # (1 - price_sensitivity) less, for the offers and the outside option alike
    more_cap, less_price = (f.capability_weight - 1.0) * ws[0], 1.0 - f.price_sensitivity
    u_f = u + more_cap * np.ascontiguousarray(offers.capability.T)
    u_f += less_price * world.seg_price_sens[:, None, None] * np.log(price)
    u_out_f = u_out + (f.capability_weight - 1.0) * open_cap[:, None] * w[:, 0] + less_price * (
        world.seg_price_sens * np.log(o.price_factor))
    e_f, out_f = _logit(u_f, u_out_f)
    e, e_out = _logit(u, u_out)
    rest = ClassChoice(1.0 - f.share, False, _flip(e), e_out)
    best = ClassChoice(f.share, True, _flip(e_f), out_f)
    return Choice(offers, open_cap, rnd, _flip(eligible),
                  rest.weight * rest.probability + best.weight * best.probability,
                  rest.weight * e_out + best.weight * out_f, (rest, best))


def _logit(u: np.ndarray, u_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Choice probabilities (S,C,R) of the offers' utilities `u` (S,C,R, -inf where barred; used
    as scratch) and the outside option's (R,S)."""
    runs = u.shape[2]
    top = np.maximum(along(np.maximum, u, 1, runs).T, u_out)  # the best offer of a segment (R,S)
    u -= np.ascontiguousarray(top.T)[:, None, :]
    e, e_out = np.exp(u, out=u), np.exp(u_out - top)
    total = along(np.add, e, 1, runs).T + e_out  # (R,S)
    e /= np.ascontiguousarray(total.T)[:, None, :]
    return e, e_out / total


def _flip(a: np.ndarray) -> np.ndarray:
    """(R,C,S) <-> (S,C,R), laid out in full."""
    return np.ascontiguousarray(a.transpose(2, 1, 0))


def capability_utility(world: World) -> np.ndarray:
    """Utility a capability point adds in each segment (S,): its weight times the attribute scale
    (per 10 points)."""
    return world.seg_weights[:, 0] * world.scenario.market.attribute_scale / 10.0


def staying(
    world: World, previous: np.ndarray, rationed: np.ndarray, choice: Choice,
    previous_price: np.ndarray, previous_capability: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Who keeps last quarter's offer (R,C,S shares of each segment) and what share of each
    segment's buyers chooses afresh this quarter (R,S).

    Each quarter only the churning share of buyers re-chooses (switching costs are a moat). An
    offer that gets worse sheds installed buyers as it would deter new ones, as far as switching
    costs let them go (at the reference churn of LOCK_IN_REFERENCE_CHURN fully, at half of it half
    as readily, but always faster than a rise adds revenue: MIN_LEAVING). Worse is a price rise
    net of the capability it buys (a better model at a higher price is not a rise to a buyer who
    weighs both as the segment does), and against the market: a price held while the market's
    falls is a rise. Barred offers lose all. Every buyer who leaves chooses again among the offers
    and the outside option, as churning buyers do, and so do last quarter's rationed buyers (who
    chose an offer its seller could not serve: they did not leave for the outside option)."""
    churn = world.seg_churn
    sens = world.seg_price_sens
    market_move = world.price_index(choice.round) / world.price_index(max(choice.round - 1, 1))
    gained = choice.offers.capability - previous_capability  # capability points (R,C)
    rise = choice.offers.price / np.maximum(previous_price, 1e-9) / market_move
    worse = np.empty_like(rise)
    for s, utility in enumerate(capability_utility(world)):  # segment by segment: (R,C) arrays
        np.multiply(rise[:, :, s], np.exp(-(gained * utility) / sens[s]), out=worse[:, :, s])
    np.maximum(worse, 1.0, out=worse)
    leave = np.maximum(sens * np.minimum(churn / LOCK_IN_REFERENCE_CHURN, 1.0), MIN_LEAVING)
    kept = world.layout(previous.shape[0]).seg_stay * power(worse, -leave)  # (1 - churn) x ...
    kept *= previous
    kept *= choice.eligible
    outside_kept = (1.0 - churn) * (1.0 - sum_companies(previous) - rationed)
    return kept, 1.0 - outside_kept - sum_companies(kept)


def installed_share(
    world: World, previous: np.ndarray, rationed: np.ndarray, choice: Choice,
    previous_price: np.ndarray, previous_capability: np.ndarray,
) -> np.ndarray:
    """The installed share of each offer after this quarter's choice (R,C,S): those who stay, and
    their share of the buyers choosing afresh."""
    kept, choosing = staying(world, previous, rationed, choice, previous_price,
                             previous_capability)
    return kept + choosing[:, None, :] * choice.probability


def serving_capacity(
    world: World,
    serving_peak: np.ndarray,
    serving_memory_gb: np.ndarray,
    active_b: np.ndarray,
    total_b: np.ndarray,
    algo: np.ndarray,
    is_lab: np.ndarray,
    engineers_capacity: np.ndarray | float = UNLIMITED,
) -> np.ndarray:
    """Trillions of tokens a quarter a company can serve: a lab, what its serving GPUs can produce
    (~2 N_active FLOPs a token, fewer as research finds inference savings: distillation,
    quantisation, better kernels; but memory must hold every parameter, MoE included, and a fleet
    too small for one copy of the model serves only in proportion) and its engineers keep served;
    a product company, what its engineers can ship (`engineer_capacity`)."""
    cc = world.scenario.compute
    cap = (
        serving_peak
        * cc.serving_utilisation
        * np.maximum(algo, 1.0)
        / (2.0 * np.maximum(active_b, 1e-3) * 1e9)
        / 1e12
    )
    cap = cap * np.minimum(
        1.0, serving_memory_gb / np.maximum(total_b * cc.serving_bytes_per_param, 1e-9)
    )
    return np.where(is_lab, np.minimum(cap, engineers_capacity), engineers_capacity)


def engineer_capacity(world: World, engineers: np.ndarray, rnd: int) -> np.ndarray:
    """Trillions of tokens a quarter each company's engineers can ship and support (R,C): a
    product company's integration and customer work (`product_capacity`), a lab's inference and
    API teams (`market.lab_t_tokens_per_engineer`)."""
    per_engineer = world.layout(engineers.shape[0]).tokens_per_engineer  # laid out in full
    return engineers * per_engineer / world.price_index(rnd)


def product_capacity(world: World, engineers: np.ndarray, rnd: int) -> np.ndarray:
    """Trillions of tokens a quarter a product company's engineers can ship and support (R,C):
    its vendor or the cloud serves them, but each customer needs integration and support work."""
    per_engineer = world.scenario.market.product_t_tokens_per_engineer
    return engineers * per_engineer / world.price_index(rnd)


def serve(
    share: np.ndarray, volume: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tokens asked for and served (R,C,S): demand above capacity is lost."""
    demand = share * volume[:, None, :]
    ratio = np.minimum(1.0, capacity / np.maximum(sum_last(demand), 1e-12))
    return demand, demand * ratio[:, :, None]


def cloud_cost_per_m_tokens(
    world: World, active_b: np.ndarray, algo: np.ndarray | float, rnd: int
) -> np.ndarray:
    """What serving a million tokens costs on the cheapest rented GPU per FLOP ($), less the lab's
    inference savings."""
    launched = world.gpu_from_round <= rnd
    per_flop = np.where(
        launched,
        world.gpu_rent_musd_round * 1e6 / (world.gpu_tflops * 1e12 * SECONDS_PER_ROUND),
        np.inf,
    ).min()
    util = world.scenario.compute.serving_utilisation
    return 2.0 * active_b * 1e9 * 1e6 * per_flop / util / np.maximum(algo, 1.0)


def retrieval_cost(world: World, tokens: np.ndarray, rag: np.ndarray, rnd: int) -> np.ndarray:
    """What retrieval (RAG) adds to serving the quarter's tokens ($M, R,C); it falls with prices."""
    per_m_tokens = world.scenario.market.rag_cost_per_m_tokens
    return tokens * rag * per_m_tokens * world.price_index(rnd)


def open_serving_cost(world: World, rnd: int) -> float:
    """What a product company pays per million tokens to serve open weights on rented GPUs ($); it
    falls with prices."""
    return world.scenario.market.outside.serving_cost_per_m_tokens * world.price_index(rnd)


def api_price_limit(world: World, rnd: int) -> float:
    """Highest wholesale price a lab may charge this round ($ per M tokens): the scenario's
    `market.api_markup_limit` times the average segment reference price."""
    return world.scenario.market.api_markup_limit * float(world.reference_price(rnd).mean())


def engineers_per_m_tokens(world: World, rnd: int) -> float:
    """What the engineers a product company needs for a million more tokens cost this quarter ($):
    its capacity is its engineers."""
    m_tokens_per_engineer = float(product_capacity(world, np.ones(1), rnd)[0]) * 1e6
    return world.scenario.talent.engineers.salary_usd / 4.0 / m_tokens_per_engineer


def customers(world: World, base: np.ndarray, lab: int) -> list[str]:
    """The product companies on `lab`'s model, by name, from one run's base models `base` (C,)."""
    return [world.company_names[p] for p in np.flatnonzero(~world.is_lab) if base[p] == lab]


def squeeze_applies(world: World) -> bool:
    """Whether competition law against a margin squeeze can bind in this world: the scenario
    forbids it (`market.no_margin_squeeze`) and labs sell to product companies."""
    return (world.scenario.market.no_margin_squeeze and bool(world.is_lab.any())
            and not bool(world.is_lab.all()))


def with_customers(world: World, base: np.ndarray) -> np.ndarray:
    """Which labs have a product company on their model (R,C bool), from the companies' base
    models `base` (R,C)."""
    has = np.zeros(base.shape, dtype=bool)
    for c in np.flatnonzero(~world.is_lab):
        vendor = base[:, c]
        for lab in np.flatnonzero(world.is_lab):
            has[:, lab] |= vendor == lab
    return has


def squeeze_floor(world: World, api_price: np.ndarray, base: np.ndarray, rnd: int) -> np.ndarray:
    """The least a lab with product companies on its model (`base`, R,C) may ask retail ($ per M
    tokens, R,C; 0 for any other company): what a token costs those customers, its wholesale
    price (within the limit) and the engineers it takes, so that a company as efficient as the
    lab downstream can match its price. Below it the lab would squeeze the margin of the
    customers it sells to (the "equally efficient competitor" test of EU competition law:
    Deutsche Telekom, 2010; TeliaSonera, 2011)."""
    charged = np.minimum(api_price, api_price_limit(world, rnd))
    return np.where(with_customers(world, base),
                    charged + engineers_per_m_tokens(world, rnd), 0.0)


def lawful_prices(world: World, prices: np.ndarray, api_price: np.ndarray, base: np.ndarray,
                  rnd: int) -> np.ndarray:
    """Retail prices (R,C,S) as charged: where the scenario forbids a margin squeeze
    (`market.no_margin_squeeze`), never below `squeeze_floor` for last quarter's customers
    (`base`)."""
    if not squeeze_applies(world):
        return prices
    return np.maximum(prices, squeeze_floor(world, api_price, base, rnd)[:, :, None])


def lawful_offer(world: World, prices: np.ndarray, api_price: np.ndarray, api_floor: np.ndarray,
                 base: np.ndarray, rnd: int) -> tuple[np.ndarray, np.ndarray]:
    """Retail (R,C,S) and wholesale (R,C) prices a lab sets to keep competition law
    (`lawful_prices`) for its customers `base` (R,C): where the floor would hold its retail price
    above what it wants, it lowers its wholesale price to fit, no lower than `api_floor` (R,C),
    and only then raises retail to the floor."""
    if not squeeze_applies(world):
        return prices, api_price
    fits = min_last(prices) - engineers_per_m_tokens(world, rnd)
    fitted = np.maximum(np.minimum(api_price, fits), api_floor)
    api_price = np.where(with_customers(world, base), np.maximum(fitted, 0.0), api_price)
    return lawful_prices(world, prices, api_price, base, rnd), api_price


@dataclass(frozen=True, eq=False)
class ApiMarket:
    """The wholesale market of one quarter (R,C): what product companies pay their vendor lab, what
    labs earn and spend serving those tokens beyond their own spare capacity on the cloud, and what
    serving open weights costs."""

    price: np.ndarray  # each lab's wholesale price ($ per M tokens), within the limit
    fees: np.ndarray  # paid by each product company
    revenue: np.ndarray  # earned by each lab
    serving_cost: np.ndarray  # each lab's cloud bill for the API tokens its own GPUs cannot serve
    open_serving_cost: np.ndarray  # each open-weight product's serving bill
    tokens: np.ndarray  # API tokens each lab served
    own_tokens: np.ndarray  # of which served on the lab's own spare serving capacity


def sold_through(world: World, base: np.ndarray, per_buyer: np.ndarray) -> np.ndarray:
    """(R,C) for each lab, the sum of `per_buyer` (R,C: tokens, fees) over the product companies
    building on its model (`base`); 0 for the rest."""
    out = np.zeros_like(per_buyer)
    for buyer in np.flatnonzero((base >= 0).any(axis=0)):
        vendor = base[:, buyer]
        for lab in np.flatnonzero(world.is_lab):
            out[:, lab] += np.where(vendor == lab, per_buyer[:, buyer], 0.0)
    return out


def api_market(
    world: World,
    base: np.ndarray,
    api_price: np.ndarray,
    tokens: np.ndarray,
    model_active: np.ndarray,
    algo: np.ndarray,
    spare_capacity: np.ndarray,
    rnd: int,
) -> ApiMarket:
    """The two-sided market: product companies pay their vendor lab per token, at most the
    scenario's price limit; the lab serves them on its own idle serving GPUs first and rents cloud
    capacity for the rest."""
    api_price = np.minimum(api_price, api_price_limit(world, rnd))
    open_cost = np.where(base == OPEN_MODEL, tokens * open_serving_cost(world, rnd), 0.0)
    fees = np.zeros_like(tokens)
    for buyer in np.flatnonzero((base >= 0).any(axis=0)):
        vendor = base[:, buyer]
        price = np.take_along_axis(api_price, np.maximum(vendor, 0)[:, None], axis=1)[:, 0]
        fees[:, buyer] = np.where(vendor >= 0, tokens[:, buyer] * price, 0.0)
    revenue, api_tokens = sold_through(world, base, fees), sold_through(world, base, tokens)
    own = np.minimum(api_tokens, np.maximum(spare_capacity, 0.0))
    unit = cloud_cost_per_m_tokens(world, model_active, algo, rnd)
    return ApiMarket(
        price=api_price,
        fees=fees,
        revenue=revenue,
        serving_cost=(api_tokens - own) * unit,
        open_serving_cost=open_cost,
        tokens=api_tokens,
        own_tokens=own,
    )
