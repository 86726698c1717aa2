"""One table for every benchmark: what was measured, its baseline from the same run, the ratio
and the goal it is held to (issue 14)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HEADER = ("benchmark", "measured", "baseline", "ratio", "goal")


@dataclass(frozen=True)
class Row:
    """One benchmark's result: `measured` and `baseline` in the same `unit`, from one run."""

    name: str
    measured: float
    baseline: float
    unit: str
    goal: str
    note: str = ""

    @property
    def ratio(self) -> float:
        """`measured` as a multiple of `baseline`."""
        return self.measured / self.baseline

    def cells(self) -> tuple[str, str, str, str, str]:
        """The row as printed: name, measured, baseline, ratio, goal (and note)."""
        goal = f"{self.goal}; {self.note}" if self.note else self.goal
        return (
            self.name,
            _amount(self.measured, self.unit),
            _amount(self.baseline, self.unit),
            f"{self.ratio:.2f}×",
            goal,
        )


def _amount(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:,.1f} ms" if value < 10 else f"{value:,.1f} s"
    return f"{value:,.1f} {unit}"


def render(rows: Iterable[Row]) -> str:
    """The rows as an aligned plain-text table under a header."""
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    return "\n".join(
        "  ".join(
            [
                line[0].ljust(widths[0]),
                *(cell.rjust(w) for cell, w in zip(line[1:4], widths[1:], strict=True)),
                line[4],
            ]
        ).rstrip()
        for line in lines
    )
