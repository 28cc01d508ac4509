"""Draw a briefing map on matplotlib axes: grids by kind, boundaries, roads, posts,
audit findings, a metric scale bar, a north arrow and a bilingual legend.

Layers are in a projected metric CRS (UTM), so axis units are metres.
"""

from __future__ import annotations

import math

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

import geopandas as gpd
from pyproj import CRS, Proj, Transformer

from layers.catalogue import COMMUNITIES, GRIDS, POLICE_POSTS, ROADS

__all__ = ["MapLayers", "add_legend", "draw_map", "legend_handles", "nice_length", "north_angle"]

BLIND_COLOUR = "#d62728"
OVERLAP_COLOUR = "#ff7f0e"
POST_COLOUR = "#1f3a93"
ROAD_COLOUR = "#9c968a"
OUTLINE_COLOUR = "#1f1f1f"
MapLayers = dict[str, gpd.GeoDataFrame]


def nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ m) of at most a fifth of ``span_m``.

    >>> nice_length(4300), nice_length(12000), nice_length(900)
    (500.0, 2000.0, 100.0)
    """
    target = max(span_m / 5, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return float(max(m * power for m in (1, 2, 5) if m * power <= target))


def north_angle(crs: CRS, x: float, y: float) -> float:
    """Degrees from the map's up direction to true north at (x, y) (meridian convergence)."""
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    factors = Proj(crs).get_factors(lon, lat)
    return float(factors.meridian_convergence)


def _scale_bar(ax: Axes, font: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    left, bottom = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    height = 0.012 * (y1 - y0)
    half = length / 2
    for i, colour in enumerate(("#222222", "#ffffff", "#222222", "#ffffff")):
        ax.add_patch(
            Rectangle(
                (left + i * half / 2, bottom),
                half / 2,
                height,
                facecolor=colour,
                edgecolor="#222222",
                linewidth=0.6,
                zorder=20,
            )
        )
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for pos, text in ((0.0, "0"), (length, label)):
        ax.text(
            left + pos,
            bottom + height * 1.6,
            text,
            ha="center",
            va="bottom",
            fontsize=7,
            family=font,
            zorder=21,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5},
        )


def _north_arrow(ax: Axes, crs: CRS, font: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    angle = math.radians(north_angle(crs, (x0 + x1) / 2, (y0 + y1) / 2))
    # axes coordinates: the arrow points to true north (convergence is a fraction of a degree
    # to a few degrees in UTM)
    cx, cy, size = 0.94, 0.88, 0.07
    dx, dy = -math.sin(angle) * size, math.cos(angle) * size
    ax.annotate(
        "",
        xy=(cx + dx / 2, cy + dy / 2),
        xytext=(cx - dx / 2, cy - dy / 2),
        xycoords="axes fraction",
        arrowprops={
            "arrowstyle": "-|>,head_width=0.5,head_length=0.9",
            "color": "#222222",
            "linewidth": 1.6,
        },
        zorder=21,
    )
    ax.text(
        cx,
        cy + size / 2 + 0.01,
        "N 北",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
        fontweight="bold",
        family=font,
        zorder=21,
    )


def draw_map(ax: Axes, layers: MapLayers, crs: CRS, font: str, focus: str = "outline") -> None:
    """Draw ``layers`` (outline, communities, grids, roads, posts, blind_spots, overlaps)
    on ``ax``, zoomed to the layer named ``focus`` with a margin."""
    grids = layers["grids"]
    for category in GRIDS.style.categories:
        mine = grids[grids["kind"] == category.value]
        if len(mine):
            mine.plot(
                ax=ax,
                facecolor=category.colour,
                alpha=0.5,
                edgecolor="white",
                linewidth=0.5,
                zorder=2,
            )
    if len(layers["roads"]):
        layers["roads"].plot(ax=ax, color=ROAD_COLOUR, linewidth=0.45, zorder=3)
    if len(layers["overlaps"]):
        layers["overlaps"].plot(
            ax=ax,
            facecolor=OVERLAP_COLOUR,
            alpha=0.85,
            edgecolor=OVERLAP_COLOUR,
            linewidth=2.0,
            zorder=5,
        )
    if len(layers["blind_spots"]):
        layers["blind_spots"].plot(
            ax=ax, facecolor="none", edgecolor=BLIND_COLOUR, hatch="////", linewidth=1.2, zorder=6
        )
    if len(layers["communities"]):
        layers["communities"].boundary.plot(
            ax=ax, color="#3d3d3d", linewidth=0.9, linestyle=(0, (5, 3)), zorder=7
        )
    layers["outline"].boundary.plot(ax=ax, color=OUTLINE_COLOUR, linewidth=1.8, zorder=8)
    if len(layers["posts"]):
        layers["posts"].plot(
            ax=ax,
            marker="^",
            color=POST_COLOUR,
            markersize=14,
            edgecolor="white",
            linewidth=0.4,
            zorder=9,
        )
    minx, miny, maxx, maxy = layers[focus].total_bounds
    pad = 0.04 * max(maxx - minx, maxy - miny, 1.0)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#888888")
        spine.set_linewidth(0.6)
    _scale_bar(ax, font)
    _north_arrow(ax, crs, font)


def legend_handles() -> list[Artist]:
    """Legend entries, Chinese and English, in drawing order."""
    handles: list[Artist] = [
        Patch(facecolor=c.colour, alpha=0.5, edgecolor="white", label=f"{c.label_zh} {c.label_en}")
        for c in GRIDS.style.categories
    ]
    handles += [
        Line2D([], [], color=OUTLINE_COLOUR, linewidth=1.8, label="辖区边界 Region boundary"),
        Line2D(
            [],
            [],
            color="#3d3d3d",
            linewidth=0.9,
            linestyle=(0, (5, 3)),
            label=f"{COMMUNITIES.title_zh}边界 Community boundary",
        ),
        Line2D(
            [], [], color=ROAD_COLOUR, linewidth=1.2, label=f"{ROADS.title_zh} {ROADS.title_en}"
        ),
        Line2D(
            [],
            [],
            marker="^",
            color="none",
            markerfacecolor=POST_COLOUR,
            markeredgecolor="white",
            markersize=7,
            label=f"{POLICE_POSTS.title_zh} {POLICE_POSTS.title_en}",
        ),
        Patch(facecolor="none", edgecolor=BLIND_COLOUR, hatch="////", label="盲区 Blind spot"),
        Patch(facecolor=OVERLAP_COLOUR, alpha=0.85, label="重叠 Overlap"),
    ]
    return handles


def add_legend(fig: Figure, rect: tuple[float, float, float, float], font: str) -> Legend:
    """The legend in its own axes at ``rect`` (figure fraction), in two columns."""
    ax = fig.add_axes(rect)
    ax.axis("off")
    return ax.legend(
        handles=legend_handles(),
        loc="upper left",
        ncols=2,
        frameon=False,
        prop={"family": font, "size": 7.5},
        title="图例 Legend",
        title_fontproperties={"family": font, "size": 8.5, "weight": "bold"},
        alignment="left",
        handlelength=2.2,
        columnspacing=1.2,
        borderaxespad=0.0,
    )
