"""Links and embed snippets for a hosted explainer (a Space): a deep link that opens the
app pre-filled and runs it, a Markdown badge for model cards, an iframe and a web
component. Plain strings, no UI library; every value is URL-encoded or HTML-escaped."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ..render import escape
from ..render.static import to_html, to_markdown, to_svg
from ..result import Explanation

# Deep-link query parameters the app reads on load: the model, the text, the label to
# explain, a text pair (an NLI hypothesis, a passage), zero-shot candidate labels (comma-
# separated), their hypothesis template and whether each label is scored on its own.
PARAMS = ("model", "text", "target", "text_pair", "labels", "template", "multi_label")
BADGE = "https://huggingface.co/datasets/huggingface/badges/resolve/main/open-in-hf-spaces-sm.svg"
LONG_LINK = 2000  # characters; some browsers, proxies and Markdown renderers cut longer URLs


def public_base(env: Mapping[str, str], page_url: Optional[str] = None, request_url: Optional[str] = None) -> str:
    """The app's public address, ending in '/'.

    EXPLAIN_PUBLIC_URL wins, then SPACE_HOST (set by Hugging Face Spaces: the Space's
    host name), then the page the visitor is on (the Referer), then the request's own URL."""
    if env.get("EXPLAIN_PUBLIC_URL"):
        return _clean(env["EXPLAIN_PUBLIC_URL"])
    host = (env.get("SPACE_HOST") or "").strip()
    if re.fullmatch(r"[A-Za-z0-9.\-]+(:\d+)?", host):
        return f"https://{host}/"
    for url in (page_url, request_url):
        if url and urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc:
            if url is request_url:  # an API route: keep what comes before it
                parts = urlsplit(url)
                url = urlunsplit((parts.scheme, parts.netloc, parts.path.split("/gradio_api/")[0], "", ""))
            return _clean(url)
    return "http://127.0.0.1:7860/"


def _clean(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def deep_link(
    base: str, model: Optional[str] = None, text: Optional[str] = None, target: Optional[str] = None, **extra: Optional[str]
) -> str:
    """``base?model=...&text=...&target=...`` and any of ``text_pair``, ``labels``,
    ``template``, ``multi_label`` (empty values left out)."""
    unknown = set(extra) - set(PARAMS)
    if unknown:
        raise ValueError(f"not deep-link parameters: {sorted(unknown)}")
    values = {"model": model, "text": text, "target": target, **extra}
    pairs = [(k, values[k]) for k in PARAMS if values.get(k)]
    return base + ("?" + urlencode(pairs, quote_via=quote) if pairs else "")


def read_link(query: Mapping[str, str]) -> dict:
    """Query parameters -> {'model', 'text', 'target', 'text_pair', 'labels', 'template',
    'multi_label'} (missing or empty ones absent; values as strings)."""
    return {k: str(query[k]) for k in PARAMS if query.get(k)}


def link_params(link: str) -> dict:
    """The deep-link parameters of a URL (for tests and round trips)."""
    return read_link(dict(parse_qsl(urlsplit(link).query, keep_blank_values=True)))


def badge_markdown(link: str, alt: str = "Explain this model's predictions") -> str:
    """A Markdown badge linking to ``link``, for a model card."""
    return f"[![{escape.markdown(alt, inline=True)}]({BADGE})]({escape.markdown_url(link)})"


def iframe_html(link: str, height: int = 900) -> str:
    """An <iframe> that opens (and runs) the deep link."""
    return (
        f'<iframe src="{escape.html(link)}" width="100%" height="{int(height)}" '
        'style="border:0" loading="lazy" title="Explain a text classifier"></iframe>'
    )


def web_component_html(base: str, gradio_version: str) -> str:
    """The Gradio web component for the app. It opens the app itself: a web component
    reads the query of the page it is embedded in, not of ``base``."""
    version = re.sub(r"[^0-9A-Za-z.\-]", "", gradio_version)
    return (
        f'<script type="module" src="https://gradio.s3-us-west-2.amazonaws.com/{version}/gradio.js">'
        f'</script>\n<gradio-app src="{escape.html(base)}"></gradio-app>'
    )


def bundle(
    result: dict, base: str, model: Optional[str], target: Optional[str], gradio_version: str, extra: Optional[dict] = None
) -> dict:
    """Everything the Share / embed panel shows for one result (``Explanation.to_dict()``):
    link, note, badge, iframe, web_component, html, and ``files`` {name: content}.
    ``extra``: the link's further parameters (text_pair, labels, template, multi_label)."""
    expl = Explanation.from_dict(result)
    link = deep_link(base, model, expl.text, target, **(extra or {}))
    note = (
        f"The link carries the whole text ({len(link):,} characters); some sites cut links this long."
        if len(link) > LONG_LINK
        else ""
    )
    static_html = to_html(expl, link)
    files = {
        "explanation.json": json.dumps(result, ensure_ascii=False, indent=1),
        "explanation.svg": to_svg(expl),
        "explanation.html": static_html,
        "explanation.md": to_markdown(expl, link),
    }
    return {
        "link": link,
        "note": note,
        "badge": badge_markdown(link),
        "iframe": iframe_html(link),
        "web_component": web_component_html(base, gradio_version),
        "html": static_html,
        "files": files,
    }


def write_files(folder: Path, files: dict, keep: int = 200, max_bytes: Optional[int] = None) -> list:
    """Write ``files`` into a fresh sub-folder of ``folder`` named by their content, keeping
    only the ``keep`` newest sub-folders and, with ``max_bytes``, only as many of the newest
    as fit in that many bytes (a bounded download area; the new one always stays). Returns
    the paths."""
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    target = Path(folder) / digest
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in files.items():
        path = target / name
        path.write_text(content, encoding="utf-8", errors="replace")
        paths.append(str(path))
    os.utime(target)  # the same content written again is the newest
    subfolders = sorted((p for p in Path(folder).iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    total = 0
    for rank, sub in enumerate(subfolders):  # newest first: the oldest go once over either bound
        total += folder_bytes(sub)
        if sub != target and (rank >= keep or (max_bytes is not None and total > max_bytes)):
            shutil.rmtree(sub, ignore_errors=True)
    return paths


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under ``folder`` (0 when it does not exist)."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()) if Path(folder).is_dir() else 0
