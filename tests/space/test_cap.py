"""The per-visitor cap on Gradio's queue (space.internals.VisitorCap), on a stand-in queue
with the state it reads (tests/space/test_internals.py checks Gradio still has it): every
queued event counts, a browser tab's superseded or dead events do not, visitors take turns,
duplicate X-Forwarded-For lines cannot hide the visitor."""

from types import SimpleNamespace

from starlette.datastructures import Headers

from space.internals import VisitorCap, visitor_of


class Fn(SimpleNamespace):
    __hash__ = object.__hash__  # a BlockFunction is a dict key of the queue's timings


MODEL, OTHER = "model", "other"


def request(ip: str, *more_ips: str, page: bool = False):
    raw = [(b"x-forwarded-for", ip.encode())] + [(b"x-forwarded-for", m.encode()) for m in more_ips]
    if page:
        raw.append((b"x-gradio-user", b"app"))
    return SimpleNamespace(headers=Headers(raw=raw), client=SimpleNamespace(host="10.0.0.1"))


class Queue:
    def __init__(self):
        self.event_ids_to_events = {}
        self.event_queue_per_concurrency_id = {MODEL: SimpleNamespace(queue=[]), OTHER: SimpleNamespace(queue=[])}
        self.pending_messages_per_session = {}
        self.pending_event_ids_session = {}
        self.process_time_per_fn = {}
        self.blocks = SimpleNamespace(fns={0: Fn(concurrency_id=MODEL), 1: Fn(concurrency_id=OTHER)})
        self.n = 0

    def add(
        self, ip: str, group: str = MODEL, session: str = "s", waiting: bool = True, page: bool = False, at: float = 0.0
    ):
        self.n += 1
        e = SimpleNamespace(
            _id=f"e{self.n}",
            session_hash=session,
            fn=self.blocks.fns[0 if group == MODEL else 1],
            request=request(ip, page=page),
            alive=True,
            enqueue_time=at,
        )
        self.event_ids_to_events[e._id] = e
        if waiting:
            self.event_queue_per_concurrency_id[group].queue.append(e)
        return e


def body(group: str = MODEL, session: str = "new"):
    return SimpleNamespace(fn_index=0 if group == MODEL else 1, session_hash=session)


def cap(queue, now=lambda: 100.0):
    return VisitorCap(queue, limit=2, proxy_hops=1, group=MODEL, clock=now, logger=lambda *a: None)


def test_every_queued_event_counts():
    """H1: cheap page events (task switch, share panel...) fill the queue as well as model
    events: a visitor gets limit + EXTRA of them, then a refusal; other visitors go on."""
    q = Queue()
    for i in range(4):
        q.add("6.6.6.6", OTHER, session=f"flood-{i}")
    c = cap(q)
    assert "4 requests waiting or running" in c.admit(request("6.6.6.6"), body(OTHER))
    assert c.admit(request("6.6.6.6"), body(MODEL)) is not None
    assert c.admit(request("7.7.7.7"), body(MODEL)) is None


def test_model_events_two_per_visitor_with_a_plain_message_for_the_page():
    q = Queue()
    q.add("1.1.1.1", waiting=False, session="tab-a", page=True, at=90.0)
    q.add("1.1.1.1", session="tab-b", page=True, at=95.0)
    q.process_time_per_fn[q.blocks.fns[0]] = SimpleNamespace(avg_time=30.0)
    c = cap(q)
    api = c.admit(request("1.1.1.1"), body())
    assert "You already have 2 requests waiting or running" in api
    page = c.admit(request("1.1.1.1", page=True), body(session="tab-c"))
    assert page.startswith("Your earlier 2 explanations are still running") and "about 25 s" in page


def test_a_tab_that_is_gone_or_superseded_does_not_count():
    """Issue 21, 7: a closed tab's events (Gradio marks them dead) and a tab's own earlier
    waiting run, replaced by its new one, never count against the visitor."""
    q = Queue()
    dead = q.add("2.2.2.2", waiting=False, session="closed-tab", page=True)
    dead.alive = False
    old = q.add("2.2.2.2", session="tab", page=True)
    q.add("2.2.2.2", waiting=False, session="other-tab", page=True)
    c = cap(q)
    assert c.admit(request("2.2.2.2", page=True), body(session="tab")) is None
    assert old not in q.event_queue_per_concurrency_id[MODEL].queue and old._id not in q.event_ids_to_events
    # A different kind of model event from the tab (a word clicked) leaves a waiting explanation alone.
    q2 = Queue()
    waiting = q2.add("2.2.2.2", session="tab", page=True)
    q2.blocks.fns[2] = Fn(concurrency_id=MODEL)
    assert cap(q2).admit(request("2.2.2.2", page=True), SimpleNamespace(fn_index=2, session_hash="tab")) is None
    assert waiting in q2.event_queue_per_concurrency_id[MODEL].queue


def test_unread_results_count_for_api_clients_and_for_a_page_after_a_grace():
    now = [100.0]
    q = Queue()
    c = cap(q, now=lambda: now[0])
    done = SimpleNamespace(msg="process_completed")
    for s, page in (("api-1", False), ("api-2", False)):
        c._seen(s, "3.3.3.3", page)
        q.pending_messages_per_session[s] = SimpleNamespace(_queue=[done])
    assert "never read" in c.admit(request("3.3.3.3"), body())
    c2 = cap(Queue(), now=lambda: now[0])
    for s in ("tab-1", "tab-2"):
        c2._seen(s, "4.4.4.4", True)
        c2.queue.pending_messages_per_session[s] = SimpleNamespace(_queue=[done])
    assert c2.admit(request("4.4.4.4", page=True), body()) is None  # a live page reads them at once
    now[0] += VisitorCap.GRACE_S
    assert c2.admit(request("4.4.4.4", page=True), body()) is not None
    now[0] += VisitorCap.UNREAD_S + 1  # dropped, their memory with them
    assert c2.admit(request("4.4.4.4", page=True), body()) is None and not c2.queue.pending_messages_per_session


def test_a_result_just_sent_counts_once():
    """The race CI caught: Gradio queues an event's finished result a moment before it drops
    the event from its running ones. In that moment it is one request, not a running one and
    an unread one (which made a visitor's second request a refusal)."""
    q = Queue()
    c = cap(q)
    e = q.add("9.9.9.9", waiting=False, session="api-1")
    c._seen("api-1", "9.9.9.9")
    q.pending_messages_per_session["api-1"] = SimpleNamespace(
        _queue=[SimpleNamespace(msg="process_completed", event_id=e._id)]
    )
    assert c.admit(request("9.9.9.9"), body()) is None
    # Another event's result in the same session does not hide a running one.
    q.pending_messages_per_session["api-1"] = SimpleNamespace(
        _queue=[SimpleNamespace(msg="process_completed", event_id="x")]
    )
    assert "2 requests" in c.admit(request("9.9.9.9"), body())


def test_a_closed_tab_leaves_no_unread_results_behind():
    """A result Gradio queued for a tab in the moment before its close was noticed is never
    read; once the tab's state is marked closed it must not count against the visitor's next
    tab (the refusal a loaded CI run showed a new page). A live tab's still counts after the grace."""
    now = [100.0]
    q = Queue()
    states = {}
    q.blocks.state_holder = SimpleNamespace(session_data=states)
    c = cap(q, now=lambda: now[0])
    done = SimpleNamespace(msg="process_completed", event_id="gone")
    for s in ("closed-1", "closed-2"):
        c._seen(s, "6.6.6.6", True)
        q.pending_messages_per_session[s] = SimpleNamespace(_queue=[done])
        states[s] = SimpleNamespace(is_closed=False)
    assert c.admit(request("6.6.6.6", page=True), body()) is None  # within the grace
    for s in ("closed-1", "closed-2"):
        states[s].is_closed = True  # both tabs went
    now[0] += VisitorCap.GRACE_S
    assert c.admit(request("6.6.6.6", page=True), body()) is None
    states["closed-2"].is_closed = False  # had it stayed open, its unread result would count
    q.add("6.6.6.6", waiting=False, session="tab-3", page=True)
    assert c.admit(request("6.6.6.6", page=True), body()) is not None


def test_visitors_take_turns():
    """M1: one visitor's second and third waiting events go behind another's first."""
    q = Queue()
    q.add("5.5.5.5", waiting=False, session="a0")  # running
    a1, a2 = q.add("5.5.5.5", session="a1"), q.add("5.5.5.5", session="a2")
    b1 = q.add("8.8.8.8", session="b1")
    cap(q).fair()
    assert q.event_queue_per_concurrency_id[MODEL].queue == [b1, a1, a2]


def test_duplicate_forwarded_for_lines_are_joined():
    """M2: a second X-Forwarded-For line must not replace the first: behind one trusted
    proxy, the visitor is the last address of all the lines together."""
    assert visitor_of(request("10.1.0.7", "6.6.6.6"), 1) == "6.6.6.6"
    keys = {visitor_of(request(f"10.1.0.{i}", "6.6.6.6"), 1) for i in range(10)}
    assert keys == {"6.6.6.6"}
