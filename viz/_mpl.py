"""Matplotlib settings shared by the 2D plots: a CJK fallback font, so Chinese names (和平花园)
render when Debian's fonts-wqy-microhei is installed (scripts/setup.sh installs it)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP")


@lru_cache(maxsize=1)
def _families() -> list[str]:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans"] + [f for f in CJK_FONTS if f in names]


def plot_style() -> AbstractContextManager[Any]:
    """An rc context with the font fallback chain (use around drawing *and* saving)."""
    import matplotlib

    return matplotlib.rc_context({"font.family": _families(), "font.size": 8})
