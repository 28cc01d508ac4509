"""Briefings: a real PDF of a demo street, read back with poppler (pdftotext, pdftoppm).

The street 中山路街道 (652301005000) holds planted blind spots, an overlap and a grid
without a police post, so every key figure has something to show.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
from browser import serve
from conftest import database_url
from matplotlib.image import imread
from sqlalchemy import Engine, text

from gis.brief import gather, render_pdf
from gis.errors import NotFound

STREET = "652301005000"
STREET_NAME = "中山路街道"
ARTIFACTS = Path(__file__).parent / "artifacts"


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    assert found, f"{tool} missing: install Debian's poppler-utils (make system does it as root)"
    return found


@pytest.fixture(scope="module")
def brief_pdf(demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("brief") / "brief.pdf"
    out.write_bytes(render_pdf(gather(demo_engine, STREET)))
    return out


def test_pdf_text_shows_the_street_and_its_key_figures(
    demo_engine: Engine, brief_pdf: Path
) -> None:
    found = subprocess.run(
        [_poppler("pdftotext"), "-layout", str(brief_pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert STREET_NAME in found
    assert STREET in found
    # coverage computed independently: blind-spot area from the audit over the street's area
    data = gather(demo_engine, STREET)
    with demo_engine.connect() as conn:
        area = conn.execute(
            text("SELECT ST_Area(geom::geography) FROM region WHERE code = :c"), {"c": STREET}
        ).scalar_one()
    blind = sum(v.area_m2 or 0 for v in data.report.of_rule("blind_spots"))
    assert blind > 0
    coverage = f"{int((1 - blind / area) * 10000) / 100:.2f}%"
    assert re.search(r"Coverage\s+" + re.escape(coverage), found), found
    no_post = {g for v in data.report.violations if v.check == "no_post" for g in v.grids}
    assert no_post
    assert re.search(rf"Grids without a post\s+{len(no_post)}\b", found)
    assert "数据来源: gridgov" in found
    for name in (r.name for r in data.rows):  # the community table
        assert name in found


def test_first_page_renders_to_a_non_blank_png(brief_pdf: Path, tmp_path: Path) -> None:
    subprocess.run(
        [
            _poppler("pdftoppm"),
            "-png",
            "-r",
            "110",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(brief_pdf),
            str(tmp_path / "page"),
        ],
        check=True,
        capture_output=True,
    )
    image = imread(tmp_path / "page.png")
    assert image.shape[0] > image.shape[1] > 800  # portrait A4 at 110 dpi
    assert float(np.var(image[..., :3])) > 0.01
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "page.png", ARTIFACTS / "brief.png")


def test_unknown_region_is_not_found(demo_engine: Engine) -> None:
    with pytest.raises(NotFound, match="999999999999"):
        gather(demo_engine, "999999999999")


def test_api_downloads_the_brief_and_404s_an_unknown_region(demo_engine: Engine) -> None:
    with serve(database_url()) as base:
        pdf = httpx.get(f"{base}/brief/{STREET}.pdf", timeout=60)
        missing = httpx.get(f"{base}/brief/999999999999.pdf", timeout=60)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
