"""NSGA-II over transmission policies: maximise validation accuracy, minimise exchanged bytes."""
from __future__ import annotations

import random
from typing import Callable, Dict, List, Sequence, Tuple

from .policy import FRACTIONS, PointPolicy, Policy, PointShape, exchanged_bytes, random_policy, policy_id
from .codec import PRECISIONS

Score = Tuple[float, int]  # (accuracy, bytes)


def dominates(a: Score, b: Score) -> bool:
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def pareto_front(items: Sequence[Tuple[Policy, Score]]) -> List[Tuple[Policy, Score]]:
    front = [it for it in items if not any(dominates(o[1], it[1]) for o in items if o is not it)]
    return sorted(front, key=lambda it: it[1][1])


def _fronts(scores: List[Score]) -> List[List[int]]:
    n = len(scores)
    dominated_by = [[] for _ in range(n)]
    count = [0] * n
    for i in range(n):
        for j in range(n):
            if i != j and dominates(scores[i], scores[j]):
                dominated_by[i].append(j)
            elif i != j and dominates(scores[j], scores[i]):
                count[i] += 1
    fronts, cur = [], [i for i in range(n) if count[i] == 0]
    while cur:
        fronts.append(cur)
        nxt = []
        for i in cur:
            for j in dominated_by[i]:
                count[j] -= 1
                if count[j] == 0:
                    nxt.append(j)
        cur = nxt
    return fronts


def _crowding(front: List[int], scores: List[Score]) -> Dict[int, float]:
    dist = {i: 0.0 for i in front}
    for m in range(2):
        order = sorted(front, key=lambda i: scores[i][m])
        lo, hi = scores[order[0]][m], scores[order[-1]][m]
        dist[order[0]] = dist[order[-1]] = float("inf")
        for a, i, c in zip(order, order[1:], order[2:]):
            dist[i] += (scores[c][m] - scores[a][m]) / ((hi - lo) or 1)
    return dist


def mutate(rng: random.Random, pol: Policy, P: int, rate: float, precisions: Sequence[str] = PRECISIONS) -> Policy:
    out = []
    for pp in pol:
        if rng.random() >= rate:
            out.append(pp)
            continue
        what = rng.randrange(4)
        if what == 0 or not pp.active():
            s = rng.randrange(P)
            out.append(PointPolicy(0) if s == 0 else PointPolicy(s, pp.fraction, pp.precision
                                                                  if pp.precision in precisions else precisions[0]))
        elif what == 1:
            out.append(PointPolicy(pp.shift, rng.choice(FRACTIONS), pp.precision))
        elif what == 2:
            out.append(PointPolicy(pp.shift, pp.fraction, rng.choice(precisions)))
        else:
            out.append(PointPolicy(0))
    return tuple(out)


def crossover(rng: random.Random, a: Policy, b: Policy) -> Policy:
    return tuple(x if rng.random() < 0.5 else y for x, y in zip(a, b))


def rank_and_crowding(scores: List[Score]) -> Tuple[List[int], List[float]]:
    """Non-domination rank (0 = the front) and crowding distance of every score."""
    rank, crowd = [0] * len(scores), [0.0] * len(scores)
    for r, fr in enumerate(_fronts(scores)):
        cd = _crowding(fr, scores)
        for i in fr:
            rank[i], crowd[i] = r, cd[i]
    return rank, crowd


def tournament(rng: random.Random, rank: List[int], crowd: List[float]) -> int:
    """Binary tournament (NSGA-II's crowded comparison): the lower rank wins, then the larger crowding
    distance, then a coin."""
    a, b = rng.randrange(len(rank)), rng.randrange(len(rank))
    if rank[a] != rank[b]:
        return a if rank[a] < rank[b] else b
    if crowd[a] != crowd[b]:
        return a if crowd[a] > crowd[b] else b
    return a if rng.random() < 0.5 else b


def nsga2(evaluate: Callable[[Policy], float], points: List[PointShape], P: int, population: int,
          generations: int, seed: int, seeds: Sequence[Policy] = (), log=print,
          precisions: Sequence[str] = PRECISIONS, label: str = "") -> List[Tuple[Policy, Score]]:
    """Returns every evaluated policy with its score; the caller takes the front. Parents are picked by
    binary tournament on (rank, crowding); `precisions` restricts the search space (e.g. fp32 only)."""
    rng = random.Random(seed)
    precisions = tuple(precisions)
    cache: Dict[Policy, Score] = {}

    def score(p: Policy) -> Score:
        if p not in cache:
            cache[p] = (evaluate(p), exchanged_bytes(p, points, P))
        return cache[p]

    pop = list(dict.fromkeys(list(seeds)))
    while len(pop) < population:
        pop.append(random_policy(rng, len(points), P, p_off=rng.choice([0.3, 0.5, 0.7, 0.9]), precisions=precisions))
    pop = pop[:population]
    for g in range(generations):
        scores = [score(p) for p in pop]
        rank, crowd = rank_and_crowding(scores)
        children = []
        while len(children) < population:
            a, b = pop[tournament(rng, rank, crowd)], pop[tournament(rng, rank, crowd)]
            children.append(mutate(rng, crossover(rng, a, b), P, 1.0 / len(points) + 0.1, precisions))
        union = list(dict.fromkeys(pop + children))
        scores = [score(p) for p in union]
        nxt = []
        for fr in _fronts(scores):
            if len(nxt) + len(fr) <= population:
                nxt.extend(fr)
            else:
                cd = _crowding(fr, scores)
                nxt.extend(sorted(fr, key=lambda i: -cd[i])[:population - len(nxt)])
                break
        pop = [union[i] for i in nxt]
        front = pareto_front([(p, cache[p]) for p in pop])
        log("[search P=%d%s] generation %d/%d: %d evaluated, front %s" % (
            P, label, g + 1, generations, len(cache),
            ", ".join("%.3f@%dB" % (s[0], s[1]) for _, s in front[:8])))
    return list(cache.items())


def pick_front(evaluated: List[Tuple[Policy, Score]], best_acc: float, k: int, max_drop: float) -> List[Tuple[Policy, Score]]:
    """k policies from the front (no-exchange excluded), spread over byte counts, preferring those within
    max_drop of best_acc (the baseline's search score, meaningful once candidates are scored after BatchNorm
    recalibration by a supernet that trains the baseline every step)."""
    front = [it for it in pareto_front(evaluated) if it[1][1] > 0]
    good = [it for it in front if it[1][0] >= best_acc - max_drop] or front
    if len(good) <= k:
        return good
    # the cheapest good one, the most accurate, and evenly spaced ones between
    idx = sorted({round(i * (len(good) - 1) / (k - 1)) for i in range(k)}) if k > 1 else [0]
    return [good[i] for i in idx]
