// Verdict review: a grid of informants x hypotheses; open a cell, read its evidence, set a verdict by key.
(() => {
  const root = document.querySelector(".verdicts");
  const coder = root.dataset.coder;
  const $ = id => document.getElementById(id);
  // Every text comes from the page (page.js); verdict ids are keys too.
  const {t, call} = coderPage(root);
  const word = verdict => t("v_" + verdict);
  const KEYS = {"1": "supports", "2": "partly", "3": "contradicts", "4": "no_evidence"};
  let review = null, open = null, busy = false;

  // Interview text only ever goes in as text nodes (textContent), never as HTML (issue 13.11).
  function el(tag, text, attrs = {}) {
    const node = document.createElement(tag);
    node.textContent = text;
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }
  const cellOf = (h, i) => review.cells.find(c => c.hypothesis === h && c.informant === i);

  function label(c) {
    if (!c.researcher_verdict) return t("by_rule", {verdict: word(c.rule_verdict)});
    return t("by_researcher", {verdict: word(c.researcher_verdict)}) + (c.stale ? t("stale_mark") : "");
  }

  function render() {
    $("source").textContent = t(review.source === "all" ? "source_all" : "source_reviewed") +
      (review.model ? t("source_model", {model: review.model}) : "");
    const head = el("tr", "");
    head.append(el("th", t("informant")), ...review.hypotheses.map(h => el("th", h.id, {title: h.statement})));
    $("head").replaceChildren(head);
    $("rows").replaceChildren(...review.informants.map(i => {
      const tr = el("tr", "");
      tr.append(el("th", i));
      for (const h of review.hypotheses) {
        const c = cellOf(h.id, i);
        const td = el("td", "", {"data-testid": `cell-${h.id}-${i}`, "data-verdict": c.verdict, "tabindex": "0",
                                "data-stale": c.stale ? "true" : "false", "data-researcher": c.researcher_verdict || "",
                                class: `cell ${c.verdict}${c.stale ? " stale" : ""}${open && open.h === h.id && open.i === i ? " open" : ""}`});
        const b = el("button", label(c), {type: "button"});
        b.addEventListener("click", () => show(h.id, i));
        td.append(b);
        tr.append(td);
      }
      return tr;
    }));
    const totals = el("tr", "", {class: "muted"});
    totals.append(el("th", t("overall")), ...review.hypotheses.map(h => el("td", word(h.verdict), {"data-testid": `overall-${h.id}`, title: h.reason})));
    $("rows").append(totals);
    if (open) detail();
  }

  function show(h, i) {
    const same = open && open.h === h && open.i === i;
    open = {h, i};
    if (!same) $("rationale").value = cellOf(h, i).rationale || "";
    render();
  }

  function detail() {
    const c = cellOf(open.h, open.i);
    $("detail").hidden = false;
    $("cell-title").textContent = t("cell", {informant: c.informant, hyp: c.hypothesis});
    $("proposal").textContent = t("rule_says", {verdict: word(c.rule_verdict), reason: c.reason, plus: c.supporting,
      minus: c.contradicting, weight: c.salience.toFixed(2), stab: c.stability.toFixed(2)});
    $("mine").textContent = c.researcher_verdict
      ? t("mine", {verdict: word(c.researcher_verdict), coder: c.coder, created: c.created.slice(0, 16)}) +
        (c.stale ? t("stale") : "") + (c.rationale ? t("note", {note: c.rationale}) : "")
      : t("no_verdict");
    const parts = [];
    for (const [code, sides] of Object.entries(c.evidence)) {
      for (const stance of ["supports", "contradicts"]) {
        if (!sides[stance].length) continue;
        parts.push(el("h3", t("evidence", {code, stance: word(stance), count: sides[stance].length})));
        const ul = el("ul", "", {"data-testid": `quotes-${code}-${stance}`});
        ul.append(...sides[stance].map(q => el("li", t(q.reviewed ? "quote" : "quote_proposed", q))));
        parts.push(ul);
      }
    }
    $("evidence").replaceChildren(...(parts.length ? parts : [el("p", t("no_coded_evidence"))]));
  }

  async function decide(verdict) {
    if (!open || busy) return;
    busy = true;
    try {
      review = await call("/api/verdict", {coder, informant: open.i, hypothesis: open.h, verdict, rationale: $("rationale").value});
      $("message").textContent = "";
      render();
    } catch (e) { $("message").textContent = e.message; } finally { busy = false; }
  }

  document.querySelectorAll("#detail button[data-verdict]").forEach(b =>
    b.addEventListener("click", () => decide(b.dataset.verdict || null)));
  $("rationale").addEventListener("keydown", e => { if (e.key === "Enter") { e.preventDefault(); $("rationale").blur(); } });
  document.addEventListener("keydown", e => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.target === $("rationale")) return;
    if (KEYS[e.key]) decide(KEYS[e.key]);
    else if (e.key === "0") decide(null);
    else if (e.key === "a" && open) decide(cellOf(open.h, open.i).rule_verdict);
    else if (e.key === "n" && open) { e.preventDefault(); $("rationale").focus(); }
  });
  call("/api/verdicts").then(data => { review = data; render(); }).catch(e => { $("message").textContent = e.message; });
})();
