// The tgscript console: every view is made from the gateway's own actions (POST /command),
// with the token kept in this tab's sessionStorage, never in the address. Server data is
// only ever put in the page as text.

const TOKEN = "tgscript.console.token";
const REFRESH_MS = 5000;
const POLL_MS = 700;
const CHECK_MS = 300;
const KEEP = 300;
const VIEWS = ["operations", "reference", "playground"];
const KEYWORDS = new Set(
  ("fn let const if else while loop for in do until return throw try catch break continue " +
    "import export as private this true false switch global").split(" "),
);
// Bot API methods (matched in any case, as the Bot API does) whose result is a message shown.
const BOT_SENDS = new Set(["sendmessage", "sendphoto", "senddocument", "editmessagetext", "sendpoll"]);
// Rhai's tokens the highlighter colors: comments, strings (also `…` and '…'), numbers, names.
const TOKENS =
  /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|("(?:\\[\s\S]|[^"\\\n])*"?|`(?:\\[\s\S]|[^`\\])*`?|'(?:\\.|[^'\\\n])*'?)|(0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)/g;

// The sandbox's users: members of the group from the start, and newcomers Join offers.
const MEMBERS = ["alice", "bob", "carol", "owner"];
const NEWCOMERS = ["dave", "erin", "frank", "grace"];
// The charts of a bot's figures (list_bots' `figures`): key, title, unit, drawn as a line or bars.
const CHARTS = [
  { key: "updates_per_second", title: "updates per second", unit: "/s", bars: false },
  { key: "latency_ms", title: "handler latency", unit: " ms", bars: false },
  { key: "failures", title: "failures", unit: "", bars: true },
  { key: "parked", title: "parked", unit: "", bars: true },
];
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

/** Whether an answer refuses the action to this token, which the gateway does take (its
 *  error event names the action): the token lacks the right, it is not a wrong one. */
const refusedHere = (status, event) => status === 401 && typeof event.event === "string";

/** Bumped at each logout: an answer asked for before it is dropped. */
let session = 0;

/** Ask the gateway for `action` with `fields`: {status, event}. An answer that comes after
 *  the login it was asked under ended never settles, so nothing it says reaches the page. */
async function command(action, fields = {}) {
  const asked = session;
  const headers = { "Content-Type": "application/json" };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  let status = 0;
  let event;
  try {
    const response = await fetch("/command", {
      method: "POST",
      headers,
      body: JSON.stringify({ action, ...fields }),
    });
    status = response.status;
    event = await response.json().catch(() => ({ error: `HTTP ${status}` }));
  } catch (e) {
    // Stopped, restarting, or the network is down: a failure like any other (status 0).
    event = { error: `the gateway cannot be reached (${e.message})` };
  }
  if (asked !== session) return new Promise(() => {});
  return { status, event };
}

/** A new `tag` element of class `className` holding `children` (texts or nodes). */
function el(tag, className, ...children) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.append(...children);
  return element;
}

/** Unix milliseconds `at` as a time of day (empty for 0 or none). */
function clock(at) {
  return at ? new Date(at).toLocaleTimeString() : "";
}

/** A table row of `cells` (text), the first `classes` given to its cells by index. */
function row(cells, classes = {}) {
  const tr = document.createElement("tr");
  cells.forEach((text, i) => {
    const td = document.createElement("td");
    td.textContent = text ?? "";
    if (classes[i]) td.className = classes[i];
    tr.append(td);
  });
  return tr;
}

/** Fill table `id` from `rows` (or say `note` beside it when there are none). */
function fill(id, rows, note) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren(...rows);
  $(`${id}-note`).textContent = note ?? "";
}

/** What an error event says. */
function said(status, event) {
  return event.error ? `${event.error} (${event.code ?? status})` : `HTTP ${status}`;
}

/** Fill the bots table from list_bots; the bots, or null when that failed. */
async function showBots() {
  const { status, event } = await command("list_bots");
  if (status !== 200) {
    fill("bots", [], said(status, event));
    return null;
  }
  const bots = event.data?.bots ?? [];
  const rows = bots.map((b) =>
    row([
      b.id,
      b.mode,
      clock(b.last_ok * 1000), // Unix seconds
      b.last_error,
      b.source,
      b.instance,
      b.handled === undefined ? "" : String(b.handled),
      b.inbox?.pending === undefined ? "" : String(b.inbox.pending),
      b.inbox?.parked === undefined ? "" : String(b.inbox.parked),
      b.scripts,
    ]),
  );
  fill("bots", rows, bots.length ? "" : "no bots");
  showCharts(bots);
  return bots;
}

/** Draw each bot's figures as charts (nothing for a bot another instance runs). */
function showCharts(bots) {
  const drawn = bots
    .filter((b) => b.figures)
    .map((b) => {
      const figures = recent(b.figures);
      return el("div", "bot-charts", el("h3", "", b.id), el("div", "chart-row", ...CHARTS.map((c) => chart(figures, c))));
    });
  $("charts").replaceChildren(...drawn);
}

/** `figures` from the first step that saw anything (at least the last MIN_STEPS steps). */
function recent(figures) {
  const MIN_STEPS = 30;
  const steps = (figures.updates_per_second ?? []).length;
  const busy = (i) => CHARTS.some((c) => (figures[c.key]?.[i] ?? 0) > 0);
  let first = 0;
  while (first < steps && !busy(first)) first += 1;
  const from = Math.max(0, Math.min(first, steps - MIN_STEPS));
  const kept = { ...figures };
  for (const c of CHARTS) kept[c.key] = (figures[c.key] ?? []).slice(from);
  return kept;
}

/** A new SVG element `tag` with `attributes`. */
function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** A number as a chart shows it: at most two decimals. */
function figure(n) {
  return String(Math.round(n * 100) / 100);
}

/** One chart of `figures` (see CHARTS for `spec`): an inline SVG with its title, scale and
 *  time axis; a null value is a gap in a line. */
function chart(figures, spec) {
  const values = figures[spec.key] ?? [];
  const [w, h, left, top, bottom] = [250, 110, 34, 8, 18];
  const plotW = w - left - 6;
  const plotH = h - top - bottom;
  const known = values.filter((v) => typeof v === "number");
  const max = Math.max(1, ...known);
  const x = (i) => left + (values.length > 1 ? (i * plotW) / (values.length - 1) : 0);
  const y = (v) => top + plotH - (v / max) * plotH;
  const picture = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, class: `chart chart-${spec.key}`, role: "img" });
  const last = known.length ? known[known.length - 1] : 0;
  picture.append(svg("title"));
  picture.firstChild.textContent = `${spec.title}: max ${figure(max)}${spec.unit}`;
  for (const v of [0, max / 2, max]) {
    picture.append(svg("line", { x1: left, x2: w - 6, y1: y(v), y2: y(v), class: "grid" }));
    const label = svg("text", { x: left - 4, y: y(v) + 3, class: "scale" });
    label.textContent = figure(v);
    picture.append(label);
  }
  const span = values.length * (figures.step_seconds ?? 2);
  const since = span >= 120 ? `-${Math.round(span / 60)} min` : `-${span} s`;
  for (const [text, at, anchor] of [[since, left, "start"], ["now", w - 6, "end"]]) {
    const label = svg("text", { x: at, y: h - 4, class: `scale ${anchor}` });
    label.textContent = text;
    picture.append(label);
  }
  if (spec.bars) {
    const width = Math.max(1, plotW / values.length - 0.5);
    values.forEach((v, i) => {
      if (v > 0) picture.append(svg("rect", { x: x(i) - width / 2, y: y(v), width, height: top + plotH - y(v), class: "bar" }));
    });
  } else {
    let run = [];
    const flush = () => {
      if (run.length) picture.append(svg("polyline", { points: run.join(" "), class: "line" }));
      run = [];
    };
    values.forEach((v, i) => (typeof v === "number" ? run.push(`${figure(x(i))},${figure(y(v))}`) : flush()));
    flush();
  }
  const head = el("figcaption", "", `${spec.title} `, el("span", "now", `now ${figure(last)}${spec.unit}`));
  return el("figure", "chart-box", head, picture);
}

async function showAccounts() {
  const { status, event } = await command("list_accounts");
  if (status !== 200) return fill("accounts", [], said(status, event));
  const accounts = event.data?.accounts ?? [];
  const rows = accounts.map((a) => {
    const state = a.authorization_state ?? {};
    const tr = row(
      [String(a.userbot_id), a.backend, state.state ?? "", a.default ? "yes" : "", a.added_through],
      { 2: `state-${state.state ?? ""}` },
    );
    const cell = document.createElement("td");
    if (LOGIN_FIELDS[state.next] !== undefined) {
      const button = el("button", "log-in", "Log in…");
      button.type = "button";
      button.dataset.account = a.userbot_id;
      button.addEventListener("click", () => showLogin(a.userbot_id, state));
      cell.append(button);
    }
    tr.append(cell);
    return tr;
  });
  fill("accounts", rows, accounts.length ? "" : "no accounts");
}

// The login steps the console asks for, with the field each takes ("" for none) and whether
// the field is a secret (typed hidden, never kept).
const LOGIN_FIELDS = {
  login_start: { field: "phone", label: "Phone (international format)", secret: false },
  login_code: { field: "code", label: "Login code", secret: true },
  login_password: { field: "password", label: "Two-step password", secret: true },
  login_email_address: { field: "email_address", label: "Email address", secret: false },
  login_email_code: { field: "code", label: "Email code", secret: true },
};

/** The account being logged in from the console: {id, state}, or null. */
let login = null;

/** Open the login panel for account `id`, standing at authorization `state`. */
function showLogin(id, state) {
  login = { id, state };
  $("account-login").hidden = false;
  $("account-login-title").textContent = `Log in account ${id}`;
  $("account-login-error").textContent = "";
  showLoginStep();
}

/** Show where the account being logged in stands and the field its next step needs. */
function showLoginStep() {
  const { state } = login;
  const step = LOGIN_FIELDS[state.next];
  const hints = [
    `state: ${state.state}`,
    state.code_sent_via && `code sent via ${state.code_sent_via}`,
    state.password_hint && `password hint: ${state.password_hint}`,
    state.link && `open ${state.link} in a logged-in app (Settings → Devices)`,
  ];
  $("account-login-state").textContent = hints.filter(Boolean).join("; ");
  $("account-login-step").hidden = !step;
  $("account-login-qr").hidden = state.next !== "login_start";
  if (!step) return;
  $("account-login-label").textContent = step.label;
  $("account-login-value").type = step.secret ? "password" : "text";
  $("account-login-value").value = "";
  $("account-login-send").textContent = state.next;
}

/** Take the next login step (or `action`, e.g. login_qr) with what was typed. */
async function loginStep(action) {
  const current = login;
  const step = LOGIN_FIELDS[action];
  const fields = { userbot_id: current.id };
  const typed = $("account-login-value").value.trim();
  if (step && typed) fields[step.field] = typed;
  $("account-login-value").value = "";
  const { status, event } = await command(action, fields);
  showAccounts();
  // The panel was closed, or opened for another account, meanwhile: not this answer's.
  if (login !== current) return;
  $("account-login-error").textContent = status === 200 ? "" : said(status, event);
  if (status === 200) {
    login.state = event.data ?? {};
    showLoginStep();
  }
}

/** Fill the inbox table with the unfinished and parked updates of the `bots` that have an
 *  inbox (`bots` null: list_bots failed, and the bots note says why). */
async function showInbox(bots) {
  const kept = (bots ?? []).filter((b) => typeof b.inbox === "object" && b.inbox !== null);
  const answers = await Promise.all(kept.map((b) => command("inbox_list", { bot_id: b.id })));
  const rows = [];
  const failures = [];
  answers.forEach(({ status, event }, i) => {
    if (status !== 200) failures.push(`${kept[i].id}: ${said(status, event)}`);
    else rows.push(...(event.data?.entries ?? []).map((e) => inboxRow(kept[i].id, e)));
  });
  const empty = bots && !rows.length ? "the inbox holds no unfinished or parked update" : "";
  fill("inbox", rows, failures.join("; ") || empty);
}

/** The inbox table's row of `entry` of bot `botId`, with a Retry button when it is parked. */
function inboxRow(botId, entry) {
  const tr = row(
    [botId, entry.update_id, entry.chat, entry.kind, entry.status, entry.attempts, entry.error],
    { 4: `status-${entry.status}` },
  );
  const cell = document.createElement("td");
  if (entry.status === "parked") {
    const button = el("button", "retry", "Retry");
    button.type = "button";
    button.dataset.update = entry.update_id;
    button.addEventListener("click", () => retry(botId, entry.update_id));
    cell.append(button);
  }
  tr.append(cell);
  return tr;
}

/** Queue parked update `updateId` of bot `botId` for another try, then refresh the view. */
async function retry(botId, updateId) {
  const { status, event } = await command("inbox_retry", { bot_id: botId, update_id: updateId });
  await showOperations();
  $("inbox-note").textContent =
    status === 200 ? `update ${updateId} queued for another try` : said(status, event);
}

/** Fill the reload history from the activity's reload entries, oldest first. */
async function showReloads() {
  const { status, event } = await command("activity", { kind: "reload", after: 0 });
  const entries = status === 200 ? (event.data?.entries ?? []) : [];
  const items = entries.map((e) =>
    el("li", `reload ${e.ok ? "ok" : "failed"}`, el("time", "", clock(e.at)), " ", e.text),
  );
  $("reloads").replaceChildren(...items);
  const none = entries.length ? "" : "no scenario was loaded yet";
  $("reloads-note").textContent = status === 200 ? none : said(status, event);
}

async function showOperations() {
  const [bots] = await Promise.all([showBots(), showAccounts(), showReloads()]);
  await showInbox(bots);
  $("refreshed").textContent = `last at ${new Date().toLocaleTimeString()}`;
}

let reference = null;
let builtinNames = new Set();

/** Ask for the builtins once per login (kept in `reference`); the error, or "" when they are there. */
async function fetchReference() {
  if (reference) return "";
  const { status, event } = await command("reference");
  if (status !== 200) return said(status, event);
  reference = event.data?.builtins ?? [];
  builtinNames = new Set(reference.map((b) => b.name));
  return "";
}

/** The builtins by name, in the reference's order: [{name, signatures, doc}] (one entry
 *  per builtin, its overloads together). */
function byName(builtins) {
  const named = new Map();
  for (const b of builtins) {
    const entry = named.get(b.name) ?? { name: b.name, signatures: [], doc: b.doc ?? "" };
    entry.signatures.push(b.signature);
    named.set(b.name, entry);
  }
  return [...named.values()];
}

async function showReference() {
  const failed = await fetchReference();
  if (failed) {
    $("builtins").textContent = failed;
    return;
  }
  const wanted = $("filter").value.trim().toLowerCase();
  const all = byName(reference);
  const shown = all
    .filter((b) => b.name.toLowerCase().includes(wanted))
    .map((b) => {
      const signatures = el("ul", "overloads", ...b.signatures.map((s) => el("li", "", el("code", "", s))));
      return el("div", "builtin", el("h3", "", el("code", "", b.name)), signatures, ...markdown(b.doc));
    });
  $("builtins").replaceChildren(...shown);
  $("builtins-note").textContent = `${shown.length} of ${all.length} builtins`;
}

/** Markdown `text` as page elements (headings, paragraphs, lists, fenced code, `code`,
 *  **strong**, *emphasis*, links to http(s) addresses), all made as nodes: nothing in the
 *  text becomes markup by itself. */
function markdown(text) {
  const blocks = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(```+|~~~+)\s*([\w-]*)/);
    if (fence) {
      const code = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i++]);
      i += 1;
      const block = el("code", fence[2] ? `language-${fence[2]}` : "", code.join("\n"));
      blocks.push(el("pre", "code", block));
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      // Inside a builtin's card: its headings are small ones.
      const level = Math.min(6, heading[1].length + 3);
      blocks.push(el(`h${level}`, "", ...inline(heading[2].replace(/\s+#+\s*$/, ""))));
      i += 1;
      continue;
    }
    const item = /^\s*(?:[-*+]|\d+[.)])\s+/;
    if (item.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = el(ordered ? "ol" : "ul", "");
      while (i < lines.length && item.test(lines[i])) {
        let said = lines[i++].replace(item, "");
        // A continuation line is indented and is no new item.
        while (i < lines.length && /^\s{2,}\S/.test(lines[i]) && !item.test(lines[i])) said += ` ${lines[i++].trim()}`;
        list.append(el("li", "", ...inline(said)));
      }
      blocks.push(list);
      continue;
    }
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const paragraph = [];
    while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*(```|~~~))/.test(lines[i]) && !item.test(lines[i])) {
      paragraph.push(lines[i++].trim());
    }
    blocks.push(el("p", "", ...inline(paragraph.join(" "))));
  }
  return blocks;
}

/** The inline Markdown of `text` as nodes: `code`, **strong**, *emphasis*, [links](http…). */
function inline(text) {
  const nodes = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) nodes.push(text.slice(last, m.index));
    if (m[1] !== undefined) nodes.push(el("code", "", m[1]));
    else if (m[2] !== undefined) nodes.push(el("strong", "", m[2]));
    else if (m[3] !== undefined) nodes.push(el("em", "", m[3]));
    else {
      const link = el("a", "", m[4]);
      link.href = m[5];
      link.rel = "noreferrer";
      nodes.push(link);
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) nodes.push(text.slice(last));
  return nodes;
}

/** What the playground keeps between events (renewed at each login). */
function freshPlayground() {
  return {
    after: 0, // the last activity entry seen
    polling: false, // an activity poll is running
    again: false, // another poll is wanted once it ends
    timer: null, // the activity poll's
    checkTimer: null, // the check's, 300 ms after the last keystroke
    checks: 0, // checks asked: only the latest one's answer is shown
    problems: [], // the latest check's
    awaited: null, // the reload a save waits for: {name, since, saved, entry}
    notes: { bots: "", files: "", poll: "" }, // what #pg-note says, by part
    allowed: null, // whether this token may use the playground (null: not asked yet)
  };
}

let pg = freshPlayground();

/** Say `text` in #pg-note for `part` (bots, files or poll), beside what the others say. */
function pgNote(part, text) {
  pg.notes[part] = text;
  $("pg-note").textContent = Object.values(pg.notes).filter(Boolean).join("; ");
}

/** Show the playground: its bots (asked once per login) and the activity, polled while shown;
 *  or, for a token that may not use it, what it needs. */
async function showPlayground() {
  if (!(await playgroundAllowed())) return;
  pollActivity();
  pg.timer = setInterval(pollActivity, POLL_MS);
  if (!reference) fetchReference().then(() => highlight());
  if (!$("pg-bot").options.length) await showPlaygroundBots();
  else if ($("pg-file").value) checkSource();
}

/** Whether this token may use the playground (asked once per login); if not, what it needs
 *  is shown instead. */
async function playgroundAllowed() {
  if (pg.allowed === null) {
    const { status, event } = await command("activity", { after: 0, kind: "reload" });
    pg.allowed = !refusedHere(status, event);
    $("pg-needs-said").textContent = pg.allowed ? "" : `The gateway said: ${said(status, event)}`;
  }
  $("pg-needs").hidden = pg.allowed;
  $("pg-main").hidden = !pg.allowed;
  return pg.allowed;
}

/** Fill the bot choice from list_bots and open the first bot's files. */
async function showPlaygroundBots() {
  const { status, event } = await command("list_bots");
  const bots = status === 200 ? (event.data?.bots ?? []) : [];
  pgNote("bots", status !== 200 ? said(status, event) : bots.length ? "" : "no bots");
  $("pg-bot").replaceChildren(...bots.map((b) => new Option(b.id)));
  if (bots.length) await chooseBot();
}

/** List the chosen bot's scenario files and open the first. */
async function chooseBot() {
  $("pg-file").replaceChildren();
  await listFiles();
  await openFile();
}

/** Fill the file choice with the chosen bot's scenario files, the chosen one kept if still there. */
async function listFiles() {
  const chosen = $("pg-file").value;
  const { status, event } = await command("list_scripts", { bot_id: $("pg-bot").value });
  pgNote("files", status === 200 ? "" : said(status, event));
  if (status !== 200) return;
  const names = event.data?.names ?? [];
  $("pg-file").replaceChildren(...names.map((n) => new Option(n)));
  if (names.includes(chosen)) $("pg-file").value = chosen;
}

/** Open the chosen file (a new one is empty until saved). */
async function openFile() {
  const file = $("pg-file").selectedOptions[0];
  if (!file || file.dataset.unsaved) return edit("", Boolean(file));
  const { status, event } = await command("get_script", { bot_id: $("pg-bot").value, name: file.value });
  pgNote("files", status === 200 ? "" : said(status, event));
  if (status === 200) edit(event.data?.source ?? "", true);
  else edit("", false);
}

/** Put `source` in the editor, checked and saveable when `open` (else no file is open). */
function edit(source, open) {
  $("pg-source").value = source;
  $("pg-save").disabled = !open;
  $("pg-source").scrollTop = 0;
  $("pg-source").scrollLeft = 0;
  $("pg-save-note").textContent = "";
  // An answer to a check of what was there before is not shown.
  pg.checks += 1;
  showProblems([], "");
  if (open) checkSource();
}

/** Add a new, empty file of the typed name (nothing is written until Save) and open it. */
function newFile() {
  let name = $("pg-new-name").value.trim();
  if (!name) return;
  if (!name.endsWith(".rhai")) name += ".rhai";
  if (![...$("pg-file").options].some((o) => o.value === name)) {
    const option = new Option(name);
    option.dataset.unsaved = "yes";
    $("pg-file").append(option);
  }
  $("pg-file").value = name;
  $("pg-new-name").value = "";
  openFile();
}

/** The source as tokens, in order: [text, class ("" for plain text)]. */
function tokens(source) {
  const found = [];
  let last = 0;
  for (const m of source.matchAll(TOKENS)) {
    if (m.index > last) found.push([source.slice(last, m.index), ""]);
    found.push([m[0], tokenClass(m)]);
    last = m.index + m[0].length;
  }
  if (last < source.length) found.push([source.slice(last), ""]);
  return found;
}

/** The class of token match `m` of TOKENS. */
function tokenClass(m) {
  if (m[1]) return "tok-comment";
  if (m[2]) return "tok-string";
  if (m[3]) return "tok-number";
  if (KEYWORDS.has(m[4])) return "tok-keyword";
  return builtinNames.has(m[4]) ? "tok-builtin" : "";
}

/** Show the source highlighted in the pre under the textarea, one span.line per line. */
function highlight() {
  const lines = [[]];
  for (const [text, kind] of tokens($("pg-source").value)) {
    text.split("\n").forEach((piece, i) => {
      if (i > 0) lines.push([]);
      if (piece) lines.at(-1).push(kind ? el("span", kind, piece) : piece);
    });
  }
  $("pg-highlight").replaceChildren(...lines.flatMap((parts, i) => [sourceLine(i + 1, parts), "\n"]));
  followScroll();
}

/** Line `n` of the highlighted source, made of `parts`, marked with its problems if any. */
function sourceLine(n, parts) {
  const line = el("span", "line", ...parts);
  line.dataset.line = n;
  const here = pg.problems.filter((p) => p.line === n);
  if (here.length) {
    line.classList.add("problem");
    const at = (p) => (p.column != null ? `${p.line}:${p.column} ` : "");
    line.append(...here.map((p) => el("span", "diag", `  ← ${at(p)}${p.message}`)));
  }
  return line;
}

/** Scroll the highlighted source as the textarea over it is scrolled. */
function followScroll() {
  $("pg-highlight").scrollTop = $("pg-source").scrollTop;
  $("pg-highlight").scrollLeft = $("pg-source").scrollLeft;
}

/** The source changed: highlight it now, check it once typing pauses. */
function edited() {
  highlight();
  clearTimeout(pg.checkTimer);
  pg.checkTimer = setTimeout(checkSource, CHECK_MS);
}

/** Check the source being edited with check_script; only the latest check's answer is shown. */
async function checkSource() {
  const asked = ++pg.checks;
  // Nothing to check yet (a new file): no problems, and no request.
  if (!$("pg-source").value.trim()) return showProblems([]);
  const { status, event } = await command("check_script", {
    bot_id: $("pg-bot").value,
    name: $("pg-file").value,
    source: $("pg-source").value,
  });
  if (asked !== pg.checks) return;
  if (status === 200) showProblems(event.data?.problems ?? []);
  else showProblems([], said(status, event));
}

/** A problem in words: `line L, col C: message`, or the message alone. */
function problemText(p) {
  if (p.line == null) return p.message;
  return `line ${p.line}${p.column != null ? `, col ${p.column}` : ""}: ${p.message}`;
}

/** Show the check's `problems`, listed and marked on their lines, or `failure` (the check's
 *  error; "" to say nothing yet). */
function showProblems(problems, failure) {
  pg.problems = problems;
  $("pg-problems").replaceChildren(...problems.map((p) => el("li", "", problemText(p))));
  const note = $("pg-problems-note");
  note.textContent = failure ?? (problems.length ? "" : "no problems");
  note.classList.toggle("error", Boolean(failure));
  highlight();
}

/** Save the file being edited; the save note then follows the reload the save causes. */
async function saveFile() {
  const file = $("pg-file").selectedOptions[0];
  const name = file.value;
  const awaited = { name, since: pg.after, saved: false, entry: null };
  pg.awaited = awaited;
  $("pg-save").disabled = true;
  const { status, event } = await command("put_script", {
    bot_id: $("pg-bot").value,
    name,
    source: $("pg-source").value,
  });
  $("pg-save").disabled = false;
  if (status !== 200) {
    pg.awaited = null;
    return saveNote(`not saved: ${said(status, event)} — the last saved version keeps running`, false);
  }
  awaited.saved = true;
  if (awaited.entry) reloaded(awaited.entry);
  else saveNote(`saved ${event.data.name} (${event.data.bytes} bytes); waiting for the reload…`, true);
  if (file.dataset.unsaved) {
    delete file.dataset.unsaved;
    listFiles();
  }
  pollActivity();
}

/** Say `text` in the save note, as an error unless `ok`. */
function saveNote(text, ok) {
  $("pg-save-note").textContent = text;
  $("pg-save-note").classList.toggle("error", !ok);
}

/** Say how the reload `entry` that took in the last save went. */
function reloaded(entry) {
  saveNote(entry.text, entry.ok);
}

/** When activity `entry` is the reload a save waits for, the save note tells of it. */
function watchReload(entry) {
  const awaited = pg.awaited;
  if (entry.kind !== "reload" || !awaited || entry.seq <= awaited.since) return;
  // The file itself (`…/spam.rhai:` or `…/spam.rhai failed`), not one ending the same way.
  const named = [`/${awaited.name}:`, `/${awaited.name} `, ` ${awaited.name}:`, ` ${awaited.name} `];
  if (!named.some((n) => entry.text.includes(n))) return;
  pg.awaited = null;
  awaited.entry = entry;
  if (awaited.saved) reloaded(entry);
}

/** Send `line` to the sandbox as the chosen user, in the chosen chat unless `inGroup`;
 *  whether the scripts took it. */
async function say(line, inGroup = false) {
  $("pg-send").disabled = true;
  // Account lines and lines naming their user go as typed; the rest as the chosen user.
  const asTyped = /^\/(as|login_from|confirm_qr)(\s|$)/.test(line);
  const where = !inGroup && $("pg-chat-in").value === "private" ? "/dm " : "";
  const { status, event } = await command("sandbox_chat", {
    line: asTyped ? line : `/as ${$("pg-user").value} ${where}${line}`,
  });
  $("pg-send").disabled = false;
  $("pg-chat-error").textContent = status === 200 ? "" : said(status, event);
  pollActivity();
  return status === 200;
}

/** The chosen newcomer joins the group: then they are one of the users to send as, and
 *  Join offers the others. */
async function join() {
  const who = $("pg-join-who").value;
  if (!who || !(await say(`/join ${who}`, true))) return;
  $("pg-join-who").querySelector(`option[value="${who}"]`)?.remove();
  $("pg-user").append(new Option(who, who));
  $("pg-join").disabled = !$("pg-join-who").options.length;
}

/** Offer the sandbox's users: its members to send as, the newcomers to Join. */
function fillUsers() {
  $("pg-user").replaceChildren(...MEMBERS.map((n) => new Option(n, n)));
  $("pg-join-who").replaceChildren(...NEWCOMERS.map((n) => new Option(n, n)));
  $("pg-join").disabled = false;
}

/** Send the typed line; it is kept when the sandbox refused it. */
async function sendLine(e) {
  e.preventDefault();
  const line = $("pg-line").value.trim();
  if (line && (await say(line))) $("pg-line").value = "";
}

/** Ask for the activity after the last entry seen and show it in the chat, the live pane and
 *  the save note. One poll at a time: one asked meanwhile runs when it ends. */
async function pollActivity() {
  if (pg.polling) {
    pg.again = true;
    return;
  }
  pg.polling = true;
  const { status, event } = await command("activity", { after: pg.after });
  pg.polling = false;
  if (status === 401 && !refusedHere(status, event)) return loggedOut("The gateway no longer takes this token.");
  pgNote("poll", status === 200 ? "" : said(status, event));
  if (status === 200) {
    const entries = event.data?.entries ?? [];
    const chat = entries.map(chatItem).filter(Boolean);
    addItems($("pg-chat"), chat, chat.length > 0);
    addItems($("pg-activity"), entries.map(activityItem), $("pg-follow").checked);
    entries.forEach(watchReload);
    // A restarted gateway numbers from 1 again: then everything it has is new.
    const next = event.data?.next ?? pg.after;
    pg.after = next < pg.after ? 0 : next;
  }
  if (pg.again) {
    pg.again = false;
    pollActivity();
  }
}

/** Add `items` to `list`, keeping its newest KEEP, and scroll to its bottom when `follow`. */
function addItems(list, items, follow) {
  list.append(...items.slice(-KEEP));
  while (list.childElementCount > KEEP) list.firstElementChild.remove();
  if (follow) list.scrollTop = list.scrollHeight;
}

/** The chat pane's item for activity `entry`, or null when the chat shows nothing of it. */
function chatItem(entry) {
  if (entry.kind === "chat") return el("li", `msg user${/^#\d+ \S+ \(private\)/.test(entry.text) ? " private" : ""}`, entry.text);
  if (entry.kind !== "call") return null;
  const sent = BOT_SENDS.has(entry.method?.toLowerCase()) && entry.result?.message_id !== undefined;
  if (sent) return botMessage(entry);
  return el("li", "msg system", `→ ${entry.method}${entry.error ? ` ✗ ${entry.error}` : ""}`);
}

/** A message the bot sent or edited, with its inline keyboard as buttons that press it. */
function botMessage(entry) {
  const { message_id: id, text, caption, chat } = entry.result;
  const edited = entry.method.toLowerCase() === "editmessagetext" ? "(edited) " : "";
  const to = chat?.type === "private" ? ` → ${chat.username ?? chat.id} (private)` : "";
  const message = el("li", `msg bot${to ? " private" : ""}`, `${edited}#${id} bot${to}: ${text ?? caption ?? ""}`);
  for (const buttons of inlineKeyboard(entry.params)) {
    const row = el("div", "keyboard");
    for (const b of buttons) {
      const button = el("button", "press", b.text ?? "");
      button.type = "button";
      button.disabled = b.callback_data === undefined;
      button.addEventListener("click", () => say(`/press #${id} ${b.callback_data}`));
      row.append(button);
    }
    message.append(row);
  }
  return message;
}

/** The rows of buttons of the inline keyboard in call `params` (reply_markup may be JSON text). */
function inlineKeyboard(params) {
  let markup = params?.reply_markup;
  if (typeof markup === "string") {
    try {
      markup = JSON.parse(markup);
    } catch {
      return [];
    }
  }
  const rows = markup?.inline_keyboard;
  return Array.isArray(rows) ? rows.filter(Array.isArray) : [];
}

/** The live pane's item for activity `entry`: its time, kind and text (a call's JSON too). */
function activityItem(entry) {
  const item = el(
    "li",
    `act act-${entry.kind}`,
    el("time", "", clock(entry.at)),
    el("span", "badge", entry.kind),
    el("span", "text", entry.text),
  );
  if (entry.kind === "call") {
    const answer =
      entry.error !== undefined ? `error: ${entry.error}` : `result: ${JSON.stringify(entry.result, null, 2)}`;
    const json = el("pre", "json", `${JSON.stringify(entry.params, null, 2)}\n${answer}`);
    item.append(el("details", "", el("summary", "", "JSON"), json));
  }
  return item;
}

/** Forget everything the playground showed. */
function clearPlayground() {
  for (const id of ["pg-bot", "pg-file", "pg-problems", "pg-highlight", "pg-chat", "pg-activity"]) {
    $(id).replaceChildren();
  }
  for (const id of ["pg-note", "pg-problems-note", "pg-save-note", "pg-chat-error"]) {
    $(id).textContent = "";
  }
  for (const id of ["pg-source", "pg-new-name", "pg-line"]) $(id).value = "";
  $("pg-save").disabled = true;
  $("pg-send").disabled = false;
  fillUsers();
  $("pg-chat-in").value = "group";
  $("pg-needs").hidden = true;
  $("pg-main").hidden = false;
}

let timer = null;

/** Stop what refreshes the views. */
function stopTimers() {
  clearInterval(timer);
  clearInterval(pg.timer);
  clearTimeout(pg.checkTimer);
}

/** Show the view the address names (after a successful login). */
function route() {
  const named = location.hash.slice(1);
  const view = VIEWS.includes(named) ? named : "operations";
  for (const v of VIEWS) $(v).hidden = v !== view;
  document.querySelector("main").classList.toggle("wide", view === "playground");
  stopTimers();
  if (view === "operations") {
    showOperations();
    timer = setInterval(showOperations, REFRESH_MS);
  } else if (view === "reference") {
    showReference();
  } else {
    showPlayground();
  }
}

function loggedIn() {
  $("login").hidden = true;
  $("nav").hidden = false;
  route();
}

function loggedOut(message = "") {
  stopTimers();
  session += 1;
  // Nothing the last login saw stays in the page.
  fill("bots", []);
  fill("accounts", []);
  fill("inbox", []);
  login = null;
  $("account-login").hidden = true;
  $("account-login-value").value = "";
  for (const id of ["account-login-title", "account-login-label", "account-login-state", "account-login-error"]) {
    $(id).textContent = "";
  }
  $("reloads").replaceChildren();
  $("reloads-note").textContent = "";
  $("builtins").replaceChildren();
  $("builtins-note").textContent = "";
  $("charts").replaceChildren();
  reference = null;
  builtinNames = new Set();
  clearPlayground();
  pg = freshPlayground();
  for (const v of VIEWS) $(v).hidden = true;
  $("nav").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
}

/** Whether the gateway takes the token kept now (or none, when it has none). */
async function accepted() {
  const { status } = await command("reference");
  return status !== 401;
}

$("account-login-step").addEventListener("submit", (e) => {
  e.preventDefault();
  loginStep(login.state.next);
});
$("account-login-qr").addEventListener("click", () => loginStep("login_qr"));
$("account-login-close").addEventListener("click", () => {
  login = null;
  $("account-login").hidden = true;
});

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN, $("token").value);
  $("token").value = "";
  if (await accepted()) {
    loggedIn();
  } else {
    sessionStorage.removeItem(TOKEN);
    loggedOut("The gateway refused this token.");
  }
});

$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN);
  loggedOut();
});

$("filter").addEventListener("input", showReference);
$("pg-bot").addEventListener("change", chooseBot);
$("pg-file").addEventListener("change", openFile);
$("pg-new").addEventListener("click", newFile);
$("pg-source").addEventListener("input", edited);
$("pg-source").addEventListener("scroll", followScroll);
$("pg-save").addEventListener("click", saveFile);
$("pg-chat-form").addEventListener("submit", sendLine);
$("pg-join").addEventListener("click", join);
$("pg-wait").addEventListener("click", () => say(`/wait ${$("pg-wait-for").value.trim()}`, true));
fillUsers();
window.addEventListener("hashchange", () => {
  if (!$("nav").hidden) route();
});

(async () => ((await accepted()) ? loggedIn() : loggedOut()))();
