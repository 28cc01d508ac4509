"""Briefings: a region's map, key figures and community table as PDF (or PNG).

data = gather(engine, "652301001000")
Path("brief.pdf").write_bytes(render_pdf(data, paper="A4", per_community=True))
"""

from gis.brief.data import BriefData, gather
from gis.brief.figures import CommunityRow, KeyFigures
from gis.brief.fonts import cjk_font
from gis.brief.layout import PAPERS, render_pdf, render_png

__all__ = [
    "PAPERS",
    "BriefData",
    "CommunityRow",
    "KeyFigures",
    "cjk_font",
    "gather",
    "render_pdf",
    "render_png",
]
