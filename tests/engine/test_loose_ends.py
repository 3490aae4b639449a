"""The engine's loose ends: invisible characters are never words, pairs are windowed by
tokens, max_steps is a hard cap, zero-shot tokens name their hypothesis, words the
tokenizer did not know are flagged, slow tokenizers get their fast twin, and the
first answer sent early changes nothing in the final one."""

import json
import shutil

import pytest
import torch

from explain import Explanation, explain, explain_labels, explain_zero_shot, load_classifier
from explain.engine import run
from explain.engine.run import Options, explain_labels_loaded, explain_loaded, explain_zero_shot_loaded
from explain.errors import InvalidInput
from explain.render import caption, segments

TEXT = "It's not bad at all - actually quite charming, but too long!"
INVISIBLE = "\ufeffThe film\u200b was \u200bgreat,\u2060 truly \u200e moving.\u200b"


def _final(expl: Explanation) -> dict:
    data = expl.to_dict()
    data.pop("timings")
    return data


def _same(a: Explanation, b: Explanation) -> None:
    """The same result: every field equal, numbers to float32 rounding (several windows of
    different lengths share padded calls, and the draft's split changes which rows share
    a call - the nodes, weights, counts and decisions are the same)."""
    x, y = _final(a), _final(b)

    def walk(u, v, key=""):
        if isinstance(u, float) and isinstance(v, float):
            # An error is a small difference of large sums: its rounding is relative to those.
            assert u == pytest.approx(v, rel=1e-5, abs=5e-5 if key.endswith("error") else 1e-7), key
        elif isinstance(u, dict):
            assert u.keys() == v.keys()
            for k in u:
                walk(u[k], v[k], k)
        elif isinstance(u, list):
            assert len(u) == len(v)
            for p, q in zip(u, v):
                walk(p, q, key)
        else:
            assert u == v, key

    walk(x, y)


@pytest.mark.parametrize("name", ["gpt2", "xlm-roberta", "llama", "bert"])
def test_zero_width_and_bom_are_never_words(name, tiny_path):
    """Byte-level and SentencePiece tokenizers give zero-width spaces and BOMs tokens of
    their own; those tokens' scores go to the next word, never to a word of their own."""
    clf = load_classifier(tiny_path(name))
    result = explain(INVISIBLE, clf, cache=False)
    invisible = set("\ufeff\u200b\u2060\u200e")
    assert [w.text for w in result.words if set(w.text) <= invisible] == []
    assert all(w.text.strip("".join(invisible)) == w.text for w in result.words)  # none at a word's edge
    visible = "".join(c for c in INVISIBLE if not c.isspace() and c not in invisible)
    # Every visible character, once. A unit holds a space only where one of the tokenizer's own
    # offset spans runs over it (the tiny Llama's fast tokenizer maps "\ufeffThe film" to
    # (0, 1) and (1, 6): its "film" token covers "The f").
    spaced = [w for w in result.words if " " in w.text]
    assert all(
        any(t.start is not None and t.start < w.start + w.text.index(" ") < t.end for t in result.tokens) for w in spaced
    ), spaced
    assert "".join(w.text.replace("\u2060", "").replace(" ", "") for w in result.words) == visible
    # Each visible word is in one unit (a unit can be wider where a token spans a word and its
    # punctuation, or where a tokenizer's offsets run over a space: "moving." / "The film").
    assert all(sum(word in w.text for w in result.words) == 1 for word in ("The", "film", "was", "truly", "moving"))
    assert sum(w.score for w in result.words) == pytest.approx(sum(t.score for t in result.tokens), abs=1e-9)
    assert "".join(p for p, _ in segments(INVISIBLE, result.words)) == INVISIBLE


def test_a_text_of_invisible_characters_only_is_refused(tiny_path):
    clf = load_classifier(tiny_path("gpt2"))
    with pytest.raises(InvalidInput, match="invisible"):
        explain("\u200b\ufeff \u200b", clf, cache=False)


def test_a_token_dense_pair_is_windowed_over_its_longer_segment_in_tokens(tiny_path):
    """Chinese is one token per character, the hypothesis a few long words: windowing the
    segment that is longer in characters left no room and refused the pair."""
    clf = load_classifier(tiny_path("bert"))
    text = "这部电影非常好看我很喜欢它的音乐和演员但是故事太长了结尾也不好" * 2
    pair = "A wonderful, extraordinarily entertaining and unforgettable film."
    tok = clf.tokenizer
    n_text = len(tok(text, add_special_tokens=False)["input_ids"])
    n_pair = len(tok(pair, add_special_tokens=False)["input_ids"])
    assert len(text) < len(pair) and n_text > n_pair + 16  # shorter in characters, longer in tokens
    result = explain(text, clf, text_pair=pair, max_tokens=n_pair + 24, cache=False)
    assert len(result.windows) > 1 and all(w.segment == 0 for w in result.windows)
    assert all(w.n_tokens <= n_pair + 24 for w in result.windows)
    assert "".join(p for p, _ in segments(text, [w for w in result.words if w.segment == 0])) == text
    change = result.f_input - result.f_baseline
    assert abs(sum(w.score for w in result.words) - change) <= 1e-2 * abs(change) + 1e-9


@pytest.mark.parametrize("first_round", ["calibrated", "lobatto"])
def test_max_steps_is_a_hard_cap(first_round, tiny_path):
    clf = load_classifier(tiny_path("bert"))
    for cap in (4, 6, 7):
        result = explain(TEXT, clf, max_steps=cap, first_round=first_round, tolerance=1e-6, cache=False)
        assert 4 <= result.steps <= cap and all(w.steps <= cap for w in result.windows)
        assert result.converged == (result.completeness_error <= 1e-6 and result.word_error <= 0.1)
    long = " ".join([TEXT] * 8)
    result = explain(long, clf, max_steps=5, max_tokens=48, cache=False)
    assert len(result.windows) > 1 and all(w.steps <= 5 for w in result.windows)
    with pytest.raises(InvalidInput, match="at least 4"):
        explain(TEXT, clf, max_steps=3, cache=False)
    assert explain(TEXT, clf, max_steps=3, n_steps=12, cache=False).steps == 12  # a fixed rule is asked for exactly


def test_zero_shot_tokens_name_their_hypothesis(tiny_path, tmp_path):
    folder = tmp_path / "nli"
    shutil.copytree(tiny_path("bert"), folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["id2label"] = {0: "contradiction", 1: "neutral", 2: "entailment"}
    cfg["label2id"] = {v: k for k, v in cfg["id2label"].items()}
    (folder / "config.json").write_text(json.dumps(cfg))
    clf = load_classifier(folder)
    candidates = ["cinema", "sports", "politics"]
    result = explain_zero_shot(TEXT, clf, candidates, cache=False)
    text_tokens = [t for t in result.tokens if not t.special]
    assert {t.hypothesis for t in result.tokens} == {0, 1, 2}
    per = [[(t.index, t.token, t.start) for t in text_tokens if t.hypothesis == k] for k in range(3)]
    assert per[0] == per[1] == per[2] and len(per[0]) * 3 == len(text_tokens)  # the text once per pair
    assert sum(w.score for w in result.words) == pytest.approx(sum(t.score for t in result.tokens), abs=1e-9)
    assert all(t.hypothesis is None for t in explain(TEXT, clf, cache=False).tokens)  # only zero-shot tokens
    again = Explanation.from_dict(json.loads(result.to_json()))
    assert again.tokens == result.tokens


def test_words_unknown_to_the_tokenizer_are_flagged(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    text = "The film was 東 great"
    tok = clf.tokenizer
    assert tok.unk_token_id in tok(text)["input_ids"]  # the tiny vocabulary has no Chinese
    result = explain(text, clf, cache=False)
    flagged = [w.text for w in result.words if w.unknown]
    assert flagged == ["東"]
    assert "Unknown to the tokenizer" in caption(result).text() and '"東"' in caption(result).text()
    assert not any(w.unknown for w in explain("The film was great", clf, cache=False).words)
    assert "Unknown" not in caption(explain("The film was great", clf, cache=False)).text()
    data = json.loads(result.to_json())
    assert data["schema_version"] == "1.4" and [w["unknown"] for w in data["words"]] == [w.unknown for w in result.words]
    assert Explanation.from_dict(data).words == result.words


def test_slow_tokenizer_gets_its_fast_twin(tmp_path, tiny_path):
    """A checkpoint saved with a slow (Python) tokenizer loads with transformers' converted
    fast tokenizer, which splits every probe the same way."""
    from transformers import AutoTokenizer, BertTokenizerLegacy

    folder = tmp_path / "slow"
    shutil.copytree(tiny_path("bert"), folder)
    fast = AutoTokenizer.from_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        (folder / name).unlink(missing_ok=True)
    vocab = [t for t, _ in sorted(fast.get_vocab().items(), key=lambda kv: kv[1])]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerLegacy(str(tmp_path / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    slow = AutoTokenizer.from_pretrained(folder)
    assert not slow.is_fast
    clf = load_classifier(folder)
    assert clf.tokenizer.is_fast
    for text in (TEXT, "Le film était magnifique 42!", INVISIBLE):
        assert clf.tokenizer(text)["input_ids"] == slow(text)["input_ids"]
    result = explain(TEXT, clf, cache=False)
    assert result.converged and [w.text for w in result.words][:3] == ["It's", "not", "bad"]


@pytest.fixture
def always_draft(monkeypatch):
    """The cost estimate pinned over the draft threshold (no wall clock in the decision)."""
    from explain.engine import cost

    monkeypatch.setattr(cost, "estimated_seconds", lambda clf, row_tokens: run.DRAFT_AFTER_S + 1.0)


def test_a_first_answer_early_changes_nothing_in_the_final_one(tiny_path, always_draft):
    clf = load_classifier(tiny_path("roberta"))
    for kwargs in ({}, {"text_pair": "A second text."}):
        alone = explain_loaded(clf, TEXT, Options(), **kwargs)
        drafts = []
        final = explain_loaded(clf, TEXT, Options(), draft=drafts.append, **kwargs)
        assert len(drafts) == 1 and drafts[0].draft and not final.draft and not alone.draft
        _same(final, alone)  # the same nodes, weights, decisions and counts; numbers to float32 rounding
        first = drafts[0]
        assert first.steps < final.steps and first.predicted == final.predicted
        assert first.probabilities == pytest.approx(final.probabilities, abs=1e-6) and first.target == final.target
        assert [w.text for w in first.words] == [w.text for w in final.words]
        assert first.to_dict()["draft"] is True and Explanation.from_dict(first.to_dict()).draft


def test_drafts_for_labels_zero_shot_and_long_texts(tiny_path, always_draft, tmp_path):
    clf = load_classifier(tiny_path("bert"))
    got = []
    every = explain_labels_loaded(clf, TEXT, Options(), top_k=2, draft=got.append)
    assert len(got) == 1 and len(got[0]) == 2 and all(d.draft for d in got[0])
    for a, b in zip(every, explain_labels_loaded(clf, TEXT, Options(), top_k=2)):
        _same(a, b)
    long = " ".join([TEXT] * 6)
    got = []
    final = explain_loaded(clf, long, Options(max_tokens=40), draft=got.append)
    assert len(final.windows) > 1 and len(got) == 1 and len(got[0].windows) == len(final.windows)
    _same(final, explain_loaded(clf, long, Options(max_tokens=40)))
    folder = tmp_path / "nli"
    shutil.copytree(tiny_path("bert"), folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["id2label"] = {0: "contradiction", 1: "neutral", 2: "entailment"}
    (folder / "config.json").write_text(json.dumps(cfg))
    nli = load_classifier(folder)
    got = []
    zero = explain_zero_shot_loaded(nli, TEXT, ["a", "b"], Options(), draft=got.append)
    assert len(got) == 1 and got[0][0].draft and got[0][0].zero_shot == zero[0].zero_shot
    for a, b in zip(zero, explain_zero_shot_loaded(nli, TEXT, ["a", "b"], Options())):
        _same(a, b)


def test_no_draft_for_a_quick_run_or_a_fixed_rule(tiny_path, monkeypatch):
    from explain.engine import cost

    clf = load_classifier(tiny_path("bert"))
    got = []
    monkeypatch.setattr(cost, "estimated_seconds", lambda clf, row_tokens: run.DRAFT_AFTER_S / 2)
    explain_loaded(clf, TEXT, Options(), draft=got.append)
    monkeypatch.setattr(cost, "estimated_seconds", lambda clf, row_tokens: run.DRAFT_AFTER_S * 10)
    explain_loaded(clf, TEXT, Options(n_steps=16), draft=got.append)
    explain_loaded(clf, TEXT, Options(method="captum", n_steps=8), draft=got.append)
    assert got == []


def test_the_cost_estimate_learns_from_the_engine_s_own_passes(tiny_path):
    from explain.engine import cost

    clf = load_classifier(tiny_path("bert"))
    clf.memo.pop(cost.MEMO_KEY, None)
    guess = cost.estimated_seconds(clf, 1000)
    assert guess == pytest.approx(cost.PRIOR_SECONDS_PER_PARAMETER * clf.n_parameters * 1000)
    explain_loaded(clf, TEXT, Options())
    assert clf.memo[cost.MEMO_KEY] > 0  # measured (its value depends on the machine)


def test_explain_many_still_equals_one_by_one_after_the_changes(tiny_path):
    from explain import explain_many

    clf = load_classifier(tiny_path("gpt2"))
    texts = [TEXT, INVISIBLE, "Short.", "The film was 東 great"]
    ones = [explain(t, clf, cache=False) for t in texts]
    many = explain_many(texts, clf, cache=False)
    for a, b in zip(ones, many):
        assert [w.score for w in a.words] == pytest.approx([w.score for w in b.words], abs=1e-9)
        assert [w.unknown for w in a.words] == [w.unknown for w in b.words]


def test_every_label_at_once_still_shares_one_path(tiny_path):
    clf = load_classifier(tiny_path("multilabel"))
    every = explain_labels(TEXT, clf, n_steps=8, cache=False)
    assert len(every) == len(clf.labels) and all(not e.draft for e in every)
    assert torch.isfinite(torch.tensor([w.score for e in every for w in e.words])).all()
