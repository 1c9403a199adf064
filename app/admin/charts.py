"""Server-rendered SVG chart geometry: bars of daily tokens with a line of daily cost.

Only numbers come out of here; templates/admin/_usage_chart.html draws them with SVG
presentation attributes and CSS classes (the Content-Security-Policy forbids inline styles).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 56, 12, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the day
    tokens: int
    cost: Decimal


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    cost_points: str  # polyline points
    max_tokens: int
    max_cost: Decimal
    ticks: list[tuple[float, str]]  # x and the day shown under the axis
    plot_top: int
    plot_bottom: int
    plot_left: int
    plot_right: int


def daily_chart(days) -> Chart:
    """``days`` are report lines in date order (``label``, ``tokens``, ``cost``)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    max_tokens = max((d.tokens for d in days), default=0)
    max_cost = max((d.cost for d in days), default=Decimal(0))
    slot = plot_w / max(1, len(days))
    bars, points = [], []
    for i, day in enumerate(days):
        height = plot_h * day.tokens / max_tokens if max_tokens else 0
        x = LEFT + i * slot
        bars.append(Bar(x=round(x + slot * 0.15, 2), y=round(TOP + plot_h - height, 2),
                        width=round(max(1.0, slot * 0.7), 2), height=round(height, 2),
                        label=day.label, tokens=day.tokens, cost=day.cost))
        cost_y = TOP + plot_h - (plot_h * float(day.cost / max_cost) if max_cost else 0)
        points.append(f"{x + slot / 2:.2f},{cost_y:.2f}")
    step = max(1, len(days) // 6)
    ticks = [(round(LEFT + i * slot + slot / 2, 2), days[i].label[5:])
             for i in range(0, len(days), step)]
    return Chart(width=WIDTH, height=HEIGHT, bars=bars, cost_points=" ".join(points),
                 max_tokens=max_tokens, max_cost=max_cost, ticks=ticks, plot_top=TOP,
                 plot_bottom=TOP + plot_h, plot_left=LEFT, plot_right=WIDTH - RIGHT)
