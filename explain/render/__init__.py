"""Explanation -> text for people (stdlib only): the colour scale (``scale``), the one
escaper (``escape``), what the colours mean in one wording (``caption``), the app's
panels (``views``) and the page around them (``page``), the terminal (``terminal``) and
self-contained HTML/SVG/Markdown for model cards (``static``)."""

from .caption import Caption, caption
from .scale import categories, category, colours, contrast, level, segments
from .static import to_html, to_markdown, to_svg
from .terminal import ansi
from .views import (
    comparison_markdown,
    curve_rows,
    highlighted_levels,
    label_scores,
    legend,
    summary_markdown,
    trust_markdown,
)

__all__ = [
    "Caption",
    "ansi",
    "caption",
    "categories",
    "category",
    "colours",
    "comparison_markdown",
    "contrast",
    "curve_rows",
    "highlighted_levels",
    "label_scores",
    "legend",
    "level",
    "segments",
    "summary_markdown",
    "to_html",
    "to_markdown",
    "to_svg",
    "trust_markdown",
]
