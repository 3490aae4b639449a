"""Sharing one server fairly: who a visitor is (for a per-visitor cap on queued events)
and what a request will cost (so that one that cannot finish within the deadline is
refused at once, with what would fit, instead of holding the queue until it is cut off).

Plain functions and numbers; the app applies the cap to Gradio's queue."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from ..errors import ServerBusy
from ..options import CAPTUM_DEFAULT_STEPS

# --- who is asking ---------------------------------------------------------------------------

IPV6_PREFIX = 64  # an IPv6 visitor is their /64: one connection gets a whole /64 to pick addresses from
MAX_KEY_CHARS = 64


def client_key(headers: Any, peer: Optional[str], proxy_hops: int = 0) -> str:
    """The visitor's address: the connection's peer, or behind ``proxy_hops`` trusted
    proxies the address the outermost of them saw - X-Forwarded-For counted from the
    right, with every X-Forwarded-For line joined first (in order, as HTTP says repeated
    lines mean), since entries further left, and any extra line, are whatever the
    visitor chose to send. IPv6 addresses are keyed by their /64.

    ``headers``: the request's headers with every line kept - (name, value) pairs (str
    or bytes: Starlette's ``request.headers.raw``, an ASGI scope's ``"headers"``), or an
    object with ``getlist(name)`` (Starlette's ``request.headers``). A plain mapping
    holds one line per name, so it is read as that one line."""
    if proxy_hops > 0:
        forwarded = [h.strip() for line in forwarded_for(headers) for h in line.split(",") if h.strip()]
        if len(forwarded) >= proxy_hops:
            return address_key(forwarded[-proxy_hops])
    return address_key(peer) if peer else "unknown"


def forwarded_for(headers: Any, name: str = "x-forwarded-for") -> list:
    """Every value of header ``name`` (any case), in order, from ``headers`` (see ``client_key``)."""
    if headers is None:
        return []
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):
        return [_text(v) for v in getlist(name)]
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [_text(v) for k, v in pairs if _text(k).lower() == name]


def address_key(address: str) -> str:
    """One visitor's key from an address: IPv4 as it is; IPv6 as its /64 (an IPv4-mapped
    one as its IPv4); a port or brackets around it dropped; anything else as given
    (cut to MAX_KEY_CHARS)."""
    text = address.strip()
    host = text
    if text.startswith("[") and "]" in text:  # [v6]:port
        host = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        host = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return text[:MAX_KEY_CHARS]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def over_cap(key: str, pending: Iterable[str], cap: int) -> Optional[str]:
    """The refusal message when ``key`` already has ``cap`` events among ``pending`` (the
    visitor keys of every event waiting or running), else None. ``cap`` 0: no cap."""
    if cap <= 0:
        return None
    mine = sum(1 for k in pending if k == key)
    if mine < cap:
        return None
    return (
        f"You already have {mine} request{'s' if mine != 1 else ''} waiting or running on this server, "
        f"its limit per visitor. Wait for {'them' if mine != 1 else 'it'} to finish, then try again."
    )


# --- what a request costs ----------------------------------------------------------------------

ADAPTIVE_ROWS = 30  # gradient rows per window an adaptive explanation typically takes

FAITHFULNESS_ROWS = 300  # perturbed copies the curves need at most (6 rankings x ~25 points x 2)
FORWARD_FRACTION = 0.4  # a forward-only row costs about this much of a gradient row
WINDOW_OVERLAP = 1.25  # long texts: windows overlap, so more tokens go through the model
EXTRA_LABEL = 0.6  # each further label explained on the same path: one more backward pass per row
# Seconds per gradient row per token per parameter, measured here with the bundled model
# (2-core CPU, 1 thread): the first guess for a model, until its own requests are timed.
PRIOR_SECONDS_PER_PARAMETER = 2.5e-11
MIN_SECONDS_PER_ROW_TOKEN = 2e-6
MEMO_KEY = "serving_seconds_per_row_token"
SEEN_KEY = "serving_explanations_timed"


@dataclass(frozen=True)
class Cost:
    """An estimate: ``seconds`` in all, of which ``per_step`` for each integration step."""

    seconds: float
    per_step: float
    fixed: float


def rate(memo: dict, n_parameters: int) -> float:
    """Seconds per gradient row per token for a loaded model: measured, else a guess from its size."""
    measured = memo.get(MEMO_KEY)
    if measured:
        return float(measured)
    return max(PRIOR_SECONDS_PER_PARAMETER * n_parameters, MIN_SECONDS_PER_ROW_TOKEN)


def learn(memo: dict, seconds: float, rows: int, tokens_per_window: float) -> None:
    """Fold one timed explanation (``rows`` gradient rows over all windows) into the rate.
    A model's first explanation is not used (it pays for warming up, often 10-100x the
    steady cost); after that the fastest rate seen counts, so that a slow moment of a busy
    machine never gets a request refused that would have finished."""
    if seconds <= 0 or rows <= 0 or tokens_per_window <= 0:
        return
    memo[SEEN_KEY] = memo.get(SEEN_KEY, 0) + 1
    if memo[SEEN_KEY] == 1:
        return
    seen = seconds / (rows * tokens_per_window)
    old = memo.get(MEMO_KEY)
    memo[MEMO_KEY] = seen if not old else min(old, seen)


def estimate(
    n_tokens: int,
    max_length: int,
    n_steps: int,
    method: str,
    faithfulness: bool,
    compare: bool,
    seconds_per_row_token: float,
    labels: int = 1,
) -> Cost:
    """What a request will cost: rows per window x tokens through the model (more with
    overlapping windows), three explanations with the baseline comparison, plus the
    faithfulness curves' forward passes. ``labels``: labels explained on one shared path
    (each further one adds a backward pass per row)."""
    tokens = n_tokens + 2 if n_tokens + 2 <= max_length else n_tokens * WINDOW_OVERLAP
    explanations = 3 if compare else 1
    per_step = seconds_per_row_token * tokens * (explanations + EXTRA_LABEL * max(0, labels - 1))
    if n_steps:
        steps = n_steps
    else:
        steps = CAPTUM_DEFAULT_STEPS if method == "captum" else ADAPTIVE_ROWS
    fixed = seconds_per_row_token * tokens * FAITHFULNESS_ROWS * FORWARD_FRACTION if faithfulness else 0.0
    return Cost(seconds=per_step * steps + fixed, per_step=per_step, fixed=fixed)


def check_cost(cost: Cost, deadline_s: float, n_tokens: int, n_steps: int, faithfulness: bool, compare: bool) -> None:
    """Refuse (ServerBusy) a request estimated to run past ``deadline_s``, saying what fits.
    Adaptive requests (``n_steps`` 0) stop by themselves when they converge: refused only
    when even their typical cost is over."""
    if cost.seconds <= deadline_s:
        return
    extras = [what for what, on in (("the faithfulness curves", faithfulness), ("the baseline comparison", compare)) if on]
    steps = f"{n_steps} integration steps" if n_steps else "adaptive steps"
    did = f"{steps} over {n_tokens:,} tokens" + (f", with {' and '.join(extras)}" if extras else "")
    fit = math.floor((deadline_s - cost.fixed) / cost.per_step) if cost.per_step > 0 else 0
    options = [
        f"use at most {fit} integration steps{' with these checks' if extras else ''} (0: adaptive)"
        if n_steps and fit >= 1
        else "use a shorter text"
    ]
    options += ["leave the checks off"] if extras else []
    options += ["run the explainer locally"]
    fix = ", ".join(options[:-1]) + " or " + options[-1]
    raise ServerBusy(
        f"This request would take about {cost.seconds:,.0f} s on this server ({did}); each request "
        f"may run for {deadline_s:g} s.",
        fix[0].upper() + fix[1:] + ".",
    )
