"""``gridgov brief``: a region's briefing (map, key figures, community table) as PDF."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from gis.cli.common import friendly_errors, say
from gis.db.engine import check_postgis, create_db_engine, database_url


class Paper(StrEnum):
    A4 = "A4"
    A3 = "A3"


@friendly_errors
def brief(
    region: str = typer.Argument(..., help="12-digit region code (prefecture … community)."),
    out: Path = typer.Option(Path("brief.pdf"), "--out", help="The PDF to write."),
    png: bool = typer.Option(False, "--png", help="Also write page 1 as a PNG next to it."),
    per_community: bool = typer.Option(
        False, "--per-community", help="Add one page per community, with its own map."
    ),
    paper: Paper = typer.Option(Paper.A4, "--paper", help="A4 or A3 (portrait)."),
) -> None:
    """Write a briefing of a region: the map, the key figures and a table per community."""
    from gis.brief import cjk_font, gather, render_pdf, render_png

    cjk_font()  # fail early, before the database work, when no CJK font is installed
    engine = create_db_engine(database_url())
    check_postgis(engine)
    data = gather(engine, region)
    out.write_bytes(render_pdf(data, paper=paper.value, per_community=per_community))
    say(f"wrote {out} ({data.name} {data.code}, coverage {data.figures.coverage_text})")
    if png:
        image = out.with_suffix(".png")
        image.write_bytes(render_png(data, paper=paper.value))
        say(f"wrote {image}")
