"""Readers for J.E. Beasley's OR-Library benchmark files (set covering and p-median).

What and why: the optimizer's exact and heuristic solvers are validated against the published
optima of these instances (Beasley 1990, "OR-Library: distributing test problems by electronic
mail", J. Operational Research Society 41(11); set covering: Beasley 1987, EJOR 31; p-median:
Beasley 1985, EJOR 21).  Formats, as documented on the OR-Library pages:

* SCP (``scp41.txt`` ...): number of rows m, number of columns n; the cost of each column
  (n numbers); then for each row the number of columns that cover it followed by their
  1-based indices.  Numbers may wrap over lines freely.
* p-median (``pmed1.txt`` ...): a header "n m p" (vertices, edges, medians), then m lines
  "i j cost" of undirected edges with 1-based vertices.  An edge listed twice keeps the LAST
  cost (the OR-Library convention).  Distances are all-pairs shortest paths
  (``scipy.sparse.csgraph``).  Costs are abstract length units.

Bad files raise :class:`OrlibFormatError` naming the file, the line and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import shortest_path


class OrlibFormatError(ValueError):
    """An OR-Library file does not follow its documented format."""


@dataclass(frozen=True)
class ScpInstance:
    """A weighted set-covering instance: ``incidence`` (rows x columns, 0/1 CSR), ``cost``."""

    name: str
    incidence: sp.csr_matrix
    cost: NDArray[np.float64]


@dataclass(frozen=True)
class PMedInstance:
    """A p-median instance: ``dist`` (n x n shortest-path distances; candidates = demand =
    vertices, unit demand weights), ``p`` medians to open."""

    name: str
    dist: NDArray[np.float64]
    p: int
    n_edges: int


class _Tokens:
    """Whitespace-separated tokens with their 1-based line numbers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            text = path.read_text(encoding="ascii", errors="strict")
        except FileNotFoundError:
            raise OrlibFormatError(f"{path}: file not found") from None
        except UnicodeDecodeError as exc:
            raise OrlibFormatError(f"{path}: not an ASCII text file ({exc})") from None
        self.tok: list[str] = []
        self.line: list[int] = []
        for ln, row in enumerate(text.splitlines(), start=1):
            for t in row.split():
                self.tok.append(t)
                self.line.append(ln)
        self.pos = 0

    def next_int(self, what: str, *, lo: int | None = None, hi: int | None = None) -> int:
        if self.pos >= len(self.tok):
            raise OrlibFormatError(f"{self.path}: file ends early; expected {what}")
        t, ln = self.tok[self.pos], self.line[self.pos]
        self.pos += 1
        try:
            v = int(t)
        except ValueError:
            raise OrlibFormatError(
                f"{self.path}, line {ln}: {what} must be an integer, got {t!r}"
            ) from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
            raise OrlibFormatError(f"{self.path}, line {ln}: {what} must be in {rng}, got {v}")
        return v

    def next_float(self, what: str) -> float:
        if self.pos >= len(self.tok):
            raise OrlibFormatError(f"{self.path}: file ends early; expected {what}")
        t, ln = self.tok[self.pos], self.line[self.pos]
        self.pos += 1
        try:
            v = float(t)
        except ValueError:
            raise OrlibFormatError(
                f"{self.path}, line {ln}: {what} must be a number, got {t!r}"
            ) from None
        if not np.isfinite(v) or v < 0:
            raise OrlibFormatError(
                f"{self.path}, line {ln}: {what} must be a finite number >= 0, got {t!r}"
            )
        return v

    def expect_end(self) -> None:
        if self.pos < len(self.tok):
            raise OrlibFormatError(
                f"{self.path}, line {self.line[self.pos]}: unexpected extra data "
                f"{self.tok[self.pos]!r} after the last record"
            )


def read_orlib_scp(path: str | Path) -> ScpInstance:
    """Read an OR-Library set-covering file (``scp*.txt``) into a 0/1 CSR incidence + costs."""
    p = Path(path)
    tk = _Tokens(p)
    m = tk.next_int("the number of rows", lo=1)
    n = tk.next_int("the number of columns", lo=1)
    cost = np.array([tk.next_float(f"the cost of column {j + 1}") for j in range(n)])
    rows: list[int] = []
    cols: list[int] = []
    for i in range(m):
        cnt = tk.next_int(f"the number of columns covering row {i + 1}", lo=1, hi=n)
        for _ in range(cnt):
            cols.append(tk.next_int(f"a column index of row {i + 1}", lo=1, hi=n) - 1)
            rows.append(i)
    tk.expect_end()
    a = sp.csr_matrix(
        (np.ones(len(rows)), (np.asarray(rows), np.asarray(cols))), shape=(m, n)
    )
    a.sum_duplicates()
    a.data[:] = 1.0
    return ScpInstance(name=p.stem, incidence=a, cost=cost)


def read_orlib_pmed(path: str | Path) -> PMedInstance:
    """Read an OR-Library p-median file (``pmed*.txt``); distances by all-pairs shortest paths.

    Raises :class:`OrlibFormatError` for a malformed file or a disconnected graph (some vertex
    pairs would have no distance).
    """
    p = Path(path)
    tk = _Tokens(p)
    n = tk.next_int("the number of vertices n (header)", lo=1)
    m = tk.next_int("the number of edges m (header)", lo=0)
    pp = tk.next_int("the number of medians p (header)", lo=1, hi=n)
    edges: dict[tuple[int, int], float] = {}
    for e in range(m):
        i = tk.next_int(f"edge {e + 1}: first vertex", lo=1, hi=n) - 1
        j = tk.next_int(f"edge {e + 1}: second vertex", lo=1, hi=n) - 1
        c = tk.next_float(f"edge {e + 1}: cost")
        if i == j:
            continue
        key = (i, j) if i < j else (j, i)
        edges.pop(key, None)  # the last occurrence counts
        edges[key] = c
    tk.expect_end()
    if edges:
        ij = np.array(list(edges.keys()), dtype=np.int64)
        w = np.array(list(edges.values()), dtype=np.float64)
    else:
        ij = np.zeros((0, 2), dtype=np.int64)
        w = np.zeros(0)
    # csgraph treats explicit zeros in sparse input as absent edges; a zero-cost edge is given
    # a tiny positive length and the distances are rounded back below when all costs are integral
    tiny = 1e-12
    g = sp.csr_matrix((np.where(w > 0, w, tiny), (ij[:, 0], ij[:, 1])), shape=(n, n))
    dist = shortest_path(g, method="D", directed=False)
    if not np.all(np.isfinite(dist)):
        bad = np.argwhere(~np.isfinite(dist))[0]
        raise OrlibFormatError(
            f"{p}: the graph is disconnected (no path from vertex {bad[0] + 1} to "
            f"vertex {bad[1] + 1}); every vertex must reach every other"
        )
    if np.all(w == np.round(w)):
        dist = np.round(dist)
    return PMedInstance(name=p.stem, dist=dist, p=pp, n_edges=m)
