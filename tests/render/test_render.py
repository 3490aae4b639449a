"""Renderings: the colour scale, static HTML/SVG/Markdown (escaping hostile text), the
terminal view, and the share links. Mostly hand-made explanations: no model needed."""

import html.parser
import re
import xml.etree.ElementTree as ET

import pytest

from explain.render import ansi, categories, category, highlighted_levels, level
from explain.render.scale import AGAINST, APP_AGAINST, APP_TOWARD, TOWARD
from explain.render.static import to_html, to_markdown, to_svg
from explain.render.views import legend, summary_markdown
from explain.result import Explanation, WordScore
from explain.serving import share

HOSTILE = 'Great <img src=x onerror=alert(1)> film </svg><script>alert("x")</script> & "quotes" \'too\'\n' \
          "second line ]]> <!-- --> \x00\x1b[31m end"
EVIL_LABEL = '<script>alert(1)</script>'


def fake(text: str, labels=("negative", EVIL_LABEL), source='"><svg onload=alert(1)>', contrast=None,
         seed: int = 3) -> Explanation:
    """An Explanation with a score for every word of ``text`` (deterministic, signed)."""
    words = []
    for i, m in enumerate(re.finditer(r"\w+|[^\w\s]", text)):
        score = ((i * 7 + seed) % 11 - 5) / 5.0
        words.append(WordScore(m.group(), m.start(), m.end(), score, 1))
    return Explanation(
        text=text, checkpoint={"source": source, "revision": None, "model_type": "bert"}, head="softmax",
        labels=tuple(labels), probabilities={labels[0]: 0.25, labels[1]: 0.75}, predicted=labels[1],
        target=labels[1], contrast=contrast, explained=f"the logit of {labels[1]!r}",
        baseline={"kind": "mask", "token": "[MASK]", "token_id": 4}, steps=16, tolerance=0.01, converged=True,
        completeness_error=0.001, tokens=(), words=tuple(words), windows=(), timings={"total_s": 0.1}, device="cpu")


def test_levels_and_categories():
    assert [level(s) for s in (None, 0.0, 0.05, 0.1, 0.34, 0.35, 0.69, 0.7, 1.0)] == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert [level(-s) for s in (0.05, 0.2, 0.5, 1.0)] == [0, -1, -2, -3]
    assert category(0) is None and category(3) == "strongly toward" and category(-2) == "against"
    cats = categories()
    assert list(cats) == ["strongly against", "against", "weakly against", "weakly toward", "toward",
                          "strongly toward"]
    assert len(set(cats.values())) == 6
    for hexes, warm in ((APP_TOWARD, True), (APP_AGAINST, False), ([b for b, _ in TOWARD], True),
                        ([b for b, _ in AGAINST], False)):
        for h in hexes:  # orange has more red than blue, blue the reverse: never red vs green
            r, b = int(h[1:3], 16), int(h[5:7], 16)
            assert (r > b) == warm, h


def test_highlighted_levels_cover_the_text_exactly():
    expl = fake(HOSTILE)
    pieces = highlighted_levels(expl)
    assert "".join(p for p, _ in pieces) == HOSTILE
    strongest = max(expl.words, key=lambda w: abs(w.score))
    by_start = {}
    pos = 0
    for piece, cat in pieces:
        by_start[pos] = cat
        pos += len(piece)
    assert by_start[strongest.start] == ("strongly toward" if strongest.score > 0 else "strongly against")


class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text, self.depth_text = [], [], [], {}
        self.stack = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        self.stack.append(tag)

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        self.text.append((len(self.stack), data))


def test_static_html_escapes_everything_and_keeps_the_text():
    link = "https://user-space.hf.space/?model=a&text=%3Cb%3E"
    out = to_html(fake(HOSTILE), link)
    parser = _Collect()
    parser.feed(out)
    assert set(parser.tags) <= {"div", "span", "a"}
    assert {name for name, _ in parser.attrs} <= {"style", "title", "href"}
    assert all(not value.lower().startswith("javascript") for _, value in parser.attrs)
    assert "<script" not in out and "<img" not in out and "<svg" not in out and "<!--" not in out
    # The text block (depth 2 and 3: inside the outer div and its spans) reads as the text itself.
    body = re.search(r'<div style="font-size:16px;white-space:pre-wrap;margin:6px 0">(.*?)</div>', out, re.S)
    inner = _Collect()
    inner.feed(body.group(1))
    assert "".join(t for _, t in inner.text) == HOSTILE.replace("\x00", "\ufffd").replace("\x1b", "\ufffd")
    assert 'href="https://user-space.hf.space/?model=a&amp;text=%3Cb%3E"' in out
    assert "javascript:" not in to_html(fake("x"), "javascript:alert(1)")  # only http(s) links


def test_static_svg_is_well_formed_inert_and_keeps_the_text():
    out = to_svg(fake(HOSTILE))
    root = ET.fromstring(out)  # raises on malformed XML (e.g. an unescaped </svg> or a NUL)
    ns = "{http://www.w3.org/2000/svg}"
    assert {el.tag.replace(ns, "") for el in root.iter()} <= {"svg", "title", "rect", "text"}
    assert not any(k.lower().startswith("on") for el in root.iter() for k in el.attrib)
    texts = [el for el in root.iter(ns + "text")][1:-2]  # header first, legend and note last
    shown = "".join(el.text or "" for el in texts)
    expected = re.sub(r"\s", "", HOSTILE).replace("\x00", "\ufffd").replace("\x1b", "\ufffd")
    assert shown == expected
    assert EVIL_LABEL in "".join(el.text or "" for el in root.iter())  # shown as text, not markup
    # Coloured boxes: one per coloured word, in our palette.
    fills = {el.attrib["fill"] for el in root.iter(ns + "rect")}
    assert {b for b, _ in TOWARD} & fills and {b for b, _ in AGAINST} & fills


def test_svg_wraps_long_text_inside_its_width():
    out = to_svg(fake("word " * 200 + "a" * 300), width=600)
    root = ET.fromstring(out)
    width = float(root.attrib["width"])
    for el in root.iter("{http://www.w3.org/2000/svg}text"):
        end = float(el.attrib["x"]) + float(el.attrib.get("textLength", 0))
        assert end <= width


def test_markdown_is_inert():
    out = to_markdown(fake(HOSTILE), "https://x.hf.space/?text=a%20b")
    assert "<" not in out.replace("\\<", "")  # every angle bracket escaped
    assert "[Open this explanation in the explainer](https://x.hf.space/?text=a%20b)" in out
    assert "\x00" not in out and "\x1b" not in out


def test_details_and_legend_escape_labels():
    expl = fake("fine film", contrast="negative")
    assert "<script>" not in legend(expl) and "<script>" not in summary_markdown(expl)
    assert "away from 'negative'" in legend(expl)


def test_terminal_view():
    expl = fake("Great film, \x1b]0;pwned\x07 truly.")
    coloured, plain = ansi(expl, colour=True), ansi(expl, colour=False)
    assert "\x1b[38;5;" in coloured and "\x1b" not in plain
    assert "\x07" not in coloured and "\x1b]0" not in coloured  # the text cannot smuggle escapes
    assert "Predicted:" in plain and "Completeness error" in plain


def test_share_links_round_trip():
    text = "Ce film est magnifique & <b>#1</b>?\nligne 2 (100%)"
    link = share.deep_link("https://u-s.hf.space/", "org/name@v1", text, "positive")
    assert share.link_params(link) == {"model": "org/name@v1", "text": text, "target": "positive"}
    assert " " not in link and "\n" not in link
    badge = share.badge_markdown(link)
    assert badge.startswith("[![") and badge.endswith(f"]({link})") and "(" not in link
    assert share.deep_link("https://a/", None, None, None) == "https://a/"
    iframe = share.iframe_html('https://a/?text="><script>')
    assert "<script>" not in iframe and "&quot;&gt;&lt;script&gt;" in iframe
    wc = share.web_component_html("https://a.hf.space/", '6.31.0"><x')
    assert '/6.31.0x/gradio.js' in wc and '<gradio-app src="https://a.hf.space/">' in wc


@pytest.mark.parametrize("env, page, request_url, expected", [
    ({"EXPLAIN_PUBLIC_URL": "https://example.org/explainer"}, None, None, "https://example.org/explainer/"),
    ({"SPACE_HOST": "user-space.hf.space"}, "http://10.0.0.1:7860/", None, "https://user-space.hf.space/"),
    ({"SPACE_HOST": "evil.com/\"><x"}, "http://localhost:7860/?text=a", None, "http://localhost:7860/"),
    ({}, None, "http://127.0.0.1:9000/sub/gradio_api/queue/join?x=1", "http://127.0.0.1:9000/sub/"),
    ({}, "javascript:alert(1)", None, "http://127.0.0.1:7860/"),
])
def test_public_base(env, page, request_url, expected):
    assert share.public_base(env, page, request_url) == expected


def test_download_area_is_bounded(tmp_path):
    for i in range(5):
        paths = share.write_files(tmp_path, {"a.json": f"{{\"i\": {i}}}", "b.svg": "<svg/>"}, keep=3)
        assert all(p.startswith(str(tmp_path)) for p in paths)
    assert len(list(tmp_path.iterdir())) == 3


def test_real_explanation_round_trips_through_json(tiny_path):
    from explain import explain

    expl = explain("Brilliant performances, but far too long.", str(tiny_path("bert")))
    again = Explanation.from_dict(expl.to_dict())
    assert again == expl
    bundle = share.bundle(expl.to_dict(), "http://127.0.0.1:7860/", None, None, "6.31.0")
    assert set(bundle["files"]) == {"explanation.json", "explanation.svg", "explanation.html", "explanation.md"}
    assert share.link_params(bundle["link"]) == {"text": expl.text}
    ET.fromstring(bundle["files"]["explanation.svg"])


def test_pairs_render_both_segments_on_one_scale():
    base = fake("Premise <b>here</b>.")
    pair = "Hypothesis & more"
    second = [WordScore(m.group(), m.start(), m.end(), 2.0 * (-1) ** i, 1, segment=1)
              for i, m in enumerate(re.finditer(r"\w+|[^\w\s]", pair))]
    expl = base.replace(text_pair=pair, words=base.words + tuple(second))
    assert "".join(p for p, _ in highlighted_levels(expl)) == expl.text
    assert "".join(p for p, _ in highlighted_levels(expl, 1)) == pair
    # One scale for both segments: the pair's words (|2.0|) are the strongest.
    assert {c for _, c in highlighted_levels(expl, 1) if c} == {"strongly toward", "strongly against"}
    html_out = to_html(expl)
    assert "Text pair" in html_out and "Hypothesis" in html_out and "&amp; more" not in html_out.split("Text pair")[0]
    root = ET.fromstring(to_svg(expl))
    shown = "".join(el.text or "" for el in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Hypothesis" in shown and "Textpair:" in shown  # words are separate <text> elements
    md = to_markdown(expl)
    assert "> Text pair: Hypothesis &amp; more" in md and "(text pair)" in md
    plain = ansi(expl, colour=False)
    assert "Text pair: Hypothesis & more" in plain
