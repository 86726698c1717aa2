"""The supply-and-demand charts as PNG images, drawn with matplotlib's headless Agg backend.

Three charts, each 1200 × 800 pixels: a heatmap of unmet demand by area of need × region, a
bar chart of time to acceptance by area of need, and a weekly trend of new against accepted
requests. Colours are colour-blind-safe (Okabe–Ito for lines and bars, cividis for the
heatmap); labels are in British English. Counts only: no names and no request text.
matplotlib is imported here alone; this module is imported only when a chart is drawn.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.insight.service import Insight

WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
BLUE, VERMILLION, ORANGE, GREEN = "#0072B2", "#D55E00", "#E69F00", "#009E73"
CHART_FILES = ("unmet-demand.png", "time-to-accept.png", "weekly-trend.png")
MAX_ROWS = 20


def render_charts(insight: Insight) -> dict[str, bytes]:
    """Every chart of the report, as file name → PNG bytes."""
    return {
        "unmet-demand.png": _png(_unmet_demand(insight)),
        "time-to-accept.png": _png(_time_to_accept(insight)),
        "weekly-trend.png": _png(_weekly_trend(insight)),
    }


def _figure(title: str, insight: Insight) -> tuple[Figure, Any]:
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    figure.suptitle(f"{title}\n{insight.period.label}", fontsize=15)
    return figure, axes


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _nothing(axes: Any, message: str) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=16, transform=axes.transAxes)


def _unmet_demand(insight: Insight) -> Figure:
    figure, axes = _figure(
        "Unmet demand: requests not accepted, by area of need and region", insight
    )
    tags = sorted({c.label for c in insight.cells if c.demand})[:MAX_ROWS]
    regions = sorted({c.region for c in insight.cells if c.demand})
    if not tags:
        _nothing(axes, "No requests in this period.")
        return figure
    unmet = {(c.label, c.region): c.unmet for c in insight.cells}
    grid = [[unmet.get((tag, region), 0) for region in regions] for tag in tags]
    image = axes.imshow(grid, cmap="cividis", aspect="auto", vmin=0)
    axes.set_xticks(range(len(regions)), regions, rotation=30, ha="right")
    axes.set_yticks(range(len(tags)), tags)
    axes.set_xlabel("Region of the requesting school")
    axes.set_ylabel("Area of need")
    top = max(max(row) for row in grid) or 1
    for y, row in enumerate(grid):
        for x, value in enumerate(row):
            colour = "black" if value > top / 2 else "white"
            axes.text(x, y, str(value), ha="center", va="center", color=colour, fontsize=12)
    figure.colorbar(image, ax=axes, label="Requests not accepted", ticks=MaxNLocator(integer=True))
    return figure


def _time_to_accept(insight: Insight) -> Figure:
    figure, axes = _figure("Time from request to acceptance, by area of need", insight)
    stats = [s for s in insight.by_tag if s.median_days is not None][:MAX_ROWS]
    if not stats:
        _nothing(axes, "No requests were accepted in this period.")
        return figure
    rows = range(len(stats))
    height = 0.4
    axes.barh(
        [y - height / 2 for y in rows],
        [s.median_days or 0 for s in stats],
        height,
        color=BLUE,
        label="Median",
    )
    axes.barh(
        [y + height / 2 for y in rows],
        [s.p90_days or 0 for s in stats],
        height,
        color=ORANGE,
        hatch="//",
        label="90th percentile",
    )
    axes.set_yticks(list(rows), [f"{s.key} ({s.accepted})" for s in stats])
    axes.invert_yaxis()
    axes.set_xlabel("Working days from request to acceptance")
    axes.set_ylabel("Area of need (requests accepted)")
    axes.legend(loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    return figure


def _weekly_trend(insight: Insight) -> Figure:
    figure, axes = _figure("New and accepted requests each week", insight)
    if not insight.weekly:
        _nothing(axes, "No weeks in this period yet.")
        return figure
    labels = [f"{w.week_start.day} {w.week_start:%b}" for w in insight.weekly]
    weeks = range(len(labels))
    axes.plot(weeks, [w.new for w in insight.weekly], color=BLUE, marker="o", label="New requests")
    axes.plot(
        weeks,
        [w.accepted for w in insight.weekly],
        color=VERMILLION,
        marker="s",
        linestyle="--",
        label="Accepted",
    )
    axes.set_xticks(list(weeks), labels, rotation=45, ha="right")
    axes.set_xlabel("Week commencing")
    axes.set_ylabel("Requests")
    axes.set_ylim(bottom=0)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return figure
