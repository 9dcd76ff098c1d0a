"""Many XGBoost boosters held as flat numpy arrays: margins and exact TreeSHAP.

Scoring one profile against every drug means running every drug's trees.  Asking
XGBoost drug by drug costs a call per booster; here the trees of all drugs are
evaluated together as bit masks (QuickScorer, see ``_Exits``), so one profile
costs about as much as one call, and rows come in chunks.

Every drug's block of trees reads its own columns of one wide input row (see
:class:`models.Scorer`): a split holds the wide column it *reads* and the drug's
own design column it is *attributed* to (SHAP values are reported in the columns
of the drug's design matrix, as XGBoost reports them).

SHAP values are XGBoost's: path-dependent TreeSHAP (Lundberg et al., Nat. Mach.
Intell. 2:56, 2020), whose value function is, per leaf with value ``v`` and the
distinct features ``U`` on its path,

    v(S) = v x prod_{j in U} (o_j if j in S else z_j)

where ``z_j`` is the share of training cover that follows the path's splits on
``j`` and ``o_j`` is 1 when the profile follows them all.  The Shapley value of
``i`` in ``U`` is then ``v (o_i - z_i) sum_k w(k, |U|) e_k``, with ``e_k`` the
coefficient of ``t^k`` in ``prod_{j in U, j != i} (z_j + o_j t)`` and
``w(k, m) = k! (m - k - 1)! / m!``.  The ``o_j`` are 0 or 1, so a leaf's Shapley
values take one of ``2 ** |U|`` forms, precomputed per leaf (``_Leaves.phi``): a
request finds each leaf's pattern and looks its values up.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import factorial
from typing import Any

import numpy as np
import xgboost as xgb


@dataclass(frozen=True)
class TreeBlock:
    """One drug's trees and where they read.

    ``read[c]`` is the wide input column holding the drug's design column ``c``.
    """

    booster: xgb.Booster
    read: np.ndarray


class Forest:
    """All drugs' trees as flat arrays; see the module docstring.

    Build one with :meth:`of` from boosters, or :meth:`from_arrays` from what
    :meth:`arrays` gave (how a bundle stores it, so loading parses no trees).
    """

    def __init__(self, tree_starts: np.ndarray, exits: _Exits, leaves: _Leaves) -> None:
        self.tree_starts = tree_starts
        self.n_slots = len(tree_starts)
        self._exits = exits
        self._leaves = leaves
        self.expected = np.bincount(
            leaves.slot, weights=leaves.expected, minlength=self.n_slots
        )

    @classmethod
    def of(cls, blocks: Sequence[TreeBlock]) -> Forest:
        """The trees of one booster per drug, in the order of :meth:`margins`'
        columns."""
        nodes = _NodeTable()
        tree_slot = []
        for slot, block in enumerate(blocks):
            for tree in _trees(block.booster):
                nodes.add(tree, block.read)
                tree_slot.append(slot)
        tree_slot_array = np.array(tree_slot, dtype=np.int64)
        tree_starts = np.searchsorted(tree_slot_array, np.arange(len(blocks)))
        if len(blocks) and np.any(np.diff([*tree_starts, len(tree_slot)]) == 0):
            raise ValueError("every booster needs at least one tree")
        return cls(
            tree_starts,
            _Exits.of(nodes),
            _Leaves.of(nodes, tree_slot_array, max(nodes.max_depth, 1)),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array, by name (for ``numpy.savez``)."""
        return {
            "tree_starts": self.tree_starts,
            **{f"exits.{k}": v for k, v in dataclasses.asdict(self._exits).items()},
            **{f"leaves.{k}": v for k, v in dataclasses.asdict(self._leaves).items()},
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Forest:
        """The forest :meth:`arrays` described."""

        def part(prefix: str) -> dict[str, np.ndarray]:
            return {
                k.removeprefix(prefix): v
                for k, v in arrays.items()
                if k.startswith(prefix)
            }

        return cls(
            arrays["tree_starts"], _Exits(**part("exits.")), _Leaves(**part("leaves."))
        )

    def margins(self, W: np.ndarray) -> np.ndarray:
        """The trees' summed leaf values, shape (rows of ``W``, drugs): each drug's
        margin before its base margin is added."""
        if self.n_slots == 0:
            return np.zeros((len(W), 0))
        # Rows in chunks, so the (rows x splits) temporaries stay in cache.
        return np.vstack(
            [
                np.add.reduceat(self._exits.values(chunk), self.tree_starts, axis=1)
                for chunk in np.array_split(W, -(-len(W) // _CHUNK_ROWS))
            ]
        )

    def shap(
        self, w: np.ndarray, slots: Sequence[int], n_columns: Sequence[int]
    ) -> list[np.ndarray]:
        """TreeSHAP values of one wide input row ``w`` for the trees of the drugs
        ``slots``: per drug, ``n_columns`` values in its design columns, then its
        expected margin (the base value, before the base margin is added)."""
        if not slots:
            return []
        leaves = self._leaves.of_slots(slots)
        left = _goes_left(w[leaves.reads], leaves.threshold, leaves.default_left)
        # The row's pattern: which of its distinct features' splits it follows.
        strays = (left != leaves.path_left) & leaves.on_path
        pattern = np.full(len(strays), (1 << leaves.depth) - 1)
        for k in range(leaves.depth):
            pattern &= ~(strays[:, k] << leaves.unique_slot[:, k])
        phi = leaves.phi[np.arange(len(pattern)), pattern]
        group = np.repeat(np.arange(len(slots)), np.diff(leaves.starts))
        width = max(n_columns)
        cell = group[:, None] * width + leaves.feature
        unique = leaves.is_unique
        summed = np.bincount(
            cell[unique], weights=phi[unique], minlength=len(slots) * width
        ).reshape(len(slots), width)
        return [
            np.append(summed[k, :n], self.expected[slot])
            for k, (slot, n) in enumerate(zip(slots, n_columns, strict=True))
        ]


def _goes_left(
    x: np.ndarray, threshold: np.ndarray, default_left: np.ndarray
) -> np.ndarray:
    # XGBoost: left when x < threshold; a missing value takes the default branch.
    return np.where(np.isnan(x), default_left, x < threshold)


def _lowest_bit(n_bits: int) -> np.ndarray:
    """For every mask of ``n_bits`` bits, the index of its lowest set bit (0 for
    the empty mask, which no row reaches)."""
    masks = np.arange(1 << n_bits)
    lowest = np.zeros(len(masks))
    np.log2(masks & -masks, where=masks > 0, out=lowest)
    return lowest.astype(np.int64)


@dataclass(frozen=True)
class _Exits:
    """Every tree's split nodes as bit masks over its leaves (QuickScorer: Lucchese
    et al., SIGIR 2015).  Leaves are numbered left to right; a split the row
    passes on the right rules out its left subtree's leaves, and the exit leaf is
    the leftmost leaf left.  All rows and trees go in a few array operations, with
    no walk from node to node; a test many splits share (a column, threshold and
    default) is evaluated once."""

    reads: np.ndarray  # per distinct test: the wide column, threshold, default
    threshold: np.ndarray
    default_left: np.ndarray
    test_of_split: np.ndarray  # split nodes, grouped by tree -> their test
    keep_if_right: np.ndarray  # leaves still reachable when the row goes right
    starts: np.ndarray  # where each tree's splits start
    stump: np.ndarray  # trees with no split
    leaf_values: np.ndarray  # (trees, leaves), left to right
    lowest_bit: np.ndarray  # bit mask -> index of its lowest set bit

    @classmethod
    def of(cls, nodes: _NodeTable) -> _Exits:
        columns = nodes.columns
        split = np.flatnonzero(nodes.array("left") != np.arange(len(columns["left"])))
        n_leaves = max((len(leaves) for leaves in nodes.leaves_in_order), default=1)
        if n_leaves > 16:
            raise ValueError(f"trees of {n_leaves} leaves are too deep (16 at most)")
        dtype = np.uint8 if n_leaves <= 8 else np.uint16
        tree_of_split = np.searchsorted(nodes.roots, split, side="right") - 1
        leaf_values = np.zeros((len(nodes.roots), n_leaves))
        for tree, leaves in enumerate(nodes.leaves_in_order):
            leaf_values[tree, : len(leaves)] = [columns["value"][n] for n in leaves]
        # A test is (column, threshold, default); float64 holds all three exactly.
        tests = np.column_stack(
            [
                nodes.array("reads")[split],
                nodes.array("threshold", np.float32)[split],
                nodes.array("default_left", bool)[split],
            ]
        ).astype(np.float64)
        distinct, test_of_split = np.unique(tests, axis=0, return_inverse=True)
        everything = np.iinfo(dtype).max
        keep_if_right = everything & ~nodes.array("left_leaves")[split]
        return cls(
            reads=distinct[:, 0].astype(np.int64),
            threshold=distinct[:, 1].astype(np.float32),
            default_left=distinct[:, 2].astype(bool),
            test_of_split=test_of_split.ravel(),
            keep_if_right=keep_if_right.astype(dtype),
            starts=np.searchsorted(tree_of_split, np.arange(len(nodes.roots))),
            stump=np.bincount(tree_of_split, minlength=len(nodes.roots)) == 0,
            leaf_values=leaf_values,
            lowest_bit=_lowest_bit(8 * np.dtype(dtype).itemsize),
        )  # fmt: skip

    def values(self, W: np.ndarray) -> np.ndarray:
        """Each row's exit-leaf value in every tree, shape (rows, trees)."""
        left = _goes_left(W[:, self.reads], self.threshold, self.default_left)
        everything = np.iinfo(self.keep_if_right.dtype).max
        masks = np.where(left[:, self.test_of_split], everything, self.keep_if_right)
        # One more column of ones, so a stump at the end still has a start.
        masks = np.hstack([masks, np.full((len(W), 1), everything, masks.dtype)])
        reached = np.bitwise_and.reduceat(masks, self.starts, axis=1)
        reached[:, self.stump] = 1  # a stump's only leaf
        exit_leaf = self.lowest_bit[reached]
        return self.leaf_values[np.arange(len(self.leaf_values)), exit_leaf]


def _trees(booster: xgb.Booster) -> list[dict[str, Any]]:
    model = json.loads(booster.save_raw("json"))
    return model["learner"]["gradient_booster"]["model"]["trees"]  # type: ignore[no-any-return]


_CHUNK_ROWS = 64
# _SHAPLEY_WEIGHTS[m, k] = k! (m - k - 1)! / m! for k < m (coalitions of size k
# among the m - 1 other features of a path), 0 otherwise; paths up to 16 deep.
_SHAPLEY_WEIGHTS = np.array(
    [
        [factorial(k) * factorial(m - k - 1) / factorial(m) if k < m else 0.0
         for k in range(16)]
        for m in range(17)
    ]
)  # fmt: skip


class _NodeTable:
    """Nodes of all trees, numbered globally; a leaf points to itself."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {
            name: []
            for name in (
                "left", "reads", "attribute", "threshold",
                "default_left", "value", "cover", "parent", "left_leaves",
            )
        }  # fmt: skip
        self.roots: list[int] = []
        self.leaves_in_order: list[list[int]] = []
        self.max_depth = 0

    def add(self, tree: dict[str, Any], read: np.ndarray) -> None:
        start = len(self.columns["left"])
        left, right = tree["left_children"], tree["right_children"]
        is_leaf = [child == -1 for child in left]
        self.roots.append(start)
        ids = range(start, start + len(left))
        column = self.columns
        column["left"] += [
            n if leaf else start + c
            for n, c, leaf in zip(ids, left, is_leaf, strict=True)
        ]
        column["attribute"] += [
            0 if leaf else f
            for f, leaf in zip(tree["split_indices"], is_leaf, strict=True)
        ]
        column["reads"] += [int(read[f]) for f in column["attribute"][start:]]
        column["threshold"] += [
            0.0 if leaf else c
            for c, leaf in zip(tree["split_conditions"], is_leaf, strict=True)
        ]
        column["value"] += [
            c if leaf else 0.0
            for c, leaf in zip(tree["split_conditions"], is_leaf, strict=True)
        ]
        column["default_left"] += tree["default_left"]
        column["cover"] += tree["sum_hessian"]
        column["parent"] += [
            -1 if p >= len(left) else start + p for p in tree["parents"]
        ]
        depth = [0] * len(left)
        for n, p in enumerate(tree["parents"]):
            if 0 <= p < len(left):
                depth[n] = depth[p] + 1  # XGBoost numbers a parent before its child
        self.max_depth = max(self.max_depth, max(depth))
        # Leaves left to right, and per split the bit mask of its left subtree's.
        in_order: list[int] = []
        left_leaves = [0] * len(left)

        def visit(node: int) -> int:
            if is_leaf[node]:
                in_order.append(start + node)
                return 1 << (len(in_order) - 1)
            left_leaves[node] = visit(left[node])
            return left_leaves[node] | visit(right[node])

        visit(0)
        self.leaves_in_order.append(in_order)
        column["left_leaves"] += left_leaves

    def array(self, name: str, dtype: type = np.int64) -> np.ndarray:
        return np.array(self.columns[name], dtype=dtype)


@dataclass(frozen=True)
class _Leaves:
    """Every leaf's path, padded to ``depth`` splits, sorted by drug, and its
    SHAP values for every pattern a row can show.

    Per leaf ``l`` and split ``k`` above it (``on_path`` false past the root): the
    split's test (``reads``, ``threshold``, ``default_left``), whether the path
    goes left there (``path_left``) and which of the leaf's distinct features the
    split tests (``unique_slot``); per distinct feature (``is_unique``): its
    design column ``feature``.  A row's *pattern* has bit ``j`` set when it
    follows every split of the path on distinct feature ``j`` (``o_j = 1``);
    ``phi[l, pattern, j]`` is then feature ``j``'s SHAP value from leaf ``l``.
    """

    slot: np.ndarray
    reads: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    path_left: np.ndarray
    on_path: np.ndarray
    unique_slot: np.ndarray
    is_unique: np.ndarray
    feature: np.ndarray
    phi: np.ndarray
    expected: np.ndarray  # v x prod z: what the leaf adds to the base value
    starts: np.ndarray

    @property
    def depth(self) -> int:
        return int(self.reads.shape[1])

    def of_slots(self, slots: Sequence[int]) -> _Leaves:
        """The leaves of the drugs ``slots``, in that order (``starts`` then
        delimits each drug's)."""
        parts = [slice(self.starts[s], self.starts[s + 1]) for s in slots]
        sizes = [part.stop - part.start for part in parts]
        return _Leaves(
            **{
                name: np.concatenate([getattr(self, name)[part] for part in parts])
                for name in self.__dataclass_fields__
                if name != "starts"
            },
            starts=np.concatenate([[0], np.cumsum(sizes)]),
        )

    @classmethod
    def of(cls, nodes: _NodeTable, tree_slot: np.ndarray, depth: int) -> _Leaves:
        left, parent = nodes.columns["left"], nodes.columns["parent"]
        cover, attribute = nodes.columns["cover"], nodes.columns["attribute"]
        tree_of_node = np.searchsorted(nodes.roots, np.arange(len(left)), "right") - 1
        leaves = [n for n in range(len(left)) if left[n] == n]
        shape = (len(leaves), depth)
        path = np.zeros(shape, dtype=np.int64)
        path_left, on_path = np.zeros(shape, bool), np.zeros(shape, bool)
        unique_slot = np.zeros(shape, dtype=np.int64)
        is_unique = np.zeros(shape, bool)
        feature = np.zeros(shape, dtype=np.int64)
        z = np.ones(shape)
        for row, leaf in enumerate(leaves):
            child, k, slots = leaf, 0, dict[int, int]()
            while (node := int(parent[child])) >= 0:
                f = int(attribute[node])
                s = slots.setdefault(f, len(slots))
                path[row, k], on_path[row, k] = node, True
                path_left[row, k] = left[node] == child
                unique_slot[row, k] = s
                is_unique[row, s], feature[row, s] = True, f
                z[row, s] *= cover[child] / cover[node]
                child, k = node, k + 1
        value = np.array([nodes.columns["value"][n] for n in leaves])
        slot = tree_slot[tree_of_node[leaves]]
        return cls(
            slot=slot, reads=nodes.array("reads")[path],
            threshold=nodes.array("threshold", np.float32)[path],
            default_left=nodes.array("default_left", bool)[path],
            path_left=path_left, on_path=on_path, unique_slot=unique_slot,
            is_unique=is_unique, feature=feature,
            phi=_pattern_shap(value, z, is_unique), expected=value * z.prod(axis=1),
            starts=np.searchsorted(slot, np.arange(tree_slot.max(initial=-1) + 2)),
        )  # fmt: skip


def _pattern_shap(
    value: np.ndarray, z: np.ndarray, is_unique: np.ndarray
) -> np.ndarray:
    """``phi[l, pattern, i]``: the Shapley value of distinct feature ``i`` of leaf
    ``l`` when the row's ``o`` is the bits of ``pattern`` (see the module
    docstring), shape (leaves, 2 ** depth, depth)."""
    n_leaves, depth = z.shape
    m = is_unique.sum(axis=1)
    weights = _SHAPLEY_WEIGHTS[: depth + 1, :depth][m]  # (leaves, k)
    phi = np.zeros((n_leaves, 1 << depth, depth))
    for pattern in range(1 << depth):
        bits = (pattern >> np.arange(depth)) & 1
        o = np.where(is_unique, bits, 0.0)
        for i in range(depth):
            coefficients = np.zeros_like(z)
            coefficients[:, 0] = 1.0
            for j in range(depth):
                if j != i:  # multiply by (z_j + o_j t)
                    shifted = np.zeros_like(coefficients)
                    shifted[:, 1:] = coefficients[:, :-1] * o[:, j, None]
                    coefficients = coefficients * z[:, j, None] + shifted
            phi[:, pattern, i] = (o[:, i] - z[:, i]) * (weights * coefficients).sum(1)
    return phi * (value[:, None, None] * is_unique[:, None, :])
