"""Find a CJK font for the briefing's Chinese text (Debian's fonts-noto-cjk)."""

from __future__ import annotations

from functools import cache

from matplotlib import font_manager

from gis.errors import SetupError

__all__ = ["CJK_FAMILIES", "cjk_font"]

#: families tried in order; the first one installed is used
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Noto Serif CJK SC",
)


@cache
def cjk_font() -> str:
    """The family name of an installed CJK font, registered with matplotlib.

    Raises :class:`~gis.errors.SetupError` saying what to install when there is none.
    """
    for path in font_manager.findSystemFonts():
        if "CJK" in path or "WenQuanYi" in path or "SourceHan" in path:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):  # an unreadable font file: skip it
                continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    raise SetupError(
        "no CJK font found for the briefing's Chinese text: install Debian's fonts-noto-cjk "
        "(sudo apt-get install fonts-noto-cjk, or `make system` as root) and retry"
    )
