"""Loading visitor-chosen Hub IDs, against a real Hub-compatible server on loopback
(olah serving git repos of tiny checkpoints) through the real huggingface_hub and
transformers download path. Each hostile repo must give its own clear message, and no
pickle or code file may ever land in the cache."""

import json
import struct
import time
from pathlib import Path

import hubserver as hs
import pytest
from net import free_port
from paths import final

from explain import errors, explain
from explain.checkpoints import HubPolicy, fetch_checkpoint, load_hub_classifier, parse_repo_id
from explain.checkpoints.hubcache import HubCache

CANARY = Path("/tmp/explain-hub-canary-was-executed")
EVIL_PY = f"open({str(CANARY)!r}, 'w').write('ran')\n".encode()


def _files(folder: Path) -> dict:
    return {p.name: p for p in Path(folder).iterdir() if p.is_file()}


def _tokenizer_files(folder: Path) -> dict:
    return {n: p for n, p in _files(folder).items() if n.startswith(("tokenizer", "special_tokens", "vocab"))}


def _save(model, folder: Path, **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, **kw)
    return folder


def _config_with(bert: Path, **extra) -> bytes:
    cfg = json.loads((bert / "config.json").read_text())
    cfg.update(extra)
    return json.dumps(cfg).encode()


@pytest.fixture(scope="module")
def hub(tiny_path, tmp_path_factory):
    """olah + fault proxy serving every hostile repo; yields a namespace."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, BertModel

    work = tmp_path_factory.mktemp("hub")
    mirrors = work / "mirrors"
    bert = tiny_path("bert")
    good = hs.git_repo(mirrors, "org/good", _files(bert), tag="v1")
    # A second commit on main; v1 stays the first one.
    hs.git_repo(mirrors, "org/good", {"README.md": b"---\nlicense: mit\n---\ntiny\n"})
    model = AutoModelForSequenceClassification.from_pretrained(bert)
    sharded = _save(model, work / "sharded", max_shard_size="60KB")
    hs.git_repo(mirrors, "org/sharded", {**_files(sharded), **_tokenizer_files(bert)})
    base = _save(BertModel(AutoConfig.from_pretrained(bert)), work / "base")
    hs.git_repo(mirrors, "org/base-encoder", {**_files(base), **_tokenizer_files(bert)})
    # Base-encoder weights under a config that claims to be a classifier: the head is missing.
    hs.git_repo(
        mirrors,
        "org/headless",
        {**_files(base), **_tokenizer_files(bert), "config.json": (bert / "config.json").read_bytes()},
    )
    pickled = work / "pytorch_model.bin"
    torch.save(model.state_dict(), pickled)
    hs.git_repo(
        mirrors,
        "org/bin-only",
        {
            "config.json": bert / "config.json",
            "pytorch_model.bin": pickled,
            "modeling_evil.py": EVIL_PY,
            **_tokenizer_files(bert),
        },
    )
    hs.git_repo(
        mirrors,
        "org/auto-map",
        {
            **_files(bert),
            "modeling_evil.py": EVIL_PY,
            "config.json": _config_with(bert, auto_map={"AutoModelForSequenceClassification": "modeling_evil.EvilModel"}),
        },
    )
    hs.git_repo(
        mirrors,
        "org/attn-impl",
        {**_files(bert), "config.json": _config_with(bert, _attn_implementation_internal="kernels-community/evil")},
    )
    hs.git_repo(
        mirrors,
        "org/attn-nested",
        {**_files(bert), "config.json": _config_with(bert, text_config={"attn_implementation": "kernels-community/evil"})},
    )
    raw = (bert / "model.safetensors").read_bytes()
    hs.git_repo(mirrors, "org/corrupt-header", {**_files(bert), "model.safetensors": b"\x00" * 64 + raw[64:]})
    n = struct.unpack("<Q", raw[:8])[0]
    hs.git_repo(mirrors, "org/truncated", {**_files(bert), "model.safetensors": raw[: 8 + n + 1000]})
    hs.git_repo(mirrors, "org/bad-tokenizer", {**_files(bert), "tokenizer.json": b'{"version": "1.0", "model": 42'})
    tok = json.loads((bert / "tokenizer.json").read_text())  # ids past the model's vocabulary
    tok["model"]["vocab"] = {k: v + 1000 for k, v in tok["model"]["vocab"].items()}
    for added in tok["added_tokens"]:
        added["id"] += 1000
    hs.git_repo(mirrors, "org/tokenizer-mismatch", {**_files(bert), "tokenizer.json": json.dumps(tok).encode()})
    # Configs that would allocate without bound, beside ~30k real parameters (issue 14).
    for name, extra in [
        ("labels-1e9", {"num_labels": 1e9, "id2label": None, "label2id": None}),
        ("layers-10000", {"num_hidden_layers": 10_000}),
        ("layers-200", {"num_hidden_layers": 200}),
    ]:
        cfg = {k: v for k, v in json.loads(_config_with(bert, **extra)).items() if v is not None}
        hs.git_repo(mirrors, f"org/{name}", {**_files(bert), "config.json": json.dumps(cfg).encode()})
    # Funnel's list-valued block_sizes (issue 22, H2): 873 bytes that took 25.9 s and +450 MB to refuse.
    funnel = tiny_path("funnel")
    cfg = json.loads((funnel / "config.json").read_text())
    cfg.update(block_sizes=[3000, 3000, 3000], block_repeats=[1, 1, 1])
    hs.git_repo(mirrors, "org/funnel-blocks", {**_files(funnel), "config.json": json.dumps(cfg).encode()})
    for name, vocab in [
        ("unk-tokenizer", {"[UNK]": 0}),
        ("junk-tokenizer", {"[UNK]": 0, **{f"zq{i}x": i + 5 for i in range(200)}}),
    ]:
        tok = json.loads((bert / "tokenizer.json").read_text())
        tok["model"]["vocab"] = vocab
        hs.git_repo(mirrors, f"org/{name}", {**_files(bert), "tokenizer.json": json.dumps(tok).encode()})
    for name in ("gated", "gated-info", "private", "disabled", "slow", "vanishing", "stalling"):
        hs.git_repo(mirrors, f"org/{name}", _files(bert))

    olah = hs.Olah(mirrors, work / "olah")
    proxy = hs.FaultProxy(olah.port)
    olah.public_netloc = proxy.netloc
    olah.start()
    proxy.start()
    proxy.base_rules = [
        hs.repo_rule("org/gated", hs.GATED),
        hs.repo_rule("org/gated-info", {"json_patch": {"gated": "manual"}}, api_only=True),
        hs.repo_rule("org/private", {"json_patch": {"private": True}}, api_only=True),
        hs.repo_rule("org/disabled", hs.DISABLED),
        hs.repo_rule("org/slow", {"stall": 30}),
        hs.repo_rule("org/vanishing", {"drop": True}, method="GET", suffix=".safetensors", no_range=True),
        hs.repo_rule("org/stalling", {"stall": 30}, method="GET", suffix=".safetensors", no_range=True),
    ]
    yield type("Hub", (), dict(url=proxy.url, proxy=proxy, olah=olah, good=good, work=work))
    proxy.stop()
    olah.stop()


@pytest.fixture
def policy(hub, tmp_path, monkeypatch):
    """A policy pointing at the loopback Hub, with a fresh cache and short deadlines."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_of_the_space")  # must never be sent
    hub.proxy.rules[:] = list(hub.proxy.base_rules)
    hub.proxy.log.clear()
    yield HubPolicy(
        endpoint=hub.url,
        cache_dir=str(tmp_path / "cache"),
        timeout_s=2.0,
        metadata_deadline_s=6.0,
        download_deadline_s=6.0,
        max_parameters=1_000_000,
    )
    cache = HubCache(tmp_path / "cache", 1)
    assert cache.forbidden_files() == []
    assert not CANARY.exists()
    assert all("authorization" not in headers for _, _, headers in hub.proxy.log)


def _fails(policy, repo, kind, *words) -> str:
    """Load ``repo``: it must fail with ``kind`` and ``words`` in its message. A failure
    that a timeout or deadline causes says so in its message (which one, and its length),
    so the message, not the clock, shows that the policy's bound fired."""
    t = time.monotonic()
    with pytest.raises(kind) as info:
        load_hub_classifier(repo, policy=policy)
    elapsed = time.monotonic() - t  # printed for the reader, never asserted: a busy machine is slow
    message = str(info.value)
    for word in words:
        assert word in message, message
    # No server path in any message: the download cache, the temporary folder, the home folder.
    for where in (policy.cache_dir, str(Path(policy.cache_dir).resolve()), "/tmp/", str(Path.home())):
        assert where not in message, message
    print(f"\n{repo}: [{info.value.code}] {message} ({elapsed:.1f} s)")
    return message


def test_good_repo_loads_pinned_and_explains(hub, policy):
    clf = load_hub_classifier("org/good", policy=policy)
    assert clf.source == "org/good" and clf.revision == hs.head_commit(hub.good)
    result = explain("The film was terrible, and the acting was worse.", clf)
    assert result.checkpoint["source"] == "org/good" and result.text.startswith("The film")
    old = load_hub_classifier("org/good@v1", policy=policy)
    assert old.revision != clf.revision and len(old.revision) == 40
    cached = {p.name for p in Path(policy.cache_dir).rglob("*") if p.is_file() and "snapshots" in p.parts}
    assert cached == {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}  # no README


def test_sharded_safetensors_load(policy):
    clf = load_hub_classifier("org/sharded", policy=policy)
    assert clf.labels == ["negative", "neutral", "positive"]


@pytest.mark.parametrize(
    "repo,kind,words",
    [
        ("org/missing", errors.CheckpointNotFound, ["no public model 'org/missing'"]),
        ("org/good@no-such-branch", errors.CheckpointNotFound, ["has no revision 'no-such-branch'"]),
        ("org/bin-only", errors.UnsafeCheckpoint, ["no model.safetensors", "pytorch_model.bin"]),
        ("org/auto-map", errors.UnsafeCheckpoint, ["run its own code", "auto_map"]),
        ("org/attn-impl", errors.UnsafeCheckpoint, ["_attn_implementation_internal"]),
        ("org/attn-nested", errors.UnsafeCheckpoint, ["text_config.attn_implementation"]),
        ("org/base-encoder", errors.NotAClassifier, ["BertModel, not a sequence classifier"]),
        ("org/headless", errors.NotAClassifier, ["no trained classification head", "classifier.weight"]),
        ("org/corrupt-header", errors.BrokenCheckpoint, ["safetensors weights are corrupt"]),
        ("org/truncated", errors.BrokenCheckpoint, ["weights could not be loaded", "incomplete"]),
        ("org/bad-tokenizer", errors.BrokenCheckpoint, ["tokenizer files could not be loaded"]),
        ("org/tokenizer-mismatch", errors.BrokenCheckpoint, ["tokenizer has token ids up to", "embedding table has only"]),
        ("org/labels-1e9", errors.CheckpointTooLarge, ["num_labels = 1,000,000,000"]),
        ("org/layers-10000", errors.CheckpointTooLarge, ["num_hidden_layers = 10,000"]),
        ("org/layers-200", errors.BrokenCheckpoint, ["describes a model of 1.4M parameters", "hold only 28,557"]),
        ("org/unk-tokenizer", errors.BrokenCheckpoint, ["vocabulary of only 5 token(s)"]),
        ("org/junk-tokenizer", errors.BrokenCheckpoint, ["reads every word of a probe sentence"]),
        ("org/gated", errors.AccessDenied, ["is gated", "never uses a token"]),
        ("org/gated-info", errors.AccessDenied, ["is gated"]),
        ("org/private", errors.AccessDenied, ["is private"]),
        ("org/disabled", errors.AccessDenied, ["disabled"]),
    ],
)
def test_hostile_repos_get_their_own_message(policy, repo, kind, words):
    _fails(policy, repo, kind, *words)


@pytest.mark.parametrize("repo", ["org/labels-1e9", "org/layers-10000", "org/layers-200"])
def test_hostile_configs_are_refused_before_any_weight_is_downloaded(hub, policy, repo):
    """From config.json and the safetensors metadata alone: every GET of a weights file is a
    ranged one (its header), none for the whole file."""
    _fails(policy, repo, Exception)
    assert not list(Path(policy.cache_dir).rglob("model.safetensors")), "weights were downloaded"
    weights = [(m, path, h.get("range")) for m, path, h in hub.proxy.log if path.split("?")[0].endswith(".safetensors")]
    assert all(rng for m, _, rng in weights if m == "GET"), weights


def test_too_many_parameters_or_bytes(policy):
    from dataclasses import replace

    _fails(
        replace(policy, max_parameters=10_000),
        "org/good",
        errors.CheckpointTooLarge,
        " parameters; this server explains models of up to 10,000",
    )
    _fails(replace(policy, max_bytes=50_000), "org/good", errors.CheckpointTooLarge, "downloads at most")
    assert not list(Path(policy.cache_dir).rglob("model.safetensors"))  # refused before download


def test_slow_hub_fails_fast(policy):
    _fails(policy, "org/slow", errors.HubUnavailable, "did not answer within 2 s")  # not the 30 s stall


@pytest.mark.slow
def test_hub_vanishing_or_stalling_mid_download(policy):
    _fails(policy, "org/vanishing", errors.HubUnavailable, "cannot be reached: the connection to it broke off")
    _fails(
        policy, "org/stalling", errors.HubUnavailable, "Downloading org/stalling took longer than 6 s", "slow or unreachable"
    )
    assert not list(Path(policy.cache_dir).rglob("*.incomplete"))
    assert not list(Path(policy.cache_dir).rglob("model.safetensors"))


def test_hub_unreachable(policy):
    from dataclasses import replace

    port = free_port()  # nothing listens there
    _fails(replace(policy, endpoint=f"http://127.0.0.1:{port}"), "org/good", errors.HubUnavailable, "cannot be reached")


@pytest.mark.parametrize(
    "text",
    [
        "/etc",
        "../x",
        "~/secrets",
        "a/b/c",
        "org/na--me",
        "C:\\models\\x",
        "org/name@../../etc",
        "",
        "org/name.git",
        "x" * 200,
    ],
)
def test_ids_are_validated_before_any_io(hub, policy, text):
    with pytest.raises(errors.InvalidInput):
        load_hub_classifier(text, policy=policy)
    assert hub.proxy.log == [] and not Path(policy.cache_dir).exists()


def test_existing_server_folder_is_never_loaded_by_name(policy, tiny_root, monkeypatch):
    """A visitor naming a folder that exists on the server (here ./bert, a valid
    checkpoint) gets the Hub's answer for that ID, never the folder."""
    from explain.checkpoints import load_classifier

    monkeypatch.chdir(tiny_root)
    assert Path("bert/config.json").is_file()
    with pytest.raises(errors.CheckpointNotFound, match="no public model 'bert'"):
        load_classifier("bert", allow_local=False, hub_policy=policy)
    with pytest.raises(errors.InvalidInput, match="path on the server"):
        load_classifier("./bert", allow_local=False, hub_policy=policy)


def test_parse_repo_id():
    assert parse_repo_id("org/name") == ("org/name", None)
    assert parse_repo_id(" org/name@v1.0 ") == ("org/name", "v1.0")
    assert parse_repo_id("gpt2", "refs/pr/3") == ("gpt2", "refs/pr/3")


def test_cache_is_bounded_and_evicts_least_recently_used(policy):
    from dataclasses import replace

    first = load_hub_classifier("org/good", policy=policy)
    size_one = HubCache(policy.cache_dir, 1).size()
    small = replace(policy, cache_max_bytes=int(size_one * 1.6))
    load_hub_classifier("org/sharded", policy=small)
    cache = HubCache(policy.cache_dir, small.cache_max_bytes)
    assert cache.size() <= small.cache_max_bytes
    assert not cache.is_verified("org/good", first.revision)
    assert not (Path(policy.cache_dir) / "models--org--good" / "snapshots" / first.revision).exists()
    again = load_hub_classifier("org/good", policy=small)  # downloads again, evicting org/sharded
    assert again.revision == first.revision and cache.size() <= small.cache_max_bytes
    with pytest.raises(errors.CheckpointTooLarge, match="whole download cache"):
        load_hub_classifier("org/sharded", policy=replace(policy, cache_max_bytes=size_one // 2))


def test_offline_serves_only_verified_snapshots(hub, policy, monkeypatch):
    clf = load_hub_classifier("org/good", policy=policy)
    with pytest.raises(errors.HubUnavailable):
        load_hub_classifier("org/vanishing", policy=policy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.proxy.log.clear()
    folder, sha, repo = fetch_checkpoint("org/good", policy=policy)
    assert sha == clf.revision and repo == "org/good" and hub.proxy.log == []
    assert fetch_checkpoint(f"org/good@{sha}", policy=policy)[0] == folder
    with pytest.raises(errors.HubUnavailable, match="offline"):
        fetch_checkpoint("org/good@v1", policy=policy)  # never loaded: not verified
    with pytest.raises(errors.HubUnavailable, match="offline"):
        fetch_checkpoint("org/vanishing", policy=policy)


def test_app_keeps_serving_after_failed_loads(hub, policy, monkeypatch, tiny_path):
    import gradio as gr

    import app

    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("EXPLAIN_HUB_CACHE", policy.cache_dir)
    text = "An absolute delight from start to finish!"
    words, labels, *_ = final(app.run_explain(text, "org/good"))
    assert "".join(w for w, _ in words) == text
    for bad, expect in [
        ("org/auto-map", "run its own code"),
        ("org/missing", "no public model"),
        ("/etc", "path on the server"),
        ("<img src=x onerror=alert(1)>", "'<img src=x"),
    ]:
        with pytest.raises(gr.Error) as info:
            final(app.run_explain(text, bad))  # a direct call, no page: plain text
        assert expect in str(info.value.message) and "&lt;" not in str(info.value.message)
    words, *_ = final(app.run_explain(text, "org/good"))
    assert "".join(w for w, _ in words) == text


# --- issue 22: list-valued sizes (H2), what failed in words (L1) ------------------------------


def _refused(policy, repo, kind, *words) -> str:
    """As ``_fails``, without timing anything: the refusal, its words, no server path."""
    with pytest.raises(kind) as info:
        load_hub_classifier(repo, policy=policy)
    message = str(info.value)
    for word in words:
        assert word in message, message
    for where in (policy.cache_dir, str(Path(policy.cache_dir).resolve()), "/tmp/", str(Path.home())):
        assert where not in message, message
    print(f"\n{repo}: [{info.value.code}] {message}")
    return message


def test_list_valued_sizes_are_refused_before_any_download(policy):
    _refused(
        policy, "org/funnel-blocks", errors.CheckpointTooLarge, "block_sizes = 3,000 (layers); this server loads at most 256"
    )
    assert not list(Path(policy.cache_dir).rglob("model.safetensors")), "weights were downloaded"


UPSTREAM_BODY = (
    b'{"error": "Internal failure at http://mirror.internal:8090/api/models/org/good (token=hf_upstreamsecret0123456789)"}'
)


def _in_words(message: str) -> None:
    """Nothing upstream repeated: no URL, no response body, no token, no OS error text."""
    for leak in (
        "http://",
        "https://",
        "127.0.0.1",
        "mirror.internal",
        "hf_",
        "token",
        "Errno",
        "Internal failure",
        "HfHubHTTPError",
        "ConnectError",
        "for url",
        "Name or service",
        "Connection refused",
        "Server disconnected",
        "no-such-host",
    ):
        assert leak not in message, (leak, message)


@pytest.mark.parametrize(
    "status,words",
    [
        (500, "The Hugging Face Hub answered with an error (500)."),
        (502, "The Hugging Face Hub answered with an error (502)."),
        (418, "The Hugging Face Hub answered with an error (418)."),
        (429, "The Hugging Face Hub is limiting requests right now (429)."),
    ],
)
def test_hub_errors_are_said_in_words(hub, policy, status, words):
    from dataclasses import replace

    hub.proxy.rules.insert(
        0,
        hs.repo_rule("org/good", {"status": status, "body": UPSTREAM_BODY, "headers": {"Content-Type": "application/json"}}),
    )
    _in_words(_refused(replace(policy, metadata_deadline_s=30), "org/good", errors.HubUnavailable, words))


def test_unreachable_hubs_are_said_in_words(policy):
    from dataclasses import replace

    _in_words(
        _refused(
            replace(policy, endpoint=f"http://127.0.0.1:{free_port()}"),
            "org/good",
            errors.HubUnavailable,
            "cannot be reached: it refused the connection",
        )
    )
    _in_words(
        _refused(
            replace(policy, endpoint="http://no-such-host.invalid"),
            "org/good",
            errors.HubUnavailable,
            "cannot be reached: its address could not be resolved",
        )
    )


def test_a_slow_count_holds_no_download_lock(policy, monkeypatch):
    """Past the size rules (switched off here), the Funnel config's parameter count runs
    into the sizing child's deadline while the download lock is held: refused for that,
    nothing downloaded, and the lock free for the next visitor as the answer comes."""
    from dataclasses import replace

    from explain.checkpoints import hub as hub_mod
    from explain.checkpoints import load as loading

    monkeypatch.setattr(hub_mod.rules, "check_config_sizes", lambda *a, **k: None)
    _refused(
        replace(policy, sizing_deadline_s=1),
        "org/funnel-blocks",
        errors.CheckpointTooLarge,
        "counting its parameters took longer than this server's limit of 1 s",
    )
    assert loading._FETCH_LOCK.acquire(blocking=False)
    loading._FETCH_LOCK.release()
    assert not list(Path(policy.cache_dir).rglob("model.safetensors"))
