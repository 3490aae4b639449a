"""Explanation -> text for people (stdlib only): the colour scale (``scale``), the one
escaper (``escape``), the app's panels (``views``), the terminal (``terminal``) and
self-contained HTML/SVG/Markdown for model cards (``static``)."""

from .scale import categories, category, colours, level, segments
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
                    "ansi",
                    "categories",
                    "category",
                    "colours",
                    "comparison_markdown",
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
