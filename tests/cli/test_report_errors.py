"""`explain report` on bad files (issue 22, L3): one line naming the line (and row) and
what is wrong, exit status 1, never a traceback; a record larger than one explained text
can be is refused before any of it is summed."""

import json

import pytest

from explain.cli.main import main
from explain.corpus import report as corpus_report


def _word(text="a", start=0, end=1, score=0.1, **extra):
    return {"text": text, "start": start, "end": end, "score": score, "segment": 0, **extra}


def _record(row=0, words=None, **result):
    body = {
        "text": "a film",
        "target": "positive",
        "predicted": "positive",
        "converged": True,
        "completeness_error": 1e-3,
        "tokens": [],
        "words": words if words is not None else [_word()],
        **result,
    }
    return {"row": row, "text_sha256": f"sha{row}", "ok": True, "options": {"model": "m"}, "result": body}


GOOD = json.dumps(_record(0)) + "\n"

BAD = {
    "not-utf8": (GOOD.encode() + b'{"row": 1, "ok": true, "text": "caf\xe9"}\n', "Line 2 of bad.jsonl is not UTF-8 text"),
    "not-json": (GOOD + "not json\n", "Line 2 of bad.jsonl is not JSON"),
    "deep": (GOOD + "[" * 100_000 + "]" * 100_000 + "\n", "Line 2 of bad.jsonl is nested too deeply"),
    "deep-result": (
        GOOD + json.dumps({"row": 1, "ok": True, "result": "[" * 100_000 + "]" * 100_000}) + "\n",
        "Line 2 of bad.jsonl (row 1): its result is nested too deeply",
    ),
    "word-not-object": (
        GOOD + json.dumps(_record(1, words=["a"])) + "\n",
        "Line 2 of bad.jsonl (row 1): word 1 is not an object",
    ),
    "word-no-score": (
        json.dumps(_record(7, words=[_word(), {"text": "f", "start": 2, "end": 3}])) + "\n",
        "Line 1 of bad.jsonl (row 7): word 2 has no 'score'",
    ),
    "start-not-a-number": (
        json.dumps(_record(3, words=[_word(start="x")])) + "\n",
        "(row 3): word 1's start and end ('x', 1) are not a span of its text",
    ),
    "span-outside": (
        json.dumps(_record(3, words=[_word(start=2, end=99)])) + "\n",
        "word 1's start and end (2, 99) are not a span of its text",
    ),
    "score-not-a-number": (
        json.dumps(_record(3, words=[_word(score="high")])) + "\n",
        "word 1's score 'high' is not a number",
    ),
    "segment": (json.dumps(_record(3, words=[_word(segment=5)])) + "\n", "word 1 has the segment 5"),
    "error-not-object": (
        GOOD + json.dumps({"row": 2, "ok": False, "error": [1, 2]}) + "\n",
        "Line 2 of bad.jsonl (row 2): its error is not an object",
    ),
    "options-not-json": (
        GOOD + json.dumps({**_record(2), "options": "{bad"}) + "\n",
        "Line 2 of bad.jsonl (row 2): its options is not JSON",
    ),
    "row-a-list": (
        GOOD + json.dumps({**_record(2), "row": [1]}) + "\n",
        "Line 2 of bad.jsonl has the row [1], which is not a whole number",
    ),
    "row-text": (GOOD + json.dumps({**_record(2), "row": "two"}) + "\n", "has the row 'two'"),
    "tokens-not-list": (json.dumps(_record(4, tokens={"a": 1})) + "\n", "(row 4): its tokens are not a list"),
    "text-not-string": (json.dumps(_record(4, text=None)) + "\n", "(row 4): its text is not a string"),
    "no-explanation": (json.dumps({"row": 5, "ok": True, "result": [1]}) + "\n", "its result is not an object"),
    "record-a-list": (GOOD + "[1, 2]\n", "Line 2 of bad.jsonl is not a record of the batch command"),
}


def _run(tmp_path, capsys, content) -> tuple:
    path = tmp_path / "bad.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    rc = main(["report", str(path), "--bootstrap", "0"])
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_file_gets_one_line_and_status_1(tmp_path, capsys, name):
    content, words = BAD[name]
    rc, err = _run(tmp_path, capsys, content)
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1, err
    assert lines[0].startswith("error: ") and words in lines[0], err
    assert "Traceback" not in err and str(tmp_path) not in err


def test_a_good_file_still_reports(tmp_path, capsys):
    rc, err = _run(tmp_path, capsys, GOOD + json.dumps(_record(1, words=[_word(), _word("film", 2, 6, -0.2)])) + "\n")
    assert rc == 0, err


def test_a_record_larger_than_one_text_is_refused_before_it_is_summed(tmp_path, capsys, monkeypatch):
    """The issue's 300,000-word record (40 s and 1.08 GB before), in small: the limits
    lowered, the record refused by its size, none of its words summed."""
    summed = []
    real = corpus_report._Label.add
    monkeypatch.setattr(corpus_report._Label, "add", lambda self, *a: (summed.append(1), real(self, *a))[1])
    monkeypatch.setattr(corpus_report, "MAX_RECORD_UNITS", 50, raising=False)
    monkeypatch.setattr(corpus_report, "MAX_RECORD_TOKENS", 50, raising=False)
    words = [_word(f"w{i}", 0, 1) for i in range(51)]
    rc, err = _run(tmp_path, capsys, json.dumps(_record(9, words=words)) + "\n")
    assert rc == 1 and "(row 9): it has 51 word units; one explained text has at most 50" in err, err
    rc, err = _run(tmp_path, capsys, json.dumps(_record(9, tokens=[{"score": 0.0}] * 51)) + "\n")
    assert rc == 1 and "(row 9): it has 51 tokens; one explained text has at most 50" in err, err
    assert summed == []
    monkeypatch.setattr(corpus_report, "MAX_LINE_BYTES", 1000, raising=False)
    rc, err = _run(tmp_path, capsys, GOOD + json.dumps(_record(1, words=[_word()] * 40)) + "\n")
    assert rc == 1 and "Line 2 of bad.jsonl is longer than 1,000 bytes" in err, err
    assert summed == [1]  # the first, small record only


def test_the_library_refuses_bad_records_in_memory_too():
    from explain.corpus import build_report
    from explain.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"Record 1 \(row 3\): word 1 has no 'end'"):
        build_report([_record(0), _record(3, words=[{"text": "a", "start": 0, "score": 1.0}])])
    with pytest.raises(InvalidInput, match="Record 0 is not a record"):
        build_report(["a string"])
