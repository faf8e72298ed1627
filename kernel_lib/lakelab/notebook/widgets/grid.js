// The result grid (anywidget ESM). It only shows state and sends requests: every page,
// sort, filter, profile and chart is computed by the engine in the kernel (grid.py).

const P = "jp-lakelab-grid";
const ACK_TIMEOUT_MS = 8000;

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : String(n));
const show = (v) => (v === null || v === undefined ? "NULL" : String(v));

function options(select, items, value) {
  select.replaceChildren(...items.map(([v, label]) => h("option", { value: String(v) }, label)));
  if (value !== undefined) select.value = String(value);
}

function render({ model, el }) {
  el.classList.add(P);
  let gone = false;
  let waiting = null;

  // a request: change state, bump the nonce; no echo of the nonce means no kernel behind us
  function request(changes) {
    for (const [k, v] of Object.entries(changes)) model.set(k, v);
    const nonce = (model.get("nonce") || 0) + 1;
    model.set("nonce", nonce);
    model.save_changes();
    clearTimeout(waiting);
    waiting = setTimeout(() => {
      if ((model.get("ack") || 0) < nonce) markGone();
    }, ACK_TIMEOUT_MS);
  }

  // no echo: the kernel restarted or stopped (or is busy with a long cell: a late echo undoes this)
  function markGone(
    text = "No answer from the kernel: if it restarted or stopped, re-run the cell to page, sort or filter again.",
  ) {
    gone = true;
    el.classList.add(`${P}-gone`);
    banner.textContent = text;
    banner.hidden = false;
  }
  // ipywidgets marks the views of models whose kernel restarted or died (on an element around
  // ours, which need not exist yet when we render): look once a second, so the banner shows
  // without waiting for a click
  const watch = setInterval(() => {
    if (!gone && el.closest(".jupyter-widgets-disconnected")) {
      markGone("The kernel restarted or stopped: re-run the cell to page, sort or filter again.");
    }
  }, 1000);
  function markBack() {
    if (!gone) return;
    gone = false;
    el.classList.remove(`${P}-gone`);
    banner.hidden = true;
  }

  // -- toolbar: filters, paging, chart toggle ------------------------------------------
  const colSelect = h("select", { class: `${P}-filter-column`, "aria-label": "filter column" });
  const opSelect = h("select", { class: `${P}-filter-op`, "aria-label": "filter operator" });
  const valueInput = h("input", {
    class: `${P}-filter-value`,
    placeholder: "value",
    "aria-label": "filter value",
    onkeydown: (e) => e.key === "Enter" && addFilter(),
  });
  const addButton = h("button", { class: `${P}-filter-add jp-mod-styled`, onclick: () => addFilter() }, "Filter");
  const chips = h("span", { class: `${P}-chips` });
  function addFilter() {
    const filters = [...model.get("filters")];
    filters.push({ column: Number(colSelect.value), op: opSelect.value, value: valueInput.value });
    valueInput.value = "";
    request({ filters });
  }

  const first = h("button", { class: `${P}-first`, title: "first page", onclick: () => go(0) }, "«");
  const prev = h("button", { class: `${P}-prev`, title: "previous page", onclick: () => go(-1, true) }, "‹");
  const next = h("button", { class: `${P}-next`, title: "next page", onclick: () => go(1, true) }, "›");
  const last = h("button", { class: `${P}-last`, title: "last page", onclick: () => go(Infinity) }, "»");
  const position = h("span", { class: `${P}-position` });
  function go(where, relative = false) {
    const size = model.get("page_size");
    const total = model.get("total");
    let offset = relative ? model.get("offset") + where * size : where;
    if (where === Infinity) offset = total > 0 ? Math.floor((total - 1) / size) * size : 0;
    if (total >= 0) offset = Math.min(offset, Math.max(0, Math.floor((total - 1) / size) * size));
    offset = Math.max(0, offset);
    if (offset !== model.get("offset")) request({ offset });
  }
  const chartToggle = h("button", { class: `${P}-chart-toggle`, onclick: () => (builder.hidden = !builder.hidden) }, "Chart");

  const toolbar = h(
    "div",
    { class: `${P}-toolbar` },
    colSelect,
    opSelect,
    valueInput,
    addButton,
    chips,
    h("span", { class: `${P}-spacer` }),
    first,
    prev,
    position,
    next,
    last,
    chartToggle,
  );

  // -- chart builder ----------------------------------------------------------------------
  const kind = h("select", { class: `${P}-chart-kind`, "aria-label": "chart kind" });
  const xSel = h("select", { class: `${P}-chart-x`, "aria-label": "x column" });
  const ySel = h("select", { class: `${P}-chart-y`, "aria-label": "y column" });
  const aggSel = h("select", { class: `${P}-chart-agg`, "aria-label": "aggregate" });
  const draw = h(
    "button",
    {
      class: `${P}-chart-draw jp-mod-styled`,
      onclick: () =>
        request({
          chart: { kind: kind.value, x: Number(xSel.value), y: ySel.value === "" ? null : Number(ySel.value), agg: aggSel.value, n: Date.now() },
        }),
    },
    "Draw",
  );
  const copy = h(
    "button",
    {
      class: `${P}-chart-copy`,
      onclick: async () => {
        const code = model.get("chart_code");
        codeBox.textContent = code;
        codeBox.hidden = !code;
        try {
          await navigator.clipboard.writeText(code);
          copy.textContent = "Copied";
        } catch {
          copy.textContent = "Select the code below";
        }
      },
    },
    "Copy as code",
  );
  const codeBox = h("pre", { class: `${P}-chart-code`, hidden: "" });
  const builder = h(
    "div",
    { class: `${P}-chart-builder`, hidden: "" },
    "Chart ",
    kind,
    " x ",
    xSel,
    " y ",
    ySel,
    " ",
    aggSel,
    draw,
    copy,
    codeBox,
  );

  // -- table, profile, footer ---------------------------------------------------------------
  const banner = h("div", { class: `${P}-banner`, hidden: "" });
  const error = h("div", { class: `${P}-error`, role: "alert", hidden: "" });
  const table = h("table", { class: `${P}-table` });
  const scroller = h("div", { class: `${P}-scroll` }, table);
  const profile = h("div", { class: `${P}-profile`, hidden: "" });
  const footer = h("div", { class: `${P}-footer` });
  el.replaceChildren(banner, toolbar, builder, error, h("div", { class: `${P}-body` }, scroller, profile), footer);

  function sortState(i) {
    const s = model.get("sort").find((x) => x[0] === i);
    return s ? s[1] : null;
  }
  function toggleSort(i, add) {
    const cur = sortState(i);
    const nextDir = cur === null ? "asc" : cur === "asc" ? "desc" : null;
    let sort = add ? model.get("sort").filter((x) => x[0] !== i) : [];
    if (nextDir) sort = [...sort, [i, nextDir]];
    request({ sort });
  }

  function renderTable() {
    const cols = model.get("columns");
    const head = h(
      "tr",
      {},
      h("th", { class: `${P}-rownum` }, "#"),
      cols.map((c, i) => {
        const dir = sortState(i);
        return h(
          "th",
          { "data-column": c.name, "aria-sort": dir ? (dir === "asc" ? "ascending" : "descending") : "none" },
          h(
            "span",
            { class: `${P}-colname`, title: "sort (shift: add to the sort)", onclick: (e) => toggleSort(i, e.shiftKey) },
            c.name,
            dir ? (dir === "asc" ? " ▲" : " ▼") : "",
          ),
          h("span", { class: `${P}-type` }, c.type),
          h(
            "button",
            {
              class: `${P}-profile-open`,
              title: `profile ${c.name}`,
              onclick: () => request({ profile_column: model.get("profile_column") === i ? -1 : i }),
            },
            "≡",
          ),
        );
      }),
    );
    const offset = model.get("offset");
    const body = model.get("rows").map((r, n) =>
      h(
        "tr",
        {},
        h("td", { class: `${P}-rownum` }, fmt(offset + n + 1)),
        r.map((v, i) =>
          h("td", { class: `${P}-${cols[i] ? cols[i].kind : "text"}${v === null ? ` ${P}-null` : ""}` }, show(v)),
        ),
      ),
    );
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, body));
    el.classList.toggle(`${P}-loading`, model.get("loading"));
  }

  function renderToolbar() {
    const cols = model.get("columns");
    const keep = colSelect.value;
    options(colSelect, cols.map((c, i) => [i, c.name]), keep === "" ? 0 : keep);
    if (!opSelect.options.length) options(opSelect, model.get("ops").map((o) => [o, o]));
    chips.replaceChildren(
      ...model.get("filters").map((f, i) =>
        h(
          "span",
          { class: `${P}-chip` },
          `${cols[f.column] ? cols[f.column].name : f.column} ${f.op}${f.op.startsWith("is") ? "" : ` ${f.value}`}`,
          h(
            "button",
            { title: "remove filter", onclick: () => request({ filters: model.get("filters").filter((_, j) => j !== i) }) },
            "×",
          ),
        ),
      ),
    );
    const total = model.get("total");
    const offset = model.get("offset");
    const n = model.get("rows").length;
    const range = n ? `rows ${fmt(offset + 1)}–${fmt(offset + n)}` : "no rows";
    position.textContent = `${range} of ${total >= 0 ? fmt(total) : "…"}`;
    const size = model.get("page_size");
    prev.disabled = first.disabled = offset === 0;
    next.disabled = last.disabled = total >= 0 && offset + size >= total;
    const keepKind = kind.value, keepX = xSel.value, keepY = ySel.value, keepAgg = aggSel.value;
    options(kind, model.get("kinds").map((k) => [k, k]), keepKind || "bar");
    options(xSel, cols.map((c, i) => [i, c.name]), keepX || 0);
    options(ySel, [["", "(rows)"], ...cols.map((c, i) => [i, c.name])], keepY);
    options(aggSel, model.get("aggregates").map((a) => [a, a]), keepAgg || "count");
  }

  function renderError() {
    const msg = model.get("error");
    error.textContent = msg;
    error.hidden = !msg;
  }

  function bar(width, label, count) {
    return h(
      "div",
      { class: `${P}-bar-row` },
      h("span", { class: `${P}-bar-label` }, label),
      h("span", { class: `${P}-bar`, style: `width:${Math.max(1, width)}%` }),
      h("span", { class: `${P}-bar-count` }, fmt(count)),
    );
  }

  function renderProfile() {
    const p = model.get("profile");
    const open = model.get("profile_column");
    if (open < 0) {
      profile.hidden = true;
      return;
    }
    profile.hidden = false;
    if (!p || p.index !== open) {
      profile.replaceChildren(h("div", {}, p && p.error ? p.error : "profiling…"));
      if (p && p.error) profile.classList.add(`${P}-profile-error`);
      return;
    }
    profile.classList.remove(`${P}-profile-error`);
    const topMax = Math.max(1, ...p.top.map((t) => t.count));
    const histMax = Math.max(1, ...p.histogram.map((b) => b.count));
    profile.replaceChildren(
      h("div", { class: `${P}-profile-title` }, `${p.column} `, h("span", { class: `${P}-type` }, p.type),
        h("button", { class: `${P}-profile-close`, title: "close", onclick: () => request({ profile_column: -1 }) }, "×")),
      h(
        "dl",
        {},
        h("dt", {}, "rows"), h("dd", {}, fmt(p.rows)),
        h("dt", {}, "nulls"), h("dd", { class: `${P}-profile-nulls` }, fmt(p.nulls)),
        h("dt", {}, "distinct"), h("dd", { class: `${P}-profile-distinct` }, p.distinct === null ? "–" : fmt(p.distinct)),
        h("dt", {}, "min"), h("dd", {}, show(p.min)),
        h("dt", {}, "max"), h("dd", {}, show(p.max)),
      ),
      p.top.length ? h("div", { class: `${P}-profile-sub` }, "top values") : null,
      h("div", { class: `${P}-top` }, p.top.map((t) => bar((100 * t.count) / topMax, show(t.value), t.count))),
      p.histogram.length ? h("div", { class: `${P}-profile-sub` }, "histogram") : null,
      h(
        "div",
        { class: `${P}-histogram` },
        p.histogram.map((b) =>
          h("span", { class: `${P}-hbar`, title: `${b.start} – ${b.end}: ${fmt(b.count)}`, style: `height:${(100 * b.count) / histMax}%` }),
        ),
      ),
    );
  }

  function renderFooter() {
    footer.textContent = model.get("info");
  }

  function renderAll() {
    renderToolbar();
    renderTable();
    renderError();
    renderProfile();
    renderFooter();
  }

  const handlers = {
    "change:rows": () => { renderTable(); renderToolbar(); },
    "change:columns": renderAll,
    "change:sort": renderTable,
    "change:loading": renderTable,
    "change:filters": renderToolbar,
    "change:total": renderToolbar,
    "change:offset": renderToolbar,
    "change:error": renderError,
    "change:profile": renderProfile,
    "change:profile_column": renderProfile,
    "change:info": renderFooter,
    "change:ack": () => {
      if (model.get("ack") >= model.get("nonce")) clearTimeout(waiting);
      markBack();
    },
  };
  for (const [ev, fn] of Object.entries(handlers)) model.on(ev, fn);
  renderAll();
  return () => {
    clearInterval(watch);
    clearTimeout(waiting);
    for (const [ev, fn] of Object.entries(handlers)) model.off(ev, fn);
  };
}

export default { render };
