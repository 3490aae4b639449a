"""Word units in many scripts, on the four tokenizer families (WordPiece uncased and cased,
byte-level BPE, SentencePiece/Unigram), trained here on a multilingual corpus."""

import pytest
import regex

from explain import explain, load_classifier
from explain.engine.words import has_visible, unit_spans, word_scores
from explain.result import TokenScore

SPACED = {  # scripts written with spaces: each space-separated word is one unit
    "hindi": "यह फिल्म बहुत अच्छी है",
    "arabic": "الفيلم رائع جدا",
    "korean": "이 영화 정말 재미있어요",
    "accents": "cafe\u0301 cre\u0300me bru\u0302le\u0301e",  # decomposed: combining marks
    "cyrillic": "фильм очень хороший",
}
SPACELESS = {  # units follow the tokens, never a whole clause
    "thai": "หนังเรื่องนี้สนุกมาก ดีมาก",
    "japanese": "この映画はとても面白かったです。",
    "chinese": "这部电影非常好看，我很喜欢。",
}
MIXED = {
    "emoji": "Family: 👨‍👩‍👧 loved it 👍🏽!",
    "zero-width": "\ufeffGreat\u200bfilm, truly\u200d.",
    "spacing": "  Odd   spacing,\ttabs\nand   “quotes” — ok  ",
}
CORPUS = [
    *SPACED.values(),
    *SPACELESS.values(),
    *MIXED.values(),
    "यह कहानी बहुत लंबी है",
    "हिंदी फिल्म अच्छी थी",
    "الفيلم طويل جدا",
    "القصة رائعة",
    "영화가 재미있어요",
    "정말 좋은 영화",
    "หนังดีมาก",
    "เรื่องนี้สนุก",
    "映画はとても長かった",
    "この本は面白い",
    "电影很好看",
    "我喜欢这部电影",
    "фильм был длинный",
    "хороший сюжет",
    "The café served crème brûlée.",
    "A great film, truly moving and well made.",
] * 3


def _train(kind: str):
    import transformers

    if kind == "wordpiece-uncased":
        base = transformers.BertTokenizer()
    elif kind == "wordpiece-cased":
        base = transformers.BertTokenizer(do_lower_case=False, strip_accents=False)
    elif kind == "byte-bpe":
        base = transformers.RobertaTokenizer()
    else:
        base = transformers.XLMRobertaTokenizer()
    return base.train_new_from_iterator(CORPUS, vocab_size=400)


@pytest.fixture(scope="module", params=["wordpiece-uncased", "wordpiece-cased", "byte-bpe", "unigram"])
def tokenizer(request):
    return _train(request.param)


def _units(tok, text: str) -> tuple:
    enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    tokens = [
        TokenScore(i, "", tid, s, e, 1.0, bool(sp))
        for i, (tid, (s, e), sp) in enumerate(zip(enc["input_ids"], enc["offset_mapping"], enc["special_tokens_mask"]))
    ]
    return word_scores(text, tokens), [t for t in tokens if not t.special]


def _clusters(text: str) -> set:
    """Grapheme-cluster boundaries of the text."""
    return {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}


def _check_common(text: str, units, tokens) -> None:
    assert [u.text for u in units] == [text[u.start : u.end] for u in units]
    assert all(u.text and not u.text[0].isspace() and not u.text[-1].isspace() for u in units)
    assert all(a.end <= b.start for a, b in zip(units, units[1:]))  # in order, no overlap
    bounds = _clusters(text)
    assert all(u.start in bounds and u.end in bounds for u in units)  # never inside a grapheme
    covered = {i for u in units for i in range(u.start, u.end)}
    assert all(i in covered for i, c in enumerate(text) if has_visible(c))  # nothing visible left out
    assert all(has_visible(u.text) for u in units)  # no unit of invisible characters only
    assert sum(u.n_tokens for u in units) == len(tokens)  # every token in exactly one unit
    assert sum(u.score for u in units) == pytest.approx(len(tokens))


@pytest.mark.parametrize("name", list(SPACED))
def test_spaced_scripts_one_unit_per_word(tokenizer, name):
    text = SPACED[name]
    units, tokens = _units(tokenizer, text)
    _check_common(text, units, tokens)
    assert [u.text for u in units] == text.split()


@pytest.mark.parametrize("name", list(SPACELESS))
def test_spaceless_scripts_follow_the_tokens(tokenizer, name):
    text = SPACELESS[name]
    units, tokens = _units(tokenizer, text)
    _check_common(text, units, tokens)
    visible = [t for t in tokens if text[t.start : t.end].strip()]
    # A unit holds several tokens only when their spans overlap (byte-level pieces of one
    # character, SentencePiece's lone "▁"); tokens of whole, separate clusters are units of their own.
    bounds = _clusters(text)
    spans = sorted({(t.start, t.end) for t in visible})
    whole = all(s in bounds and e in bounds for s, e in spans)
    disjoint = all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    if whole and disjoint:
        assert len(units) == len(spans)
    assert len(units) > 1  # never the whole clause as one unit


@pytest.mark.parametrize("name", list(MIXED))
def test_emoji_zero_width_and_spacing(tokenizer, name):
    text = MIXED[name]
    units, tokens = _units(tokenizer, text)
    _check_common(text, units, tokens)
    texts = [u.text for u in units]
    if name == "emoji":
        assert any("👨‍👩‍👧" in t for t in texts) and any("👍🏽" in t for t in texts)
    if name == "spacing":
        assert "Odd" in texts and "spacing" in texts and "tabs" in texts


def test_unit_spans_of_the_issue_examples():
    spans = lambda t: [t[s:e] for s, e in unit_spans(t)]
    assert spans("यह फिल्म बहुत अच्छी है") == ["यह", "फिल्म", "बहुत", "अच्छी", "है"]  # vowel signs inside
    assert spans("cafe\u0301!") == ["cafe\u0301", "!"]
    assert spans("it's well-made") == ["it's", "well-made"]
    assert spans("👨‍👩‍👧x") == ["👨‍👩‍👧", "x"]
    assert len(spans("この映画")) == 4 and len(spans("หนังดี")) > 2  # clusters, joined later by tokens


def test_invisible_characters_are_never_units():
    """A zero-width space or BOM no token covers separates words like a space; one a token
    holds alone gives that token's score to the next word (the scores still add up)."""
    text = "good\u200bfilm \ufeff ok"
    tokens = [TokenScore(0, "good", 1, 0, 4, 1.0), TokenScore(1, "film", 2, 5, 9, 2.0), TokenScore(2, "ok", 3, 12, 14, 3.0)]
    units = word_scores(text, tokens)
    assert [(u.text, u.n_tokens, u.score) for u in units] == [("good", 1, 1.0), ("film", 1, 2.0), ("ok", 1, 3.0)]
    tokens += [TokenScore(3, "\u200b", 4, 4, 5, 0.5), TokenScore(4, "\ufeff", 5, 10, 11, 0.25)]
    units = word_scores(text, tokens)
    assert [(u.text, u.n_tokens, u.score) for u in units] == [("good", 1, 1.0), ("film", 2, 2.5), ("ok", 2, 3.25)]
    assert [u.text for u in word_scores("\ufeff\u200b", [TokenScore(0, "x", 1, 0, 2, 1.0)])] == []


def test_byte_level_tokens_carry_no_whitespace_into_units(tiny_path):
    clf = load_classifier(tiny_path("gpt2"))
    text = "A movie\nwith   newlines and crème brûlée"
    result = explain(text, clf, n_steps=4, cache=False)
    assert [w.text for w in result.words] == ["A", "movie", "with", "newlines", "and", "crème", "brûlée"]
    assert any(text[t.start : t.end].startswith(" ") for t in result.tokens if t.start is not None)


def test_bundled_model_hindi_thai_japanese(default_model_path):
    clf = load_classifier(default_model_path)
    hindi = explain(SPACED["hindi"], clf, n_steps=4, cache=False)
    assert [w.text for w in hindi.words] == SPACED["hindi"].split()
    japanese = explain(SPACELESS["japanese"], clf, n_steps=4, cache=False)
    assert len(japanese.words) > 5 and japanese.words[-1].text == "。"
    for result in (hindi, japanese):
        assert sum(w.score for w in result.words) == pytest.approx(sum(t.score for t in result.tokens))
