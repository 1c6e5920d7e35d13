"""Contiguous regions on an adjacency graph: k-means seeds, balanced growth, size repair."""

from __future__ import annotations

import numpy as np


def kmeans_seeds(
    rng: np.random.Generator, xy: np.ndarray, k: int, weight: np.ndarray | None = None
) -> list[int]:
    """Indices of k distinct items nearest to the centres of a (weighted) k-means on xy."""
    w = np.ones(len(xy)) if weight is None else np.asarray(weight, dtype=float)
    centres = xy[np.sort(rng.choice(len(xy), size=k, replace=False))]
    for _ in range(25):
        d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = d2.argmin(axis=1)
        for c in range(k):
            pick = label == c
            if pick.any():
                centres[c] = (xy[pick] * w[pick, None]).sum(axis=0) / w[pick].sum()
    seeds: list[int] = []
    for c in range(k):
        order = np.argsort(((xy - centres[c]) ** 2).sum(axis=1), kind="stable")
        seeds.append(int(next(i for i in order if i not in seeds)))
    return seeds


def grow_regions(
    adj: list[list[int]], xy: np.ndarray, weight: np.ndarray, seeds: list[int]
) -> np.ndarray:
    """Grow one region per seed; the lightest region with a free neighbour takes the nearest one."""
    labels = np.full(len(adj), -1)
    load = np.zeros(len(seeds))
    for r, s in enumerate(seeds):
        labels[s] = r
        load[r] = weight[s]
    while (labels < 0).any():
        for r in np.argsort(load, kind="stable"):
            members = np.flatnonzero(labels == r)
            frontier = sorted({j for i in members for j in adj[i] if labels[j] < 0})
            if not frontier:
                continue
            d2 = ((xy[frontier] - xy[seeds[r]]) ** 2).sum(axis=1)
            pick = frontier[int(np.argmin(d2))]
            labels[pick] = r
            load[r] += weight[pick]
            break
        else:
            raise RuntimeError("grow_regions: some items are not connected to any seed")
    return labels


def rebalance(
    labels: np.ndarray, adj: list[list[int]], weight: np.ndarray, rounds: int = 2000
) -> np.ndarray:
    """Move border items from heavy to lighter neighbouring regions while it evens the loads."""
    labels = labels.copy()
    load = np.bincount(labels, weight, minlength=labels.max() + 1)
    for _ in range(rounds):
        move = _best_move(labels, adj, weight, load)
        if move is None:
            break
        i, to = move
        load[labels[i]] -= weight[i]
        load[to] += weight[i]
        labels[i] = to
    return labels


def _best_move(
    labels: np.ndarray, adj: list[list[int]], weight: np.ndarray, load: np.ndarray
) -> tuple[int, int] | None:
    """The first improving (item, region) move, trying the heaviest regions first."""
    for r in np.argsort(-load, kind="stable"):
        members = list(np.flatnonzero(labels == r))
        if len(members) < 2:
            continue
        options = []
        for i in members:
            for to in sorted({int(labels[j]) for j in adj[i]} - {int(r)}):
                if load[to] + weight[i] < load[r]:
                    options.append((load[to], i, to))
        for _, i, to in sorted(options):
            if is_contiguous([m for m in members if m != i], adj):
                return int(i), int(to)
    return None


def repair_sizes(labels: np.ndarray, adj: list[list[int]], low: int, high: int) -> np.ndarray:
    """Dissolve regions with fewer than `low` items into neighbours with fewer than `high`."""
    labels = labels.copy()
    while True:
        sizes = np.bincount(labels, minlength=labels.max() + 1)
        small = [r for r in range(len(sizes)) if 0 < sizes[r] < low]
        if not small:
            break
        r = small[0]
        moved = False
        for i in np.flatnonzero(labels == r):
            options = sorted({labels[j] for j in adj[i] if labels[j] != r and sizes[labels[j]] < high})
            if options:
                best = min(options, key=lambda o: (sizes[o], o))
                labels[i] = best
                sizes[best] += 1
                sizes[r] -= 1
                moved = True
        if not moved:
            raise RuntimeError(f"repair_sizes: region {r} cannot be dissolved within size {high}")
    return relabel(labels)


def relabel(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..k-1 in order of first appearance."""
    mapping: dict[int, int] = {}
    for v in labels.tolist():
        mapping.setdefault(v, len(mapping))
    return np.array([mapping[v] for v in labels.tolist()])


def is_contiguous(members: list[int], adj: list[list[int]]) -> bool:
    """True when the items form one connected piece of the adjacency graph."""
    todo, seen = [members[0]], {members[0]}
    inside = set(members)
    while todo:
        i = todo.pop()
        for j in adj[i]:
            if j in inside and j not in seen:
                seen.add(j)
                todo.append(j)
    return len(seen) == len(inside)
