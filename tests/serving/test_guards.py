"""The public server's guards as plain functions: every field's type, readable Unicode,
the request-body limit (ASGI, before any parsing), who a visitor is, what a request
costs, a download folder capped in bytes, server paths hidden, failed checkpoints
remembered, and a load that runs past its deadline."""

import asyncio
import json
import math
import re
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from passes import count_passes

from explain.errors import CheckpointTooLarge, InvalidInput, ServerBusy
from explain.serving import BodyLimit, FolderPolicy, Request, ServeLimits, Service, client_key, fairness, over_cap, share
from explain.serving.limits import check_flag, check_steps, check_text

LIMITS = ServeLimits(max_chars=100, max_steps=64)


@pytest.mark.parametrize(
    "value,words",
    [
        ("abc", "must be a number, not text 'abc'"),
        ("5", "must be a number, not text '5'"),
        ([5], "not a list [5]"),
        (float("nan"), "whole number from 0 to 64, not nan"),
        (2.5, "not 2.5"),
        (True, "not true/false"),
        (-1, "not -1"),
        (65, "not 65"),
        (float("inf"), "not inf"),
    ],
)
def test_steps_are_whole_numbers_never_rounded(value, words):
    with pytest.raises(InvalidInput, match="Integration steps") as info:
        check_steps(LIMITS, value)
    assert words in str(info.value)


def test_steps_and_flags_that_are_fine():
    assert check_steps(LIMITS, 0) == 0 and check_steps(LIMITS, 64) == 64 and check_steps(LIMITS, 8.0) == 8
    assert check_steps(LIMITS, None) == 0  # a cleared number box
    assert check_flag(None, "compare") is False and check_flag(True, "compare") is True
    with pytest.raises(InvalidInput, match="compare option must be true or false, not text 'yes'"):
        check_flag("yes", "compare")


@pytest.mark.parametrize(
    "text,words",
    [
        ("fine \ud800 text", "not valid Unicode: character 6 is a lone surrogate (U+D800)"),
        ("\udfff", "lone surrogate (U+DFFF)"),
        ("\u200b\u200b\u200d", "nothing readable"),
        ("\x00\x07\x1b", "nothing readable"),
        ("\u2060\ufeff \t", "nothing readable"),
        ("   ", "empty"),
        (5, "must be a string, not a number"),
        (None, "must be a string, not null"),
        (["a"], "not a list"),
        ("x" * 101, "at most 100"),
    ],
)
def test_texts_that_cannot_be_explained(text, words):
    with pytest.raises(InvalidInput) as info:
        check_text(LIMITS, text)
    assert words in str(info.value), str(info.value)


def test_readable_texts_pass():
    for text in ("ok", "!!!", "😀", "٣", "\u200bword\u200b", "naïve café"):
        check_text(LIMITS, text)


def test_service_checks_every_field_before_loading(tiny_path, monkeypatch):
    service = Service(FolderPolicy(str(tiny_path("bert"))), LIMITS)
    monkeypatch.setattr(service, "load", lambda *a: pytest.fail("loaded before the fields were checked"))
    for request, words in [
        (Request("fine", target=7), "target 7 is not text"),
        (Request("fine", checkpoint=["x"]), "checkpoint ['x'] is not text"),
        (Request("fine", baseline="\ud800"), "not valid Unicode"),
        (Request("fine", faithfulness="no"), "faithfulness option must be true or false"),
        (Request("fine", n_steps="8"), "must be a number"),
    ]:
        with pytest.raises(InvalidInput) as info:
            service.explain(request)
        assert words in str(info.value), str(info.value)


# --- the body limit, as ASGI ------------------------------------------------------------------


def _post(body_chunks, headers=(), max_bytes=1000):
    """POST ``body_chunks`` through BodyLimit to an app that reads the whole body.
    Returns (status, response body, the bodies the app read, whether the app was called)."""
    sent, read, called = [], [], []
    chunks = list(body_chunks)

    async def receive():
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def app(scope, rcv, snd):
        called.append(True)
        while True:
            msg = await rcv()
            read.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        await snd({"type": "http.response.start", "status": 200, "headers": []})
        await snd({"type": "http.response.body", "body": b"ok"})

    scope = {"type": "http", "method": "POST", "path": "/gradio_api/queue/join", "headers": list(headers)}
    asyncio.run(BodyLimit(app, max_bytes=max_bytes, explain="texts of up to 80 characters")(scope, receive, send))
    return sent[0]["status"], sent[1]["body"], read, bool(called)


def test_body_limit_refuses_before_the_app_reads_anything():
    status, body, read, called = _post([b"x" * 600, b"x" * 600])  # no Content-Length: counted as read
    message = json.loads(body)["error"]
    assert status == 413 and not called and "more than 1,000 bytes" in message
    assert "texts of up to 80 characters" in message
    status, body, read, called = _post([b"x" * 10], headers=[(b"content-length", b"5000000")])
    assert status == 413 and not called and "5,000,000 bytes" in json.loads(body)["error"]
    status, body, read, called = _post([b"a" * 400, b"b" * 400])  # within the limit: handed on whole
    assert status == 200 and read == [b"a" * 400 + b"b" * 400]


def test_body_limit_is_sized_from_the_text_limit():
    assert ServeLimits(max_chars=20_000, report_max_bytes=1000).max_body_bytes == 12 * 20_000 + 65_536
    # ... or from a report's file (the "Many texts" tab), whichever is larger.
    assert ServeLimits(max_chars=20_000, report_max_bytes=2**20).max_body_bytes == 2**20 + 65_536
    text = "\U0001f600" * 20_000  # the worst case: every character a JSON-escaped surrogate pair
    body = json.dumps(
        {
            "data": [text, "x" * 256, "y" * 256, "auto", 512, "z" * 256, True, True, "engine"],
            "session_hash": "s" * 64,
            "fn_index": 3,
            "trigger_id": 12,
            "event_data": None,
        }
    )
    assert len(body.encode()) <= ServeLimits(max_chars=20_000).max_body_bytes


# --- fairness -----------------------------------------------------------------------------------


def test_client_key_trusts_only_the_proxies_it_is_told_of():
    headers = {"X-Forwarded-For": "6.6.6.6, 1.2.3.4"}
    assert client_key(headers, "10.0.0.9", 0) == "10.0.0.9"  # no proxy: the header is the visitor's word
    assert client_key(headers, "10.0.0.9", 1) == "1.2.3.4"  # what the proxy saw, not what was sent
    assert client_key(headers, "10.0.0.9", 2) == "6.6.6.6"
    assert client_key({}, "10.0.0.9", 1) == "10.0.0.9"


def test_over_cap_counts_one_visitor_only():
    assert over_cap("a", ["b", "b", "b"], 2) is None
    assert over_cap("a", ["a", "b"], 2) is None
    assert "already have 2 requests waiting or running" in over_cap("a", ["a", "b", "a"], 2)
    assert over_cap("a", ["a"] * 10, 0) is None  # 0: no cap


def test_cost_estimate_refuses_what_cannot_finish_and_says_what_fits():
    rate = 1e-4
    cost = fairness.estimate(500, 512, 512, "engine", faithfulness=True, compare=True, seconds_per_row_token=rate)
    assert cost.seconds == pytest.approx(rate * 502 * 3 * 512 + rate * 502 * 300 * 0.4)
    with pytest.raises(ServerBusy) as info:
        fairness.check_cost(cost, 60.0, 500, 512, True, True)
    message = str(info.value)
    fit = math.floor((60 - cost.fixed) / cost.per_step)
    assert f"would take about {cost.seconds:,.0f} s" in message
    assert f"Use at most {fit} integration steps with these checks (0: adaptive)" in message
    assert "faithfulness curves and the baseline comparison" in message and "leave the checks off" in message
    fairness.check_cost(fairness.estimate(500, 512, fit, "engine", True, True, rate), 60.0, 500, fit, True, True)
    long = fairness.estimate(4000, 512, 0, "engine", False, False, rate)  # windows overlap
    assert long.per_step == pytest.approx(rate * 4000 * 1.25)


def test_rate_is_learned_from_timed_explanations():
    memo = {}
    assert fairness.rate(memo, 4_000_000) == pytest.approx(1e-4)
    assert fairness.rate(memo, 1_000) == fairness.MIN_SECONDS_PER_ROW_TOKEN
    fairness.learn(memo, 50.0, 100, 200)  # the first, cold explanation: not used
    assert fairness.rate(memo, 4_000_000) == pytest.approx(1e-4)
    fairness.learn(memo, 6.0, 100, 200)
    assert fairness.rate(memo, 4_000_000) == pytest.approx(3e-4)
    fairness.learn(memo, 4.0, 100, 200)
    fairness.learn(memo, 9.0, 100, 200)  # a slow moment does not raise it
    assert fairness.rate(memo, 4_000_000) == pytest.approx(2e-4)


def test_public_mode_has_a_lower_step_default():
    assert ServeLimits.from_env({}).max_steps == 512
    assert ServeLimits.from_env({"SPACE_ID": "user/app"}).max_steps == 128
    assert ServeLimits.from_env({"EXPLAIN_PUBLIC": "1"}).max_steps == 128
    assert ServeLimits.from_env({"SPACE_ID": "user/app", "EXPLAIN_MAX_STEPS": "256"}).max_steps == 256
    assert ServeLimits.from_env({"SPACE_ID": "user/app"}).proxy_hops == 1 and ServeLimits.from_env({}).proxy_hops == 0


# --- downloads and paths ----------------------------------------------------------------------


def test_download_folder_is_capped_in_bytes(tmp_path):
    for i in range(30):
        share.write_files(tmp_path, {"a.txt": f"{i:03d}" + "x" * 9_997}, keep=200, max_bytes=50_000)
        assert share.folder_bytes(tmp_path) <= 50_000
    kept = sorted(p.read_text()[:3] for p in tmp_path.rglob("a.txt"))
    assert kept == [f"{i:03d}" for i in range(25, 30)]  # the newest five
    share.write_files(tmp_path, {"big.txt": "y" * 80_000}, max_bytes=50_000)  # the new one always stays
    assert [p.name for p in tmp_path.rglob("*.txt")] == ["big.txt"]


def test_messages_show_folder_names_never_server_paths(tmp_path):
    folder = tmp_path / "deep" / "models" / "my-model"
    folder.mkdir(parents=True)
    service = Service(FolderPolicy(str(folder)))
    for text in (
        f"{folder} has no config.json",
        f"{folder.resolve()}/config.json is broken",
        "(OSError: /root/.cache/explain/hub/models--a--b/snapshots/abc/model.safetensors)",
        "Can't load '/srv/app/weights/tokenizer.json'",
    ):
        shown = service.hide_paths(text)
        assert str(tmp_path) not in shown and "/root" not in shown and "/srv" not in shown, shown
    assert service.hide_paths(f"{folder} has no config.json") == "my-model has no config.json"
    for kept in ("org/name has no revision 'v1'", "see https://huggingface.co/org/name/tree/main", "'/etc'"):
        assert service.hide_paths(kept) == kept


def test_failed_checkpoints_are_remembered(tiny_path, tmp_path, monkeypatch):
    from explain.checkpoints import load as loading
    from explain.errors import BrokenCheckpoint

    broken = shutil.copytree(tiny_path("bert"), tmp_path / "broken")
    (broken / "tokenizer.json").write_text('{"version": "1.0", "model": 42')
    memo = loading.FailureMemo(ttl_s=600)
    calls = []
    real = loading.load_folder
    monkeypatch.setattr(loading, "load_folder", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    with pytest.raises(BrokenCheckpoint, match="tokenizer files could not be loaded"):
        loading.load_classifier(str(broken), failures=memo)
    with pytest.raises(BrokenCheckpoint, match="tries this checkpoint again") as info:
        loading.load_classifier(str(broken), failures=memo)
    assert len(calls) == 1 and "tokenizer files could not be loaded" in str(info.value)  # answered without a load
    with pytest.raises(BrokenCheckpoint):  # without a memo (the library), every call tries again
        loading.load_classifier(str(broken))
    assert len(calls) == 2


def test_a_slow_load_is_answered_at_its_deadline_and_remembered(tiny_path, tmp_path, monkeypatch):
    from explain.checkpoints import load as loading

    release, started = threading.Event(), threading.Event()
    calls, finished = [], []

    def slow(*args, **kwargs):
        calls.append(1)
        started.set()
        release.wait(120)  # until the test ends: a load slower than any deadline
        finished.append(1)
        raise AssertionError("never used")

    monkeypatch.setattr(loading, "load_folder", slow)
    memo = loading.FailureMemo(ttl_s=600)
    folder = str(shutil.copytree(tiny_path("distilbert"), tmp_path / "slow"))  # not in the cache of loaded models
    try:
        with pytest.raises(CheckpointTooLarge, match=r"took longer than this server.s limit of 0\.5 s"):
            loading.load_classifier(folder, load_deadline_s=0.5, failures=memo)
        assert not finished  # answered at the deadline while the load still runs, not when it ends
        assert started.wait(120)  # (on a busy machine the load may only start after the answer)
        with pytest.raises(CheckpointTooLarge, match="tries this checkpoint again"):
            loading.load_classifier(folder, load_deadline_s=0.5, failures=memo)
        assert len(calls) == 1
    finally:
        release.set()  # the abandoned load ends and gives its slot back


def test_download_lock_is_not_held_while_loading(tiny_path, monkeypatch):
    from explain.checkpoints import load as loading

    class Stop(Exception):
        pass

    held = []

    def load(*args, **kwargs):
        held.append(loading._FETCH_LOCK.locked())
        raise Stop

    monkeypatch.setattr(loading, "fetch_checkpoint", lambda *a, **k: (str(tiny_path("bert")), "0" * 40, "org/x"))
    monkeypatch.setattr(loading, "load_folder", load)
    with pytest.raises(Stop):
        loading.load_hub_classifier("org/x", policy=replace(loading.HubPolicy(), cache_dir=str(Path("/nonexistent"))))
    assert held == [False]


def test_a_request_that_cannot_finish_is_refused_at_once(tiny_path):
    """The cost estimate refuses a request whose explanation cannot finish within the
    deadline before it runs, and says what would fit; checks that would not fit beside an
    explanation that does are skipped with the reason instead (tests/serving/test_answers.py).
    The model's rate is set to what the tiny BERT measures on an idle 2-core machine (1e-5 s
    per gradient row per token; learning it is tested above) times three, so that the test
    does not depend on how busy the machine is."""
    service = Service(FolderPolicy(str(tiny_path("bert"))), ServeLimits(deadline_s=10.0))
    clf, _ = service.load("")
    clf.memo.update({fairness.MEMO_KEY: 3e-5, fairness.SEEN_KEY: 2})
    heavy = Request("The film was terrible, and the acting was worse. " * 60, n_steps=512, faithfulness=True, compare=True)
    passes, hook = count_passes(clf.model)
    try:
        with pytest.raises(ServerBusy, match="would take about") as info:
            service.explain(heavy)
    finally:
        hook.remove()
    print(f"\nrefused: {info.value}")
    assert passes == [] and "each request may run for 10 s" in str(info.value)  # refused before any forward pass
    fits = int(re.search(r"Use at most (\d+) integration steps \(0: adaptive\)", str(info.value)).group(1))
    expl = service.explain(replace(heavy, n_steps=fits // 4, faithfulness=False, compare=False))
    assert expl.steps >= fits // 4
