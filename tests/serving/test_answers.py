"""What the page needs from the service (issues 12, 13, 15): every label on one path and a
switch between them, text pairs and zero-shot labels with their fields type-checked, checks
that cannot finish skipped with the reason, the session's result forgotten on failure,
progress while it runs, what the page says about models and examples, and the ZeroGPU
wrapper."""

import itertools
import os
import sys
import threading
import types
from dataclasses import replace

import pytest
from paths import ROOT
from relabel import relabelled

from explain import api, explain, explain_zero_shot
from explain.errors import InvalidInput
from explain.serving import FolderPolicy, Request, ServeLimits, Service, catalog, fairness, on_gpu, progress, share

TEXT = "The film was terrible, but the music was wonderful."


@pytest.fixture(scope="module")
def folders(tiny_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("answers")
    return {
        "bert": tiny_path("bert"),
        "nli": relabelled(tiny_path("bert"), root / "tiny-nli"),
        "multi": relabelled(
            tiny_path("bert"), root / "tiny-multi", ("toxic", "insult", "threat"), "multi_label_classification"
        ),
    }


@pytest.fixture()
def service(folders, monkeypatch):
    monkeypatch.setenv("EXPLAIN_LOCAL_MODELS", os.pathsep.join(str(p) for p in folders.values()))
    return Service(FolderPolicy(str(folders["bert"])), ServeLimits(max_labels=2))


@pytest.mark.parametrize(
    "request_, words",
    [
        (Request(TEXT, text_pair=5), "The text pair must be a string, not a number"),
        (Request(TEXT, text_pair="\u200b "), "The text pair has nothing readable in it"),
        (Request("x" * 60, text_pair="y" * 50), "have 110 characters together; this server explains at most 100"),
        (Request(TEXT, candidate_labels=["a", "b"]), "must be one string of comma-separated labels, not a list"),
        (Request(TEXT, candidate_labels=" , ,"), "The candidate labels are empty"),
        (Request(TEXT, candidate_labels="a, b, A"), "The candidate labels repeat"),
        (
            Request(TEXT, candidate_labels=",".join("abcdefghijk")),
            "11 candidate labels were given; this server explains at most 10",
        ),
        (Request(TEXT, candidate_labels="a, b", hypothesis_template="About it."), "must contain '{}' exactly once"),
        (Request(TEXT, candidate_labels="a, b", hypothesis_template=7), "hypothesis template 7 is not text"),
        (Request(TEXT, candidate_labels="a, b", multi_label="yes"), "multi-label option must be true or false"),
        (Request(TEXT, text_pair="Music.", candidate_labels="a, b"), "so it takes no text pair"),
        (Request(TEXT, candidate_labels="a, b", contrast="a"), "A zero-shot explanation has no contrast label"),
    ],
)
def test_new_fields_are_checked_before_loading(folders, request_, words, monkeypatch):
    service = Service(FolderPolicy(str(folders["bert"])), ServeLimits(max_chars=100))
    monkeypatch.setattr(service, "load", lambda *a, **k: pytest.fail("loaded before the fields were checked"))
    with pytest.raises(InvalidInput) as info:
        service.answer(request_)
    assert words in str(info.value), str(info.value)


def test_every_label_on_one_path_and_a_switch_without_recomputing(service, monkeypatch):
    answer = service.answer(Request(TEXT), session="s1")
    labels = answer.labels
    assert (len(labels) == 2 and answer.explanation is labels[0]) or answer.explanation in labels
    assert answer.explanation.target == answer.explanation.predicted  # no target asked: the prediction
    probs = [e.probabilities[e.target] for e in labels]
    assert probs == sorted(probs, reverse=True)  # the most probable labels, most probable first
    # Each label's own explanation: its words add up to its own change.
    for e in labels:
        assert e.completeness_error < 0.05 and e.extras.trust
    alone = explain(TEXT, service.load("")[0], target=labels[1].target)
    assert [w.score for w in labels[1].words] == pytest.approx([w.score for w in alone.words], abs=0.05)
    monkeypatch.setattr(api, "explain_labels", lambda *a, **k: pytest.fail("recomputed"))
    monkeypatch.setattr(api, "explain", lambda *a, **k: pytest.fail("recomputed"))
    shown = service.show("s1", labels[1].target)
    assert shown.explanation is labels[1] and shown.target == labels[1].target
    assert service.shared("s1").explanation is labels[1]  # the share panel follows what is shown
    assert service.show("s1", "no such label") is None and service.show("other", labels[0].target) is None


def test_a_target_outside_the_most_probable_is_explained_first(service):
    clf, _ = service.load("")
    ranked = sorted(clf.labels, key=lambda name: -explain(TEXT, clf).probabilities[name])
    least = ranked[-1]
    answer = service.answer(Request(TEXT, target=least))
    assert answer.explanation.target == least and least in {e.target for e in answer.labels}
    single = service.explain(Request(TEXT, target=least))  # the API's way: one label
    assert single.target == least


def test_a_failed_request_forgets_the_sessions_result(service):
    service.answer(Request(TEXT), session="s2")
    assert service.shared("s2") is not None
    with pytest.raises(InvalidInput):
        service.answer(Request(TEXT, target="nonsense"), session="s2")
    assert service.shared("s2") is None


def test_checks_that_cannot_finish_are_skipped_with_the_reason(service):
    """The explanation fits the deadline, the checks would not: the explanation is served,
    each check says why it did not run (instead of refusing the whole request)."""
    service.limits = replace(service.limits, deadline_s=10.0)
    clf, _ = service.load("")
    text = TEXT + " Checked."  # not in the result cache
    n = len(clf.tokenizer(text, add_special_tokens=False)["input_ids"]) + 2
    old = dict(clf.memo)
    try:
        # 6 s for the explanation's typical 30 rows: the faithfulness curves (about 24 s) and the
        # baseline comparison (12 s) would not fit in the 4 s left.
        clf.memo.update({fairness.MEMO_KEY: 0.2 / n, fairness.SEEN_KEY: 2})
        expl = service.explain(Request(text, faithfulness=True, compare=True))
    finally:
        clf.memo.clear()
        clf.memo.update(old)
    skipped = expl.extras.faithfulness.skipped
    assert "The faithfulness check was skipped: it would take about 24 s more" in skipped, skipped
    assert "about 4 s left of the 10 s each request may run" in skipped
    trust = {t.check: t for t in expl.extras.trust}
    assert trust["faithfulness"].status == "not run" and trust["baselines"].status == "not run"
    assert "The baseline comparison was skipped: it would take about 12 s more" in trust["baselines"].text
    assert expl.words and expl.completeness_error < 0.05


def test_text_pairs_and_zero_shot(service, folders):
    nli = folders["nli"].name  # an operator folder is named by its name (issue 22, L4)
    answer = service.answer(Request("A man plays a guitar.", nli, text_pair="Someone makes music.", compare=True))
    e = answer.explanation
    assert e.text_pair == "Someone makes music." and {w.segment for w in e.words} == {0, 1}
    assert {x.target for x in answer.labels} <= {"contradiction", "neutral", "entailment"}
    baselines = next(t for t in e.extras.trust if t.check == "baselines")
    assert baselines.status == "not run" and "not available for text pairs" in baselines.text
    zero = service.answer(
        Request(
            "The match went to penalties.",
            nli,
            target="sports",
            candidate_labels="sports, politics, cooking",
            hypothesis_template="It is about {}.",
        ),
        session="z",
    )
    assert zero.explanation.target == "sports" and len(zero.labels) == 3
    direct = explain_zero_shot(
        "The match went to penalties.",
        service.load(nli)[0],
        ["sports", "politics", "cooking"],
        hypothesis_template="It is about {}.",
        target="sports",
    )
    assert zero.explanation.probabilities == pytest.approx(direct.probabilities, abs=1e-6)
    link = dict(service.shared("z").link)
    assert link == {"labels": "sports, politics, cooking", "template": "It is about {}."}
    with pytest.raises(InvalidInput, match="'football', is not one of the candidate labels"):
        service.answer(Request("The match.", nli, target="football", candidate_labels="sports, politics"))


def test_sigmoid_heads_explain_the_most_probable_labels(service, folders):
    answer = service.answer(Request(TEXT, folders["multi"].name))
    assert answer.explanation.head == "sigmoid" and len(answer.labels) == 2


def test_progress_moves_with_the_estimate_and_downloads_report_megabytes(tmp_path, monkeypatch):
    # The ticker's clock is injected: each reading is 2.5 s after the last (the first is the
    # start), so the reports are known exactly, however busy the machine.
    readings = itertools.count(100)
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(monotonic=lambda: 2.5 * next(readings)))
    seen, four = [], threading.Event()

    def report(fraction, what):
        seen.append((round(fraction, 6), what))
        if len(seen) == 5:
            four.set()

    with progress.ticking(report, 0.1, 0.9, "Explaining", 10.0, every_s=0.01):
        assert four.wait(120)  # the start and four ticks (a hang guard, not a speed claim)
    assert seen[:5] == [
        (0.1, "Explaining"),
        (0.3, "Explaining... about 8 s left"),
        (0.5, "Explaining... about 5 s left"),
        (0.7, "Explaining... about 2 s left"),
        (0.86, "Explaining... finishing"),
    ]  # 95% at most
    monkeypatch.undo()

    folder = progress.hub_folder(str(tmp_path), "org/name@v1")
    assert folder == tmp_path / "models--org--name" and progress.hub_folder(str(tmp_path), "no-slash") is None
    folder.mkdir()
    reports, arrived = [], {n: threading.Event() for n in (1, 2, 3)}

    def report(fraction, what):
        reports.append(what)
        for n, event in arrived.items():
            if what == f"Downloading org/name: {n} MB so far":
                event.set()

    with progress.watching_download(report, folder, "org/name", 0.05, every_s=0.01):
        for n in (1, 2, 3):  # each megabyte said before the next arrives (waits: hang guards only)
            (folder / f"blob{n}.incomplete").write_bytes(b"x" * 2**20)
            assert arrived[n].wait(120), reports[-3:]
    assert reports[-1] == "Downloading org/name: 3 MB so far"


def test_catalog_reads_the_default_models_card_and_the_tasks(folders):
    card = catalog.read_card(ROOT / "examples" / "minilm-rt-sentiment")
    readme = (ROOT / "examples" / "minilm-rt-sentiment" / "README.md").read_text()
    assert card["accuracy"] in readme and card["accuracy"].endswith("%")
    assert card["summary"].startswith("A small English sentiment classifier")
    line = catalog.default_line("minilm-rt-sentiment", ROOT / "examples" / "minilm-rt-sentiment", ["negative", "positive"])
    assert f"Held-out accuracy {card['accuracy']}" in line and "Labels: negative, positive." in line
    assert catalog.tasks(["CONTRADICTION", "NEUTRAL", "ENTAILMENT"], "softmax").zero_shot
    assert catalog.tasks(["LABEL_0"], "sigmoid") == catalog.Tasks(pair=True, pair_name="Passage")
    assert catalog.tasks(["negative", "positive"], "softmax") == catalog.Tasks()
    assert catalog.tasks(["a", "b"], "softmax", {"pipeline_tag": "zero-shot-classification"}).zero_shot
    chips = [catalog.chip(m) for m in catalog.read_json(ROOT / "examples" / "hub_models.json")]
    assert all((c["id"] and c["what"] and c["labels"] and "MB" in c["size"]) or "GB" in c["size"] for c in chips)
    assert any(c["pair"] for c in chips)
    sizes = [catalog.model_line("m", "softmax", ["a", "b"], n) for n in (28_205, 66_955_010, 1_400_000_000)]
    assert [s.split("; ")[-1] for s in sizes] == ["28,205 parameters.", "67M parameters.", "1.4B parameters."]


def test_deep_links_carry_pairs_and_zero_shot_labels():
    link = share.deep_link(
        "https://a/",
        "org/nli",
        "A man plays.",
        "sports",
        text_pair=None,
        labels="sports, music",
        template="It is {}.",
        multi_label="1",
    )
    assert share.link_params(link) == {
        "model": "org/nli",
        "text": "A man plays.",
        "target": "sports",
        "labels": "sports, music",
        "template": "It is {}.",
        "multi_label": "1",
    }
    with pytest.raises(ValueError):
        share.deep_link("https://a/", None, "x", None, evil="1")


def test_zerogpu_wrapper_only_with_spaces(monkeypatch):
    def work(x, request=None):
        return x + 1

    monkeypatch.delitem(sys.modules, "spaces", raising=False)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p])  # no stray 'spaces' on the path
    assert on_gpu(work) is work  # not importable: unchanged
    calls = []

    def GPU(fn=None, duration=None):
        def wrap(f):
            def wrapped(*args, **kwargs):
                calls.append(duration)
                return f(*args, **kwargs)

            wrapped.__wrapped__, wrapped.__name__ = f, f.__name__
            return wrapped

        return wrap(fn) if fn is not None else wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))
    wrapped = on_gpu(work, duration=90)
    assert wrapped is not work and wrapped(1) == 2 and calls == [90]
    assert on_gpu(work)(2) == 3 and calls == [90, None]
