// Keyboard-first review: one item at a time, decisions posted as JSON, next item without reload.
(() => {
  const root = document.querySelector(".review");
  const coder = root.dataset.coder, strategy = root.dataset.strategy;
  // Every text shown comes from the server's catalogue in the page's language (issue 13.14).
  const {t, call} = coderPage(root);
  const buttons = [...document.querySelectorAll("button.code")];
  const keyOf = Object.fromEntries(buttons.map(b => [b.querySelector("kbd").textContent, b]));
  const $ = id => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  let item = null, selected = new Map(), last = null, skipped = [], busy = false;

  // Interview text only ever goes in as text nodes (textContent), never as HTML (issue 13.11).
  function el(tag, text, attrs = {}) {
    const node = document.createElement(tag);
    node.textContent = text;
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }
  function say(text) { $("message").textContent = text || ""; }
  function setProgress(p) { $("progress").textContent = t("progress", p); }

  function render() {
    buttons.forEach(b => {
      const code = b.dataset.code, on = selected.has(code);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      const score = item && item.proposals[code];
      b.querySelector(".score").textContent = score === undefined ? "" : score.toFixed(2);
      b.querySelector(".stance").textContent = on && selected.get(code) === "contradicts" ? "−" : "";
    });
  }

  function show(data) {
    setProgress(data.progress);
    if (data.done) { item = null; $("item").replaceChildren(el("p", t("done"))); render(); return; }
    item = data.item;
    const turn = item.turn_text, a = item.start - item.turn_start, b = item.end - item.turn_start;
    $("meta").textContent = t("position", {document: item.document, speaker: item.speaker, index: item.index + 1, total: item.total});
    $("question").textContent = item.question ? t("question", item) : "";
    $("turn").replaceChildren(el("span", turn.slice(0, a), {class: "context"}), el("mark", turn.slice(a, b), {"data-testid": "sentence"}),
                              el("span", turn.slice(b), {class: "context"}));
    $("why").textContent = item.reason ? t("why", item) : "";
    $("model").textContent = item.model_id ? t("model", item) : "";
    const current = Object.keys(item.current || {});
    selected = new Map((current.length ? current : item.preselected).map(c => [c, (item.current || {})[c] || "supports"]));
    last = null; render();
  }

  async function next(sentence) {
    const q = new URLSearchParams({coder, strategy, skip: skipped.join(",")});
    if (sentence) q.set("sentence", sentence);
    if (params.get("document")) q.set("document", params.get("document"));
    show(await call(`/api/next?${q}`));
  }

  async function decide(codes) {
    if (!item || busy) return;
    busy = true;
    try {
      const data = await call("/api/decide", {coder, sentence_id: item.sentence_id, codes: Object.fromEntries(codes), token: item.token});
      setProgress(data.progress); say("");
      await next();
      status();
    } catch (e) { say(e.message); } finally { busy = false; }
  }

  function toggle(code) {
    if (selected.has(code)) selected.delete(code); else selected.set(code, "supports");
    last = code; render();
  }

  async function status() {
    try {
      const s = await call(`/api/status?coder=${encodeURIComponent(coder)}`);
      const a = s.agreement.f1 === null ? "" : t("agreement", {reviews: s.agreement.reviews, f1: s.agreement.f1.toFixed(2)});
      $("stopping").textContent = (s.training.running ? t("training") : "") + s.training.advice + a;
    } catch (e) { /* status is advice only */ }
  }

  buttons.forEach(b => b.addEventListener("click", () => toggle(b.dataset.code)));
  document.addEventListener("keydown", async e => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Enter") { e.preventDefault(); decide(selected); }
    else if (e.key === "x") decide(new Map());
    else if (e.key === "s" && item) { skipped.push(item.sentence_id); next(); }
    else if (e.key === "u") {
      try { const d = await call("/api/undo", {coder}); if (d.sentence_id) await next(d.sentence_id); else say(t("nothing_to_undo")); }
      catch (err) { say(err.message); }
    }
    else if (e.key === "-") {
      const code = last && selected.has(last) ? last : [...selected.keys()].pop();
      if (code) { selected.set(code, selected.get(code) === "contradicts" ? "supports" : "contradicts"); render(); }
    }
    else if (e.key === "?") $("help").hidden = !$("help").hidden;
    else if (keyOf[e.key]) toggle(keyOf[e.key].dataset.code);
  });
  next(params.get("sentence")).catch(e => say(e.message));
  status();
})();
