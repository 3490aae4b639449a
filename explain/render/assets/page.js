() => {
  if (window.__explainPage) return;
  window.__explainPage = true;
  const tip = document.createElement("div");
  tip.id = "explain-tip"; tip.hidden = true; tip.setAttribute("role", "tooltip");
  document.body.appendChild(tip);
  let jumped = -1, queued = false, pinned = null;  // pinned: the word last clicked (its tip stays)
  const TOP = 10;  // the jump goes through the strongest words, strongest first (render/page.py TOP_WORDS)
  const fmt = (s, places) => (s > 0 ? "+" : s < 0 ? "\u2212" : "") + Math.abs(s).toFixed(places || 3);
  function data() {
    const el = document.querySelector("#caption [data-explain]");
    if (!el) return null;
    try { return JSON.parse(el.getAttribute("data-explain")); } catch (e) { return null; }
  }
  function place(root, source) {
    const out = [];
    let pos = 0;
    for (const tok of root ? root.querySelectorAll(".textfield .token") : []) {
      const t = tok.querySelector(".text");
      const piece = t ? t.textContent : "";
      let at = source ? source.indexOf(piece, pos) : pos;
      if (at < 0) at = pos;
      out.push([tok, at, at + piece.length]);
      pos = at + piece.length;
    }
    return out;
  }
  function annotate() {
    queued = false;
    const d = data();
    const seen = d ? (d.text.length + ":" + d.n + ":" + d.target + ":" + (d.pair || "").length) : "";
    [["#words", 0], ["#words-pair", 1]].forEach(([sel, seg]) => {
      const root = document.querySelector(sel);
      if (!root) return;
      const source = d ? (seg === 0 ? d.text : d.pair) : null;
      const words = new Map();
      if (d) for (const w of d.words) if (w[5] === seg) words.set(w[0], w);
      const starts = d && d.window_segment === seg ? d.windows.slice(1) : [];
      for (const [tok, start, end] of place(root, source)) {
        const w = words.get(start);
        tok.classList.remove("explain-window", "explain-strong", "explain-top");
        delete tok.dataset.rank;
        tok.removeAttribute("data-window");
        if (w && source && end === w[1]) {
          const way = w[2] > 0 ? d.toward : w[2] < 0 ? d.against : "neither way";
          tok.dataset.tip = `${source.slice(w[0], w[1])}: ${fmt(w[2], d.decimals)}, rank ${w[3]} of ${d.n} (${way})`;
          tok.setAttribute("aria-label", tok.dataset.tip + ". Press Enter to see the answer without it.");
          tok.dataset.word = String(w[6]);
          tok.tabIndex = 0;
          if (Math.abs(w[4]) === 3) tok.classList.add("explain-strong");
          if (w[3] <= TOP && w[2] !== 0) { tok.classList.add("explain-top"); tok.dataset.rank = String(w[3]); }
        } else {
          delete tok.dataset.tip; delete tok.dataset.word; tok.removeAttribute("aria-label");
          tok.removeAttribute("tabindex");
        }
        const mark = starts.find(([s]) => s >= start && s < Math.max(end, start + 1));
        if (mark) { tok.classList.add("explain-window"); tok.dataset.window = String(mark[1]); }
      }
    });
    if (root_seen !== seen) { root_seen = seen; jumped = -1; }
    if (pinned && document.contains(pinned)) show(pinned);
    const see = document.querySelector(".explain-see");
    if (see) see.hidden = !d;
    markTarget(d);
  }
  let root_seen = "";
  function markTarget(d) {
    const panel = document.querySelector("#prediction");
    if (!panel) return;
    for (const row of panel.querySelectorAll(".explain-target-row")) row.classList.remove("explain-target-row");
    if (!d) return;
    for (const row of panel.querySelectorAll("button, .confidence-set, [data-testid='label-confidence-set']")) {
      const name = row.querySelector(".text, dt, .label-name, span");
      if (name && name.textContent.trim() === d.target) { row.classList.add("explain-target-row"); break; }
    }
  }
  function show(tok) {
    if (!tok || !tok.dataset.tip) { tip.hidden = true; return; }
    tip.textContent = tok.dataset.tip;
    tip.hidden = false;
    const r = tok.getBoundingClientRect();
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(4, Math.min(window.innerWidth - w - 4, r.left)) + "px";
    tip.style.top = (r.top - h - 6 > 0 ? r.top - h - 6 : r.bottom + 6) + "px";
  }
  const tokenOf = (e) => e.target instanceof Element ? e.target.closest(".explain-words .token") : null;
  let hovered = null;  // the word under the mouse: a scroll moves its tip along rather than hiding it
  document.addEventListener("mouseover", (e) => { const t = tokenOf(e); if (t) { hovered = t; show(t); } });
  document.addEventListener("mouseout", (e) => {
    const t = tokenOf(e);
    if (t === hovered) hovered = null;
    if (t && t !== pinned) tip.hidden = true;
  });
  document.addEventListener("focusin", (e) => { const t = tokenOf(e); if (t) show(t); });
  document.addEventListener("focusout", (e) => { if (tokenOf(e) && tokenOf(e) !== pinned) tip.hidden = true; });
  document.addEventListener("scroll", () => {
    const keep = [hovered, pinned].find((t) => t && document.contains(t));
    if (keep) show(keep); else tip.hidden = true;
  }, true);
  function hideWord(tok) {
    // Ask the server what the model says without this word (the page's hidden request box
    // and button: one forward pass, no new explanation).
    const d = data();
    const n = tok && tok.dataset.word ? Number(tok.dataset.word) : 0;
    const box = document.querySelector("#hide-request textarea, #hide-request input");
    const go = document.querySelector("#hide-go");
    if (!d || !n || !box || !go) return;
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(box), "value").set;
    setter.call(box, String(n));
    box.dispatchEvent(new Event("input", {bubbles: true}));
    setTimeout(() => go.click(), 50);
  }
  document.addEventListener("click", (e) => {
    if (!(e.target instanceof Element)) return;
    const t = tokenOf(e);
    if (t) { pinned = t; show(t); hideWord(t); return; }
    pinned = null;
    if (e.target.closest("#explain-jump")) {
      const strong = [...document.querySelectorAll(".explain-words .token.explain-top")]
        .sort((a, b) => Number(a.dataset.rank) - Number(b.dataset.rank));
      if (!strong.length) return;
      for (const s of strong) s.classList.remove("explain-jumped");
      jumped = (jumped + 1) % strong.length;
      const next = strong[jumped];
      next.classList.add("explain-jumped");
      // Scroll the words' own box, not the page: the caption and its key stay in view.
      const box = next.closest("#words, #words-pair");
      if (box) {
        const r = next.getBoundingClientRect(), b = box.getBoundingClientRect();
        box.scrollTop += r.top - b.top - box.clientHeight / 2;
        if (b.bottom < 0 || b.top > window.innerHeight) box.scrollIntoView({block: "nearest"});
      }
      next.focus({preventScroll: true});
      const btn = e.target.closest("#explain-jump");
      btn.textContent = `Next top word \u2193 (${jumped + 1} of ${strong.length})`;
      return;
    }
    if (e.target.closest("#explain-btn, #examples, .explain-examples") && window.innerWidth < 900) {
      setTimeout(() => { const r = document.querySelector("#results"); if (r) r.scrollIntoView({block: "start"}); },
                 150);
    }
  });
  document.addEventListener("keydown", (e) => {
    if (!(e.target instanceof Element)) return;
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && e.target.closest("#text, #text-pair, #candidates")) {
      e.preventDefault();
      const b = document.querySelector("#explain-btn");
      if (b) b.click();
      return;
    }
    const t = e.target.closest(".explain-words .token");
    if (t && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); show(t); hideWord(t); }
  });
  function count() {
    const box = document.querySelector("#text textarea");
    const out = document.querySelector("#char-count .explain-count");
    if (!box || !out) return;
    const limit = Number(out.dataset.limit || 0), n = box.value.length;
    const over = limit && n > limit;
    out.classList.toggle("over", !!over);
    out.textContent = `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters` +
      (over ? ` \u2014 ${(n - limit).toLocaleString("en")} over this server's limit: shorten the text` : "");
  }
  document.addEventListener("input", (e) => { if (e.target instanceof Element && e.target.closest("#text")) count(); });
  const observer = new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(() => { annotate(); count(); }); }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true,
                                   attributes: true, attributeFilter: ["data-explain", "value"]});
  setInterval(count, 1000);
  annotate(); count();
}
