"""Integrated gradients at the word-embedding layer, with a path-matched error bound.

The model always gets the real ``input_ids`` (plus the tokenizer's attention mask and
token types), so it builds its own position ids. Along the path only the output of
the word-embedding call sites is replaced, by ``baseline + alpha * (input - baseline)``,
through forward hooks: layer integrated gradients. ``PathRunner`` evaluates many alphas
in one batched forward (+ backward) pass, chunked to bound memory; the input's own
layer values are read in the pass itself and the baseline's are computed once, so no
extra probe passes are spent. Many paths (``Item``: a text, a pair, a zero-shot query's
candidate pairs, the windows of a long text, many texts) share each pass. Gradients are
taken with ``torch.autograd`` directly
(Captum's ``IntegratedGradients`` computes the same numbers for a fixed rule - the
tests check that against ``LayerIntegratedGradients`` - but needs one call per node
count and adds overhead per call).

Integration (``quadrature``) is adaptive to the relative completeness error
|sum(attr) - (F(x) - F(x'))| / |F(x) - F(x')|, with F(x') on the same path (real ids,
baseline embeddings), never the baseline ids fed to the model. In the first pass the
row at alpha = 1 is the plain forward pass of the text, so a single-window explanation
needs no separate prediction pass.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional

import torch

from ..options import DEFAULT_MAX_STEPS, DEFAULT_WORD_TOLERANCE
from . import quadrature
from .clock import check_deadline
from .sites import EmbeddingSites, call_ids

ACTIVATION_BUDGET = 768 * 2**20  # bytes of activations per chunk of gradient rows
PAD_SPREAD = 1.25  # a padded call holds sequences up to this many times as long as its shortest


@dataclass
class Item:
    """One path: one or more sequences (a text, a text pair, the candidate pairs of a
    zero-shot query) whose attributed positions move together from the baseline, and the
    quantities explained along it.

    ``quantity`` maps logits (groups, sequences, labels) - the item's sequences at some
    alphas - to (groups, quantities). When it is None, ``choose(logits at alpha = 1)``
    supplies it from the first pass (the prediction picks the target)."""

    inputs: list  # per sequence: tokenizer outputs (batch 1) on the model's device
    references: list  # per sequence: baseline ids (1, n) - attributed positions replaced
    quantity: Optional[Callable] = None
    choose: Optional[Callable] = None
    logits_at_input: Optional[torch.Tensor] = None  # (sequences, labels) at alpha = 1
    forward_rows: int = 0  # forward-only rows (per sequence) spent on this item
    gradient_rows: int = 0

    @classmethod
    def single(cls, inputs: dict, reference: torch.Tensor, quantity=None, choose=None) -> Item:
        """One sequence; ``quantity``/``choose`` as for a batch of logits (rows, labels) -> (rows,)."""
        return cls(
            [inputs],
            [reference],
            None if quantity is None else _one(quantity),
            None if choose is None else (lambda logits: _one(choose(logits[0]))),
        )


def _one(quantity: Callable) -> Callable:
    """A per-row quantity (rows, labels) -> (rows,) as an item quantity over one sequence."""
    return lambda logits: quantity(logits[:, 0, :])[:, None]


class PathRunner:
    """Items on one model: F and gradient contributions at any alphas, many items and
    alphas per batched pass. Sequences of equal length share a model call; a chunk of
    calls shares one backward pass per explained quantity."""

    def __init__(
        self,
        model: torch.nn.Module,
        sites: EmbeddingSites,
        items: list,
        pad: Optional[Callable[[list], dict]] = None,
        autocast: Optional[torch.dtype] = None,
    ) -> None:
        """``pad``: joins sequences of different lengths into one batch (right padding with
        an attention mask; only for models where that leaves every sequence's output
        unchanged, see ``Classifier.padder``). Without it, only sequences of equal
        length share a model call. ``autocast``: the gradient rows run under
        ``torch.autocast`` in this dtype (bfloat16); forward-only rows stay in the model's
        own precision."""
        self.model = model
        self.autocast = autocast
        self.sites = sites
        self.items = items
        self.pad = pad
        self.seqs = [(i, s) for i, item in enumerate(items) for s in range(len(item.inputs))]
        self._seq_of = {key: g for g, key in enumerate(self.seqs)}
        n_sites = len(sites.sites)
        self._base: list = [dict() for _ in range(n_sites)]  # site -> seq -> baseline values (1, positions, hidden)
        self._diff: list = [dict() for _ in range(n_sites)]  # input - baseline
        self._ids: list = [dict() for _ in range(n_sites)]
        self._rows: Optional[list] = None  # (seq, alpha) of each row of the current model call
        self._grad = False
        self._leaves: list = [None] * n_sites
        self._busy = False
        self.positions = max(int(self.inputs(g)["input_ids"].shape[1]) for g in range(len(self.seqs))) + 1
        self.grad_seconds = 0.0  # wall time of the gradient passes so far ...
        self.grad_row_tokens = 0  # ... and their rows x tokens (a rate for cost estimates)

    def _item_length(self, i: int) -> int:
        return max(int(x["input_ids"].shape[1]) for x in self.items[i].inputs)

    def inputs(self, g: int) -> dict:
        i, s = self.seqs[g]
        return self.items[i].inputs[s]

    @contextlib.contextmanager
    def hooks(self):
        handles = []
        with self.sites.installed():
            try:
                for i, site in enumerate(self.sites.sites):
                    handles.append(site.caller.register_forward_pre_hook(self._pre_hook(i), with_kwargs=True))
                    handles.append(site.layer.register_forward_hook(self._hook(i)))
                yield self
            finally:
                for h in handles:
                    h.remove()

    def _pre_hook(self, i: int):
        seq_first = self.sites.sites[i].seq_first

        def hook(module, args, kwargs):
            if self._busy or self._rows is None:
                return None
            ids = call_ids(args, kwargs, seq_first)
            for r, (g, _) in enumerate(self._rows):
                if g not in self._base[i] and g not in self._ids[i]:
                    self._ids[i][g] = ids[r : r + 1, : self._length(g, ids.shape[1])].detach()
            return None

        return hook

    def _hook(self, i: int):
        def hook(module, args, output):
            if self._busy or self._rows is None:
                return None
            rows = self._rows
            x = output.detach()
            width = x.shape[1]
            for r, (g, _) in enumerate(rows):
                if g not in self._base[i]:
                    mine = x[r : r + 1, : self._length(g, width)]
                    self._base[i][g] = self._baseline(i, g).to(x.dtype)
                    self._diff[i][g] = mine - self._base[i][g]
            # Padded positions (a batch of different lengths) keep the model's own values.
            base = self._per_row(self._base[i], rows, x)
            diff = self._per_row(self._diff[i], rows, None, like=x)
            a = torch.tensor([alpha for _, alpha in rows], dtype=base.dtype, device=base.device).view(-1, 1, 1)
            v = base + a * diff
            # The ends are exact: alpha = 1 is the model's own layer output (the prediction).
            v = torch.where(a == 1, x, torch.where(a == 0, base, v))
            if self._grad:
                v = v.detach().requires_grad_(True)
                self._leaves[i] = v
            return v.to(output.dtype)

        return hook

    def _length(self, g: int, width: int) -> int:
        """Positions of sequence ``g`` in a call ``width`` wide (its own length when padded)."""
        return int(self.inputs(g)["input_ids"].shape[1]) if self.pad is not None else width

    def _per_row(
        self, store: dict, rows: list, fill: Optional[torch.Tensor], like: Optional[torch.Tensor] = None
    ) -> torch.Tensor:
        """Per row of a call, its sequence's values from ``store`` (1, n, ...), padded to the
        call's width with ``fill``'s own rows (zeros when None): one block per run of rows
        of the same sequence (rows of one sequence are adjacent), expanded, not copied."""
        ref = fill if fill is not None else like
        width = ref.shape[1]
        blocks, start = [], 0
        for r in range(1, len(rows) + 1):
            if r < len(rows) and rows[r][0] == rows[start][0]:
                continue
            values = store[rows[start][0]]
            n = r - start
            if values.shape[1] != width:
                pad = (
                    fill[start:r, values.shape[1] :]
                    if fill is not None
                    else torch.zeros((n, width - values.shape[1], *ref.shape[2:]), dtype=ref.dtype, device=ref.device)
                )
                blocks.append(torch.cat([values.expand(n, *values.shape[1:]), pad], dim=1))
            else:
                blocks.append(values.expand(n, *values.shape[1:]))
            start = r
        return blocks[0] if len(blocks) == 1 else torch.cat(blocks)

    @staticmethod
    def _padded(values: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
        """``values`` (1, n, ...) extended to ``fill``'s width with ``fill``'s own positions."""
        n = values.shape[1]
        return values if n == fill.shape[1] else torch.cat([values, fill[:, n:]], dim=1)

    def _baseline(self, i: int, g: int) -> torch.Tensor:
        site = self.sites.sites[i]
        sid = self._ids[i].pop(g, None)
        if sid is None:
            raise RuntimeError(f"the ids reaching {site.path} were not seen")
        item, s = self.seqs[g]
        b = site.overlay(sid, self.items[item].references[s])
        self._busy = True
        try:
            with torch.no_grad():
                return site.embedding(b).detach()
        finally:
            self._busy = False

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, asks: list, *, grad: bool, chunk: int) -> list:
        """Samples at the asked points: ``asks[i]`` is a list of alphas for item i (or None);
        returns, per item, {alpha: Sample} (None where nothing was asked). A sample's f has
        one value per quantity; its parts, per call site, are the gradient contributions
        (gradient x (input - baseline), summed over the hidden size) shaped
        (quantities, sequences, positions)."""
        # Items of similar length together (they share calls); each item's alpha = 1 first:
        # it may pick the target.
        groups = sorted(
            {(i, float(a)) for i, alphas in enumerate(asks) if alphas for a in alphas},
            key=lambda ia: (self._item_length(ia[0]), ia[0], -ia[1]),
        )
        out: list = [None if not alphas else {} for alphas in asks]
        start = 0
        first = True
        t0 = time.perf_counter()
        while start < len(groups):
            part, rows = [], 0
            while start < len(groups) and (not part or rows + len(self.items[groups[start][0]].inputs) <= chunk):
                part.append(groups[start])
                rows += len(self.items[groups[start][0]].inputs)
                start += 1
            if not first:
                check_deadline()  # long rounds are chunked: a request past its deadline stops here too
            first = False
            for (i, alpha), sample in zip(part, self._chunk(part, grad)):
                out[i][alpha] = sample
        for i, alphas in enumerate(asks):
            if alphas:
                n = len(set(float(a) for a in alphas)) * len(self.items[i].inputs)
                if grad:
                    self.items[i].gradient_rows += n
                    self.grad_row_tokens += len(set(float(a) for a in alphas)) * sum(
                        int(x["input_ids"].shape[1]) for x in self.items[i].inputs
                    )
                else:
                    self.items[i].forward_rows += n
        if grad:
            self.grad_seconds += time.perf_counter() - t0
        return out

    def logits(self, asks: list) -> list:
        """Forward only: per item, {alpha: logits (sequences, labels)} at the asked alphas."""
        groups = [(i, float(a)) for i, alphas in enumerate(asks) if alphas for a in alphas]
        calls = self._calls(groups)
        out: list = [None if not alphas else {} for alphas in asks]
        with torch.no_grad():
            got = self._run(calls, grad=False)
        for (i, alpha), logits in self._by_group(groups, calls, got).items():
            out[i][alpha] = logits.detach().float()
            self.items[i].forward_rows += len(self.items[i].inputs)
            if alpha == 1.0 and self.items[i].logits_at_input is None:
                self.items[i].logits_at_input = logits.detach().float()
        return out

    def _calls(self, groups: list) -> list:
        """Rows (seq, alpha) of the groups, split into model calls: one call when sequences
        may be padded, else one per sequence length."""
        rows = [(self._seq_of[(i, s)], alpha) for i, alpha in groups for s in range(len(self.items[i].inputs))]
        if self.pad is not None:  # sequences of similar length share a call (little padding)
            rows.sort(key=lambda row: self.inputs(row[0])["input_ids"].shape[1])
            calls, start = [], 0
            for r in range(1, len(rows) + 1):
                if (
                    r == len(rows)
                    or self.inputs(rows[r][0])["input_ids"].shape[1]
                    > PAD_SPREAD * self.inputs(rows[start][0])["input_ids"].shape[1]
                ):
                    calls.append(rows[start:r])
                    start = r
            return calls
        by_length: dict = {}
        for g, alpha in rows:
            by_length.setdefault(int(self.inputs(g)["input_ids"].shape[1]), []).append((g, alpha))
        return list(by_length.values())

    def _run(self, calls: list, grad: bool) -> list:
        """One model call per row list; returns per call (logits, leaves per site)."""
        results = []
        for rows in calls:
            self._rows, self._grad = rows, grad
            try:
                lengths = {int(self.inputs(g)["input_ids"].shape[1]) for g, _ in rows}
                if len(lengths) > 1:
                    batch = self.pad([self.inputs(g) for g, _ in rows])
                else:
                    batch = {k: torch.cat([self.inputs(g)[k] for g, _ in rows]) for k in self.inputs(rows[0][0])}
                if grad and self.autocast is not None:
                    device = next(iter(batch.values())).device.type
                    with torch.autocast(device_type=device, dtype=self.autocast):
                        logits = self.model(**batch).logits
                else:
                    logits = self.model(**batch).logits
                results.append((logits, list(self._leaves)))
            finally:
                self._rows = None
                self._leaves = [None] * len(self._leaves)
        return results

    def _by_group(self, groups: list, calls: list, got: list) -> dict:
        """{(item, alpha): logits (sequences, labels)} from the calls' rows."""
        where = {}
        for c, rows in enumerate(calls):
            for r, (g, alpha) in enumerate(rows):
                where[(g, alpha)] = (c, r)
        out = {}
        for i, alpha in groups:
            picks = [where[(self._seq_of[(i, s)], alpha)] for s in range(len(self.items[i].inputs))]
            if len(picks) == 1:
                c, r = picks[0]
                out[(i, alpha)] = got[c][0][r : r + 1]
            else:
                out[(i, alpha)] = torch.stack([got[c][0][r] for c, r in picks])
        return out

    def _chunk(self, groups: list, grad: bool) -> list:
        calls = self._calls(groups)
        with torch.enable_grad() if grad else torch.no_grad():
            got = self._run(calls, grad)
            logits = self._by_group(groups, calls, got)
            values = {}
            for i in sorted({i for i, _ in groups}):
                item = self.items[i]
                mine = [(i, a) for ii, a in groups if ii == i]
                if (i, 1.0) in logits and item.logits_at_input is None:
                    item.logits_at_input = logits[(i, 1.0)].detach().float()
                if item.quantity is None:
                    if item.logits_at_input is None:
                        raise RuntimeError("the first pass must include alpha = 1 to pick the target")
                    item.quantity = item.choose(item.logits_at_input)
                q = item.quantity(torch.stack([logits[key] for key in mine]))  # (groups, quantities)
                values.update(zip(mine, q))
        f = {key: v.detach().double().cpu().numpy() for key, v in values.items()}
        if not grad:
            return [quadrature.Sample(f[key], ()) for key in groups]
        return self._contributions(groups, calls, got, values, f)

    def _contributions(self, groups: list, calls: list, got: list, values: dict, f: dict) -> list:
        """Per group, the gradient contributions of each quantity (one backward each)."""
        n_q = max(int(v.shape[0]) for v in values.values())
        leaves = [leaf for _, call_leaves in got for leaf in call_leaves]
        per: list = []  # per quantity: gradients of every leaf
        for k in range(n_q):
            total = sum(v[k] for v in values.values() if v.shape[0] > k)
            per.append(torch.autograd.grad(total, leaves, allow_unused=True, retain_graph=k < n_q - 1))
        n_sites = len(self.sites.sites)
        # (call, row) -> per site, per quantity: contribution per position (float64, CPU)
        rows_out: dict = {}
        for c, rows in enumerate(calls):
            leaves = got[c][1]
            diffs = [self._per_row(self._diff[s], rows, None, like=leaves[s]) for s in range(n_sites)]
            for s in range(n_sites):
                grads = [per[k][c * n_sites + s] for k in range(n_q)]
                # Reduced in float32 on the device, accumulated in float64 on the CPU.
                contrib = (
                    torch.stack(
                        [
                            torch.zeros(diffs[s].shape[:2], device=diffs[s].device)
                            if gk is None
                            else (gk.float() * diffs[s].float()).sum(-1)
                            for gk in grads
                        ]
                    )
                    .double()
                    .cpu()
                )
                for r, key in enumerate(rows):
                    width = self._diff[s][key[0]].shape[1]  # the sequence's own positions
                    rows_out.setdefault(key, [None] * n_sites)[s] = contrib[:, r, :width]  # (quantities, positions)
        samples = []
        for i, alpha in groups:
            item = self.items[i]
            k_i = int(values[(i, alpha)].shape[0])
            parts = []
            for s in range(n_sites):
                seqs = [rows_out[(self._seq_of[(i, j)], alpha)][s][:k_i] for j in range(len(item.inputs))]
                if len(seqs) == 1:
                    parts.append(seqs[0][:, None, :])
                    continue
                width = max(t.shape[1] for t in seqs)
                part = torch.zeros(k_i, len(seqs), width, dtype=torch.float64)
                for j, t in enumerate(seqs):
                    part[:, j, : t.shape[1]] = t
                parts.append(part)
            samples.append(quadrature.Sample(f[(i, alpha)], tuple(parts)))
        return samples


def integrate(
    runner: PathRunner,
    *,
    config,
    tolerances: Sequence[float],
    max_steps: int = DEFAULT_MAX_STEPS,
    n_steps: Optional[int] = None,
    word_tolerance: Optional[float] = DEFAULT_WORD_TOLERANCE,
    first_nodes: Optional[Sequence[float]] = None,
    draft: Optional[Callable[[list], None]] = None,
) -> list:
    """Attributions along the path of every item of ``runner`` (inside ``runner.hooks()``),
    all items in lockstep: one batched pass per round for all of them.

    ``n_steps`` given: one Gauss-Legendre rule of that many nodes, as Captum computes it
    (plus a forward-only pass for F at both ends). Otherwise adaptive to each item's
    tolerance and to ``word_tolerance`` for the token scores, with at most ``max_steps``
    gradient rows per item (round 1 included), round 1 at ``first_nodes`` if given.
    ``draft`` (adaptive only): a third of round 1 is evaluated first, and ``draft(rules)``
    gets every item's coarse rule in between (see ``quadrature.adaptive_plan``); the
    final rules are the same as without it."""
    budget = activation_budget(runner.inputs(0)["input_ids"].device)
    grad_chunk = chunk_rows(config, runner.positions, grad=True, budget=budget)
    everyone = list(range(len(runner.items)))
    exact = None
    if runner.autocast is not None and n_steps is None:
        # Reduced precision: the prediction and F at both ends come from a forward pass in
        # the model's own precision, so the completeness check measures the gradient rows'
        # rounding too.
        got = runner.evaluate(
            [[1.0, 0.0] for _ in everyone], grad=False, chunk=chunk_rows(config, runner.positions, grad=False, budget=budget)
        )
        exact = [{a: s.f for a, s in got[i].items()} for i in everyone]
    if n_steps is not None:
        ends = runner.evaluate(
            [[1.0, 0.0] for _ in everyone], grad=False, chunk=chunk_rows(config, runner.positions, grad=False, budget=budget)
        )
        plans = [quadrature.fixed_plan(n_steps, tolerances[i], {a: s.f for a, s in ends[i].items()}) for i in everyone]
    else:
        drafts: list = [None] * len(everyone)

        def keep(i: int) -> Callable:
            return lambda rule: drafts.__setitem__(i, rule)

        plans = [
            quadrature.adaptive_plan(
                tolerance=tolerances[i],
                max_steps=max_steps,
                word_tolerance=word_tolerance,
                first_nodes=first_nodes,
                draft=None if draft is None else keep(i),
                ends=None if exact is None else exact[i],
            )
            for i in everyone
        ]

        def between_rounds() -> None:
            check_deadline()
            if draft is not None and drafts[0] is not None:
                ready, drafts[:] = list(drafts), [None] * len(drafts)
                if all(d is not None for d in ready):
                    draft(ready)
                    check_deadline()  # the draft may have been the last thing anyone read (a closed tab)

        return quadrature.drive(
            plans, lambda asks: runner.evaluate(asks, grad=True, chunk=grad_chunk), between_rounds=between_rounds
        )
    return quadrature.drive(
        plans, lambda asks: runner.evaluate(asks, grad=True, chunk=grad_chunk), between_rounds=check_deadline
    )


class PathModel:
    """Runs a model with the word-embedding outputs replaced by given tensors (used to
    evaluate arbitrary points, e.g. words removed, with the attribution's own hooks)."""

    def __init__(
        self, model: torch.nn.Module, sites: EmbeddingSites, inputs: dict, quantity: Callable[[torch.Tensor], torch.Tensor]
    ) -> None:
        self.model = model
        self.sites = sites
        self.keys = list(inputs)
        self.inputs = inputs
        self.quantity = quantity
        self._inject: Optional[Sequence[torch.Tensor]] = None

    @contextlib.contextmanager
    def hooks(self):
        def make(i):
            def hook(module, args, output):
                if self._inject is None:
                    return None
                value = self._inject[i]
                return value.to(output.dtype) if value.dtype != output.dtype else value

            return hook

        with self.sites.installed():
            handles = [s.layer.register_forward_hook(make(i)) for i, s in enumerate(self.sites.sites)]
            try:
                yield self
            finally:
                for h in handles:
                    h.remove()

    def expanded(self, rows: int) -> tuple:
        return tuple(self.inputs[k].expand(rows, *self.inputs[k].shape[1:]) for k in self.keys)

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        """(site values..., model inputs...) -> quantity per row."""
        n = len(self.sites.sites)
        values, extra = tensors[:n], tensors[n:]
        self._inject = values
        try:
            out = self.model(**dict(zip(self.keys, extra)))
        finally:
            self._inject = None
        return self.quantity(out.logits)


def capture(model: torch.nn.Module, sites: EmbeddingSites, inputs: dict) -> tuple:
    """The plain forward pass on ``inputs`` (batch 1), recording per call site the ids
    that reach it and its output: (site ids, site outputs)."""
    ids_seen: list = [None] * len(sites.sites)
    out_seen: list = [None] * len(sites.sites)
    handles = []

    def grab_ids(i, site):
        def hook(module, args, kwargs):
            ids_seen[i] = call_ids(args, kwargs, site.seq_first)

        return hook

    def grab(i):
        def hook(module, args, output):
            out_seen[i] = output.detach()

        return hook

    with sites.installed():
        for i, site in enumerate(sites.sites):
            handles.append(site.layer.register_forward_hook(grab(i)))
            handles.append(site.caller.register_forward_pre_hook(grab_ids(i, site), with_kwargs=True))
        try:
            with torch.no_grad():
                model(**inputs)
        finally:
            for h in handles:
                h.remove()
    return ids_seen, tuple(out_seen)


def site_values(sites: EmbeddingSites, site_ids: list, base_ids: torch.Tensor) -> tuple:
    """Baseline layer values: each site's own ids with the input positions swapped."""
    with torch.no_grad():
        return tuple(site.embedding(site.overlay(sid, base_ids)).detach() for site, sid in zip(sites.sites, site_ids))


def activation_budget(device: torch.device) -> int:
    """Bytes of activations one chunk of rows may use: ACTIVATION_BUDGET on the CPU (keeps
    a BERT-base-sized model under ~2.5 GB resident); on a GPU a quarter of its free
    memory, at most 8 GiB, so that short texts run all their rows in one batch."""
    if device.type == "cuda" and torch.cuda.is_available():
        free, _ = torch.cuda.mem_get_info(device)
        return int(max(ACTIVATION_BUDGET, min(free // 4, 8 * 2**30)))
    return ACTIVATION_BUDGET


def chunk_rows(config, n_positions: int, grad: bool = True, budget: int = ACTIVATION_BUDGET) -> int:
    """Rows per batch so that one chunk's activations stay near ``budget`` bytes: a
    coarse count of what a transformer layer keeps for the backward pass (projections,
    feed-forward, attention scores), from the config's sizes."""
    hidden = _cfg(config, ("hidden_size", "d_model", "n_embd", "dim"), 768)
    layers = _cfg(config, ("num_hidden_layers", "n_layer", "num_layers", "n_layers"), 12)
    layers += _cfg(config, ("decoder_layers", "num_decoder_layers"), 0)
    heads = _cfg(config, ("num_attention_heads", "n_head", "num_heads", "encoder_attention_heads"), 12)
    inter = _cfg(config, ("intermediate_size", "d_ff", "n_inner", "encoder_ffn_dim", "ffn_dim"), 4 * hidden)
    per_row = 4 * n_positions * layers * (16 * hidden + 2 * inter + 3 * heads * n_positions)
    if not grad:
        per_row //= 6
    return max(1, int(budget // max(per_row, 1)))


def _cfg(config, names, default):
    for name in names:
        v = getattr(config, name, None)
        if isinstance(v, int) and v > 0:
            return v
    return default
