"""The dataset report: its numbers recomputed here from the rows by code of the test's
own, its bootstrap intervals against an independent resampling, its shortcut rules, its
renderings (every text escaped) and the `explain report` command."""

import json
import random
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict

import pytest
from paths import DATA, ROOT

from explain.cli.main import main
from explain.corpus import build_report, dataset_report
from explain.corpus.report import at_sentence_start, is_name
from explain.render.report import report_html, report_markdown, report_svg
from explain.result import DatasetReport

MIN_TEXTS, TOP = 3, 6


@pytest.fixture(scope="module")
def explained(tmp_path_factory, default_model_path):
    """The bundled model's batch output over the 40 held-out movie snippets."""
    folder = tmp_path_factory.mktemp("report")
    rows = json.loads((DATA / "rt_heldout.json").read_text(encoding="utf-8"))["sentences"]
    source = folder / "snippets.jsonl"
    source.write_text("".join(json.dumps({"text": r["text"]}) + "\n" for r in rows), encoding="utf-8")
    out = folder / "out.jsonl"
    assert (
        main(["--input", str(source), "--output", str(out), "--model", str(default_model_path), "--progress", "never"]) == 0
    )
    return out


def lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def recompute(records):
    """Per label, per (segment, lowercased word): per-text sums, |sums| and counts, and
    every occurrence's score - straight from the rows."""
    labels = defaultdict(lambda: defaultdict(lambda: {"sums": [], "abs": [], "n": [], "scores": []}))
    texts = defaultdict(int)
    for rec in records:
        res = rec["result"]
        texts[res["target"]] += 1
        per_text = defaultdict(list)
        for w in res["words"]:
            per_text[(w["segment"], w["text"].lower())].append(w["score"])
        for key, scores in per_text.items():
            entry = labels[res["target"]][key]
            entry["sums"].append(sum(scores))
            entry["abs"].append(sum(abs(s) for s in scores))
            entry["n"].append(len(scores))
            entry["scores"] += scores
    return labels, texts


def test_word_numbers_recomputed_from_the_rows(explained, capsys):
    assert main(["report", str(explained), "--json", "--min-texts", str(MIN_TEXTS), "--top", str(TOP)]) == 0
    report = json.loads(capsys.readouterr().out)
    records = lines(explained)
    labels, texts = recompute(records)
    assert report["rows"] == report["explained"] == 40 and report["failed"] == 0
    assert {lab["label"] for lab in report["labels"]} == set(texts) == {"negative", "positive"}
    for lab in report["labels"]:
        words = labels[lab["label"]]
        assert lab["texts"] == texts[lab["label"]]
        assert lab["predicted"] == sum(
            r["result"]["predicted"] == lab["label"] for r in records if r["result"]["target"] == lab["label"]
        )
        eligible = {k: v for k, v in words.items() if len(v["n"]) >= MIN_TEXTS}
        assert lab["eligible"] == len(eligible) and lab["distinct"] == len(words) > lab["eligible"] > 10
        mean = {k: sum(v["scores"]) / len(v["scores"]) for k, v in eligible.items()}
        mean_abs = {k: sum(abs(s) for s in v["scores"]) / len(v["scores"]) for k, v in eligible.items()}
        expect = {
            "toward": sorted((k for k in eligible if mean[k] > 0), key=lambda k: -mean[k])[:TOP],
            "against": sorted((k for k in eligible if mean[k] < 0), key=lambda k: mean[k])[:TOP],
            "strongest": sorted(eligible, key=lambda k: -mean_abs[k])[:TOP],
        }
        for name, keys in expect.items():
            assert [(w["segment"], w["word"]) for w in lab[name]] == keys, name
        for w in lab["toward"] + lab["against"] + lab["strongest"] + lab["flips"]:
            v = words[(w["segment"], w["word"])]
            assert w["count"] == len(v["scores"]) and w["texts"] == len(v["n"])
            assert w["share"] == pytest.approx(len(v["n"]) / texts[lab["label"]])
            assert w["mean"] == pytest.approx(sum(v["scores"]) / len(v["scores"]), abs=1e-12)
            assert w["mean_abs"] == pytest.approx(sum(abs(s) for s in v["scores"]) / len(v["scores"]), abs=1e-12)
            assert w["positive"] == sum(s > 0 for s in v["sums"]) and w["negative"] == sum(s < 0 for s in v["sums"])
            assert w["mean_low"] <= w["mean"] <= w["mean_high"] and w["abs_low"] <= w["mean_abs"] <= w["abs_high"]
        flips = [
            k
            for k, v in eligible.items()
            if sum(s > 0 for s in v["sums"]) >= 0.25 * len(v["sums"]) <= sum(s < 0 for s in v["sums"])
        ]
        assert [(w["segment"], w["word"]) for w in lab["flips"]] == sorted(flips, key=lambda k: -mean_abs[k])[:TOP]
        assert lab["flips"], "40 real snippets have words that push both ways"


def test_contexts_are_the_strongest_occurrences(explained):
    report = dataset_report(explained, min_texts=MIN_TEXTS, top_k=TOP)
    by_row = {r["row"]: r["result"] for r in lines(explained)}
    for lab in report.labels:
        for name, pick in (("toward", max), ("against", min), ("strongest", lambda xs: max(xs, key=abs))):
            for w in getattr(lab, name):
                assert 1 <= len(w.contexts) <= 2 and len({c.row for c in w.contexts}) == len(w.contexts)
                occurrences = [
                    x["score"]
                    for r in by_row.values()
                    if r["target"] == lab.label
                    for x in r["words"]
                    if x["text"].lower() == w.word and x["segment"] == w.segment
                ]
                assert w.contexts[0].score == pick(occurrences)
                for c in w.contexts:
                    text = by_row[c.row]["text"]
                    assert c.word.lower() == w.word
                    assert (c.before + c.word + c.after).strip("…") in " ".join(text.split("\n"))
                    assert len(c.before) <= 41 and len(c.after) <= 41


def test_intervals_agree_with_an_independent_bootstrap(explained):
    """The report's percentile intervals against resampling done here (another RNG, more
    resamples): the ends agree to a fraction of the width; the seed fixes them."""
    report = dataset_report(explained, min_texts=MIN_TEXTS, top_k=TOP, bootstrap=1000, seed=7)
    labels, _ = recompute(lines(explained))
    rng = random.Random(12345)
    checked = 0
    for lab in report.labels:
        for w in lab.strongest[:3]:
            v = labels[lab.label][(w.segment, w.word)]
            n = len(v["n"])
            means = []
            for _ in range(4000):
                pick = [rng.randrange(n) for _ in range(n)]
                means.append(sum(v["sums"][i] for i in pick) / sum(v["n"][i] for i in pick))
            means.sort()
            low, high = means[int(0.025 * 4000)], means[int(0.975 * 4000) - 1]
            width = high - low
            assert width > 0
            assert w.mean_low == pytest.approx(low, abs=0.15 * width) and w.mean_high == pytest.approx(
                high, abs=0.15 * width
            )
            checked += 1
    assert checked == 6
    again = dataset_report(explained, min_texts=MIN_TEXTS, top_k=TOP, bootstrap=1000, seed=7)
    assert again.to_dict() == report.to_dict()
    other = dataset_report(explained, min_texts=MIN_TEXTS, top_k=TOP, bootstrap=1000, seed=8)
    pairs = [(a, b) for la, lb in zip(report.labels, other.labels) for a, b in zip(la.strongest, lb.strongest)]
    assert all(a.mean == b.mean for a, b in pairs) and any(a.mean_low != b.mean_low for a, b in pairs)
    flat = dataset_report(explained, min_texts=MIN_TEXTS, top_k=TOP, bootstrap=0)
    assert all(w.mean_low == w.mean == w.mean_high for lab in flat.labels for w in lab.toward)


def test_the_order_of_the_rows_does_not_matter(explained):
    """Engines write rows as they finish: a shuffled file gives the same report (the same
    words, contexts and intervals; sums in another order may differ in the last bit)."""
    records = lines(explained)
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    assert shuffled != records

    def flat(report):
        out = []

        def walk(x, path):
            if isinstance(x, dict):
                for k in sorted(x):
                    walk(x[k], f"{path}.{k}")
            elif isinstance(x, list):
                for i, v in enumerate(x):
                    walk(v, f"{path}[{i}]")
            else:
                out.append((path, x))

        walk(report.to_dict(), "")
        return out

    a = flat(build_report(records, min_texts=MIN_TEXTS, top_k=TOP))
    b = flat(build_report(shuffled, min_texts=MIN_TEXTS, top_k=TOP))
    assert [p for p, _ in a] == [p for p, _ in b] and len(a) > 500
    for (path, x), (_, y) in zip(a, b):
        assert x == (pytest.approx(y, rel=1e-12, abs=1e-15) if isinstance(y, float) else y), path


def test_shortcut_shares_recomputed(explained):
    report = dataset_report(explained, min_texts=MIN_TEXTS)
    records = lines(explained)
    for lab in report.labels:
        rows = [r["result"] for r in records if r["result"]["target"] == lab.label]
        special = [t["score"] for r in rows for t in r["tokens"] if t["special"]]
        words = [(r["text"], w) for r in rows for w in r["words"]]
        punct = [w["score"] for _, w in words if all(unicodedata.category(c)[0] == "P" for c in w["text"])]
        names = [
            w["score"]
            for text, w in words
            if not all(unicodedata.category(c)[0] == "P" for c in w["text"])
            and re.fullmatch(r"[A-Z]\S*[a-z]\S*", w["text"])
            and not re.search(r"(^|[.!?…\n\"'“‘«]|[.!?…\n\"'“‘«][\s(\[{-]*)\s*[(\[{-]*$", text[: w["start"]])
        ]
        total = sum(abs(w["score"]) for _, w in words) + sum(abs(s) for s in special)
        got = {s.kind: s for s in lab.shortcuts}
        assert got["special tokens"].units == len(special) == 2 * len(rows)  # [CLS] and [SEP]
        assert got["special tokens"].attribution_share == 0.0  # the baseline keeps them: exactly 0
        assert "exactly 0" in got["special tokens"].how
        assert got["punctuation"].units == len(punct) > 0
        assert got["punctuation"].attribution_share == pytest.approx(sum(map(abs, punct)) / total)
        assert got["punctuation"].unit_share == pytest.approx(len(punct) / len(words))
        assert got["names"].units == len(names) > 0
        assert got["names"].attribution_share == pytest.approx(sum(map(abs, names)) / total)
        assert got["names"].mean == pytest.approx(sum(names) / len(names))
        assert "capital letter" in got["names"].how and "misses" in got["names"].how


@pytest.mark.parametrize(
    ("text", "word", "name"),
    [
        ("I watched it with Alice last night.", "Alice", True),
        ("The film was long.", "The", False),  # start of the text
        ("It ended. Then it began.", "Then", False),  # after a sentence end
        ("He asked, 'How will it end?'", "How", False),  # start of a quotation
        ("A film by (Scorsese) of course.", "Scorsese", True),
        ("Nothing but BAD acting.", "BAD", False),  # all capitals: emphasis, not counted
        ("As I said.", "I", False),
        ("first line\nSecond line", "Second", False),  # start of a line
        ("It was a Über film.", "Über", True),
    ],
)
def test_names_rule(text, word, name):
    start = text.index(word)
    assert is_name(text, start, start + len(word)) is name


def test_sentence_start_rule():
    assert at_sentence_start("Hello", 0) and at_sentence_start("Fine! (Really", 7)
    assert not at_sentence_start("so (Really", 4)


def fake(text, words, target="positive", special=("[CLS]", "[SEP]")):
    """A minimal result record (build_report needs only these fields)."""
    return {
        "ok": True,
        "row": hash(text) % 1000,
        "text_sha256": str(hash(text)),
        "options": {"model": "m"},
        "result": {
            "text": text,
            "target": target,
            "predicted": target,
            "explained": f"the logit of {target!r}",
            "converged": True,
            "completeness_error": 1e-3,
            "text_pair": None,
            "checkpoint": {"source": "/srv/secret/models/my-model"},
            "tokens": [{"token": t, "special": True, "score": 0.0} for t in special],
            "words": [{"text": text[s:e], "start": s, "end": e, "score": sc, "segment": 0} for s, e, sc in words],
        },
    }


HOSTILE = "<script>alert(1)</script>|**x**"


def hostile_report() -> DatasetReport:
    records = []
    for k in range(4):
        text = f"Row {k}: {HOSTILE} & more"
        start = text.index(HOSTILE)
        records.append(fake(text, [(start, start + len(HOSTILE), 0.5 + 0.1 * k), (0, 3, -0.2)]))
    records.append(
        {
            "ok": False,
            "row": 99,
            "text_sha256": "x",
            "options": {"model": "m"},
            "error": {"error": "invalid_input", "message": "The text is empty."},
        }
    )
    return build_report(records, min_texts=2, bootstrap=200, source="<b>out</b>.jsonl")


def test_renderings_escape_every_text():
    report = hostile_report()
    assert report.failed == 1 and report.errors == {"invalid_input": 1}
    assert report.labels[0].toward[0].word == HOSTILE.lower()
    markdown, page, svg = report_markdown(report), report_html(report), report_svg(report)
    for out in (markdown, page, svg):
        assert "<script>" not in out and "<b>out" not in out and "/srv/secret" not in out
        assert "my-model" in out.replace("\\-", "-")  # a folder is shown by its last name only
    assert "\\*\\*x\\*\\*" in markdown and "\\|" in markdown  # no emphasis, no table cell breaks
    rows = [row for row in markdown.splitlines() if row.startswith("| ") and "script" in row]
    assert len(rows) == 4 and all(len(re.findall(r"(?<!\\)\|", row)) == 7 for row in rows)  # six cells each
    ET.fromstring(svg)  # well-formed XML
    ET.fromstring(f"<root>{page.replace('<br>', '<br/>').replace('&nbsp;', ' ')}</root>")
    assert "&lt;script&gt;" in page and "&lt;script&gt;" in svg


def test_report_round_trips_through_json():
    report = hostile_report()
    assert DatasetReport.from_dict(json.loads(report.to_json())) == report


def test_report_command_outputs_and_errors(explained, tmp_path, capsys):
    outs = [tmp_path / "r.md", tmp_path / "r.html", tmp_path / "r.svg", tmp_path / "r.json"]
    args = ["report", str(explained), "--min-texts", str(MIN_TEXTS)]
    assert main(args + [x for o in outs for x in ("--output", str(o))]) == 0
    md = outs[0].read_text(encoding="utf-8")
    assert "### negative" in md and "### positive" in md and "**Pushes toward positive" in md
    assert "How the numbers are made" in md and "bootstrap" in md
    assert outs[1].read_text().startswith("<div") and outs[2].read_text().startswith("<svg")
    assert json.loads(outs[3].read_text())["labels"][0]["toward"]
    assert main(args + ["--label", "positive", "--json"]) == 0
    assert [lab["label"] for lab in json.loads(capsys.readouterr().out)["labels"]] == ["positive"]
    assert main(["report", str(explained), "--label", "toxic"]) == 1
    assert "No row explains 'toxic'" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.jsonl")]) == 1
    assert "There is no file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["report", str(explained), "--output", str(tmp_path / "r.pdf")])
    assert exc.value.code == 2
    (tmp_path / "bad.jsonl").write_text('{"row": 0}\nnot json\n{"row": 1', encoding="utf-8")
    assert main(["report", str(tmp_path / "bad.jsonl")]) == 1
    assert "Line 2 of bad.jsonl is not JSON" in capsys.readouterr().err


def test_report_subcommand_keeps_the_text_commands(tiny_path, capsys):
    """`report` first is the subcommand, unless --model follows (the text "report")."""
    assert main(["report", "--model", str(tiny_path("bert")), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == "report"
    out = subprocess.run(
        [sys.executable, "-m", "explain", "report", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and "usage: python -m explain report" in out.stdout and "--min-texts" in out.stdout
