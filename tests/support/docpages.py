"""Reading the documentation for its tests: the pages (README.md and docs/*.md), their
fenced code blocks, their Markdown tables, their links and their headings' anchors."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from paths import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
HUB_NLI = "cross-encoder/nli-deberta-v3-small"  # the Hub NLI model the examples name
LOOPBACK = "http://127.0.0.1:7860"  # the app's address in the examples

_FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.M | re.S)


def pages() -> list:
    """README.md and every page of docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def code_blocks(path: Path, lang: str) -> list:
    """The fenced ```lang blocks of a page, in order (indented ones dedented)."""
    text = Path(path).read_text(encoding="utf-8")
    return [textwrap.dedent(m.group(3)) for m in _FENCE.finditer(text) if m.group(2) == lang]


def without_code(text: str) -> str:
    """The page with its fenced blocks and inline code spans blanked out."""
    text = _FENCE.sub("", text)
    return re.sub(r"`[^`\n]*`", "", text)


def section(path: Path, heading: str) -> str:
    """The text from the heading line that starts with ``heading`` to the next heading of
    the same or a higher level."""
    text = Path(path).read_text(encoding="utf-8")
    m = re.search(rf"^(#+) {re.escape(heading)}.*$", text, re.M)
    assert m, f"no heading {heading!r} in {Path(path).name}"
    level = len(m.group(1))
    end = re.search(rf"^#{{1,{level}}} ", text[m.end() :], re.M)
    return text[m.start() : m.end() + end.start() if end else None]


def table(text: str, header: str) -> list:
    """The rows (lists of stripped cells) of the Markdown table whose header row starts with
    ``header`` (e.g. "| option |")."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header):
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]])
            return rows
    raise AssertionError(f"no table with header {header!r}")


def code_name(cell: str) -> str:
    """The first `code span` of a table cell."""
    m = re.search(r"`([^`]+)`", cell)
    assert m, f"no `name` in the cell {cell!r}"
    return m.group(1)


def anchors(path: Path) -> set:
    """The anchors GitHub makes for a page's headings: lowercased, punctuation dropped
    (letters, digits, '_' and '-' kept), spaces as '-', repeats numbered."""
    seen: dict = {}
    out = set()
    for m in re.finditer(r"^#+ (.+?)\s*$", _FENCE.sub("", Path(path).read_text(encoding="utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(path: Path) -> list:
    """The relative links of a page (outside code): (target file or "", anchor or "")."""
    text = without_code(Path(path).read_text(encoding="utf-8"))
    out = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        file, _, anchor = target.partition("#")
        out.append((file, anchor))
    return out
