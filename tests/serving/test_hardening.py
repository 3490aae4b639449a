"""What issue 22 found in the serving layer and the engine's label handling, beyond Gradio:
every X-Forwarded-For line counted (M2), IPv6 visitors keyed by their /64 (M3), zero-shot
only on NLI models (M4), hidden characters and normalised repeats in typed labels (L2),
operator folders named by their name only (L4), and refusals logged at a bounded rate (L6).
No test here sleeps or times anything: the log's clock is injected."""

import logging

import pytest
from relabel import relabelled
from starlette.datastructures import Headers

from explain import explain_zero_shot, load_classifier
from explain.engine.heads import candidate_list, label_key, nli_labels, resolve_label
from explain.errors import InvalidInput
from explain.logbook import Logbook
from explain.serving import FolderPolicy, ServeLimits, Service, client_key, over_cap
from explain.serving.limits import check_candidates, check_field

# --- M2: every X-Forwarded-For line ------------------------------------------------------------


def test_duplicate_forwarded_for_lines_are_joined_before_counting_hops():
    """The issue's bypass: each join sent 'X-Forwarded-For: 10.1.0.<i>' then
    'X-Forwarded-For: 6.6.6.6'; reading the first line only made ten visitors of one."""
    keys = []
    for i in range(10):
        raw = [(b"host", b"space"), (b"x-forwarded-for", f"10.1.0.{i}".encode()), (b"X-Forwarded-For", b"6.6.6.6")]
        keys.append(client_key(raw, "10.0.0.1", 1))
    assert keys == ["6.6.6.6"] * 10
    refused = [over_cap(key, keys[:i], 2) for i, key in enumerate(keys)]
    assert [r is None for r in refused] == [True, True] + [False] * 8  # 2 accepted, as with one joined line


def test_client_key_reads_starlette_headers_and_pairs_alike():
    lines = [(b"x-forwarded-for", b"9.9.9.9, 10.1.0.1"), (b"x-forwarded-for", b"6.6.6.6, 1.2.3.4")]
    headers = Headers(raw=lines)  # what request.headers is in Starlette (getlist keeps every line)
    for given in (headers, headers.raw, [(k.decode(), v.decode()) for k, v in lines]):
        assert client_key(given, "10.0.0.9", 1) == "1.2.3.4"
        assert client_key(given, "10.0.0.9", 2) == "6.6.6.6"
        assert client_key(given, "10.0.0.9", 3) == "10.1.0.1"
        assert client_key(given, "10.0.0.9", 0) == "10.0.0.9"  # no trusted proxy: the peer
        assert client_key(given, "10.0.0.9", 5) == "10.0.0.9"  # fewer entries than hops: the peer
    assert client_key({"X-Forwarded-For": "6.6.6.6, 1.2.3.4"}, "10.0.0.9", 1) == "1.2.3.4"  # one line, as a dict
    assert client_key([], None, 1) == "unknown"


# --- M3: an IPv6 visitor is a /64 --------------------------------------------------------------


@pytest.mark.parametrize(
    "address,key",
    [
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:eeee:dddd:cccc", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::7]:443", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("203.0.113.9", "203.0.113.9"),
        ("203.0.113.9:5678", "203.0.113.9"),
        ("not-an-address", "not-an-address"),
    ],
)
def test_ipv6_visitors_are_keyed_by_their_64(address, key):
    assert client_key([], address, 0) == key
    assert client_key([("X-Forwarded-For", f"6.6.6.6, {address}")], "10.0.0.1", 1) == key


def test_one_64_is_one_visitor_for_the_cap():
    pending = [client_key([], f"2001:db8:aa:bb::{i:x}", 0) for i in range(2)]
    assert over_cap(client_key([], "2001:db8:aa:bb:1:2:3:4", 0), pending, 2) is not None
    assert over_cap(client_key([], "2001:db8:aa:bc::1", 0), pending, 2) is None


# --- M4: zero-shot needs an NLI model ------------------------------------------------------------


def test_zero_shot_on_a_sentiment_model_is_refused(default_model_path):
    """The issue's case: 'sports, politics' on the bundled sentiment model gave sports 0.607
    (its 'positive' read as entailment)."""
    clf = load_classifier(default_model_path)
    assert clf.labels == ["negative", "positive"]
    with pytest.raises(InvalidInput) as info:
        explain_zero_shot("The match went to penalties.", clf, "sports, politics", cache=False)
    message = str(info.value)
    assert "needs an NLI model, one whose labels include entailment and contradiction" in message, message
    assert "'negative', 'positive'" in message and "facebook/bart-large-mnli" in message


@pytest.mark.parametrize(
    "labels,expect",
    [
        (["contradiction", "neutral", "entailment"], (2, 0)),  # MNLI
        (["entailment", "neutral", "contradiction"], (0, 2)),
        (["ENTAILMENT", "NOT_ENTAILMENT"], (0, 1)),  # two-class zero-shot models
        (["entailment", "not entailment"], (0, 1)),
        (["Contradiction", "Entailment", "Neutral"], (1, 0)),
    ],
)
def test_nli_labels_as_the_pipeline_picks_them(labels, expect):
    assert nli_labels(labels) == expect


@pytest.mark.parametrize(
    "labels",
    [["negative", "positive"], ["LABEL_0", "LABEL_1", "LABEL_2"], ["entailment", "neutral"], ["neutral", "contradiction"]],
)
def test_nli_labels_refuse_other_models(labels):
    with pytest.raises(InvalidInput, match="needs an NLI model"):
        nli_labels(labels)


# --- L2: hidden characters and repeats in typed labels ---------------------------------------------

LIMITS = ServeLimits()


@pytest.mark.parametrize(
    "value,words",
    [
        ("\u200b, \u200b\u200b, a\u200b, a", "U+200B ZERO WIDTH SPACE"),  # the four labels that look like two
        ("sports, poli\u202etics", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("sports, \u2066politics\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("sports, poli\ttics", "U+0009"),
        ("sports, \ufeffpolitics", "U+FEFF"),
        ("sports, Sports", "'sports' and 'Sports' are the same label"),
        ("ｓｐｏｒｔｓ, sports", "are the same label"),  # full-width forms
        ("sports  news, sports news", "are the same label"),
        ("a\u200d, a", "are the same label"),  # a joiner is kept, but does not make another label
        ("\u200d", "has nothing visible in it"),
    ],
)
def test_candidate_labels_with_hidden_characters_or_repeats_are_refused(value, words):
    for check in (lambda v: check_candidates(LIMITS, v), candidate_list):
        with pytest.raises(InvalidInput) as info:
            check(value)
        assert words in str(info.value), str(info.value)


def test_candidate_labels_that_are_fine():
    assert check_candidates(LIMITS, " sports , politics,cooking ") == ["sports", "politics", "cooking"]
    assert check_candidates(LIMITS, "👩\u200d💻, کتاب\u200cها, café") == ["👩\u200d💻", "کتاب\u200cها", "café"]
    assert label_key("Ｓports\u200d  News") == "sports news"


def test_targets_and_fields_with_hidden_characters_are_refused():
    for value in ("positive\u200b", "posi\u202etive", "\u2066positive"):
        with pytest.raises(InvalidInput, match="invisible or control character"):
            check_field(LIMITS, value, "target")
        with pytest.raises(InvalidInput, match="invisible or control character"):
            resolve_label(value, ["negative", "positive"])
    assert resolve_label(" Positive ", ["negative", "positive"]) == 1


def test_the_engine_refuses_candidates_the_server_would(tiny_path, tmp_path):
    nli = load_classifier(relabelled(tiny_path("bert"), tmp_path / "nli"))
    with pytest.raises(InvalidInput, match=r"U\+200B"):
        explain_zero_shot("A match.", nli, ["a\u200b", "a"], cache=False)
    with pytest.raises(InvalidInput, match="'sports' and 'SPORTS' are the same label"):
        explain_zero_shot("A match.", nli, "sports, SPORTS", cache=False)


# --- L4: operator folders by their configured name only --------------------------------------------


def test_an_operator_folder_is_named_by_its_name_only(tiny_path, tmp_path, monkeypatch):
    bert = tiny_path("bert")
    link = tmp_path / "models" / "linked-bert"
    link.parent.mkdir()
    link.symlink_to(bert)
    policy = FolderPolicy(str(bert), environ={"EXPLAIN_LOCAL_MODELS": str(link)})
    assert policy.resolve("") == (str(bert.resolve()), True)
    assert policy.resolve("bert") == (str(bert.resolve()), True)
    assert policy.resolve(" linked-bert ") == (str(link.resolve()), True)
    for path in (str(bert), str(bert.resolve()), str(link), f"{bert}/", str(bert.parent / "." / "bert")):
        assert policy.resolve(path) == (path.strip(), False), path  # a Hub ID then, i.e. refused as a path


def test_the_full_path_of_an_allowed_folder_is_refused_like_any_other(tiny_path, tmp_path):
    bert = tiny_path("bert")
    service = Service(FolderPolicy(str(bert)))
    assert service.load("bert")[1] is True
    messages = {}
    for path in (str(bert), str(tmp_path / "not-a-model")):
        with pytest.raises(InvalidInput) as info:
            service.load(path)
        messages[path] = str(info.value)
    allowed, other = messages.values()
    assert "is a path on the server; this app loads Hub IDs only" in allowed
    assert allowed.replace(repr(str(bert)), "P") == other.replace(repr(str(tmp_path / "not-a-model")), "P")


# --- L6: refusals logged at a bounded rate ----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_of_refusals_gives_one_line_per_interval(caplog):
    clock = Clock()
    book = Logbook(logging.getLogger("explain.test.logbook"), interval_s=60, clock=clock)
    caplog.set_level(logging.INFO, logger="explain.test.logbook")
    written = 0
    for i in range(1581):  # the issue: 1,580 "refused (busy)" lines in about two minutes
        clock.now = 1000.0 + i * (59.9 / 1580)
        written += book.note("refused (busy)", "refused (busy): visitor %s has %d events", "1.2.3.4", 2)
    assert written == 1 and caplog.messages == ["refused (busy): visitor 1.2.3.4 has 2 events"]
    clock.now = 1060.0
    assert book.note("refused (busy)", "refused (busy): visitor %s has %d events", "1.2.3.4", 2)
    assert caplog.messages[-1] == "refused (busy) 1,581 times in the last 60 s"
    clock.now = 1070.0
    assert not book.note("refused (busy)", "x")
    assert book.note("refused (too large)", "refused (too large): %s", "org/x")  # another kind: its own first line
    assert book.flush() == 1 and caplog.messages[-1] == "refused (busy) 1 time in the last 10 s"
    clock.now = 2000.0  # quiet for a whole interval: the next one is written in full again
    assert book.note("refused (busy)", "refused (busy): visitor %s", "5.6.7.8")
    assert caplog.messages[-1] == "refused (busy): visitor 5.6.7.8" and len(caplog.messages) == 5


def test_the_logbook_remembers_a_bounded_number_of_kinds(caplog):
    clock = Clock()
    book = Logbook(logging.getLogger("explain.test.kinds"), interval_s=60, clock=clock, max_kinds=3)
    caplog.set_level(logging.INFO, logger="explain.test.kinds")
    for i in range(10):
        book.note(f"kind {i}", "first of kind %d", i)
    assert len(book._kinds) == 3 and len(caplog.messages) == 10
