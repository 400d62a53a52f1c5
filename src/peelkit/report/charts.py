"""Figures as SVG (matplotlib), following the Analysis Function's chart guidance: axes from
zero, forces sorted by value, the subject force and England and Wales told apart without
colour (hatching, weight, a labelled reference line), forces without a value named as such and
never drawn as zero, text kept as text. The charts draw the numbers of the document tree; they
compute nothing."""

from __future__ import annotations

import glob
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from peelkit.report.document import Chart

FONT = "Liberation Sans"
INK, PALE, SUBJECT = "#0b0c0c", "#b1b4b6", "#1d70b8"

# Where Debian's fonts-liberation puts the report's font.
FONT_FILES = "/usr/share/fonts/truetype/liberation*/LiberationSans-*.ttf"


def font_families() -> list[str]:
    """The chart's font families, every one known to matplotlib. Its font list is cached (in
    ~/.cache/matplotlib) when first built: fonts installed after that are registered here from
    their files, and a family that is nowhere is left out, so that no chart logs a 'findfont'
    warning and falls back silently to matplotlib's own DejaVu Sans."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    if FONT not in known:
        for path in sorted(glob.glob(FONT_FILES)):
            font_manager.fontManager.addfont(path)
        known = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in (FONT, "DejaVu Sans") if f in known] or ["sans-serif"]


plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "peelkit",  # the same chart gives the same bytes
        "font.family": font_families(),
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": INK,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
    }
)


def svg(chart: Chart, subject: str) -> str:
    """The chart as an SVG document."""
    if chart.kind == "bars":
        fig = _bars(chart)
    elif chart.kind == "series":
        fig = _series(chart, subject)
    elif chart.kind == "stack":
        fig = _stack(chart)
    else:
        fig = _pair(chart, subject)
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    plt.close(fig)
    return out.getvalue()


def _bars(chart: Chart) -> Figure:
    bars = list(chart.bars)
    fig, ax = plt.subplots(figsize=(6.6, 0.125 * len(bars) + 0.9))
    positions = list(range(len(bars)))[::-1]
    values = [b.num.value for b in bars]
    drawn = [(y, b, v) for y, b, v in zip(positions, bars, values, strict=True) if v is not None]
    ax.barh(
        [y for y, _, _ in drawn],
        [v for _, _, v in drawn],
        height=0.7,
        color=[SUBJECT if b.subject else PALE for _, b, _ in drawn],
        edgecolor=[INK if b.subject else "none" for _, b, _ in drawn],
        hatch=["////" if b.subject else "" for _, b, _ in drawn],
        linewidth=0.8,
    )
    for y, bar, value in zip(positions, bars, values, strict=True):
        if value is None:
            ax.text(
                0,
                y,
                "  no value: " + (bar.reason or "no data"),
                va="center",
                fontsize=7,
                style="italic",
                color=INK,
            )
    ax.set_yticks(positions, [("▶ " + b.name) if b.subject else b.name for b in bars], fontsize=7)
    for label, bar in zip(ax.get_yticklabels(), bars, strict=True):
        if bar.subject:
            label.set_fontweight("bold")
    present = [v for v in values if v is not None]
    low, high = min([0.0, *present]), max([0.0, *present])
    if chart.england_and_wales is not None and chart.england_and_wales.value is not None:
        ew = chart.england_and_wales.value
        ax.axvline(ew, color=INK, linestyle=(0, (4, 2)), linewidth=1)
        ax.text(
            ew,
            len(bars) - 0.3,
            f" England and Wales {chart.england_and_wales.text}",
            va="bottom",
            ha="left",
            fontsize=8,
        )
        low, high = min(low, ew), max(high, ew)
    span = (high - low) or 1.0
    ax.set_xlim(low - 0.02 * span if low < 0 else 0, high + 0.12 * span)
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_ylim(-0.8, len(bars) + 0.6)
    ax.set_xlabel(chart.unit)
    ax.tick_params(axis="y", length=0)
    _margins(fig, left=2.45, bottom=0.55, top=0.3)
    return fig


def _margins(fig: Figure, left: float, bottom: float, top: float, right: float = 0.2) -> None:
    """Fixed margins in inches, so the figure is drawn once when saved."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height
    )


def _series(chart: Chart, subject: str) -> Figure:
    fig, ax = plt.subplots(figsize=(6.6, 3.2))
    periods = [p.replace("12 months to ", "") for p, _, _ in chart.series]
    force = [f.value if f.value is not None else float("nan") for _, f, _ in chart.series]
    ew = [e.value if e.value is not None else float("nan") for _, _, e in chart.series]
    ax.plot(periods, force, color=SUBJECT, marker="s", linewidth=2, label=subject)
    ax.plot(
        periods,
        ew,
        color=INK,
        marker="o",
        linestyle=(0, (4, 2)),
        linewidth=1.2,
        label="England and Wales",
    )
    for x, (_, f, e) in enumerate(chart.series):
        ax.annotate(
            f.text,
            (x, f.value or 0),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
        ax.annotate(
            e.text,
            (x, e.value or 0),
            textcoords="offset points",
            xytext=(0, -12),
            ha="center",
            fontsize=7,
        )
    top = max([1.0, *(v for v in [*force, *ew] if v == v)])  # v == v: not NaN
    ax.set_ylim(0, top * 1.2)
    ax.set_ylabel(chart.unit)
    ax.legend(frameon=False, loc="lower left")
    _margins(fig, left=0.7, bottom=0.45, top=0.15)
    return fig


def _pair(chart: Chart, subject: str) -> Figure:
    rows = list(chart.series)
    fig, ax = plt.subplots(figsize=(6.6, 0.45 * len(rows) + 1.0))
    positions = list(range(len(rows)))[::-1]
    for y, (_, f, e) in zip(positions, rows, strict=True):
        if f.value is not None:
            ax.barh(
                y + 0.18,
                f.value,
                height=0.34,
                color=SUBJECT,
                edgecolor=INK,
                hatch="////",
                linewidth=0.8,
            )
            ax.text(f.value, y + 0.18, f" {f.text}", va="center", fontsize=7)
        if e.value is not None:
            ax.barh(y - 0.18, e.value, height=0.34, color=PALE)
            ax.text(e.value, y - 0.18, f" {e.text}", va="center", fontsize=7)
    ax.set_yticks(positions, [label for label, _, _ in rows])
    ax.set_xlim(
        0,
        max([1.0, *[(f.value or 0) for _, f, _ in rows], *[(e.value or 0) for _, _, e in rows]])
        * 1.15,
    )
    ax.set_xlabel(chart.unit)
    handles = [
        Rectangle((0, 0), 1, 1, color=SUBJECT, hatch="////", ec=INK),
        Rectangle((0, 0), 1, 1, color=PALE),
    ]
    ax.legend(handles, [subject, "England and Wales"], frameon=False, loc="lower right")
    ax.tick_params(axis="y", length=0)
    _margins(fig, left=2.45, bottom=0.5, top=0.15)
    return fig


HATCHES = ("", "....", "////", "xxxx", "", "")
SHADES = ("#0b0c0c", "#505a5f", "#b1b4b6", "#ffffff", "#f3f2f1", "#f3f2f1")


def _stack(chart: Chart) -> Figure:
    """Counts by category for each column, as stacked horizontal bars (grades by question),
    the categories told apart by shade and hatching, each segment labelled with its count."""
    columns = list(chart.stack)
    fig, ax = plt.subplots(figsize=(6.6, 0.5 * len(columns) + 1.4))
    positions = list(range(len(columns)))[::-1]
    categories = [name for name, _ in columns[0][1]] if columns else []
    for y, (_, counts) in zip(positions, columns, strict=True):
        left = 0
        for k, (_, count) in enumerate(counts):
            if count:
                ax.barh(
                    y,
                    count,
                    left=left,
                    height=0.6,
                    color=SHADES[k % len(SHADES)],
                    hatch=HATCHES[k % len(HATCHES)],
                    edgecolor=INK,
                    linewidth=0.6,
                )
                dark = SHADES[k % len(SHADES)] in ("#0b0c0c", "#505a5f")
                ax.text(
                    left + count / 2,
                    y,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else INK,
                )
            left += count
    ax.set_yticks(positions, [label for label, _ in columns])
    ax.set_xlabel(chart.unit)
    handles = [
        Rectangle(
            (0, 0),
            1,
            1,
            facecolor=SHADES[k % len(SHADES)],
            hatch=HATCHES[k % len(HATCHES)],
            edgecolor=INK,
        )
        for k in range(len(categories))
    ]
    ax.legend(
        handles,
        categories,
        frameon=False,
        loc="upper center",
        ncol=3,
        bbox_to_anchor=(0.5, -0.25),
        fontsize=7,
    )
    ax.tick_params(axis="y", length=0)
    return fig
