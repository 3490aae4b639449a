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

HOSTILE = (
    'Great <img src=x onerror=alert(1)> film </svg><script>alert("x")</script> & "quotes" \'too\'\n'
    "second line ]]> <!-- --> \x00\x1b[31m end"
)
EVIL_LABEL = "<script>alert(1)</script>"


def fake(
    text: str, labels=("negative", EVIL_LABEL), source='"><svg onload=alert(1)>', contrast=None, seed: int = 3
) -> Explanation:
    """An Explanation with a score for every word of ``text`` (deterministic, signed)."""
    words = []
    for i, m in enumerate(re.finditer(r"\w+|[^\w\s]", text)):
        score = ((i * 7 + seed) % 11 - 5) / 5.0
        words.append(WordScore(m.group(), m.start(), m.end(), score, 1))
    last = labels[-1]
    return Explanation(
        text=text,
        checkpoint={"source": source, "revision": None, "model_type": "bert"},
        head="softmax",
        labels=tuple(labels),
        probabilities={labels[0]: 0.25, last: 0.75},
        predicted=last,
        target=last,
        contrast=contrast,
        explained=f"the logit of {last!r}",
        baseline={"kind": "mask", "token": "[MASK]", "token_id": 4},
        steps=16,
        tolerance=0.01,
        converged=True,
        completeness_error=0.001,
        tokens=(),
        words=tuple(words),
        windows=(),
        timings={"total_s": 0.1},
        device="cpu",
    )


def test_levels_and_categories():
    assert [level(s) for s in (None, 0.0, 0.05, 0.1, 0.34, 0.35, 0.69, 0.7, 1.0)] == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert [level(-s) for s in (0.05, 0.2, 0.5, 1.0)] == [0, -1, -2, -3]
    assert category(0) is None and category(3) == "strongly toward" and category(-2) == "against"
    cats = categories()
    assert list(cats) == ["strongly against", "against", "weakly against", "weakly toward", "toward", "strongly toward"]
    assert len(set(cats.values())) == 6
    for hexes, warm in (
        (APP_TOWARD, True),
        (APP_AGAINST, False),
        ([b for b, _ in TOWARD], True),
        ([b for b, _ in AGAINST], False),
    ):
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
    assert set(parser.tags) <= {"div", "span", "a", "strong"}
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
    texts = [el for el in root.iter(ns + "text") if "font-size" not in el.attrib]  # the words (header, key: sized)
    shown = "".join(el.text or "" for el in texts)
    expected = re.sub(r"\s", "", HOSTILE).replace("\x00", "\ufffd").replace("\x1b", "\ufffd")
    assert shown == expected
    assert EVIL_LABEL in "".join(el.text or "" for el in root.iter())  # shown as text, not markup
    # Coloured boxes: one per coloured word, in our palette.
    fills = {el.attrib["fill"] for el in root.iter(ns + "rect")}
    assert {b for b, _ in TOWARD} & fills and {b for b, _ in AGAINST} & fills


def test_svg_wraps_inside_its_width_without_stretching_glyphs():
    from explain.render.static import MONO, mono_width, text_width

    out = to_svg(fake("word " * 80 + "a" * 150), width=600)  # under the excerpt length
    root = ET.fromstring(out)
    width = float(root.attrib["width"])
    assert "lengthAdjust" not in out and "textLength" not in out  # glyphs keep the font's own widths
    words = 0
    for el in root.iter("{http://www.w3.org/2000/svg}text"):
        mono = el.attrib.get("font-family") == MONO  # the words: a font whose advance is known
        size = float(el.attrib.get("font-size", root.attrib["font-size"]))
        advance = (mono_width if mono else text_width)(el.text or "", size)
        assert float(el.attrib["x"]) + advance <= width + 1, el.text
        words += mono
    assert words > 80


def test_markdown_is_inert():
    out = to_markdown(fake(HOSTILE), "https://x.hf.space/?text=a%20b")
    assert "<" not in out.replace("\\<", "")  # every angle bracket escaped
    assert "[Open this explanation in the explainer](https://x.hf.space/?text=a%20b)" in out
    assert "\x00" not in out and "\x1b" not in out


def test_details_and_legend_escape_labels():
    expl = fake("fine film", contrast="negative")
    assert "<script>" not in legend(expl) and "<script>" not in summary_markdown(expl)
    # A contrast: blue is evidence for the contrast label over the target (never "away from" it).
    assert "**Blue**: evidence for negative over &lt;script&gt;" in legend(expl)


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
    assert "/6.31.0x/gradio.js" in wc and '<gradio-app src="https://a.hf.space/">' in wc


@pytest.mark.parametrize(
    "env, page, request_url, expected",
    [
        ({"EXPLAIN_PUBLIC_URL": "https://example.org/explainer"}, None, None, "https://example.org/explainer/"),
        ({"SPACE_HOST": "user-space.hf.space"}, "http://10.0.0.1:7860/", None, "https://user-space.hf.space/"),
        ({"SPACE_HOST": 'evil.com/"><x'}, "http://localhost:7860/?text=a", None, "http://localhost:7860/"),
        ({}, None, "http://127.0.0.1:9000/sub/gradio_api/queue/join?x=1", "http://127.0.0.1:9000/sub/"),
        ({}, "javascript:alert(1)", None, "http://127.0.0.1:7860/"),
    ],
)
def test_public_base(env, page, request_url, expected):
    assert share.public_base(env, page, request_url) == expected


def test_download_area_is_bounded(tmp_path):
    for i in range(5):
        paths = share.write_files(tmp_path, {"a.json": f'{{"i": {i}}}', "b.svg": "<svg/>"}, keep=3)
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
    second = [
        WordScore(m.group(), m.start(), m.end(), 2.0 * (-1) ** i, 1, segment=1)
        for i, m in enumerate(re.finditer(r"\w+|[^\w\s]", pair))
    ]
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


# --- issue 12: what the colours mean, said the same way everywhere -----------------------------------


def labelled(
    text: str = "Not bad at all, not bad.",
    head: str = "softmax",
    labels=("negative", "positive"),
    probs=(0.88, 0.12),
    target: str = "positive",
    contrast=None,
    **changes,
) -> Explanation:
    """A hand-made explanation with the given head, labels, probabilities and target."""
    base = fake(text, labels=labels, source="org/model")
    probabilities = dict(zip(labels, probs))
    predicted = max(probabilities, key=probabilities.get) if head != "regression" else labels[0]
    return base.replace(
        head=head,
        labels=tuple(labels),
        probabilities=probabilities,
        predicted=predicted,
        target=target,
        contrast=contrast,
        **changes,
    )


def _surfaces(expl: Explanation) -> dict:
    """Every rendering a reader may see, as plain text (markup and escapes removed)."""
    import html as html_lib

    strip = lambda s: html_lib.unescape(re.sub(r"<[^>]+>", "", re.sub(r"</(text|div|p)>", " ", s))).replace("\\", "")
    return {
        "terminal": ansi(expl, colour=False),
        "html": strip(to_html(expl)),
        "svg": strip(to_svg(expl)),
        "markdown": strip(to_markdown(expl)).replace("**", ""),
        "app": strip(legend(expl)).replace("**", ""),
    }


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    "case, sentence, blue",
    [
        ("target is the prediction", "Explaining negative, the model's prediction (88%).", "evidence against it"),
        ("target is not the prediction", "Explaining positive (the model predicts negative, 88%).", "evidence against it"),
        (
            "contrast",
            "Explaining positive rather than negative (the model predicts negative, 88%).",
            "evidence for negative over positive",
        ),
        ("sigmoid head", "Explaining insult: present (71%   50%).", "evidence against it"),
        ("regression head", "Explaining the predicted value of score: 3.25.", "pushes it down"),
    ],
)
def test_one_caption_for_every_surface(case, sentence, blue):
    """The caption names the explained label beside the model's answer, and says what blue
    is; the app, the terminal (CLI), static HTML, SVG and Markdown all carry the same words."""
    from explain.render.caption import caption

    expl = {
        "target is the prediction": lambda: labelled(target="negative"),
        "target is not the prediction": lambda: labelled(),
        "contrast": lambda: labelled(contrast="negative"),
        "sigmoid head": lambda: labelled(
            head="sigmoid", labels=("toxic", "insult", "threat"), probs=(0.93, 0.71, 0.04), target="insult"
        ),
        "regression head": lambda: labelled(head="regression", labels=("score",), probs=(3.25,), target="score"),
    }[case]()
    cap = caption(expl)
    plain = cap.text()
    assert plain.startswith(sentence.replace("   ", " > ")), plain
    assert f"Blue: {blue}." in plain
    if case == "sigmoid head":
        assert "Labels present (> 50%): toxic, insult." in plain and "independent" in plain
    if case == "contrast":
        assert "Orange: evidence for positive over negative." in plain
    for surface, shown in _surfaces(expl).items():
        assert _flat(cap.plain_sentence()) in _flat(shown), (surface, shown[:400])
        assert _flat(cap.key()) in _flat(shown) or (blue in shown and cap.toward in shown), (surface, shown[:400])


def test_static_headline_rounds_as_the_caption():
    """The embeds' first line and the caption after it state one probability one way
    (not "48.9%" beside "49%")."""
    from explain.render.static import headline

    expl = labelled(probs=(0.489, 0.511), target="positive")
    for surface, shown in _surfaces(expl).items():
        assert "48.9%" not in shown and "51.1%" not in shown, (surface, shown[:300])
    assert headline(expl).endswith("predicts positive (51%)")


def test_caption_for_one_output_heads_and_zero_shot():
    from explain.render.caption import caption
    from explain.result import ZeroShot

    reranker = labelled(head="sigmoid", labels=("LABEL_0",), probs=(0.97,), target="LABEL_0")
    assert caption(reranker).text().startswith("Explaining LABEL_0: score 97% (the sigmoid of the model's one output).")
    zero = labelled(
        labels=("sports", "politics"),
        probs=(0.2, 0.8),
        target="politics",
        zero_shot=ZeroShot(
            "This text is about {}.",
            False,
            ("This text is about sports.", "This text is about politics."),
            "entailment",
            "contradiction",
            ("contradiction", "neutral", "entailment"),
        ),
    )
    text = caption(zero).text()
    assert text.startswith("Explaining politics among the candidate labels, the model's top pick (80%).")
    assert '"This text is about {}."' in text


def test_page_colours_grow_with_strength_in_light_and_dark():
    """Full-opacity colours per theme: each stronger level departs further from the panel
    (weak close to it, strong far), and the word on it stays readable (WCAG >= 4.5)."""
    from explain.render.scale import AGAINST, DARK_AGAINST, DARK_TOWARD, TOWARD, contrast

    for panel, ramps in (("#ffffff", (TOWARD, AGAINST)), ("#27272a", (DARK_TOWARD, DARK_AGAINST))):
        for ramp in ramps:
            seen = [contrast(bg, panel) for bg, _ in ramp]
            assert seen == sorted(seen) and seen[0] < 1.5 and seen[-1] > 4.5, (panel, seen)
            assert all(contrast(bg, ink) >= 4.5 for bg, ink in ramp), ramp


def test_page_css_replaces_gradios_half_opacity_per_theme():
    """Each colour Gradio paints a word in is matched by one rule per theme, one selector
    per rule, no comma in it (Gradio's CSS scoping splits at every comma)."""
    from explain.render import page
    from explain.render.scale import APP_AGAINST, APP_TOWARD, DARK_TOWARD, TOWARD

    css = page.css()
    rules = re.findall(r"^([^{}\n]+)\{([^}]*)\}", css, re.M)
    for selector, _ in rules:
        assert "," not in selector, selector
    for k, colour in enumerate(APP_TOWARD):
        red = int(colour[1:3], 16)
        light = [body for sel, body in rules if f'rgba({red}"' in sel and not sel.startswith(".dark")]
        dark = [body for sel, body in rules if f'rgba({red}"' in sel and sel.startswith(".dark")]
        assert light and TOWARD[k][0] in light[0] and dark and DARK_TOWARD[k][0] in dark[0]
    reds = [int(c[1:3], 16) for c in APP_TOWARD + APP_AGAINST]
    assert len(set(reds)) == len(reds)  # the first channel tells Gradio's six colours apart


def test_long_texts_embed_as_an_excerpt_with_a_link():
    long = " ".join(f"sentence {i} is quite ordinary filler text." for i in range(400))
    expl = fake(long, labels=("negative", "positive"))
    link = "https://u-s.hf.space/?text=x"
    out_html, out_svg, out_md = to_html(expl, link), to_svg(expl), to_markdown(expl, link)
    assert len(long) > 15_000
    assert "open the full explanation" in out_html and f'href="{link}"' in out_html
    assert "An excerpt around the strongest words" in out_md and f"({link})" in out_md
    assert len(out_md) < 4000 and len(out_html) < 20_000
    root = ET.fromstring(out_svg)
    assert float(root.attrib["height"]) < 700 and "lengthAdjust" not in out_svg
    for w in expl.top_words(3):  # the strongest words are in the excerpt
        assert f">{w.text}<" in out_html
    assert "blue (left): evidence against positive · orange (right): evidence for positive" in out_svg


def test_word_table_tells_repeated_words_apart():
    from explain.render.views import word_rows

    expl = fake("It is never dull, never slow and never boring.")
    headers, rows = word_rows(expl)
    assert headers == ["rank", "word", "score", "pushes", "word #", "context"]
    nevers = [r for r in rows if r[1] == "never"]
    assert len(nevers) == 3 and len({r[4] for r in nevers}) == 3 and len({r[5] for r in nevers}) == 3
    assert all("[never]" in r[5] for r in nevers)
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(abs(float(a[2])) >= abs(float(b[2])) for a, b in zip(rows, rows[1:]))
    assert len(rows) == len(expl.words)  # every word, not the top 50
    assert all(r[2][0] in "+-" for r in rows if float(r[2]) != 0)  # signed


def test_trust_headline_says_one_concrete_thing_first():
    from explain.render.views import trust_headline
    from explain.result import Curves, FaithfulnessReport, RandomReference, TrustCheck

    curve = Curves(
        k=[0, 1, 2, 3],
        fraction=[0, 0.25, 0.5, 0.75],
        deletion=[0.79, 0.3, 0.05, 0.04],
        insertion=[0.5, 0.6, 0.7, 0.79],
        random_deletion=[0.79, 0.75, 0.70, 0.6],
        random_insertion=[0.5, 0.5, 0.6, 0.7],
    )
    report = FaithfulnessReport(
        measured="p('positive')",
        ranking="",
        removal="",
        head="softmax",
        n_words=9,
        bins=[],
        bin_k=[],
        random=RandomReference(5, 0),
        full=0.79,
        empty=0.04,
        comprehensiveness=0.5,
        sufficiency=0.1,
        curve=curve,
    )
    expl = labelled(target="positive").with_extras(
        faithfulness=report, trust=(TrustCheck("completeness", "pass", "x"), TrustCheck("faithfulness", "pass", "y"))
    )
    head = trust_headline(expl)
    assert head.startswith(
        "**Can I trust this?** Hiding the 2 words that speak most for positive drops "
        "p\\('positive'\\) from 0.79 to 0.05; hiding 2 random words only moves it to 0.70"
    ), head
    assert "✓ the words matter to the model: yes" in head
    plain = trust_headline(labelled())
    assert "Tick **Faithfulness check**" in plain and "AOPC" not in plain and "Kendall" not in plain


def test_details_say_what_both_errors_mean_in_one_line():
    expl = labelled().replace(word_error=0.021, word_tolerance=0.1, f_input=0.7, f_baseline=1.5)
    line = next(x for x in summary_markdown(expl).split("\n\n") if x.startswith("**Completeness error:**"))
    assert "add up to the change in the explained quantity to within 0.10%" in line
    assert "estimated word error 2.10%: how far the single word scores may be off" in line and "bound 10%" in line
    fixed = next(x for x in summary_markdown(labelled()).split("\n\n") if x.startswith("**Completeness error:**"))
    assert "not estimated for a fixed rule" in fixed


def test_caption_panel_and_error_panel_are_inert():
    import html as html_lib
    import json

    from explain.render import page

    expl = fake(HOSTILE)
    panel = page.caption_panel(expl)
    assert "<script>" not in panel and "<img" not in panel
    data = json.loads(html_lib.unescape(re.search(r'data-explain="([^"]*)"', panel).group(1)))
    assert data["text"] == expl.text and data["target"] == EVIL_LABEL and len(data["words"]) == len(expl.words)
    ranks = sorted(w[3] for w in data["words"])
    assert ranks == list(range(1, len(expl.words) + 1))
    error = page.error_panel('<img src=x onerror=alert(1)> & "x"', kept=True)
    assert "&lt;img src=x onerror=alert(1)&gt; &amp;" in error and "&amp;lt;" not in error
    assert "previous request" in error


def test_sigmoid_heads_show_each_present_labels_words():
    from explain.render import page

    labels, probs = ("toxic", "insult", "threat"), (0.93, 0.71, 0.04)
    each = [labelled(head="sigmoid", labels=labels, probs=probs, target=t) for t in ("toxic", "insult", "threat")]
    panel = page.present_panel(each)
    assert "toxic - present (93%)" in panel and "insult - present (71%)" in panel and "threat" not in panel
    assert page.present_panel([labelled()]) == ""  # softmax heads: a switch instead


def test_small_scores_keep_their_digits():
    """A model whose scores are all small (a probability, a weak model) must not show its
    deepest-coloured word as "-0.000": the tooltip data, the table and the details carry
    three significant digits of the strongest word."""
    import dataclasses
    import json as json_lib

    from explain.render.page import _data
    from explain.render.scale import decimals
    from explain.render.views import summary_markdown, word_rows

    assert [decimals([x]) for x in (1.6, 0.2, 0.04, 0.0005, 0.0)] == [3, 3, 4, 6, 3]
    base = labelled()
    small = base.replace(words=tuple(dataclasses.replace(w, score=w.score * 1e-4) for w in base.words))
    strongest = max(small.words, key=lambda w: abs(w.score))
    assert abs(strongest.score) < 5e-4
    places = decimals(w.score for w in small.words)
    data = json_lib.loads(_data(small))
    assert data["decimals"] == places and any(abs(w[2]) == pytest.approx(abs(strongest.score)) for w in data["words"])
    _, rows = word_rows(small)
    assert float(rows[0][2]) == pytest.approx(strongest.score, rel=1e-2) and float(rows[0][2]) != 0
    shown = f"{strongest.score:+.{places}f}"
    assert shown in summary_markdown(small) and shown.strip("+-0.") != ""
