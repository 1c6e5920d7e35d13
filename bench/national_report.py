"""The rows of bench_national: measured pairs, failures that do not stop the bench, the table."""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict, dataclass, field


def best(func, runs: int) -> tuple[float, object]:
    """The fastest wall time of `runs` calls, in seconds, and the last result."""
    fastest, result = float("inf"), None
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        result = func()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest, result


@dataclass
class Row:
    """One measured row: our time beside the peer's (seconds), and what was compared."""

    backend: str
    size: int
    row: str
    ours_s: float | None = None
    peer_s: float | None = None
    target: str = ""
    note: str = ""
    error: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours_s is None or not self.peer_s:
            return None
        return self.ours_s / self.peer_s


class Bench:
    """Collects rows; every row runs guarded so that a failure prints and the bench goes on."""

    def __init__(self, runs: int, import_runs: int, postgis: str | None, key: str) -> None:
        self.runs, self.import_runs, self.postgis, self.key = runs, import_runs, postgis, key
        self.rows: list[Row] = []

    def add(self, row: Row) -> Row:
        """Keep a row and print it at once (a long bench shows progress)."""
        self.rows.append(row)
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        print(f"  {row.backend} {row.size:>9,} {row.row}: ours {_s(row.ours_s)}, peer "
              f"{_s(row.peer_s)}, ratio {ratio} {row.note}", flush=True)
        return row

    def pair(self, backend: str, size: int, label: str, ours, peer, *, target: str = "",
             check=None, runs: int | None = None) -> Row:
        """Measure ours then the peer (min of runs each); `check(ours, peer)` gives the note."""
        runs = runs or self.runs
        ours_s, ours_out = best(ours, runs)
        peer_s, peer_out = best(peer, runs) if peer is not None else (None, None)
        note = check(ours_out, peer_out) if check else ""
        return self.add(Row(backend, size, label, ours_s, peer_s, target, note))

    def failed(self, backend: str, size: int, label: str, exc: BaseException) -> None:
        """A row that failed: its error printed and kept, the bench going on."""
        text = f"{type(exc).__name__}: {str(exc)[:300]}"
        print(f"  {backend} {size:,} {label}: FAILED {text}", flush=True)
        traceback.print_exc(limit=4)
        self.rows.append(Row(backend, size, label, error=text))

    def guard(self, backend: str, size: int, label: str, func) -> None:
        """Run a group of rows; a failure is recorded as one failed row."""
        try:
            func()
        except Exception as exc:  # noqa: BLE001 - robustness is the point
            self.failed(backend, size, label, exc)

    def scaling(self, backend: str, small: int, large: int) -> None:
        """Time at the largest size over time at the smallest, per engagement row."""
        if small == large:
            return
        for row in [r for r in self.rows if r.backend == backend and r.size == large
                    and r.row.startswith("engagement") and r.ours_s is not None]:
            base = next((r for r in self.rows if r.backend == backend and r.size == small
                         and r.row == row.row and r.ours_s), None)
            if base is not None:
                self.add(Row(backend, large, f"{row.row}: {large:,} / {small:,}",
                             row.ours_s, base.ours_s, "<= 2x",
                             f"(peer {row.peer_s / base.peer_s:.2f}x)" if row.peer_s and
                             base.peer_s else ""))

    def print_table(self) -> None:
        """All rows as one table: backend, size, row, both times, ratio, target, note."""
        print(f"\n{'backend':8} {'responses':>9}  {'row':58} {'ours s':>8} {'peer s':>8} "
              f"{'ratio':>7}  {'target':8} note")
        for r in self.rows:
            ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
            note = f"FAILED {r.error}" if r.error else r.note
            print(f"{r.backend:8} {r.size:>9,}  {r.row[:58]:58} {_s(r.ours_s):>8} "
                  f"{_s(r.peer_s):>8} {ratio:>7}  {r.target:8} {note}")
        print("(ratio = ours / peer: below 1 is faster than the peer; min of "
              f"{self.runs} runs each side, imports {self.import_runs})")

    def as_json(self, args) -> dict:
        """The rows and the settings, for --json."""
        return {"sizes": args.sizes, "backends": args.backends, "runs": self.runs,
                "import_runs": self.import_runs, "key": self.key,
                "rows": [{**asdict(r), "ratio": r.ratio} for r in self.rows]}


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.3f}" if seconds < 100 else f"{seconds:.0f}"
