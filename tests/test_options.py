"""explain.Options: one vocabulary for every surface, each value checked once, the rules on
which options go together in one place (validate), old names read, never written."""

import subprocess
import sys

import pytest
from paths import ROOT

from explain import Options, explain
from explain.errors import InvalidInput
from explain.options import from_record, same_record, with_overrides


def test_star_import_gives_every_public_name():
    out = subprocess.run(
        [sys.executable, "-c", "from explain import *; import explain; print(sorted(set(explain.__all__) - set(dir())))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_values_are_checked_when_made():
    assert Options(candidate_labels="sports, politics ,").candidate_labels == ("sports", "politics")
    assert Options(n_steps=8.0).n_steps == 8
    for bad, words in (
        (dict(n_steps=0), "n_steps must be a whole number"),
        (dict(method="lime"), "Unknown method"),
        (dict(candidate_labels="a, A"), "repeat"),
        (dict(hypothesis_template="{} {}"), "exactly once"),
        (dict(hypothesis_template="{0.__class__}"), "no other braces"),
        (dict(tolerance=2), "between 0 and 1"),
        (dict(target=[1]), "label name or index"),
    ):
        with pytest.raises(InvalidInput, match=words):
            Options(**bad)


@pytest.mark.parametrize(
    "options, pair, words",
    [
        (Options(candidate_labels="a, b"), True, "takes no text pair"),
        (Options(candidate_labels="a, b", contrast="a"), False, "no contrast label"),
        (Options(candidate_labels="a, b", method="captum"), False, "Captum's method explains one text or pair"),
    ],
)
def test_combinations_are_one_rule_for_every_surface(options, pair, words, tiny_path):
    """The same refusal from validate(), the Python API and the command line."""
    from explain.cli.main import main

    with pytest.raises(InvalidInput, match=words):
        options.validate(text_pair=pair)
    with pytest.raises(InvalidInput, match=words):
        explain("A text.", str(tiny_path("bert")), options, text_pair="Another." if pair else None)
    argv = ["A text.", "--model", str(tiny_path("bert")), "--candidate-labels", ", ".join(options.candidate_labels)]
    argv += (
        (["--text-pair", "Another."] if pair else [])
        + (["--contrast", options.contrast] if options.contrast else [])
        + ["--method", options.method]
    )
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_overrides_old_names_and_records():
    base = Options(target="positive")
    assert with_overrides(base, steps=12, labels="a, b", template="About {}.") == Options(
        target="positive", n_steps=12, candidate_labels=("a", "b"), hypothesis_template="About {}."
    )
    with pytest.raises(InvalidInput, match="Unknown option 'n_step'"):
        with_overrides(base, n_step=3)
    with pytest.raises(InvalidInput, match="given twice"):
        with_overrides(base, steps=3, n_steps=4)
    record = {"model": "m", **Options(n_steps=8, candidate_labels="a, b").record()}
    assert record == {"model": "m", "n_steps": 8, "candidate_labels": ["a", "b"]}
    assert from_record(record) == Options(n_steps=8, candidate_labels=("a", "b"))
    old = {"model": "m", "target": None, "contrast": None, "baseline": "auto", "steps": 8, "labels": "a, b"}
    assert same_record(old, record) and not same_record(old, {**record, "model": "other"})


def test_every_entry_point_takes_options_and_overrides(tiny_path):
    from explain import explain_labels, explain_many

    bert = str(tiny_path("bert"))
    opts = Options(target="positive", n_steps=8)
    one = explain("Great film.", bert, opts, cache=False)
    assert one.target == "positive" and one.steps == 8
    assert explain("Great film.", bert, target="positive", n_steps=8, cache=False).words == one.words
    assert explain("Great film.", bert, opts, n_steps=8, cache=False).words == one.words
    many = explain_many(["Great film.", "Dull."], bert, opts, cache=False)
    assert [m.target for m in many] == ["positive", "positive"]
    assert [w.score for w in many[0].words] == pytest.approx([w.score for w in one.words], abs=1e-5)
    assert {e.target for e in explain_labels("Great film.", bert, options=Options(n_steps=8), cache=False)} == {
        "negative",
        "neutral",
        "positive",
    }
