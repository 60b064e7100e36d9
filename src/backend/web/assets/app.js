// cargo-otel web view: hash-routed views over /api/*, refreshed whenever the
// version in /api/summary moves. No framework and no build step; the page's
// Content-Security-Policy forbids inline script, so all DOM is built here and
// all text goes in through textContent (never innerHTML).

const view = document.getElementById("view");
const live = document.getElementById("live");
const liveText = document.getElementById("live-text");
const appName = document.querySelector('meta[name="application-name"]')?.content || "cargo-otel";

const POLL_MS = 1000;
const LIST_LIMIT = 500;
const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];

// ---------------------------------------------------------------------------
// DOM helpers

/** Creates an element; `style` goes through the CSSOM, which the CSP allows. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") setStyle(el, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  appendAll(el, children);
  return el;
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  appendAll(el, children);
  return el;
}

function setStyle(el, style) {
  for (const [key, value] of Object.entries(style)) {
    if (key.startsWith("--")) el.style.setProperty(key, value);
    else el.style[key] = value;
  }
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

function empty(title, text) {
  return h("div", { class: "empty" }, h("strong", {}, title), text);
}

// ---------------------------------------------------------------------------
// Formatting

const nsBig = (ns) => BigInt(ns || "0");
const nsToDate = (ns) => new Date(Number(nsBig(ns) / 1000000n));
const pad = (n, width = 2) => String(n).padStart(width, "0");

/** `14:03:07.123`, with the date in front when it is not today. */
function fmtTime(ns) {
  const d = nsToDate(ns);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

function fmtDateTime(ns) {
  const d = nsToDate(ns);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtTime(ns).split(" ").pop()}`;
}

/** Nanoseconds as `812 ns`, `4.2 µs`, `35.1 ms`, `2.35 s` or `3m 12s`. */
function fmtDuration(ns) {
  ns = Number(ns);
  const fixed = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  if (ns < 1e3) return `${ns} ns`;
  if (ns < 1e6) return `${fixed(ns / 1e3)} µs`;
  if (ns < 1e9) return `${fixed(ns / 1e6)} ms`;
  if (ns < 60e9) return `${fixed(ns / 1e9)} s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

function fmtNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1e6 ? compact.format(value) : plain.format(value);
}

/** UCUM units as people write them: `{request}` and `1` say nothing. */
function fmtUnit(unit) {
  if (!unit || unit === "1" || /^\{.*\}$/.test(unit)) return "";
  return unit;
}

/** A value with its unit: `33`, `12.5 ms`, `38.3 MiB`. */
function fmtValue(value, unit) {
  const shown = fmtUnit(unit);
  const scale = { By: 1, KiBy: 1024, MiBy: 1024 ** 2, GiBy: 1024 ** 3 }[shown];
  if (scale && Number.isFinite(value)) {
    let bytes = value * scale;
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (Math.abs(bytes) >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i += 1;
    }
    return `${plain.format(Number(bytes.toFixed(1)))} ${units[i]}`;
  }
  return shown ? `${fmtNumber(value)} ${shown}` : fmtNumber(value);
}

function plural(n, word) {
  return `${plain.format(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** A stable color per service, so one service looks the same everywhere. */
function serviceColor(name) {
  let hash = 0;
  for (const ch of name || "") hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return `hsl(${hash % 360} 62% 52%)`;
}

function serviceBadge(name) {
  return h("span", { class: "svc", style: { "--svc": serviceColor(name) } }, name || "unknown");
}

function statusPill(status) {
  const text = { error: "Error", ok: "OK", unset: "Unset" }[status] || status;
  return h("span", { class: `status ${status}` }, text);
}

function attrChips(attributes, max = 8) {
  if (!attributes?.length) return null;
  const shown = attributes.slice(0, max).map((a) =>
    h("span", { class: "attr", title: `${a.key}=${a.value}` }, h("b", {}, a.key), "=", a.value),
  );
  if (attributes.length > max) shown.push(h("span", { class: "attr" }, `+${attributes.length - max}`));
  return h("div", { class: "attrs" }, shown);
}

/** A table head; `columns` are `[title, class]` pairs. */
function thead(columns) {
  return h("thead", {}, h("tr", {}, columns.map(([title, cls]) => h("th", { class: cls }, title))));
}

function kvList(pairs) {
  return h("dl", { class: "kv" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

// ---------------------------------------------------------------------------
// API

class SignedOut extends Error {}

async function api(path) {
  const response = await fetch(path, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { accept: "application/json" },
  });
  if (response.status === 401) {
    // The session ended (the server restarted): sign in again, then come back here.
    location.assign(`/login?returnUrl=${encodeURIComponent("/" + location.hash)}`);
    throw new SignedOut("signed out");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).error || message;
    } catch {
      // Not JSON: keep the status line.
    }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

// ---------------------------------------------------------------------------
// Hash routing: #/traces, #/traces/<id>?span=<id>, #/logs?level=warn, #/metrics

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/traces";
  const at = raw.indexOf("?");
  const path = at < 0 ? raw : raw.slice(0, at);
  const params = new URLSearchParams(at < 0 ? "" : raw.slice(at + 1));
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params };
}

/** Rewrites the hash's query without a history entry or a re-route. */
function replaceParams(path, params) {
  const qs = params.toString();
  history.replaceState(null, "", `#${path}${qs ? `?${qs}` : ""}`);
}

let current = null;

function route() {
  const { parts, params } = parseHash();
  const name = parts[0] || "traces";
  for (const tab of document.querySelectorAll(".tabs a")) {
    tab.classList.toggle("active", tab.dataset.view === name);
  }
  view.replaceChildren();
  if (name === "traces" && parts[1]) current = traceDetailView(parts[1], params);
  else if (name === "traces") current = tracesView(params);
  else if (name === "logs") current = logsView(params);
  else if (name === "metrics") current = metricsView(params);
  else {
    current = null;
    view.append(empty("Nothing here", h("a", { href: "#/traces" }, "Go to traces")));
    return;
  }
  document.title = `${current.title} · ${appName}`;
  refresh();
}

let refreshing = null;
let refreshAgain = false;

/** Refetches the current view; calls while one runs coalesce into one more. */
async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  const controller = current;
  refreshing = (async () => {
    try {
      await controller?.refresh();
    } catch (error) {
      if (!(error instanceof SignedOut)) controller?.failed?.(error);
    }
  })();
  await refreshing;
  refreshing = null;
  if (refreshAgain) {
    refreshAgain = false;
    await refresh();
  }
}

// ---------------------------------------------------------------------------
// Live updates: poll the summary, refetch the view when its version moves.

let summary = { version: null, services: [], held: {}, evicted: {}, caps: {} };

async function poll() {
  let next;
  try {
    next = await api("/api/summary");
  } catch (error) {
    if (!(error instanceof SignedOut)) showLive(false);
    return;
  }
  const changed = summary.version !== null && next.version !== summary.version;
  summary = next;
  showLive(true);
  updateServiceSelects();
  if (changed) refresh();
}

function showLive(ok) {
  live.classList.toggle("ok", ok);
  live.classList.toggle("down", !ok);
  if (!ok) {
    liveText.textContent = "disconnected";
    live.title = "The cargo-otel backend does not answer; retrying every second.";
    return;
  }
  const { held = {}, evicted = {}, caps = {} } = summary;
  const held_ = [
    plural(held.traces || 0, "trace"),
    plural(held.spans || 0, "span"),
    plural(held.logs || 0, "log"),
    plural(held.metric_points || 0, "point"),
  ].join(" · ");
  const dropped = (evicted.traces || 0) + (evicted.spans || 0) + (evicted.logs || 0) + (evicted.metric_points || 0);
  liveText.replaceChildren();
  appendAll(liveText, [
    "live · ",
    held_,
    dropped ? h("span", { class: "evicted" }, ` · ${plain.format(dropped)} evicted`) : null,
  ]);
  const line = (key, label) =>
    `${label}: ${plain.format(held[key] || 0)} held of ${plain.format(caps[key] || 0)}, ${plain.format(evicted[key] || 0)} evicted`;
  live.title = [
    "Held in memory; the oldest are evicted at the cap.",
    line("traces", "traces"),
    line("spans", "spans"),
    line("logs", "logs"),
    line("metric_points", "metric points"),
  ].join("\n");
}

function serviceSelect(selected, onChange) {
  const select = h("select", {
    class: "svc-select",
    "aria-label": "Service",
    onchange: () => {
      select.dataset.selected = select.value;
      onChange(select.value);
    },
  });
  select.dataset.selected = selected || "";
  fillServices(select);
  return select;
}

function fillServices(select) {
  // A filter from the URL stays selectable even before its service reports.
  const chosen = select.dataset.selected;
  const names = [...new Set([...summary.services, chosen].filter(Boolean))].sort();
  select.replaceChildren(h("option", { value: "" }, "All services"));
  appendAll(select, names.map((name) => h("option", { value: name }, name)));
  select.value = chosen || "";
}

function updateServiceSelects() {
  for (const select of document.querySelectorAll("select.svc-select")) {
    const have = [...select.options].map((o) => o.value).slice(1).join("\n");
    if (have !== [...summary.services].sort().join("\n")) fillServices(select);
  }
}

function searchInput(value, placeholder, onChange) {
  let timer;
  const input = h("input", {
    type: "search",
    placeholder,
    "aria-label": placeholder,
    value: value || "",
    oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => onChange(input.value.trim()), 250);
    },
  });
  return input;
}

function setParam(params, key, value) {
  if (value) params.set(key, value);
  else params.delete(key);
}

function failedInto(container) {
  return (error) => container.replaceChildren(empty("Could not load this view", error.message));
}

// ---------------------------------------------------------------------------
// Traces list

function tracesView(params) {
  const update = (key, value) => {
    setParam(params, key, value);
    replaceParams("/traces", params);
    refresh();
  };
  const count = h("span", { class: "count" });
  const results = h("div", { class: "panel" });
  view.append(
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, "Traces"),
      serviceSelect(params.get("service"), (v) => update("service", v)),
      searchInput(params.get("q"), "Search span names and attributes", (v) => update("q", v)),
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          checked: params.get("errors") === "true",
          onchange: (e) => update("errors", e.target.checked ? "true" : ""),
        }),
        "Errors only",
      ),
      count,
    ),
    results,
  );

  async function refresh() {
    const query = new URLSearchParams(params);
    query.set("limit", LIST_LIMIT);
    const traces = await api(`/api/traces?${query}`);
    count.textContent = plural(traces.length, "trace");
    if (!traces.length) {
      const filtered = params.get("service") || params.get("q") || params.get("errors");
      results.replaceChildren(
        filtered
          ? empty("No matching traces", "Change the filters to see more.")
          : empty("No traces yet", "Run your program with its OTLP exporter pointed here; traces show up as they arrive."),
      );
      return;
    }
    const longest = Math.max(1, ...traces.map((t) => t.duration_ns));
    results.replaceChildren(
      h(
        "table",
        { class: "grid" },
        thead([
          ["Time", "shrink"],
          ["Service", "shrink"],
          ["Name"],
          ["Spans", "num shrink"],
          ["Duration", "num shrink"],
          ["Status", "shrink"],
        ]),
        h("tbody", {}, traces.map((t) => traceRow(t, longest))),
      ),
    );
  }

  return { title: "Traces", refresh, failed: failedInto(results) };
}

function traceRow(trace, longest) {
  const href = `#/traces/${trace.trace_id}`;
  const others = trace.services.filter((s) => s !== trace.service).length;
  return h(
    "tr",
    { class: "clickable", dataset: { traceId: trace.trace_id }, onclick: () => (location.hash = href) },
    h("td", { class: "time" }, fmtTime(trace.start_unix_nano)),
    h("td", { class: "shrink" }, serviceBadge(trace.service), others ? h("span", { class: "muted" }, ` +${others}`) : null),
    h(
      "td",
      {},
      h("a", { href }, trace.root_name || h("span", { class: "muted" }, "(root span not received)")),
      h("div", { class: "muted mono" }, trace.trace_id.slice(0, 16)),
    ),
    h("td", { class: "num" }, plain.format(trace.span_count)),
    h(
      "td",
      { class: "num" },
      h(
        "div",
        { class: "dur" },
        h("span", { class: "meter" }, h("span", { style: { width: `${(100 * trace.duration_ns) / longest}%` } })),
        fmtDuration(trace.duration_ns),
      ),
    ),
    h("td", {}, statusPill(trace.status)),
  );
}

// ---------------------------------------------------------------------------
// Trace detail: the waterfall

/** Spans in tree order (parents before children, siblings by start), with depth. */
function treeOrder(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    const parent = span.parent_span_id;
    if (parent && parent !== span.span_id && byId.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(span);
    } else {
      roots.push(span); // a root, or an orphan whose parent has not arrived
    }
  }
  const byStart = (a, b) => {
    const [x, y] = [nsBig(a.start_unix_nano), nsBig(b.start_unix_nano)];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const rows = [];
  const seen = new Set();
  const visit = (root) => {
    const stack = [[root, 0]];
    while (stack.length) {
      const [span, depth] = stack.pop();
      if (seen.has(span.span_id)) continue;
      seen.add(span.span_id);
      rows.push({ span, depth });
      const kids = (children.get(span.span_id) || []).slice().sort(byStart).reverse();
      for (const kid of kids) stack.push([kid, depth + 1]);
    }
  };
  roots.sort(byStart).forEach(visit);
  spans.forEach(visit); // spans caught in a parent cycle
  return rows;
}

function traceDetailView(traceId, params) {
  const head = h("div", { class: "trace-head" });
  const layout = h("div", { class: "trace-layout" });
  view.append(
    h("div", { class: "toolbar" }, h("a", { href: "#/traces" }, "← All traces")),
    head,
    layout,
  );
  let selected = params.get("span");
  let trace = null;

  const select = (spanId) => {
    selected = spanId;
    setParam(params, "span", spanId);
    replaceParams(`/traces/${traceId}`, params);
    render();
  };

  async function refresh() {
    try {
      trace = await api(`/api/traces/${encodeURIComponent(traceId)}`);
    } catch (error) {
      if (error.status !== 404 && error.status !== 400) throw error;
      head.replaceChildren();
      layout.replaceChildren(
        h("div", { class: "panel" }, empty("Trace not found", `${traceId} is not (or no longer) held. `)),
      );
      return;
    }
    render();
  }

  function render() {
    const spans = trace.spans;
    const start = spans.reduce((m, s) => (nsBig(s.start_unix_nano) < m ? nsBig(s.start_unix_nano) : m), nsBig(spans[0]?.start_unix_nano));
    const end = spans.reduce((m, s) => {
      const e = nsBig(s.start_unix_nano) + BigInt(s.duration_ns);
      return e > m ? e : m;
    }, start);
    const total = Math.max(1, Number(end - start));
    const rows = treeOrder(spans);
    const root = rows[0]?.span;
    const errors = spans.filter((s) => s.status === "error").length;
    const services = [...new Set(spans.map((s) => s.service))];
    document.title = `${root?.name || "Trace"} · ${appName}`;

    head.replaceChildren(
      h("h1", {}, root?.name || "Trace"),
      h(
        "div",
        { class: "facts" },
        h("span", {}, "Started ", h("b", {}, spans.length ? fmtDateTime(start.toString()) : "–")),
        h("span", {}, "Duration ", h("b", {}, fmtDuration(total))),
        h("span", {}, h("b", {}, plain.format(spans.length)), spans.length === 1 ? " span" : " spans"),
        errors ? h("span", { class: "status error" }, plural(errors, "error")) : null,
        h("span", {}, services.map((s) => [serviceBadge(s), " "])),
        h("span", { class: "mono" }, trace.trace_id),
        h("a", { href: `#/logs?trace_id=${trace.trace_id}` }, "Logs for this trace →"),
      ),
    );

    const selectedSpan = spans.find((s) => s.span_id === selected);
    layout.classList.toggle("with-detail", Boolean(selectedSpan));
    layout.replaceChildren(waterfall(rows, start, total, selected, select));
    if (selectedSpan) layout.append(spanDetail(selectedSpan, start, () => select(null)));
  }

  return { title: "Trace", refresh, failed: failedInto(layout) };
}

function waterfall(rows, start, total, selected, select) {
  const pct = (ns) => `${Math.min(100, Math.max(0, (100 * ns) / total))}%`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const byId = new Map(rows.map((r) => [r.span.span_id, r.span]));
  const gridLines = () => ticks.slice(1, -1).map((t) => h("div", { class: "wf-grid-line", style: { left: `${t * 100}%` } }));
  return h(
    "div",
    { class: "panel waterfall" },
    h(
      "div",
      { class: "wf-axis" },
      h("div", { class: "label" }, "Span"),
      h(
        "div",
        { class: "ticks" },
        ticks.slice(0, -1).map((t) => h("div", { class: "tick", style: { left: `${t * 100}%` } }, t ? fmtDuration(Math.round(t * total)) : "0")),
      ),
    ),
    rows.map(({ span, depth }, i) => {
      const offset = Number(nsBig(span.start_unix_nano) - start);
      const parent = byId.get(span.parent_span_id);
      const showService = !parent || parent.service !== span.service;
      const isError = span.status === "error";
      const classes = ["span-row", isError && "error", span.span_id === selected && "selected"].filter(Boolean).join(" ");
      return h(
        "div",
        {
          class: classes,
          role: "button",
          tabindex: "0",
          dataset: { spanId: span.span_id, spanName: span.name, status: span.status, depth: String(depth) },
          title: `${span.name} · ${fmtDuration(span.duration_ns)}`,
          onclick: () => select(span.span_id === selected ? null : span.span_id),
          onkeydown: (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              select(span.span_id);
            }
          },
          "aria-pressed": span.span_id === selected ? "true" : "false",
        },
        h(
          "div",
          { class: "span-name", style: { paddingLeft: `${12 + depth * 18}px` } },
          isError ? h("span", { class: "err-mark", title: "error" }, "!") : null,
          h("span", { class: "label" }, span.name),
          showService ? serviceBadge(span.service) : null,
        ),
        h(
          "div",
          { class: "span-track" },
          i === 0 ? null : gridLines(),
          h(
            "div",
            {
              class: "span-bar",
              style: { left: pct(offset), width: pct(span.duration_ns), "--svc": serviceColor(span.service) },
            },
            span.events.map((ev) => {
              const at = Number(nsBig(ev.time_unix_nano) - nsBig(span.start_unix_nano));
              const left = span.duration_ns ? Math.min(100, Math.max(0, (100 * at) / span.duration_ns)) : 0;
              return h("span", { class: "ev", title: ev.name, style: { left: `${left}%` } });
            }),
          ),
          h("span", { class: "span-dur", style: { left: pct(offset + span.duration_ns) } }, fmtDuration(span.duration_ns)),
        ),
      );
    }),
  );
}

function spanDetail(span, traceStart, close) {
  const spanStart = nsBig(span.start_unix_nano);
  return h(
    "aside",
    { class: "panel detail", dataset: { spanId: span.span_id } },
    h("button", { class: "close", title: "Close", "aria-label": "Close", onclick: close }, "×"),
    h("h2", {}, span.name),
    h("div", {}, statusPill(span.status), " ", h("span", { class: "kind" }, span.kind), " ", serviceBadge(span.service)),
    span.status_message ? h("p", { class: "status-msg" }, span.status_message) : null,
    h("h3", {}, "Span"),
    kvList([
      ["span id", span.span_id],
      ["parent", span.parent_span_id || "(root)"],
      ["start", fmtDateTime(span.start_unix_nano)],
      ["offset", `+${fmtDuration(Number(spanStart - traceStart))}`],
      ["duration", fmtDuration(span.duration_ns)],
      ["scope", span.scope || "–"],
    ]),
    h("h3", {}, `Attributes (${span.attributes.length})`),
    span.attributes.length
      ? kvList(span.attributes.map((a) => [a.key, a.value]))
      : h("p", { class: "muted" }, "None."),
    h("h3", {}, `Events (${span.events.length})`),
    span.events.length
      ? span.events.map((ev) =>
          h(
            "div",
            { class: "event" },
            h(
              "div",
              { class: "ev-head" },
              ev.name,
              h("span", {}, `+${fmtDuration(Number(nsBig(ev.time_unix_nano) - spanStart))}`),
            ),
            ev.attributes.length ? kvList(ev.attributes.map((a) => [a.key, a.value])) : null,
          ),
        )
      : h("p", { class: "muted" }, "None."),
  );
}

// ---------------------------------------------------------------------------
// Structured logs

function logsView(params) {
  const update = (key, value) => {
    setParam(params, key, value);
    replaceParams("/logs", params);
    refresh();
  };
  const level = h(
    "select",
    { "aria-label": "Minimum level", onchange: () => update("level", level.value) },
    h("option", { value: "" }, "All levels"),
    LEVELS.map((l) => h("option", { value: l }, `${l[0].toUpperCase()}${l.slice(1)} and above`)),
  );
  level.value = LEVELS.includes(params.get("level")) ? params.get("level") : "";
  const traceId = params.get("trace_id");
  const count = h("span", { class: "count" });
  const results = h("div", { class: "panel" });
  view.append(
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, "Logs"),
      level,
      serviceSelect(params.get("service"), (v) => update("service", v)),
      searchInput(params.get("q"), "Search messages and attributes", (v) => update("q", v)),
      traceId
        ? h(
            "span",
            { class: "chip" },
            "trace ",
            h("a", { href: `#/traces/${traceId}`, class: "mono" }, traceId.slice(0, 12)),
            h("a", { href: "#/logs", title: "Show all logs" }, "×"),
          )
        : null,
      count,
    ),
    results,
  );

  async function refresh() {
    const query = new URLSearchParams(params);
    query.set("limit", LIST_LIMIT);
    const logs = await api(`/api/logs?${query}`);
    count.textContent = plural(logs.length, "record");
    if (!logs.length) {
      const filtered = [...params.keys()].length > 0;
      results.replaceChildren(
        filtered
          ? empty("No matching log records", "Change the filters to see more.")
          : empty("No logs yet", "Log records your program exports over OTLP show up here as they arrive."),
      );
      return;
    }
    results.replaceChildren(
      h(
        "table",
        { class: "grid" },
        thead([["Time", "shrink"], ["Level", "shrink"], ["Service", "shrink"], ["Message"], ["Trace", "shrink"]]),
        h("tbody", {}, logs.map(logRow)),
      ),
    );
  }

  return { title: "Logs", refresh, failed: failedInto(results) };
}

function logRow(log) {
  const level = (log.level || "").toLowerCase();
  const traceHref = log.trace_id ? `#/traces/${log.trace_id}${log.span_id ? `?span=${log.span_id}` : ""}` : null;
  return h(
    "tr",
    { class: `log-${level}`, dataset: { level } },
    h("td", { class: "time" }, fmtTime(log.time_unix_nano)),
    h("td", {}, h("span", { class: `level ${level}` }, log.level || "?")),
    h("td", { class: "shrink" }, serviceBadge(log.service)),
    h("td", {}, h("div", { class: "log-body" }, log.body), attrChips(log.attributes)),
    h("td", {}, traceHref ? h("a", { href: traceHref, class: "mono", title: "Open the trace" }, `${log.trace_id.slice(0, 8)}…`) : null),
  );
}

// ---------------------------------------------------------------------------
// Metrics

function metricsView(params) {
  const update = (key, value) => {
    setParam(params, key, value);
    replaceParams("/metrics", params);
    refresh();
  };
  const count = h("span", { class: "count" });
  const results = h("div", { class: "panel" });
  view.append(
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, "Metrics"),
      serviceSelect(params.get("service"), (v) => update("service", v)),
      searchInput(params.get("q"), "Search metric names", (v) => update("q", v)),
      count,
    ),
    results,
  );

  async function refresh() {
    const series = await api(`/api/metrics?${new URLSearchParams(params)}`);
    count.textContent = `${plain.format(series.length)} series`;
    if (!series.length) {
      results.replaceChildren(
        [...params.keys()].length
          ? empty("No matching metrics", "Change the filters to see more.")
          : empty("No metrics yet", "Metrics your program exports over OTLP show up here as they arrive."),
      );
      return;
    }
    results.replaceChildren(
      h(
        "table",
        { class: "grid middle" },
        thead([["Name"], ["Service", "shrink"], ["Kind", "shrink"], ["Latest", "num shrink"], ["Over time", "shrink"]]),
        h("tbody", {}, series.map(metricRow)),
      ),
    );
  }

  return { title: "Metrics", refresh, failed: failedInto(results) };
}

function metricRow(series) {
  const last = series.points[series.points.length - 1];
  const aggregated = last?.count != null;
  return h(
    "tr",
    { dataset: { metricName: series.name } },
    h(
      "td",
      {},
      h("div", { class: "metric-name" }, series.name),
      series.description ? h("div", { class: "metric-desc" }, series.description) : null,
      attrChips(series.attributes),
    ),
    h("td", { class: "shrink" }, serviceBadge(series.service)),
    h("td", {}, h("span", { class: "kind" }, series.kind.replace("_", " "))),
    h(
      "td",
      { class: "num" },
      h("div", { class: "latest" }, fmtValue(series.latest, series.unit)),
      aggregated ? h("div", { class: "muted" }, `sum of ${plain.format(last.count)}`) : null,
    ),
    h("td", {}, sparkline(series.points, series.unit)),
  );
}

/** A small line chart of the points over time, scaled to its own range. */
function sparkline(points, unit, width = 260, height = 36) {
  const chart = svg("svg", { class: "spark", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (!points.length) return chart;
  const t0 = nsBig(points[0].time_unix_nano);
  const span = Math.max(1, Number(nsBig(points[points.length - 1].time_unix_nano) - t0));
  const values = points.map((p) => p.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = 3;
  const x = (p) => (points.length === 1 ? width / 2 : pad + ((width - 2 * pad) * Number(nsBig(p.time_unix_nano) - t0)) / span);
  const y = (v) => (max === min ? height / 2 : height - pad - ((height - 2 * pad) * (v - min)) / (max - min));
  const coords = points.map((p) => `${x(p).toFixed(1)},${y(p.value).toFixed(1)}`);
  chart.append(svg("title", {}, `${plural(points.length, "point")}; min ${fmtValue(min, unit)}, max ${fmtValue(max, unit)}`));
  if (points.length > 1) {
    const baseline = height - pad;
    chart.append(
      svg("polygon", { class: "area", points: `${x(points[0]).toFixed(1)},${baseline} ${coords.join(" ")} ${x(points[points.length - 1]).toFixed(1)},${baseline}` }),
      svg("polyline", { class: "line", points: coords.join(" ") }),
    );
  }
  const lastPoint = points[points.length - 1];
  chart.append(svg("circle", { class: "last", cx: x(lastPoint).toFixed(1), cy: y(lastPoint.value).toFixed(1), r: 2.5 }));
  return chart;
}

// ---------------------------------------------------------------------------
// Start: read the summary first, so a change during the first fetch is seen.

window.addEventListener("hashchange", route);
await poll();
route();
setInterval(() => {
  if (!document.hidden) poll();
}, POLL_MS);
