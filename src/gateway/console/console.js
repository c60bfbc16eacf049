// The tgscript console: every view is made from the gateway's own actions (POST /command),
// with the token kept in this tab's sessionStorage, never in the address. Server data is
// only ever put in the page as text.

const TOKEN = "tgscript.console.token";
const REFRESH_MS = 5000;

const $ = (id) => document.getElementById(id);

/** Ask the gateway for `action` with `fields`: {status, event}. */
async function command(action, fields = {}) {
  const headers = { "Content-Type": "application/json" };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/command", {
    method: "POST",
    headers,
    body: JSON.stringify({ action, ...fields }),
  });
  let event;
  try {
    event = await response.json();
  } catch {
    event = { error: `HTTP ${response.status}` };
  }
  return { status: response.status, event };
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

async function showBots() {
  const { status, event } = await command("list_bots");
  if (status !== 200) return fill("bots", [], said(status, event));
  const bots = event.data?.bots ?? [];
  const rows = bots.map((b) =>
    row([
      b.id,
      b.mode,
      b.source,
      b.instance,
      b.handled === undefined ? "" : String(b.handled),
      b.inbox?.pending === undefined ? "" : String(b.inbox.pending),
      b.inbox?.parked === undefined ? "" : String(b.inbox.parked),
      b.scripts,
    ]),
  );
  fill("bots", rows, bots.length ? "" : "no bots");
}

async function showAccounts() {
  const { status, event } = await command("list_accounts");
  if (status !== 200) return fill("accounts", [], said(status, event));
  const accounts = event.data?.accounts ?? [];
  const rows = accounts.map((a) => {
    const state = a.authorization_state?.state ?? "";
    return row(
      [String(a.userbot_id), a.backend, state, a.default ? "yes" : "", a.added_through],
      { 2: `state-${state}` },
    );
  });
  fill("accounts", rows, accounts.length ? "" : "no accounts");
}

async function showOperations() {
  await Promise.all([showBots(), showAccounts()]);
  $("refreshed").textContent = `last at ${new Date().toLocaleTimeString()}`;
}

let reference = null;

async function showReference() {
  if (!reference) {
    const { status, event } = await command("reference");
    if (status !== 200) {
      $("builtins").textContent = said(status, event);
      return;
    }
    reference = event.data?.builtins ?? [];
  }
  const wanted = $("filter").value.trim().toLowerCase();
  const shown = reference
    .filter((b) => b.name.toLowerCase().includes(wanted))
    .map((b) => {
      const div = document.createElement("div");
      div.className = "builtin";
      const head = document.createElement("h3");
      const code = document.createElement("code");
      code.textContent = b.signature;
      head.append(code);
      const doc = document.createElement("pre");
      doc.textContent = b.doc;
      div.append(head, doc);
      return div;
    });
  $("builtins").replaceChildren(...shown);
}

let timer = null;

/** Show the view the address names (after a successful login). */
function route() {
  const view = location.hash === "#reference" ? "reference" : "operations";
  $("operations").hidden = view !== "operations";
  $("reference").hidden = view !== "reference";
  clearInterval(timer);
  if (view === "operations") {
    showOperations();
    timer = setInterval(showOperations, REFRESH_MS);
  } else {
    showReference();
  }
}

function loggedIn() {
  $("login").hidden = true;
  $("nav").hidden = false;
  route();
}

function loggedOut(message = "") {
  clearInterval(timer);
  // Nothing the last login saw stays in the page.
  fill("bots", []);
  fill("accounts", []);
  $("builtins").replaceChildren();
  reference = null;
  $("operations").hidden = true;
  $("reference").hidden = true;
  $("nav").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
}

/** Whether the gateway takes the token kept now (or none, when it has none). */
async function accepted() {
  const { status } = await command("reference");
  return status !== 401;
}

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
window.addEventListener("hashchange", () => {
  if (!$("nav").hidden) route();
});

(async () => ((await accepted()) ? loggedIn() : loggedOut()))();
