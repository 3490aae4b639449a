"""What the page says about models and examples, read from the files that know it: the
well-known Hub checkpoints (``examples/hub_models.json``: what each is, its labels and
size), a local model's card (its README: what it is and its held-out accuracy), which
inputs a model takes (one text, a text pair, zero-shot labels), and the example texts
with their expected labels, marked where the model gets them wrong (its own predictions,
made when the app starts)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

NLI_NAMES = ("entail", "contradict", "neutral")


def read_json(path: Path) -> list:
    """A JSON list from a file of the app's (empty when it is missing or broken)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []


def _labels_text(labels) -> str:
    if isinstance(labels, list):
        return " / ".join(str(x) for x in labels)
    return str(labels or "")


def _what(entry: dict) -> str:
    """The first clause of a catalog description (before a parenthesis or semicolon)."""
    what = str(entry.get("what") or "")
    return re.split(r"\s*[;(]", what, maxsplit=1)[0].strip()


def chip(entry: dict) -> dict:
    """What a well-known checkpoint's chip shows: its ID, what it is, its labels and size,
    and whether it reads a text pair (plain texts; the page escapes them)."""
    size = re.sub(r"\s*\(about ([^)]*)\)", r", \1", str(entry.get("params") or "")).strip()
    return {
        "id": str(entry.get("id")),
        "what": _what(entry),
        "labels": _labels_text(entry.get("labels")),
        "size": size,
        "pair": "pair" in str(entry.get("input") or ""),
    }


def catalog_line(entry: dict) -> str:
    """One line about a well-known checkpoint (plain text; the app escapes it)."""
    bits = [
        f"{entry.get('id')}: {entry.get('what')}",
        f"labels: {_labels_text(entry.get('labels'))}",
        f"size: {entry.get('params')}",
    ]
    if entry.get("input"):
        bits.append(f"input: {entry['input']}")
    return "; ".join(b for b in bits if b) + "."


def find(entries: list, checkpoint: str) -> Optional[dict]:
    name = (checkpoint or "").strip().split("@")[0]
    return next((e for e in entries if e.get("id") == name), None)


def _front_matter(text: str) -> dict:
    """The simple ``key: value`` lines of a model card's YAML front matter."""
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    out = {}
    for line in m.group(1).splitlines() if m else []:
        kv = re.match(r"^([A-Za-z_]+):\s*(\S.*)$", line)
        if kv:
            out[kv.group(1)] = kv.group(2).strip().strip("'\"")
    return out


def read_card(folder) -> dict:
    """{'pipeline_tag', 'summary', 'accuracy'} from a local model folder's README.md (each
    absent when the card does not say): the first sentence after the title, and the figure
    on its "held-out accuracy" line."""
    try:
        text = (Path(folder) / "README.md").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return {}
    out = {}
    meta = _front_matter(text)
    if meta.get("pipeline_tag"):
        out["pipeline_tag"] = meta["pipeline_tag"]
    body = re.sub(r"^---\n.*?\n---\n", "", text, count=1, flags=re.S)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip() and not p.lstrip().startswith(("#", "|"))]
    if paragraphs:
        flat = " ".join(paragraphs[0].split()).replace("`", "")
        out["summary"] = re.split(r"(?<=\.)\s", flat, maxsplit=1)[0]
    acc = re.search(r"held-out accuracy\s*\|\s*\**([\d.]+%)\**", text, re.I)
    if acc:
        out["accuracy"] = acc.group(1)
    return out


def default_line(name: str, folder: Optional[str], labels) -> str:
    """The one-line card of the app's default model (plain text)."""
    card = read_card(folder) if folder else {}
    parts = [f"Default model: {name}."]
    if card.get("summary"):
        parts.append(card["summary"])
    if labels:
        parts.append(f"Labels: {', '.join(labels)}.")
    if card.get("accuracy"):
        parts.append(
            f"Held-out accuracy {card['accuracy']}: it gets about one text in "
            f"{_one_in(card['accuracy'])} wrong - the examples below show some."
        )
    return " ".join(parts)


def _one_in(accuracy: str) -> int:
    try:
        wrong = 1 - float(accuracy.rstrip("%")) / 100
    except ValueError:
        return 0
    return round(1 / wrong) if wrong > 0 else 0


def model_line(
    name: str, head: str, labels, n_parameters: int, entry: Optional[dict] = None, card: Optional[dict] = None
) -> str:
    """One line about a loaded checkpoint (plain text): the catalog's words for a well-known
    one, else its card's first sentence (a local folder), head, labels and size as loaded."""
    if entry:
        return "Model: " + catalog_line(entry)
    kind = {
        "softmax": "single-label (softmax)",
        "sigmoid": "multi-label or one-score (sigmoid)",
        "regression": "regression",
    }.get(head, head)
    shown = ", ".join(labels[:12]) + (f" and {len(labels) - 12} more" if len(labels) > 12 else "")
    summary = f" {card['summary']}" if card and card.get("summary") else ""
    accuracy = f" Held-out accuracy {card['accuracy']}." if card and card.get("accuracy") else ""
    return f"Model: {name}.{summary} {kind} head; labels: {shown}; {_size(n_parameters)} parameters.{accuracy}"


def _size(n: int) -> str:
    """A parameter count in words: "66M", "1.2B", and a small model's exact count."""
    if n >= 10**9:
        return f"{n / 1e9:,.1f}B"
    if n >= 10**6:
        return f"{n / 1e6:,.0f}M"
    return f"{n:,}"


@dataclass(frozen=True)
class Tasks:
    """Which inputs a model takes besides one text."""

    pair: bool = False  # a second text (an NLI hypothesis, a reranker's passage)
    zero_shot: bool = False  # candidate labels scored through an NLI model
    pair_name: str = "Second text"


def tasks(labels, head: str, card: Optional[dict] = None, entry: Optional[dict] = None) -> Tasks:
    """NLI labels (entailment / contradiction / neutral) or a zero-shot pipeline tag: a text
    pair or zero-shot labels; a one-output head (a cross-encoder): a text pair."""
    names = [str(x).lower() for x in labels]
    nli = sum(any(n.startswith(k) for n in names) for k in NLI_NAMES) >= 2
    tag = (card or {}).get("pipeline_tag", "")
    listed = "pair" in str((entry or {}).get("input") or "")
    if nli or tag == "zero-shot-classification":
        return Tasks(pair=True, zero_shot=True, pair_name="Hypothesis")
    if listed or (head == "sigmoid" and len(names) == 1):
        return Tasks(pair=True, zero_shot=False, pair_name="Passage" if len(names) == 1 else "Second text")
    return Tasks()
