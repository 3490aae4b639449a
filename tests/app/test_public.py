"""The app as a public Space that one visitor cannot take down (issue 14): `python app.py`
on loopback, attacked over raw HTTP the way curl or a script would, with the server's
resident memory (VmRSS) measured before and after.

Visitors are told apart by X-Forwarded-For behind one trusted proxy (EXPLAIN_PROXY_HOPS=1),
as on a Space; each test is its own visitor. Every figure the issue asks for is printed."""

import json
import re
import shutil
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from appserver import AppServer, call, fn_index, join, listen, submit
from appserver import result as read_result
from paths import final

XSS = "<img src=x onerror=alert(1)>"
FLOOD = 17  # the queue monopoly: 17 requests within every limit
# An absolute path of two or more parts, as a leaked server path would look.
PATH = re.compile(r"(?<![\w.\-/:])(?:/[\w.@+\-]+){2,}")


def visitor(n: int) -> dict:
    return {"X-Forwarded-For": f"10.14.0.{n}"}


@pytest.fixture(scope="module")
def operator_folders(tiny_path, tmp_path_factory) -> dict:
    """Folders the operator lists: the tiny BERT and broken ones, deep in a server path."""
    root = tmp_path_factory.mktemp("srv") / "var" / "lib" / "models"
    bert = tiny_path("bert")
    out = {"bert": bert}
    (root / "no-weights").mkdir(parents=True)
    shutil.copy(bert / "config.json", root / "no-weights" / "config.json")
    out["no-weights"] = root / "no-weights"
    bad = shutil.copytree(bert, root / "bad-json")
    (bad / "config.json").write_text("{broken")
    out["bad-json"] = bad
    tok = shutil.copytree(bert, root / "bad-tokenizer")
    (tok / "tokenizer.json").write_text('{"version": "1.0", "model": 42')
    out["bad-tokenizer"] = tok
    huge = shutil.copytree(bert, root / "huge-layers")
    cfg = json.loads((huge / "config.json").read_text())
    (huge / "config.json").write_text(json.dumps({**cfg, "num_hidden_layers": 10_000}))
    out["huge-layers"] = huge
    return out


@pytest.fixture(scope="module")
def server(operator_folders, tmp_path_factory):
    import os

    log = tmp_path_factory.mktemp("public") / "app.log"
    listed = os.pathsep.join(str(p) for p in operator_folders.values())
    srv = AppServer(
        log,
        EXPLAIN_DEFAULT_MODEL=str(operator_folders["bert"]),
        EXPLAIN_LOCAL_MODELS=listed,
        EXPLAIN_PROXY_HOPS="1",
        EXPLAIN_SESSIONS="8",
        EXPLAIN_CLIENT_QUEUE="2",
        EXPLAIN_QUEUE_SIZE="16",
        EXPLAIN_MAX_TOKENS="8000",
        EXPLAIN_CONCURRENCY="1",
    )
    srv.start()
    kind, out = call(srv.url, "explain_json", ["A warm-up sentence.", "", ""], headers=visitor(1))
    assert kind == "complete", out
    yield srv
    srv.stop()


def _no_server_path(message: str, *roots) -> None:
    for root in roots:
        assert str(root) not in message, message
    assert not PATH.search(message), message


# --- memory ---------------------------------------------------------------------------------------


def test_refused_5mb_bodies_leave_nothing_behind(server):
    big = json.dumps({"data": ["word " * (5 * 2**20 // 5), "", ""]}).encode()
    before = server.rss()
    statuses = []
    for i in range(20):
        if i % 4 == 3:  # no Content-Length: the limit counts the bytes as they arrive
            resp = httpx.post(
                f"{server.url}gradio_api/call/explain_json",
                content=iter([big[: 2**20], big[2**20 :]]),
                headers={"content-type": "application/json", **visitor(2)},
                timeout=60,
            )
        elif i % 4 == 2:  # the page's route
            resp = join(server.url, 0, None, f"big-{i}", headers=visitor(2), raw=big)
        else:
            resp = httpx.post(
                f"{server.url}gradio_api/call/explain_json",
                content=big,
                timeout=60,
                headers={"content-type": "application/json", **visitor(2)},
            )
        statuses.append(resp.status_code)
        if resp.status_code == 413:
            assert "accepts at most" in resp.json()["error"] and "20,000 characters" in resp.json()["error"]
    time.sleep(1)
    after = server.rss()
    print(f"\nRSS after 20 refused 5 MB bodies: {before:.0f} -> {after:.0f} MiB ({after - before:+.1f})")
    assert statuses == [413] * 20, statuses
    assert after - before < 15, (before, after)
    kind, out = call(server.url, "explain_json", ["Still serving.", "", ""], headers=visitor(2))
    assert kind == "complete" and out[0]["text"] == "Still serving."


@pytest.mark.slow
def test_sessions_are_bounded(server):
    """100 sessions explaining a 5,000-character text (served from the result cache after the
    first): Gradio keeps each session's outputs, for at most EXPLAIN_SESSIONS (8) sessions."""
    words = "the film was terrible, and acting worse. an absolute delight from start to finish! ".split()
    text = " ".join(words[i % len(words)] for i in range(900))[:5000]
    form = [text, "", "", "auto", 0, "", False, False, "engine"]
    rss = []
    for i in range(100):
        kind, out = call(server.url, "explain", form, session_hash=f"bounded-{i}", headers=visitor(3))
        assert kind == "complete", out
        if i in (9, 99):
            rss.append(server.rss())
    print(
        f"\nRSS after 10 and 100 sessions ({len(text):,}-character text): {rss[0]:.0f} -> {rss[1]:.0f} MiB "
        f"({rss[1] - rss[0]:+.1f})"
    )
    assert rss[1] - rss[0] < 25, rss


def test_unread_results_count_against_the_visitor(server):
    """A /call/ result nobody reads stays in memory: one visitor may leave at most two."""
    answers = [submit(server.url, "explain_json", [f"Never read {i}.", "", ""], headers=visitor(4)) for i in (0, 1)]
    # Model events run one at a time, each visitor's n-th after the others' (n-1)-th: another
    # visitor's second request answered means both have finished, unread (an order, not a sleep).
    for n in (1, 2):
        assert call(server.url, "explain_json", [f"After them ({n}).", "", ""], headers=visitor(17))[0] == "complete"
    answers += [submit(server.url, "explain_json", [f"Never read {i}.", "", ""], headers=visitor(4)) for i in (2, 3)]
    assert [a.status_code for a in answers] == [200, 200, 429, 429], [a.text for a in answers]
    assert "(2 of them finished but were never read" in answers[2].json()["detail"]
    assert submit(server.url, "explain_json", ["Another visitor.", "", ""], headers=visitor(5)).status_code == 200


@pytest.mark.slow
def test_soak_300_requests_from_100_sessions(server):
    """300 distinct short requests from 100 sessions: resident memory stays within 25 MiB of
    where it stood after the first 100 (caches and sessions are full by then)."""
    rss = {}
    t = time.monotonic()
    for i in range(300):
        kind, out = call(
            server.url,
            "explain_json",
            [f"Soak {i}: the film was terrible, and the acting worse.", "", ""],
            session_hash=f"soak-{i % 100}",
            headers=visitor(6),
        )
        assert kind == "complete", out
        if i + 1 in (100, 200, 300):
            rss[i + 1] = server.rss()
    print(
        f"\nsoak: 300 requests from 100 sessions in {time.monotonic() - t:.0f} s; RSS after 100/200/300: "
        + ", ".join(f"{v:.0f}" for v in rss.values())
        + " MiB"
    )
    assert rss[300] - rss[100] < 25, rss


# --- fairness ----------------------------------------------------------------------------------------


def test_one_visitor_cannot_monopolise_the_queue(server):
    """17 heavy requests (every limit respected: 512 steps, faithfulness and comparison) from
    one visitor, then a short one from another: the flood gets two places, the rest a clear
    refusal at once, and the short request waits for at most those two."""
    heavy = "The film was terrible, and the acting was worse. An absolute delight from start to finish! " * 4
    form = lambda i: [f"{heavy} ({i})", "", "", "auto", 512, "", True, True, "engine"]
    t = time.monotonic()
    kind, out = call(server.url, "explain", form("alone"), headers=visitor(7))
    single = time.monotonic() - t
    assert kind == "complete", out
    outcomes = [None] * FLOOD

    posted = threading.Barrier(FLOOD + 1)

    def flood(i):
        resp = submit(server.url, "explain", form(i), headers=visitor(8))
        posted.wait()
        outcomes[i] = (
            read_result(server.url, "explain", resp.json()["event_id"])
            if resp.status_code == 200
            else ("refused", (resp.status_code, resp.text))
        )

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(FLOOD)]
    for th in threads:
        th.start()
    posted.wait(600)  # the flood is in: every one of its requests queued or refused
    t = time.monotonic()
    kind, out = call(
        server.url, "explain", ["Short and sweet.", "", "", "auto", 0, "", False, False, "engine"], headers=visitor(9)
    )
    wait = time.monotonic() - t
    for th in threads:
        th.join(600)  # a hang guard, not a speed claim
    done = sum(o is not None and o[0] == "complete" for o in outcomes)
    refused = [o for o in outcomes if o is not None and o[0] == "refused"]
    print(
        f"\nqueue monopoly: one heavy request alone {single:.1f} s; flood of {FLOOD}: {done} ran, {len(refused)} "
        f"refused; a short request from another visitor: {kind} after {wait:.1f} s"
    )
    assert kind == "complete" and out[3]["text"] == "Short and sweet.", out
    assert done == 2 and len(refused) == FLOOD - 2, outcomes
    assert all(status == 429 and "waiting or running" in body for status, body in (r[1] for r in refused))
    # The flood was in (queued or refused) before the short request was sent, and only two of
    # it ran: so the short request waited for those two at most - counted, not timed.


# --- messages ---------------------------------------------------------------------------------------


def test_messages_plain_for_api_callers_escaped_once_for_the_page(server):
    kind, plain = call(server.url, "explain_json", ["fine", XSS, ""], headers=visitor(10))
    assert kind == "error" and plain["error"].startswith(f"{XSS!r} is not a valid Hub model ID"), plain
    kind, page = call(server.url, "explain_json", ["fine", XSS, ""], headers={**visitor(10), "x-gradio-user": "app"})
    assert kind == "error" and page["error"].startswith("'&lt;img src=x onerror=alert(1)&gt;' is not a valid"), page
    assert "&amp;" not in page["error"]  # escaped exactly once


NAN_STEPS = b'{"data": ["fine", "", "", "auto", NaN, "", false, false, "engine"]}'


@pytest.mark.parametrize(
    "api,data,words",
    [
        ("explain", ["fine", "", "", "auto", "abc", "", False, False, "engine"], "Integration steps must be a number"),
        ("explain", ["fine", "", "", "auto", "5", "", False, False, "engine"], "must be a number, not text '5'"),
        ("explain", ["fine", "", "", "auto", [5], "", False, False, "engine"], "not a list [5]"),
        ("explain", NAN_STEPS, "whole number from 0 to 512, not nan"),
        ("explain", ["fine", "", "", "auto", 2.5, "", False, False, "engine"], "not 2.5"),
        (
            "explain",
            ["fine"],
            "takes 9 inputs (text, checkpoint, target, baseline, n_steps, contrast, faithfulness, "
            "compare, method); the request sent 1. Send all of them in this order (gradio_client fills "
            "in the defaults for you). Optional after them: text_pair, candidate_labels, "
            "hypothesis_template, multi_label.",
        ),
        ("explain", ["fine", "", "", "auto", 0, "", "yes", False, "engine"], "faithfulness option must be true or false"),
        ("explain", ["fine", "", "", "auto", 0, "", False, False, "engine", 5], "The text pair must be a string"),
        (
            "explain",
            ["fine", "", "", "auto", 0, "", False, False, "engine", "", ["a"]],
            "comma-separated labels, not a list",
        ),
        ("explain", ["fine", "", "", "auto", 0, "", False, False, "engine", "", "a, b", "no braces"], "'{}' exactly once"),
        (
            "explain",
            ["fine", "", "", "auto", 0, "", False, False, "engine", "", "a, b", "", "yes"],
            "multi-label option must be true or false",
        ),
        ("explain_json", ["fine", "", "", {"x": 1}], "The text pair must be a string, not an object"),
        ("explain_json", ["fine", "", "", "", 3], "comma-separated labels, not a number"),
        ("explain", [5, "", "", "auto", 0, "", False, False, "engine"], "The text must be a string, not a number"),
        ("explain", ["fine", ["x"], "", "auto", 0, "", False, False, "engine"], "checkpoint ['x'] is not text"),
        ("explain_json", [None, "", ""], "The text must be a string, not null"),
        ("explain_json", [["a"], "", ""], "not a list"),
        ("explain_json", ["fine", 7, ""], "7 is not text"),
        ("explain_json", ["fine"], "takes 3 inputs (text, model, target); the request sent 1"),
        ("explain_json", [], "Optional after them: text_pair, candidate_labels, hypothesis_template."),
        ("labels", [5], "checkpoint 5 is not text"),
        ("labels", [], "takes 1 input (checkpoint); the request sent 0"),
    ],
)
def test_every_type_error_gets_the_apps_own_message(server, api, data, words):
    if isinstance(data, bytes):
        resp = httpx.post(
            f"{server.url}gradio_api/call/{api}",
            content=data,
            timeout=30,
            headers={"content-type": "application/json", **visitor(11)},
        )
        from appserver import result

        kind, out = result(server.url, api, resp.json()["event_id"])
    else:
        kind, out = call(server.url, api, data, headers=visitor(11))
    assert kind == "error" and out and out.get("error"), (kind, out)
    assert words in out["error"], out["error"]


def test_callers_from_before_the_optional_inputs_keep_working(server):
    """Nine inputs to /explain and three to /explain_json, as before text pairs and zero-shot
    labels existed: the optional ones take their defaults."""
    kind, out = call(
        server.url, "explain", ["Nine inputs.", "", "", "auto", 0, "", False, False, "engine"], headers=visitor(16)
    )
    assert kind == "complete" and out[3]["text"] == "Nine inputs." and out[3]["text_pair"] is None, out
    assert len(out) == 16 and out[12] == ""  # every output, no error
    kind, out = call(server.url, "explain_json", ["Three inputs.", "", ""], headers=visitor(16))
    assert kind == "complete" and out[0]["text"] == "Three inputs.", out
    kind, out = call(server.url, "explain_json", ["A pair.", "", "", "Its second text."], headers=visitor(16))
    assert kind == "complete" and out[0]["text_pair"] == "Its second text.", out


def test_invalid_unicode_and_unreadable_texts(server):
    body = b'{"data": ["A lone \\ud800 surrogate.", "", ""]}'
    resp = httpx.post(
        f"{server.url}gradio_api/call/explain_json",
        content=body,
        timeout=30,
        headers={"content-type": "application/json", **visitor(12)},
    )
    from appserver import result

    kind, out = result(server.url, "explain_json", resp.json()["event_id"])
    assert kind == "error" and "not valid Unicode: character 8 is a lone surrogate (U+D800)" in out["error"], out
    for text in ("\u200b\u200b\u200d", "\x00\x01\x02", "\u2060 \ufeff"):
        kind, out = call(server.url, "explain_json", [text, "", ""], headers=visitor(12))
        assert kind == "error" and "nothing readable" in out["error"], out


def test_broken_operator_folders_are_named_never_located(server, operator_folders):
    root = operator_folders["no-weights"].parent
    for name, words in [
        ("no-weights", "no-weights has no .safetensors weights"),
        ("bad-json", "config.json in bad-json is not valid JSON"),
        ("bad-tokenizer", "bad-tokenizer's tokenizer files could not be loaded"),
        ("huge-layers", "num_hidden_layers = 10,000"),
    ]:
        for api, data in (
            ("explain_json", ["fine", name, ""]),
            ("explain", ["fine", name, "", "auto", 0, "", False, False, "engine"]),
        ):
            kind, out = call(server.url, api, data, headers=visitor(13))
            assert kind == "error" and words in out["error"], out
            _no_server_path(out["error"], root, root.parent.parent)


def test_share_event_renders_only_the_servers_own_results(server):
    """The share panel's event, called directly with a fabricated result, renders nothing;
    after a real explanation in the same session it renders that one."""
    from app import DOWNLOADS

    share = fn_index(server.url, "share_panel")
    marker = f"FORGED-{uuid.uuid4().hex}"
    forged = {"schema_version": "1.1", "text": marker * 2000, "words": [], "labels": ["a"], "probabilities": {"a": 1}}
    session = f"forger-{uuid.uuid4().hex[:8]}"
    assert join(server.url, share, [forged, "", ""], session, headers=visitor(14)).status_code == 200
    message = listen(server.url, session)
    assert marker not in json.dumps(message)
    assert not any(marker in p.read_text(errors="replace") for p in DOWNLOADS.rglob("*") if p.is_file())

    session = f"honest-{uuid.uuid4().hex[:8]}"
    explain = fn_index(server.url, "explain")
    text = f"A real explanation {uuid.uuid4().hex[:6]}."
    assert (
        join(
            server.url, explain, [text, "", "", "auto", 0, "", False, False, "engine"], session, headers=visitor(14)
        ).status_code
        == 200
    )
    assert listen(server.url, session)["success"]
    assert join(server.url, share, [forged, "", ""], session, headers=visitor(14)).status_code == 200
    shown = json.dumps(listen(server.url, session)["output"])
    assert marker not in shown and "A%20real%20explanation" in shown


def test_refused_requests_do_not_flood_the_log(server):
    """Issue 22 L6: 40 refused requests in a burst add at most one line naming one of them
    (the first refusal of its kind in a minute is written in full, the rest counted into one
    summary line a minute), never a traceback."""
    markers = [f"/etc/refused-{uuid.uuid4().hex[:8]}" for _ in range(40)]
    for marker in markers:
        kind, out = call(server.url, "explain_json", ["fine", marker, ""], headers=visitor(15))
        assert kind == "error" and "path on the server" in out["error"]
    log = server.log_text()
    lines = [line for line in log.splitlines() if any(m in line for m in markers)]
    assert len(lines) <= 1 and all("refused" in line for line in lines), lines
    assert "refused (" in log and "Traceback" not in log, log[-3000:]


# --- one concurrency group (in this process, to watch the model calls) ------------------------------


def test_one_concurrency_group_for_everything_that_runs_a_model(app_module, monkeypatch, tmp_path):
    """With EXPLAIN_CONCURRENCY=1, /explain, /explain_json, /labels and an example never run
    a model at the same time: each call into the service is watched for overlap."""
    from dataclasses import replace

    from serve import serving

    service = app_module.SERVICE
    monkeypatch.setattr(service, "limits", replace(service.limits, concurrency=1, client_queue=0))
    inside, overlaps, calls = set(), [], []
    lock = threading.Lock()
    real_load = service.load

    def watched(real, name):
        def call_(*args, **kwargs):
            me = threading.get_ident()
            with lock:
                if inside - {me}:
                    overlaps.append(name)
                inside.add(me)
                calls.append(name)
            try:
                time.sleep(0.3)  # long enough for a second event to start, were it allowed to
                return real(*args, **kwargs)
            finally:
                with lock:
                    inside.discard(me)

        return call_

    real_answer = service.answer  # every explanation goes through it (Service.explain too)
    monkeypatch.setattr(service, "answer", watched(real_answer, "explain"))
    monkeypatch.setattr(service, "load", watched(real_load, "load"))
    demo = app_module.build_demo()
    results = {}
    form = ["Four.", "", "", "auto", 0, "", False, False, "engine", "", "", "", False]
    with serving(demo) as url:
        example = fn_index(url, "run_example")  # what an example text's click runs
        jobs = {
            "explain": lambda: call(url, "explain", ["One.", "", "", "auto", 0, "", False, False, "engine"]),
            "explain_json": lambda: call(url, "explain_json", ["Two.", "", ""]),
            "labels": lambda: call(url, "labels", [""]),
            "example": lambda: (join(url, example, form, "example-session"), listen(url, "example-session"))[1],
        }
        threads = [threading.Thread(target=lambda n=n, job=job: results.update({n: job()})) for n, job in jobs.items()]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
    print(f"\nmodel calls: {calls}; overlapping: {overlaps}")
    assert results["explain"][0] == results["explain_json"][0] == results["labels"][0] == "complete", results
    assert results["example"]["success"], results["example"]
    assert calls.count("explain") == 3 and overlaps == []
    groups = {
        (fn.concurrency_id, fn.concurrency_limit)
        for fn in demo.fns.values()
        if getattr(fn.fn, "__name__", "") in app_module.MODEL_FUNCTIONS
    }
    assert groups == {(app_module.MODEL_GROUP, 1)}


URL_LABELS = {"0": "https://evil.example/x", "1": "www.evil.example", "2": "mail@evil.example"}


@pytest.fixture(scope="module")
def url_labels(tiny_path, tmp_path_factory) -> Path:
    """The tiny BERT with label names that GitHub-flavoured Markdown would turn into links."""
    folder = shutil.copytree(tiny_path("bert"), tmp_path_factory.mktemp("labels") / "url-labels")
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(id2label=URL_LABELS, label2id={v: int(k) for k, v in URL_LABELS.items()})
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def test_label_names_never_become_links(app_module, url_labels, monkeypatch):
    """Every panel that shows a label name as Markdown (details, trust, comparison) escapes
    what a renderer would autolink: "https:", "www." and "@"."""
    monkeypatch.setenv("EXPLAIN_LOCAL_MODELS", str(url_labels))
    for target, contrast in ((URL_LABELS["0"], URL_LABELS["1"]), (URL_LABELS["2"], "")):
        out = final(
            app_module.run_explain("The film was terrible.", url_labels.name, target, "auto", 8, contrast, True, True)
        )
        details, result, headline, comparison, trust = out[2], out[3], out[5], out[6], out[13]
        assert result["target"] == target
        for panel in (details, headline, trust, comparison):
            assert panel and not re.search(r"(?<!\\)(https?:|www\.|@)", panel), panel


def test_a_refused_request_leaves_no_session_behind(app_module, monkeypatch):
    """Gradio stores an event's inputs in its session before the app sees them; a refused
    request's session (its inputs among it) is dropped with the refusal, a served one kept."""
    from dataclasses import replace

    from serve import serving

    monkeypatch.setattr(app_module.SERVICE, "limits", replace(app_module.SERVICE.limits, client_queue=0))
    demo = app_module.build_demo()
    explain = None
    with serving(demo) as url:
        explain = fn_index(url, "explain")
        refused = [f"refused-{i}-{uuid.uuid4().hex[:6]}" for i in range(5)]
        for i, session in enumerate(refused):
            form = ["x" * 30_000 if i % 2 else "fine", "", "", "auto", "abc", "", False, False, "engine"]
            assert join(url, explain, form, session).status_code == 200
            assert not listen(url, session)["success"]
        served = f"served-{uuid.uuid4().hex[:6]}"
        assert join(url, explain, ["Fine.", "", "", "auto", 0, "", False, False, "engine"], served).status_code == 200
        assert listen(url, served)["success"]
        kept = set(demo.state_holder.session_data)
    assert served in kept and not kept & set(refused), kept


def test_a_flood_of_every_kind_of_event_leaves_others_served(server):
    """Issue 22 H1/M2: one client floods the queue with every kind of event - the share
    panel (a page event that costs no model), the page's model event, with a second
    X-Forwarded-For line to look like 40 visitors - from 40 threads; another visitor's plain
    requests all succeed meanwhile. The flood gets a few places (every event counts for the
    visitor, whatever the extra header line says); the rest is refused at once."""
    share = fn_index(server.url, "share_panel")
    explain = fn_index(server.url, "explain")
    form = ["Flooding the queue, again.", "", "", "auto", 0, "", False, False, "engine"]
    stop = threading.Event()
    statuses = []
    lock = threading.Lock()

    def flood(i):
        for k in range(12):  # bounded: at most 480 joins in all
            if stop.is_set():
                return
            index, data = (share, []) if k % 2 else (explain, form)
            raw = [(b"x-forwarded-for", f"10.1.0.{i}".encode()), (b"x-forwarded-for", b"6.6.6.6")]
            r = httpx.post(
                f"{server.url}gradio_api/queue/join",
                timeout=30,
                headers=[(b"content-type", b"application/json"), *raw, (b"x-gradio-user", b"app")],
                content=json.dumps(
                    {
                        "data": data,
                        "fn_index": index,
                        "session_hash": f"flood-{i}-{k}",
                        "event_data": None,
                        "trigger_id": None,
                    }
                ).encode(),
            )
            with lock:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(40)]
    for th in threads:
        th.start()
    served = []
    try:
        for n in range(6):
            t = time.monotonic()
            kind, out = call(server.url, "explain_json", [f"A normal request {n}.", "", ""], headers=visitor(40))
            served.append((kind, round(time.monotonic() - t, 1)))
    finally:
        stop.set()
        for th in threads:
            th.join(120)
    accepted, refused = statuses.count(200), statuses.count(429)
    print(
        f"\nflood of {len(statuses)} joins from one client behind 40 forged addresses: {accepted} accepted, "
        f"{refused} refused (429); another visitor's 6 requests: {served}"
    )
    assert all(kind == "complete" for kind, _ in served), served
    assert refused > accepted and set(statuses) <= {200, 429}, statuses  # one visitor, whatever the header says
