// The review page: build a profile, rank every drug (POST /score), explain one
// (POST /explain).  Plain DOM, no framework; every value from the API is written
// with textContent or as an SVG attribute, never parsed as HTML.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const FIELD_IDS = {
    tumour_type: "tumour-type",
    msi_high: "msi",
    tmb_mut_per_mb: "tmb",
    hrd_score: "hrd",
  };
  const FIELD_LABELS = {
    tumour_type: "Tumour type",
    msi_high: "MSI status",
    tmb_mut_per_mb: "TMB",
    hrd_score: "HRD score",
    kind: "kind",
    gene: "gene",
    protein_change: "protein change",
    partner_gene: "fusion partner",
  };
  const $ = (id) => document.getElementById(id);
  const state = {
    profile: null,
    results: [],
    sort: { key: "rank", ascending: true },
    sentRows: [],
    nextRow: 1,
  };

  // -- small helpers ------------------------------------------------------------

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(child));
    }
    return node;
  }

  function svg(tag, attributes = {}, text = null) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) {
      node.setAttribute(key, String(value));
    }
    if (text !== null) node.textContent = text;
    return node;
  }

  const percent = (p, digits = 0) => `${(100 * p).toFixed(digits)}%`;
  const interval = ([low, high]) => `${percent(low)}–${percent(high)}`;
  const points = (delta) =>
    `${delta >= 0 ? "+" : "−"}${Math.abs(100 * delta).toFixed(1)} pp`;

  function featureLabel(feature, value) {
    if (value === null || value === undefined) {
      return feature.startsWith("other ") ? feature : `${feature} (not measured)`;
    }
    if (feature.startsWith("tmb") || feature.startsWith("hrd")) {
      return `${feature} = ${Number(value.toFixed(2))}`;
    }
    return `${feature} (${value >= 0.5 ? "present" : "absent"})`;
  }

  // -- talking to the service ---------------------------------------------------

  class ApiError extends Error {
    constructor(message, fieldErrors = [], status = null) {
      super(message);
      this.fieldErrors = fieldErrors;
      this.status = status;
    }
  }

  async function call(path, body) {
    const options = body === undefined
      ? { headers: { accept: "application/json" } }
      : {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(body),
        };
    let response;
    try {
      response = await fetch(path, options);
    } catch (error) {
      throw new ApiError(`The service did not answer (${error.message}).`);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (response.ok) return data;
    if (data && Array.isArray(data.detail)) {
      throw new ApiError("The profile was not accepted:", data.detail, response.status);
    }
    const message = (data && (data.error || data.detail || data.message)) || text;
    throw new ApiError(
      `${response.status} ${response.statusText}: ${message}`, [], response.status);
  }

  // -- model status and the tumour-type list ------------------------------------

  async function loadModel() {
    const status = $("model-status");
    try {
      const info = await call("/model");
      const drugs = Object.entries(info.drugs);
      const types = new Set(drugs.flatMap(([, d]) => d.tumour_types));
      const list = $("tumour-types");
      list.replaceChildren(...[...types].sort().map((t) => el("option", { value: t })));
      status.textContent =
        `Model version ${info.model_version}: ${drugs.length} drugs, ` +
        `${types.size} tumour types, trained on ${info.data_source}.`;
    } catch (error) {
      // 503 while the bundle downloads and verifies: ask again shortly.
      status.textContent = `The model is not ready: ${error.message}`;
      if (error.status === 503) setTimeout(loadModel, 3000);
    }
  }

  // -- the alterations editor ---------------------------------------------------

  function addAlteration(values = {}) {
    const row = $("alteration-template").content.firstElementChild.cloneNode(true);
    const id = state.nextRow++;
    for (const input of row.querySelectorAll("[data-name]")) {
      const name = input.dataset.name;
      input.id = `alt-${id}-${name}`;
      row.querySelector(`label[data-for="${name}"]`).htmlFor = input.id;
      if (values[name] !== undefined && values[name] !== null) input.value = values[name];
    }
    const kind = row.querySelector('[data-name="kind"]');
    kind.addEventListener("change", () => syncKind(row));
    row.querySelector(".remove").addEventListener("click", () => {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      numberRows();
      (next ? next.querySelector(".remove") : $("add-alteration")).focus();
    });
    $("alteration-rows").append(row);
    syncKind(row);
    numberRows();
    return row;
  }

  function syncKind(row) {
    const fusion = row.querySelector('[data-name="kind"]').value === "fusion";
    const partner = row.querySelector('[data-name="partner_gene"]');
    partner.disabled = !fusion;
    if (!fusion) partner.value = "";
  }

  function numberRows() {
    [...$("alteration-rows").children].forEach((row, index) => {
      for (const label of row.querySelectorAll("label")) {
        let hidden = label.querySelector(".visually-hidden");
        if (!hidden) {
          hidden = el("span", { class: "visually-hidden" });
          label.prepend(hidden);
        }
        hidden.textContent = `Alteration ${index + 1} `;
      }
      row.querySelector(".remove").setAttribute(
        "aria-label", `Remove alteration ${index + 1}`);
    });
  }

  function profileFromForm() {
    const profile = { tumour_type: $("tumour-type").value.trim(), alterations: [] };
    state.sentRows = [];
    for (const row of $("alteration-rows").children) {
      const value = (name) => row.querySelector(`[data-name="${name}"]`).value.trim();
      const texts = ["gene", "protein_change", "partner_gene"].map(value);
      if (texts.every((t) => t === "")) continue; // an empty row is not an alteration
      const alteration = { kind: value("kind"), gene: texts[0] };
      if (texts[1]) alteration.protein_change = texts[1];
      if (texts[2]) alteration.partner_gene = texts[2];
      profile.alterations.push(alteration);
      state.sentRows.push(row);
    }
    const msi = $("msi").value;
    if (msi) profile.msi_high = msi === "true";
    for (const [field, id] of [["tmb_mut_per_mb", "tmb"], ["hrd_score", "hrd"]]) {
      const raw = $(id).value.trim();
      if (raw !== "") profile[field] = Number(raw);
    }
    return profile;
  }

  function profileFromJson() {
    const text = $("profile-json").value.trim();
    if (!text) throw new ApiError("Profile JSON: paste a profile or choose a file.");
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ApiError(`Profile JSON is not valid JSON: ${error.message}`);
    }
    state.sentRows = [];
    // A whole /score request is accepted too.
    return parsed && typeof parsed === "object" && "profile" in parsed
      ? parsed.profile
      : parsed;
  }

  // -- errors -------------------------------------------------------------------

  function clearErrors() {
    const box = $("errors");
    box.hidden = true;
    box.replaceChildren();
    for (const node of document.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
    }
  }

  function fieldFor(loc) {
    const path = loc[0] === "profile" ? loc.slice(1) : loc;
    if (path[0] === "alterations" && typeof path[1] === "number") {
      const row = state.sentRows[path[1]];
      const name = typeof path[2] === "string" ? path[2] : "gene";
      return {
        label: `Alteration ${path[1] + 1}, ${FIELD_LABELS[name] || name}`,
        input: row ? row.querySelector(`[data-name="${name}"]`) : null,
      };
    }
    const id = FIELD_IDS[path[0]];
    return {
      label: FIELD_LABELS[path[0]] || path.join(" → "),
      input: id ? $(id) : null,
    };
  }

  function showError(error, { fromForm }) {
    const box = $("errors");
    box.replaceChildren(el("p", { text: error.message }));
    if (error.fieldErrors.length) {
      const list = el("ul");
      let first = null;
      for (const item of error.fieldErrors) {
        const loc = Array.isArray(item.loc) ? item.loc : [];
        const field = fieldFor(loc);
        list.append(el("li", {},
          el("strong", { text: fromForm ? field.label : loc.join(".") }),
          `: ${item.msg} `,
          el("code", { text: `(${loc.join(".")})` })));
        if (fromForm && field.input) {
          field.input.setAttribute("aria-invalid", "true");
          first = first || field.input;
        }
      }
      box.append(list);
      box.hidden = false;
      if (first) first.focus();
      return;
    }
    box.hidden = false;
  }

  // -- ranking ------------------------------------------------------------------

  async function rank(profile, { fromForm }) {
    clearErrors();
    $("results-status").textContent = "Ranking…";
    try {
      const rankBy = $("rank-by").value;
      const body = await call("/score", { profile, top_k: 0, rank_by: rankBy });
      state.profile = profile;
      state.results = body.results;
      state.sort = { key: "rank", ascending: true };
      $("ranked").hidden = false;
      $("detail").hidden = true;
      $("population-note").textContent = populationNote(body);
      renderTable();
      const top = body.results.slice(0, 3).map((r) => r.drug).join(", ");
      $("results-status").textContent =
        `${body.results.length} drugs ranked by ${RANK_BY[rankBy]} ` +
        `(model ${body.model_version}); first: ${top}. Choose a drug to see why.`;
    } catch (error) {
      // Results of an earlier profile must not stand next to this one's error.
      $("ranked").hidden = true;
      $("detail").hidden = true;
      state.results = [];
      $("results-status").textContent = "No ranking: see the message under the form.";
      showError(error, { fromForm });
    }
  }

  const RANK_BY = {
    evidence: "evidence class, then probability",
    probability: "probability",
    lift: "lift over the tumour type's rate",
  };

  const ENDPOINTS = {
    ic50_sensitivity: "sensitivity (IC50 below the drug's threshold)",
    activity_area_sensitivity: "sensitivity (activity area above the drug's threshold)",
    clinical_benefit: "clinical benefit",
    objective_response: "objective response",
  };

  // What every probability on the page is a probability of.
  function populationNote(body) {
    const endpoint = ENDPOINTS[body.endpoint] || body.endpoint;
    if (body.population === "cell_line") {
      return `Learnt from cancer cell lines: each probability is the chance that a ` +
        `cell line with this profile shows ${endpoint}, not a patient's ` +
        `probability of response.`;
    }
    return `Learnt from patients: each probability is the chance of ${endpoint}.`;
  }

  const SORTS = {
    rank: (a, b) => a.rank - b.rank,
    drug: (a, b) => a.drug.localeCompare(b.drug),
    probability: (a, b) => b.probability - a.probability || a.rank - b.rank,
    lift: (a, b) => b.lift - a.lift || a.rank - b.rank,
  };

  const signed = (value) => `${value >= 0 ? "+" : "−"}${percent(Math.abs(value), 1)}`;

  function renderTable() {
    const needle = $("drug-filter").value.trim().toLowerCase();
    const { key, ascending } = state.sort;
    const rows = state.results
      .filter((r) => r.drug.includes(needle))
      .sort((a, b) => (ascending ? 1 : -1) * SORTS[key](a, b));
    $("ranked-table").tBodies[0].replaceChildren(...rows.map(tableRow));
    for (const button of document.querySelectorAll("[data-sort]")) {
      const th = button.closest("th");
      if (button.dataset.sort === key) {
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    }
    if (!rows.length) {
      $("ranked-table").tBodies[0].append(
        el("tr", {}, el("td", { colspan: "8", text: `No drug matches “${needle}”.` })));
    }
  }

  function evidenceCell(match) {
    if (!match) return el("td", { class: "muted", text: "no match" });
    const label = `class ${match.matching_class}: ${match.alteration}`;
    const cell = el("td", { title: match.evidence }, label);
    if (match.on_label) cell.append(" ", el("span", { class: "tag", text: "on-label" }));
    return cell;
  }

  // Drugs no booster serves: the tumour-type rate alone (the genome does not
  // move it), or the drug's known biomarker alone.
  const SIMPLER = {
    rate: ["rate only", "No genomic signal learned: in cross-validation no model " +
      "beat this drug's tumour-type rate, so the score is that rate."],
    biomarker: ["biomarker only", "In cross-validation no booster beat this " +
      "drug's known biomarker alone (TMB, HRD score or matching class), so the " +
      "score is a logistic fit on it."],
  };
  const simplerModel = (result) => {
    const simpler = SIMPLER[result.served_by];
    if (!simpler) return [];
    return [" ", el("span", { class: "tag", text: simpler[0], title: simpler[1] })];
  };

  function tableRow(result) {
    const button = el("button", { type: "button", class: "drug" }, result.drug);
    button.addEventListener("click", () => explainDrug(result.drug));
    const bar = el("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = percent(result.probability, 1);
    return el("tr", { class: result.in_domain ? "" : "out-of-domain" },
      el("td", { class: "num", text: String(result.rank) }),
      el("th", { scope: "row" }, button),
      el("td", { class: "num probability" },
        el("span", { class: "bar-track", "aria-hidden": "true" }, bar),
        percent(result.probability, 1)),
      el("td", { class: "num", text: interval(result.interval) }),
      el("td", { class: "num", text: percent(result.base_rate, 1) }),
      el("td", { class: "num" }, signed(result.lift), ...simplerModel(result)),
      evidenceCell(result.matched_biomarker),
      el("td", {}, result.in_domain
        ? el("span", { text: "yes" })
        : el("span", { class: "warn", text: `no: ${result.reason}` })));
  }

  function sortBy(key) {
    const same = state.sort.key === key;
    state.sort = { key, ascending: same ? !state.sort.ascending : true };
    renderTable();
  }

  // -- one drug explained -------------------------------------------------------

  async function explainDrug(drug) {
    const detail = $("detail");
    detail.hidden = false;
    $("detail-heading").textContent = `${drug}: why this score`;
    $("detail-status").textContent = `Explaining ${drug}…`;
    $("detail-body").replaceChildren();
    try {
      const body = await call("/explain", { profile: state.profile, drug, top_k: 10 });
      $("detail-body").replaceChildren(...renderExplanation(body));
      $("detail-status").textContent = `${drug} explained.`;
    } catch (error) {
      $("detail-status").textContent = `Could not explain ${drug}: ${error.message}`;
    }
    $("detail-heading").focus();
  }

  function renderExplanation(body) {
    const score = body.score;
    const sets = { "0": "non-responder", "1": "responder", "0,1": "either (cannot call)" };
    const facts = el("dl", { class: "facts" },
      el("dt", { text: "Calibrated probability" }),
      el("dd", {}, el("strong", { text: percent(score.probability, 1) }),
        ` (training patients scored like this responded at ` +
        `${interval(score.interval)}, Wilson 95%, ≈90% measured); rank ${score.rank} of ` +
        `${state.results.length}`),
      el("dt", { text: "Tumour type's rate for this drug" }),
      el("dd", { text: `${percent(score.base_rate, 1)}; this profile's lift over ` +
        `it: ${signed(score.lift)}` }),
      el("dt", { text: "Model's own probability" }),
      el("dd", { text: `${percent(body.raw_probability, 1)} (uncalibrated; the ` +
        `waterfall explains this one)` }),
      el("dt", { text: `Prediction set (${percent(score.coverage)} coverage)` }),
      el("dd", { text: sets[score.prediction_set.join(",")] || "—" }),
      el("dt", { text: "In domain" }),
      el("dd", score.in_domain ? { text: "yes" } : { class: "warn", text: `no: ${score.reason}` }),
      el("dt", { text: "Evidence" }),
      el("dd", {}, ...evidenceText(score.matched_biomarker)),
      el("dt", { text: "Training samples like this one" }),
      el("dd", { text: body.key_alteration
        ? `${capitalise(body.key_alteration.statement)} (key alteration: ` +
          `${body.key_alteration.chosen_by}).`
        : "The profile carries no alteration that raises this score." }));
    return [facts, waterfallFigure(body), stepsTable(body), ...summaryParts(body)];
  }

  const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);

  function evidenceText(match) {
    if (!match) return ["no known biomarker of this drug in the profile"];
    return [
      `DRUP class ${match.matching_class}: ${match.alteration}` +
        (match.on_label ? " (on-label in this tumour type)" : " (off-label)"),
      el("br"),
      el("small", { class: "muted", text: match.evidence }),
    ];
  }

  function waterfallFigure(body) {
    const steps = body.steps;
    const width = 760, labelWidth = 250, valueWidth = 80, rowHeight = 24, top = 30;
    const plotLeft = labelWidth + 10, plotRight = width - valueWidth - 10;
    const x = (p) => plotLeft + p * (plotRight - plotLeft);
    const rows = steps.length + 3; // base, steps, raw, calibrated
    const height = top + rows * rowHeight + 10;
    const title = `Waterfall for ${body.drug}: from the base probability ` +
      `${percent(body.base_probability, 1)} to the model's ` +
      `${percent(body.raw_probability, 1)}`;
    const root = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, class: "waterfall", role: "img",
      "aria-labelledby": "waterfall-title",
    });
    root.append(svg("title", { id: "waterfall-title" }, title));
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      root.append(
        svg("line", { x1: x(tick), x2: x(tick), y1: top - 6, y2: height - 6, class: "grid" }),
        svg("text", { x: x(tick), y: top - 10, class: "tick", "text-anchor": "middle" },
          percent(tick)));
    }
    const rowY = (i) => top + i * rowHeight;
    const label = (i, text, extra = "") => {
      const shown = text.length > 38 ? `${text.slice(0, 37)}…` : text;
      const node = svg("text", { x: labelWidth, y: rowY(i) + 16, class: `label ${extra}`,
        "text-anchor": "end" }, shown);
      if (shown !== text) node.append(svg("title", {}, text));
      root.append(node);
    };
    const marker = (i, p, cls) => root.append(
      svg("circle", { cx: x(p), cy: rowY(i) + 12, r: 5, class: cls }));

    label(0, "base value (average sample)", "strong");
    marker(0, body.base_probability, "dot");
    root.append(svg("text", { x: plotRight + 8, y: rowY(0) + 16, class: "value" },
      percent(body.base_probability, 1)));
    steps.forEach((step, index) => {
      const i = index + 1, up = step.delta >= 0;
      const left = x(Math.min(step.start, step.end));
      const barWidth = Math.max(Math.abs(x(step.end) - x(step.start)), 1.5);
      label(i, featureLabel(step.feature, step.value));
      root.append(
        svg("rect", { x: left, y: rowY(i) + 4, width: barWidth, height: rowHeight - 8,
          class: `bar ${up ? "up" : "down"}`, "data-delta": step.delta }),
        svg("line", { x1: x(step.end), x2: x(step.end), y1: rowY(i) + 4,
          y2: rowY(i + 1) + 4, class: "connector" }),
        svg("text", { x: plotRight + 8, y: rowY(i) + 16, class: `value ${up ? "up" : "down"}` },
          points(step.delta)));
    });
    const last = steps.length + 1;
    label(last, "model's probability (raw)", "strong");
    marker(last, body.raw_probability, "dot");
    root.append(svg("text", { x: plotRight + 8, y: rowY(last) + 16, class: "value" },
      percent(body.raw_probability, 1)));
    const [low, high] = body.score.interval;
    label(last + 1, "calibrated; bar: the score bin's observed rate, ≈90% interval", "strong");
    root.append(svg("line", { x1: x(low), x2: x(high), y1: rowY(last + 1) + 12,
      y2: rowY(last + 1) + 12, class: "interval" }));
    marker(last + 1, body.score.probability, "dot calibrated");
    root.append(svg("text", { x: plotRight + 8, y: rowY(last + 1) + 16, class: "value" },
      percent(body.score.probability, 1)));

    return el("figure", { class: "waterfall-figure" },
      el("figcaption", {},
        el("strong", { text: "Why: SHAP waterfall in probability units. " }),
        "Each bar moves the model's probability by one feature, largest first " +
        "(red raises it, blue lowers it); the steps add up from the base value to " +
        "the model's probability. Calibration then maps that to the probability " +
        "ranked above."),
      root);
  }

  function stepsTable(body) {
    const table = el("table", { class: "steps" },
      el("caption", { text: "The waterfall's steps" }),
      el("thead", {}, el("tr", {},
        ...["Feature", "SHAP (log-odds)", "From", "To", "Change"].map(
          (h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...body.steps.map((s) => el("tr", {},
        el("th", { scope: "row", text: featureLabel(s.feature, s.value) }),
        el("td", { class: "num", text: s.shap.toFixed(3) }),
        el("td", { class: "num", text: percent(s.start, 1) }),
        el("td", { class: "num", text: percent(s.end, 1) }),
        el("td", { class: "num", text: points(s.delta) })))));
    return el("details", { class: "steps-details" },
      el("summary", { text: "The waterfall as a table" }), table);
  }

  function summaryParts(body) {
    const heading = el("h3", { text: `${body.drug} across its training data` });
    const summary = body.summary;
    if (!summary) {
      return [heading, el("p", { class: "muted", text: "No summary stored for this model." })];
    }
    const overall = el("p", { text:
      `${summary.responders} of ${summary.n} training samples responded ` +
      `(${percent(summary.rate, 1)}).` });
    const features = el("ol", { class: "top-features" },
      ...summary.top_features.map((f) => el("li", {},
        `${f.feature} `, el("span", { class: "muted",
          text: `(mean |SHAP| ${f.mean_abs_shap.toFixed(2)})` }))));
    const parts = [heading, overall, el("h4", { text: "Most important features" }), features,
      el("h4", { text: "Candidate responder subgroups" })];
    if (!summary.subgroups.length) {
      parts.push(el("p", { class: "muted", text: "No subgroup rule was found." }));
      return parts;
    }
    parts.push(el("table", { class: "subgroups" },
      el("thead", {}, el("tr", {},
        ...["Rule", "Samples", "Response rate [95% CI]", "Outside the rule", "vs overall",
          "Held out"]
          .map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...summary.subgroups.map((rule) => el("tr", {},
        el("th", { scope: "row", text: rule.rule }),
        el("td", { class: "num", text: `${rule.responders_selected} / ${rule.n_selected}` }),
        el("td", { class: "num", text:
          `${percent(rule.rate, 1)} [${interval(rule.rate_ci)}]` }),
        el("td", { class: "num", text: rule.rate_outside === null
          ? "—" : `${percent(rule.rate_outside, 1)} of ${rule.n_outside}` }),
        el("td", { class: "num", text: points(rule.rate - summary.rate) }),
        el("td", { text: heldOut(rule) }))))));
    return parts;
  }

  function heldOut(rule) {
    if (rule.folds_found === null || rule.folds_found === undefined) return "not checked";
    const found = `found in ${rule.folds_found} folds`;
    return rule.rate_held_out === null
      ? found
      : `${percent(rule.rate_held_out, 1)} of ${rule.n_held_out}; ${found}`;
  }

  // -- wiring -------------------------------------------------------------------

  function start() {
    $("add-alteration").addEventListener("click", () => {
      addAlteration().querySelector('[data-name="gene"]').focus();
    });
    $("profile-form").addEventListener("submit", (event) => {
      event.preventDefault();
      rank(profileFromForm(), { fromForm: true });
    });
    $("json-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearErrors();
      try {
        rank(profileFromJson(), { fromForm: false });
      } catch (error) {
        showError(error, { fromForm: false });
      }
    });
    $("profile-file").addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (file) $("profile-json").value = await file.text();
    });
    $("form-to-json").addEventListener("click", () => {
      $("profile-json").value = JSON.stringify(profileFromForm(), null, 2);
    });
    $("drug-filter").addEventListener("input", renderTable);
    $("rank-by").addEventListener("change", () => {
      if (state.profile) rank(state.profile, { fromForm: false });
    });
    for (const button of document.querySelectorAll("[data-sort]")) {
      button.addEventListener("click", () => sortBy(button.dataset.sort));
    }
    addAlteration();
    loadModel();
  }

  start();
})();
