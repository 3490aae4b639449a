"""Sizes a checkpoint asks for (issue 22, H2 and M5): every size in a config bounded, lists
included, before anything is built; the implied-parameter count itself in the sizing child
under a time and a memory limit; failures remembered per Hub repo; tokenizers bounded in
bytes and by the model's embedding table, and counted in the model cache's weight.

No test here times anything: work is counted (calls, child processes, slots), and the
sizing child reports its own limits as the reason it stopped."""

import json
import shutil
from pathlib import Path

import pytest

from explain import errors
from explain.checkpoints import folder as folder_mod
from explain.checkpoints import load as loading
from explain.checkpoints import rules, sizing
from explain.checkpoints.hub import HubPolicy


def _funnel(tiny_path, tmp_path: Path, name: str, **changes) -> Path:
    folder = shutil.copytree(tiny_path("funnel"), tmp_path / name)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(changes)
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


# --- the size rules: lists too -----------------------------------------------------------


@pytest.mark.parametrize(
    "changes,words",
    [
        ({"block_sizes": [3000, 3000, 3000], "block_repeats": [1, 1, 1]}, ["block_sizes = 3,000 (layers)"]),
        ({"block_sizes": [20000] * 3, "block_repeats": [1, 1, 1]}, ["block_sizes = 20,000 (layers)"]),
        (
            {"block_sizes": [200, 200, 200], "block_repeats": [1, 1, 1]},
            ["block_sizes = [200, 200, 200]", "600 layers in all", "at most 256"],
        ),
        ({"block_repeats": [1, 100_000]}, ["block_repeats = 100,000"]),
        ({"num_attention_heads": [4, 100_000]}, ["num_attention_heads = 100,000"]),
        ({"num_local_experts": 1_000_000}, ["num_local_experts = 1,000,000 (experts)", "at most 65,536"]),
        ({"my_own_sizes": [8, 10**9]}, ["gives my_own_sizes the size 1,000,000,000", "at most 1,048,576"]),
        ({"text_config": {"per_layer": [[1, 2], [3, 10**12]]}}, ["text_config.per_layer the size"]),
        ({"stages": [{"depths": [300]}]}, ["stages[0].depths = 300"]),
        ({"huge_list": list(range(70_000))}, ["a list of 70,000 numbers", "at most 65,536"]),
    ],
)
def test_list_valued_and_unknown_sizes_are_bounded(tiny_path, changes, words):
    cfg = {**_config(tiny_path("funnel")), **changes}
    with pytest.raises(errors.CheckpointTooLarge) as info:
        rules.check_config_sizes(cfg, where="config.json (org/x)")
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "name,changes",
    [
        ("funnel", {}),
        ("longformer", {}),  # attention_window: one size per layer
        (
            "bert",
            {
                "eos_token_id": [2, 3],
                "layer_types": ["full", "sliding"],
                "suppress_tokens": [-1, 220, 50256],
                "rope_scaling": {"long_factor": [1.0, 1.08], "short_factor": [1.0]},
                "rope_theta": 1e7,
                "num_heads": [3, 6, 12, 24],
                "depths": [2, 2, 6, 2],
            },
        ),
    ],
)
def test_real_configs_pass_the_size_rules(tiny_path, name, changes):
    rules.check_config_sizes({**_config(tiny_path(name)), **changes})


def test_a_hostile_funnel_folder_is_refused_before_anything_is_built(tiny_path, tmp_path, monkeypatch):
    """The issue's config (873 bytes; 21-26 s and +430-450 MB to refuse before): refused by
    the rules, the model never built, in this process or in the sizing child."""

    def build(*args):
        raise AssertionError("the model was built")

    monkeypatch.setattr(folder_mod, "implied_parameters", build)
    monkeypatch.setattr(folder_mod, "bounded_implied_parameters", build, raising=False)
    for size in (3000, 20000):
        folder = _funnel(tiny_path, tmp_path, f"funnel-{size}", block_sizes=[size] * 3, block_repeats=[1, 1, 1])
        with pytest.raises(
            errors.CheckpointTooLarge, match=f"block_sizes = {size:,} .layers.; this server loads at most 256"
        ):
            folder_mod.load_folder(folder, max_parameters=600_000_000)


# --- the sizing child: time and memory limits --------------------------------------------

HOSTILE = {"block_sizes": [3000, 3000, 3000], "block_repeats": [1, 1, 1]}


@pytest.fixture
def warm_sizer():
    """The sizing child started and ready (its start-up is not what is tested)."""
    sizing.SIZER.count({"model_type": "bert"}, 600, 2**30)
    yield sizing.SIZER


def test_sizing_child_counts_what_the_process_counts(tiny_path, warm_sizer):
    for name in ("bert", "funnel", "t5", "gpt2"):
        cfg = _config(tiny_path(name))
        assert sizing.bounded_implied_parameters(cfg, name) == sizing.implied_parameters(cfg, name)


def test_sizing_child_stops_at_its_deadline(tiny_path, warm_sizer):
    """Past the rules (called directly), the issue's config runs into the child's deadline;
    the child is killed and the next count starts a fresh one, which works."""
    cfg = {**_config(tiny_path("funnel")), **HOSTILE}
    pid, started = warm_sizer.pid, warm_sizer.started
    with pytest.raises(
        errors.CheckpointTooLarge,
        match=r"counting its parameters took longer than this server.s "
        r"limit of 1 s",
    ):
        sizing.bounded_implied_parameters(cfg, "org/funnel", sizing.SizingLimits(deadline_s=1, memory_bytes=2**34))
    assert warm_sizer.pid is None  # killed
    assert sizing.bounded_implied_parameters(_config(tiny_path("funnel")), "funnel") > 0
    assert warm_sizer.started == started + 1 and warm_sizer.pid != pid


def test_sizing_child_stops_at_its_memory_limit(tiny_path, warm_sizer):
    cfg = {**_config(tiny_path("funnel")), **HOSTILE}
    answer = warm_sizer.count(cfg, 600, 32 * 2**20)
    assert answer["fail"] == "memory", answer
    assert answer["peak_bytes"] is None or answer["peak_bytes"] < 200 * 2**20, answer  # stopped near its limit
    with pytest.raises(errors.CheckpointTooLarge, match=r"needed more than this server.s 32 MiB"):
        sizing.bounded_implied_parameters(cfg, "org/funnel", sizing.SizingLimits(deadline_s=600, memory_bytes=32 * 2**20))


def test_a_slow_count_holds_no_load_slot_past_its_deadline(tiny_path, tmp_path, warm_sizer, monkeypatch):
    """A server's folder load (load_deadline_s given) counts in the child: a config the
    rules let through (here: the rules switched off) is refused at the child's deadline,
    and both load slots are free as soon as the visitor has the answer."""
    monkeypatch.setattr(folder_mod, "check_config_sizes", lambda *a, **k: None)
    folder = _funnel(tiny_path, tmp_path, "slow-funnel", **HOSTILE)
    memo = loading.FailureMemo(ttl_s=600)
    policy = HubPolicy(sizing_deadline_s=1)
    with pytest.raises(errors.CheckpointTooLarge, match="counting its parameters took longer"):
        loading.load_classifier(str(folder), load_deadline_s=300, failures=memo, hub_policy=policy)
    taken = [loading._LOAD_SLOTS.acquire(blocking=False) for _ in range(loading.LOAD_SLOTS)]
    for ok in taken:
        if ok:
            loading._LOAD_SLOTS.release()
    assert all(taken), "a load slot is still held"


def test_hub_policy_reads_the_sizing_and_tokenizer_limits():
    policy = HubPolicy.from_env(
        {"EXPLAIN_SIZING_DEADLINE_S": "2.5", "EXPLAIN_SIZING_MEMORY_MB": "64", "EXPLAIN_MAX_TOKENIZER_MB": "10"}
    )
    assert policy.sizing == sizing.SizingLimits(2.5, 64 * 2**20)
    assert policy.max_tokenizer_bytes == 10 * 2**20


# --- failures remembered per repo ----------------------------------------------------------


def test_failures_are_remembered_per_repo(monkeypatch):
    calls = []

    def fake(text, revision=None, policy=None, device=None):
        calls.append(text)
        if text.lower().startswith("org/huge"):
            raise errors.CheckpointTooLarge("org/huge describes a model too large to count.", "Pick another.")
        raise errors.UnsafeCheckpoint("org/pickles has no model.safetensors weights.", "Try refs/pr/1.")

    monkeypatch.setattr(loading, "load_hub_classifier", fake)
    memo = loading.FailureMemo(ttl_s=600)
    load = lambda text: loading.load_classifier(text, allow_local=False, failures=memo)
    with pytest.raises(errors.CheckpointTooLarge):
        load("org/huge")
    for again in ("org/huge@main", "org/huge@v2", "Org/Huge", "org/huge@refs/pr/7", " org/huge "):
        with pytest.raises(errors.CheckpointTooLarge, match="tries this checkpoint again"):
            load(again)
    assert calls == ["org/huge"]
    with pytest.raises(errors.UnsafeCheckpoint):
        load("org/pickles")
    with pytest.raises(errors.UnsafeCheckpoint, match="tries this checkpoint again"):
        load("org/pickles@main")  # the same revision
    with pytest.raises(errors.UnsafeCheckpoint):
        load("org/pickles@refs/pr/1")  # another revision of a repo that was not too large: tried
    assert calls == ["org/huge", "org/pickles", "org/pickles@refs/pr/1"]


# --- tokenizers ----------------------------------------------------------------------------


def test_a_tokenizer_file_over_the_limit_is_refused_unread(tiny_path, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    folder = shutil.copytree(tiny_path("bert"), tmp_path / "big-tokenizer")
    size = (folder / "tokenizer.json").stat().st_size
    read = []
    real = AutoTokenizer.from_pretrained
    monkeypatch.setattr(AutoTokenizer, "from_pretrained", lambda *a, **k: read.append(a) or real(*a, **k))
    policy = HubPolicy(max_tokenizer_bytes=size - 1)
    with pytest.raises(
        errors.CheckpointTooLarge,
        match=r"big-tokenizer's tokenizer.json is [\d.]+ KiB; this server "
        r"loads tokenizer files of up to [\d.]+ KiB",
    ) as info:
        loading.load_classifier(str(folder), load_deadline_s=300, hub_policy=policy)
    assert "EXPLAIN_MAX_TOKENIZER_MB" in str(info.value) and str(tmp_path) not in str(info.value)
    assert read == []
    # The library (no server limits) loads it.
    assert folder_mod.load_folder(folder).labels == ["negative", "neutral", "positive"]


def test_a_vocabulary_past_the_embedding_table_is_refused(tiny_path, tmp_path):
    """The issue's giant tokenizer in small: extra vocabulary entries the model has no
    embedding rows for (before: loaded, then IndexError on a text using one)."""
    folder = shutil.copytree(tiny_path("bert"), tmp_path / "extra-vocab")
    tok = json.loads((folder / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    start = max(vocab.values()) + 1
    vocab.update({f"zq{i}x": start + i for i in range(50)})
    (folder / "tokenizer.json").write_text(json.dumps(tok))
    rows = _config(folder)["vocab_size"]
    with pytest.raises(
        errors.BrokenCheckpoint,
        match=f"tokenizer has token ids up to {start + 49:,}, but the model's embedding table has only {rows:,} rows",
    ):
        folder_mod.load_folder(folder)


def test_tokenizer_memory_counts_in_the_model_cache(tiny_path):
    folder = tiny_path("bert")
    clf = folder_mod.load_folder(folder)
    params = sum(p.numel() * p.element_size() for p in clf.model.parameters())
    files = sum((folder / n).stat().st_size for n in rules.TOKENIZER_FILES if (folder / n).is_file())
    assert clf.tokenizer_bytes == folder_mod.TOKENIZER_MEMORY_FACTOR * files > 0
    assert clf.nbytes == params + clf.tokenizer_bytes
    other = folder_mod.load_folder(tiny_path("distilbert"))
    other_params = sum(p.numel() * p.element_size() for p in other.model.parameters())
    tokenizers = clf.tokenizer_bytes + other.tokenizer_bytes
    cache = loading.classifier_cache(max_entries=4, max_bytes=params + other_params + tokenizers // 2)
    cache.put("a", clf)
    cache.put("b", other)
    assert cache.get("a") is None  # the two fit in parameter bytes, not with their tokenizers
