"""Hostile checkpoints as an operator's local folders: configs that would allocate without
bound, tokenizers without a vocabulary, and broken folders whose messages must not name
server paths.

The hostile configs load in a child process with a 6 GiB address-space limit and a time
limit, so that a loader that does allocate what they ask for fails the test instead of
taking the machine down; the child reports each case as a JSON line."""

import json
import os
import resource
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from paths import ROOT

from explain import errors, explain, load_classifier

LIMIT_PARAMETERS = 600_000_000  # the server's default (EXPLAIN_MAX_PARAMETERS)
# name: (config changes (None: key removed), expected error class, words in its message)
HOSTILE = {
    "num-labels-1e9": (
        {"num_labels": 1e9, "id2label": None, "label2id": None},
        "CheckpointTooLarge",
        ["num_labels = 1,000,000,000", "at most 10,000"],
    ),
    "num-labels-1e6": (
        {"num_labels": 1_000_000, "id2label": None, "label2id": None},
        "CheckpointTooLarge",
        ["num_labels = 1,000,000"],
    ),
    "layers-10000": ({"num_hidden_layers": 10_000}, "CheckpointTooLarge", ["num_hidden_layers = 10,000"]),
    "hidden-1e6": ({"hidden_size": 1_000_000}, "CheckpointTooLarge", ["hidden_size = 1,000,000"]),
    "intermediate-1e8": ({"intermediate_size": 100_000_000}, "CheckpointTooLarge", ["intermediate_size"]),
    "vocab-1e9": ({"vocab_size": 1_000_000_000}, "CheckpointTooLarge", ["vocab_size = 1,000,000,000"]),
    "positions-1e9": ({"max_position_embeddings": 1_000_000_000}, "CheckpointTooLarge", ["max_position_embeddings"]),
    "nested-layers": (
        {"text_config": {"num_hidden_layers": 1_000_000}},
        "CheckpointTooLarge",
        ["text_config.num_hidden_layers"],
    ),
    "labels-not-a-size": ({"num_labels": "many"}, "BrokenCheckpoint", ["not a size"]),
    # Within every bound, but far more than the 28k parameters stored beside it:
    "layers-200": (
        {"num_hidden_layers": 200},
        "BrokenCheckpoint",
        ["describes a model of 1.4M parameters", "weights hold only 28,557"],
    ),
    # Within every bound, but ~41 billion parameters (over the server's limit too).
    "wide-and-deep": (
        {
            "hidden_size": 8192,
            "num_attention_heads": 64,
            "intermediate_size": 32768,
            "num_hidden_layers": 48,
            "vocab_size": 250_000,
        },
        "BrokenCheckpoint",
        ["describes a model of 40,776.0M parameters"],
    ),
}

# The child records every call into transformers' readers (config, tokenizer, weights): a
# hostile config must be refused before the first, whatever the machine's load.
CHILD = textwrap.dedent("""
    import json, sys, time
    import transformers
    from explain import load_classifier
    calls = []
    def spy(cls, method):
        real = getattr(cls, method)
        def recorded(*args, **kwargs):
            calls.append(f"{cls.__name__}.{method}")
            return real(*args, **kwargs)
        setattr(cls, method, recorded)
    for cls in (transformers.AutoConfig, transformers.AutoTokenizer, transformers.AutoModelForSequenceClassification):
        spy(cls, "from_pretrained")
    load_classifier(sys.argv[1], max_parameters=int(sys.argv[2]))  # warm: imports and the meta device
    print(json.dumps({"name": "(warm)", "kind": "loaded", "message": "", "reads": calls}), flush=True)
    for folder in sys.argv[3:]:
        del calls[:]
        t = time.process_time()
        try:
            load_classifier(folder, max_parameters=int(sys.argv[2]))
            kind, message = "loaded", ""
        except BaseException as exc:
            kind, message = type(exc).__name__, str(exc)
        print(json.dumps({"name": folder.rsplit("/", 1)[-1], "kind": kind, "message": message[:500],
                          "reads": calls, "cpu_seconds": round(time.process_time() - t, 3)}), flush=True)
""")


def _variant(src: Path, folder: Path, changes: dict) -> Path:
    shutil.copytree(src, folder)
    cfg = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        if value is None:
            cfg.pop(key, None)
        else:
            cfg[key] = value
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (6 * 2**30, 6 * 2**30))


@pytest.mark.slow
def test_hostile_configs_are_refused_before_transformers_reads_them(tiny_path, tmp_path):
    """Each hostile config is refused, with its own message, before transformers reads its
    config, tokenizer or weights (the checks that make a refusal cheap: counted, not timed)."""
    bert = tiny_path("bert")
    folders = [_variant(bert, tmp_path / name, changes) for name, (changes, _, _) in HOSTILE.items()]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(bert), str(LIMIT_PARAMETERS), *map(str, folders)],
            capture_output=True,
            text=True,
            timeout=150,
            env=env,
            preexec_fn=_limit_memory,
        )
        stdout, why = out.stdout, out.stderr[-2000:]
    except subprocess.TimeoutExpired as exc:
        stdout, why = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), "timeout"
    seen = {r["name"]: r for r in (json.loads(line) for line in stdout.splitlines() if line.startswith("{"))}
    print("\nhostile configs (local folders): CPU time to refuse")
    for name in HOSTILE:
        r = seen.get(name)
        print(f"  {name:18s} " + (f"{r['cpu_seconds']:.3f} s  [{r['kind']}] {r['message'][:150]}" if r else "no answer"))
    # The spies see the readers a load goes through (or the assertions below could not fail).
    assert {
        "AutoConfig.from_pretrained",
        "AutoTokenizer.from_pretrained",
        "AutoModelForSequenceClassification.from_pretrained",
    } <= set(seen["(warm)"]["reads"]), (seen, why)
    for name, (_, kind, words) in HOSTILE.items():
        r = seen.get(name)
        assert r is not None, f"{name}: no answer ({why})"
        assert r["kind"] == kind, (name, r)
        assert all(w in r["message"] for w in words), (name, r["message"])
        assert r["reads"] == [], (name, r)  # refused before transformers read anything
        assert str(tmp_path) not in r["message"]


def test_implied_parameters_against_the_servers_limit():
    from explain.checkpoints.rules import check_implied_parameters

    check_implied_parameters(500_000_000, 500_000_000, LIMIT_PARAMETERS, "org/fine")
    with pytest.raises(
        errors.CheckpointTooLarge,
        match=r"describes a model of 41,000\.0M parameters; this server "
        r"explains models of up to 600\.0M",
    ):
        check_implied_parameters(41_000_000_000, 41_000_000_000, LIMIT_PARAMETERS, "org/big")
    with pytest.raises(errors.CheckpointTooLarge, match=r"org/big has 700\.0M parameters"):
        check_implied_parameters(1_000, 700_000_000, LIMIT_PARAMETERS, "org/big")  # stored counts too
    with pytest.raises(errors.BrokenCheckpoint, match="weights hold only 1,000"):
        check_implied_parameters(50_000, 1_000, None, "org/broken")


def _tokenizer_variant(src: Path, folder: Path, vocab: dict) -> Path:
    shutil.copytree(src, folder)
    tok = json.loads((folder / "tokenizer.json").read_text())
    tok["model"]["vocab"] = vocab
    (folder / "tokenizer.json").write_text(json.dumps(tok))
    return folder


@pytest.mark.parametrize(
    "name,vocab,words",
    [
        ("unk-only", {"[UNK]": 0}, "vocabulary of only 5 token(s)"),
        ("junk-vocab", {"[UNK]": 0, **{f"zq{i}x": i + 5 for i in range(200)}}, "reads every word of a probe sentence"),
    ],
)
def test_tokenizer_without_a_vocabulary_is_broken(tiny_path, tmp_path, name, vocab, words):
    folder = _tokenizer_variant(tiny_path("bert"), tmp_path / name, vocab)
    with pytest.raises(errors.BrokenCheckpoint) as info:
        load_classifier(folder)
    assert words in str(info.value) and str(tmp_path) not in str(info.value)


@pytest.mark.slow
def test_real_tokenizers_pass_the_probe(tiny_path):
    """Every tiny architecture (tokenizers of ~300 tokens trained on a few sentences) loads and explains."""
    for name in ("bert", "xlm-roberta", "albert", "t5", "gpt2", "deberta-v2"):
        assert explain("The film was terrible.", load_classifier(tiny_path(name)), n_steps=4).words


def test_broken_folders_are_named_never_located(tiny_path, tmp_path):
    root = tmp_path / "srv" / "operator-models"
    bert = tiny_path("bert")
    cases = {}
    (root / "no-config").mkdir(parents=True)
    (root / "no-config" / "weights.txt").write_text("x")
    cases["no-config"] = errors.CheckpointNotFound
    _variant(bert, root / "bad-json", {}).joinpath("config.json").write_text("{not json")
    cases["bad-json"] = errors.BrokenCheckpoint
    (_variant(bert, root / "no-weights", {}) / "model.safetensors").unlink()
    cases["no-weights"] = errors.UnsafeCheckpoint
    _variant(bert, root / "bad-tokenizer", {}).joinpath("tokenizer.json").write_text('{"version": "1.0", "model": 42')
    cases["bad-tokenizer"] = errors.BrokenCheckpoint
    raw = (bert / "model.safetensors").read_bytes()
    _variant(bert, root / "truncated", {}).joinpath("model.safetensors").write_bytes(raw[: len(raw) // 2])
    cases["truncated"] = errors.BrokenCheckpoint
    for name, kind in cases.items():
        with pytest.raises(kind) as info:
            load_classifier(root / name)
        message = str(info.value)
        print(f"\n{name}: {message}")
        assert name in message and str(tmp_path) not in message and "/srv/" not in message, message
