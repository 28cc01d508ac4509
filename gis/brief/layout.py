"""Lay a briefing out on pages: a map page, the community table, per-community pages.

Figures are built without pyplot (no global figure state), so the API can render
briefings in worker threads.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from matplotlib import rc_context
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import geopandas as gpd

import gis
from gis.brief.data import BriefData
from gis.brief.draw import BLIND_COLOUR, MapLayers, add_legend, draw_map
from gis.brief.figures import CommunityRow, KeyFigures, key_figures
from gis.brief.fonts import cjk_font

__all__ = ["PAPERS", "render_pdf", "render_png"]

#: paper sizes in inches, portrait
PAPERS: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}
LEVELS = {
    "prefecture": "地级市 Prefecture",
    "county": "县市区 County",
    "street": "街道（乡镇） Street / town",
    "community": "社区 Community",
}
ROWS_PER_PAGE = 36
INK = "#222222"
MUTED = "#666666"


def _fmt_area(m2: float) -> str:
    return f"{m2 / 1e6:,.2f} km²" if m2 >= 1e6 else f"{m2:,.0f} m²"


def figure_lines(f: KeyFigures) -> list[tuple[str, str, bool]]:
    """(label, value, alarming) lines of the key-figures box."""
    shortfall = f.staffing_shortfall
    return [
        ("网格 Grids", f"{f.grids:,}", False),
        ("覆盖率 Coverage", f.coverage_text, f.blind_spot_area_m2 > 0),
        (
            "盲区 Blind spots",
            f"{f.blind_spots} · {_fmt_area(f.blind_spot_area_m2)}",
            f.blind_spots > 0,
        ),
        ("重叠 Overlaps", f"{f.overlaps} · {_fmt_area(f.overlap_area_m2)}", f.overlaps > 0),
        ("无警务站网格 Grids without a post", f"{f.grids_without_post}", f.grids_without_post > 0),
        (
            "多警务站网格 Grids with several posts",
            f"{f.grids_with_several_posts}",
            f.grids_with_several_posts > 0,
        ),
        (
            "户数超标网格 Grids outside household band",
            f"{f.grids_outside_band}",
            f.grids_outside_band > 0,
        ),
        (
            "网格员缺口 Staffing shortfall",
            f"{max(shortfall, 0)} (有 {f.workers:,} / 需 {f.workers_needed:,})",
            shortfall > 0,
        ),
        ("审计问题 Findings", f"{f.errors} errors · {f.warnings} warnings", f.errors > 0),
    ]


def _header(fig: Figure, title: str, subtitle: str, font: str) -> None:
    fig.text(
        0.06, 0.962, title, fontsize=17, fontweight="bold", family=font, color=INK, va="center"
    )
    fig.text(0.06, 0.935, subtitle, fontsize=9, family=font, color=MUTED, va="center")
    fig.add_artist(_rule(fig, 0.92))


def _rule(fig: Figure, y: float) -> Line2D:
    return Line2D([0.06, 0.94], [y, y], transform=fig.transFigure, color="#999999", linewidth=0.8)


def _footer(fig: Figure, data: BriefData, page: int, pages: int, font: str) -> None:
    fig.add_artist(_rule(fig, 0.045))
    when = data.generated_at.strftime("%Y-%m-%d %H:%M")
    fig.text(
        0.06,
        0.03,
        f"数据来源: gridgov {gis.__version__} (PostGIS, live grids; audit profile "
        f"{data.report.profile}) · 制图日期 Date: {when}",
        fontsize=7,
        family=font,
        color=MUTED,
        va="center",
    )
    fig.text(
        0.94,
        0.03,
        f"第 {page} / {pages} 页 Page {page} of {pages}",
        fontsize=7,
        family=font,
        color=MUTED,
        va="center",
        ha="right",
    )


def _figures_box(
    fig: Figure, rect: tuple[float, float, float, float], f: KeyFigures, font: str
) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    ax.text(
        0.0,
        1.0,
        "关键指标 Key figures",
        fontsize=8.5,
        fontweight="bold",
        family=font,
        va="top",
        transform=ax.transAxes,
    )
    lines = figure_lines(f)
    step = 0.86 / len(lines)
    for i, (label, value, bad) in enumerate(lines):
        y = 0.86 - i * step
        if i % 2 == 0:
            ax.axhspan(y - step * 0.5, y + step * 0.5, color="#f2f2f2", zorder=0)
        ax.text(0.01, y, label, fontsize=7.5, family=font, va="center", color=INK)
        ax.text(
            0.99,
            y,
            value,
            fontsize=7.5,
            family=font,
            va="center",
            ha="right",
            color=BLIND_COLOUR if bad else INK,
            fontweight="bold",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)


def _map_page(
    data: BriefData,
    size: tuple[float, float],
    title: str,
    subtitle: str,
    layers: MapLayers,
    figures: KeyFigures,
    font: str,
) -> Figure:
    fig = Figure(figsize=size)
    _header(fig, title, subtitle, font)
    ax = fig.add_axes((0.06, 0.30, 0.88, 0.605))
    draw_map(ax, layers, data.crs, font)
    add_legend(fig, (0.06, 0.075, 0.46, 0.205), font)
    _figures_box(fig, (0.56, 0.075, 0.38, 0.205), figures, font)
    return fig


COLUMNS = (
    ("编码 Code", 0.0, "left"),
    ("名称 Name", 0.2, "left"),
    ("网格 Grids", 0.58, "right"),
    ("户数 Households", 0.74, "right"),
    ("变异系数 CV", 0.87, "right"),
    ("问题 Errors", 1.0, "right"),
)


def _table_page(
    data: BriefData, size: tuple[float, float], rows: list[CommunityRow], part: str, font: str
) -> Figure:
    fig = Figure(figsize=size)
    _header(fig, f"{data.name} 社区一览 Communities", f"{data.code} · {part}", font)
    ax = fig.add_axes((0.06, 0.08, 0.88, 0.82))
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    step = 1.0 / (ROWS_PER_PAGE + 1)
    y = 1.0 - step / 2
    for label, x, ha in COLUMNS:
        ax.text(x, y, label, fontsize=8, fontweight="bold", family=font, ha=ha, va="center")
    ax.axhline(1.0 - step, color=INK, linewidth=0.8)
    for i, row in enumerate(rows):
        y = 1.0 - step * (i + 1.5)
        if i % 2:
            ax.axhspan(y - step / 2, y + step / 2, color="#f2f2f2", zorder=0)
        values = (
            row.code,
            row.name,
            f"{row.grids:,}",
            f"{row.households:,}",
            "—" if row.cv is None else f"{row.cv:.2f}",
            f"{row.errors}",
        )
        for (_, x, ha), value in zip(COLUMNS, values, strict=True):
            colour = BLIND_COLOUR if value == values[-1] and row.errors else INK
            ax.text(x, y, value, fontsize=8, family=font, ha=ha, va="center", color=colour)
    return fig


def _community_layers(data: BriefData, code: str) -> MapLayers:
    area = data.communities[data.communities["code"] == code]
    shape = area.union_all()

    def within(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return frame[frame.intersects(shape)] if len(frame) else frame

    return {
        "outline": area,
        "communities": area,
        "grids": data.grids[data.grids["community_code"] == code],
        "roads": gpd.clip(data.roads, shape) if len(data.roads) else data.roads,
        "posts": within(data.posts),
        "blind_spots": within(data.blind_spots),
        "overlaps": within(data.overlaps),
    }


def _subtitle(data: BriefData, level: str, code: str) -> str:
    return (
        f"网格治理简报 Grid governance briefing · {code} · {LEVELS.get(level, level)} · "
        f"{data.generated_at:%Y-%m-%d}"
    )


def _pages(data: BriefData, paper: str, per_community: bool) -> Iterator[Figure]:
    font = cjk_font()
    size = PAPERS[paper]
    layers: MapLayers = {
        "outline": data.outline,
        "communities": data.communities,
        "grids": data.grids,
        "roads": data.roads,
        "posts": data.posts,
        "blind_spots": data.blind_spots,
        "overlaps": data.overlaps,
    }
    yield _map_page(
        data,
        size,
        f"{data.name}（{data.code}）",
        _subtitle(data, data.level, data.code),
        layers,
        data.figures,
        font,
    )
    chunks = [data.rows[i : i + ROWS_PER_PAGE] for i in range(0, len(data.rows), ROWS_PER_PAGE)]
    for n, chunk in enumerate(chunks, 1):
        yield _table_page(data, size, chunk, f"{n} / {len(chunks)}", font)
    if per_community and data.level != "community":
        for row in data.rows:
            mine = data.report.model_copy(
                update={
                    "violations": [v for v in data.report.violations if v.community == row.code],
                    "communities": [c for c in data.report.communities if c.code == row.code],
                }
            )
            sub = _community_layers(data, row.code)
            area = float(sub["outline"].area.sum())
            figures = key_figures(mine, area, len(sub["grids"]))
            yield _map_page(
                data,
                size,
                f"{row.name}（{row.code}）",
                _subtitle(data, "community", row.code),
                sub,
                figures,
                font,
            )


def _page_count(data: BriefData, per_community: bool) -> int:
    tables = -(-len(data.rows) // ROWS_PER_PAGE)
    extra = len(data.rows) if per_community and data.level != "community" else 0
    return 1 + tables + extra


def _rc() -> Any:  # matplotlib types rc keys as a Literal of every known key
    return {"pdf.fonttype": 42, "font.family": cjk_font(), "hatch.linewidth": 0.8}


def render_pdf(data: BriefData, paper: str = "A4", per_community: bool = False) -> bytes:
    """The briefing as PDF bytes (fonts embedded as TrueType)."""
    out = io.BytesIO()
    total = _page_count(data, per_community)
    with (
        rc_context(_rc()),
        PdfPages(
            out,
            metadata={
                "Title": f"{data.name} {data.code} briefing",
                "Creator": f"gridgov {gis.__version__}",
            },
        ) as pdf,
    ):
        for page, fig in enumerate(_pages(data, paper, per_community), 1):
            _footer(fig, data, page, total, cjk_font())
            pdf.savefig(fig)
    return out.getvalue()


def render_png(data: BriefData, paper: str = "A4", dpi: int = 150) -> bytes:
    """The briefing's first page (map and key figures) as PNG bytes."""
    out = io.BytesIO()
    with rc_context(_rc()):
        fig = next(_pages(data, paper, per_community=False))
        _footer(fig, data, 1, _page_count(data, False), cjk_font())
        fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()
