// PageDesk staff console: plain JavaScript, no build step.
// It reads the staff JSON API and re-reads what changed when the server
// pushes an event over Server-Sent Events (/api/events).
"use strict";

const STRINGS = JSON.parse(document.getElementById("strings").textContent);
const $ = (id) => document.getElementById(id);

const state = {
  staff: localStorage.getItem("pagedesk.staff") || "",
  lang: localStorage.getItem("pagedesk.lang") || "",
  status: "",
  selected: "",
  staffList: [],
  now: null,
};

function t(key, vars) {
  const table = STRINGS[state.lang] || STRINGS.en;
  let s = table[key] || STRINGS.en[key] || key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replace("{" + k + "}", v);
  return s;
}

function translatePage() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("text").placeholder = t("placeholder");
}

async function api(method, path, body) {
  const opts = {
    method,
    headers: { "X-Staff-ID": state.staff, "Accept-Language": state.lang },
  };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error((data && data.error && data.error.message) || res.statusText);
  return data;
}

function showError(err) {
  const box = $("error");
  box.textContent = err ? err.message : "";
  box.hidden = !err;
}

function when(iso) {
  if (!iso || iso.startsWith("0001")) return "";
  return new Date(iso).toLocaleString(state.lang === "zh-Hant" ? "zh-Hant-HK" : "en-GB",
    { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

const HAN = /\p{Script=Han}/u;

function visitorName(v, psid) {
  const first = (v && v.first_name) || "", last = (v && v.last_name) || "";
  // Chinese names put the family name first, with no space: 陳大文.
  const n = HAN.test(first + last) ? last + first : [first, last].filter(Boolean).join(" ");
  return n || t("visitor") + " " + psid.slice(-4);
}

function statusText(s) { return t("status_" + s); }

async function loadQueue() {
  const q = state.status ? "?status=" + encodeURIComponent(state.status) : "";
  const data = await api("GET", "/api/enquiries" + q);
  state.now = data.now;
  const ul = $("enquiries");
  ul.replaceChildren();
  for (const e of data.enquiries) {
    const li = document.createElement("li");
    li.className = "enquiry" + (e.id === state.selected ? " sel" : "") + " st-" + e.status;
    const name = document.createElement("strong");
    name.textContent = visitorName(e.visitor, e.psid);
    const meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = statusText(e.status) + (e.staff_id ? " · " + e.staff_id : "") + " · " + when(e.opened_at);
    const preview = document.createElement("span");
    preview.className = "preview";
    preview.textContent = e.preview || "";
    li.append(name, meta, preview);
    li.onclick = () => select(e.id);
    ul.append(li);
  }
  $("empty").hidden = data.enquiries.length > 0;
}

async function loadChannels() {
  const data = await api("GET", "/api/channels");
  const ul = $("channels");
  ul.replaceChildren();
  for (const c of data.channels) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = c.name + " (" + t("ch_" + c.status) + ")";
    const diag = document.createElement("button");
    diag.type = "button";
    diag.textContent = t("diagnose");
    diag.onclick = () => diagnose(c.id);
    const set = document.createElement("button");
    set.type = "button";
    set.textContent = t("settings");
    set.onclick = () => openSettings(c.id).catch(showError);
    li.append(name, " ", diag, " ", set);
    ul.append(li);
  }
}

// --- channel settings (CHAN-1..5) ---------------------------------------

let editing = null; // the channel as read, with its version

function showSettings(on) {
  $("settings").hidden = !on;
  $("room").hidden = on || !state.selected;
  $("pick").hidden = on || !!state.selected;
  if (!on && state.selected) loadEnquiry().catch(showError);
}

function countInto(input, out, max) {
  const n = [...$(input).value].length;
  $(out).textContent = t("count", { n: n.toLocaleString("en"), max: max.toLocaleString("en") });
  $(out).classList.toggle("over", n > max);
}

async function openSettings(id) {
  editing = await api("GET", "/api/channels/" + encodeURIComponent(id));
  const c = editing, a = c.auto_reply;
  $("set-page").textContent = c.page_name + " (" + t("ch_" + c.status) + ")";
  $("set-name").value = c.name;
  $("set-info-on").checked = c.custom_info.on;
  $("set-info").value = c.custom_info.text;
  for (const k of ["welcome", "away", "close"]) {
    $("set-" + k + "-on").checked = a[k].on;
    $("set-" + k).value = a[k].text;
    $("set-" + k).placeholder = a[k].default || t("defaultText");
  }
  $("set-name-format").value = a.name_format;
  $("set-language").value = a.language || "en";
  $("set-pause").textContent = t(c.status === "paused" ? "resume" : "pause");
  $("set-pause").hidden = c.status !== "active" && c.status !== "paused";
  $("set-error").hidden = true;
  countInto("set-name", "set-name-count", 40);
  countInto("set-info", "set-info-count", 10000);
  showSettings(true);
}

async function saveSettings() {
  const c = structuredClone(editing);
  c.name = $("set-name").value;
  c.custom_info = { on: $("set-info-on").checked, text: $("set-info").value };
  for (const k of ["welcome", "away", "close"]) {
    c.auto_reply[k] = { on: $("set-" + k + "-on").checked, text: $("set-" + k).value };
  }
  c.auto_reply.name_format = $("set-name-format").value;
  c.auto_reply.language = $("set-language").value;
  editing = await api("PUT", "/api/channels/" + encodeURIComponent(c.id), c);
}

async function settingsAction(fn) {
  const box = $("set-error");
  box.hidden = true;
  try {
    await fn();
    showSettings(false);
  } catch (err) {
    box.textContent = err.message;
    box.hidden = false;
  }
  loadChannels().catch(showError);
}

async function diagnose(id) {
  const pre = $("diagnosis");
  pre.hidden = false;
  pre.textContent = "…";
  try {
    const r = await api("POST", "/api/channels/" + encodeURIComponent(id) + "/diagnose");
    pre.textContent = r.checks.map((c) => (c.ok ? "✔ " : "✘ ") + c.name + (c.detail ? ": " + c.detail : "")).join("\n");
  } catch (err) {
    pre.textContent = err.message;
  }
}

function windowText(e, now) {
  if (e.status === "closed" || !e.window_ends_at) return "";
  const left = new Date(e.window_ends_at) - new Date(now);
  if (left <= 0) return t("windowClosed");
  const h = Math.floor(left / 3600000), m = Math.floor((left % 3600000) / 60000);
  return t("windowLeft", { h, m });
}

function renderMessage(m) {
  const li = document.createElement("li");
  li.className = "msg " + m.direction + " by-" + m.author;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = t("author_" + m.author) + (m.staff_id ? " (" + m.staff_id + ")" : "") + " · " + when(m.created_at);
  li.append(who);
  if (m.text) {
    const p = document.createElement("p");
    p.textContent = m.text;
    li.append(p);
  }
  for (const a of m.attachments || []) {
    if (a.type === "image" && /^https?:\/\//.test(a.url)) {
      const img = document.createElement("img");
      img.src = a.url;
      img.alt = a.name || a.type;
      li.append(img);
    } else {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = "[" + a.type + "] " + (a.name || "");
      li.append(p);
    }
  }
  if (m.kind === "reaction") {
    const p = document.createElement("p");
    p.textContent = m.reaction || t("unreact");
    li.append(p);
  }
  if (m.direction === "out") {
    const st = document.createElement("span");
    st.className = "state st-" + m.state;
    st.textContent = t("state_" + m.state) + (m.error ? ": " + m.error : "");
    li.append(st);
  }
  return li;
}

async function loadEnquiry() {
  if (!state.selected) return;
  const d = await api("GET", "/api/enquiries/" + encodeURIComponent(state.selected));
  const e = d.enquiry;
  if (!$("settings").hidden) return; // the settings form has the stage
  $("pick").hidden = true;
  $("room").hidden = false;
  $("visitor").textContent = visitorName(e.visitor, e.psid);
  $("channel-name").textContent = e.channel_name;
  $("status").textContent = statusText(e.status) + (e.staff_id ? " · " + e.staff_id : "");
  $("window").textContent = windowText(e, d.now);
  const info = $("custom-info");
  info.hidden = !d.custom_info;
  $("custom-info-text").textContent = d.custom_info || "";
  const mine = e.status === "taken" && e.staff_id === state.staff;
  $("take").hidden = !(e.status === "queued" || e.status === "offered");
  $("close").hidden = e.status === "closed" || (e.status === "taken" && !mine);
  $("transfer").hidden = !mine;
  $("transfer-to").hidden = !mine;
  for (const o of $("transfer-to").options) o.hidden = o.value === state.staff;
  if ($("transfer-to").value === state.staff) {
    const other = [...$("transfer-to").options].find((o) => !o.hidden);
    if (other) $("transfer-to").value = other.value;
  }
  $("composer").hidden = !mine;
  const ol = $("messages");
  ol.replaceChildren(...d.messages.map(renderMessage));
  ol.scrollTop = ol.scrollHeight;
}

async function select(id) {
  state.selected = id;
  $("settings").hidden = true;
  history.replaceState(null, "", "#e=" + encodeURIComponent(id));
  showError(null);
  await Promise.all([loadEnquiry(), loadQueue()]);
}

async function act(fn) {
  showError(null);
  try {
    await fn();
  } catch (err) {
    showError(err);
  }
  await Promise.all([loadQueue(), loadEnquiry()]).catch(showError);
}

function countChars() {
  const n = [...$("text").value].length;
  const c = $("count");
  c.textContent = t("count", { n: n.toLocaleString("en"), max: "2,000" });
  c.classList.toggle("over", n > 2000);
}

function connectEvents() {
  const es = new EventSource("/api/events");
  const live = (on) => {
    const el = $("live");
    el.className = "live " + (on ? "on" : "off");
    el.dataset.t = on ? "live" : "offline";
    el.textContent = t(el.dataset.t);
  };
  // After a reconnection, events may have been missed: read everything.
  let opened = false;
  es.onopen = () => {
    live(true);
    if (opened) Promise.all([loadQueue(), loadChannels(), loadEnquiry()]).catch(showError);
    opened = true;
  };
  es.onerror = () => live(false);
  // Events only say "something changed": coalesce a burst into one re-read.
  let pending = null;
  const want = { queue: false, enquiry: false, channels: false };
  es.onmessage = (ev) => {
    const e = JSON.parse(ev.data);
    if (e.now) showClock(e.now);
    want.queue = true;
    if (e.type === "resync" || (e.type && e.type.startsWith("channel"))) want.channels = true;
    if (!e.enquiry_id || e.enquiry_id === state.selected) want.enquiry = true;
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      if (want.queue) loadQueue().catch(showError);
      if (want.enquiry) loadEnquiry().catch(showError);
      if (want.channels) loadChannels().catch(showError);
      want.queue = want.enquiry = want.channels = false;
    }, 150);
  };
}

function showClock(now) {
  const c = $("clock");
  if (c) c.textContent = when(now);
}

async function demo(path) {
  showError(null);
  try {
    const r = await api("POST", path);
    if (r && r.now) showClock(r.now);
  } catch (err) {
    showError(err);
  }
}

function init() {
  // Links may name the staff member, the language and an enquiry:
  // /#staff=wing&lang=zh-Hant&e=<id>.
  const link = new URLSearchParams(location.hash.slice(1));
  if (link.get("staff")) state.staff = link.get("staff");
  if (link.get("lang")) state.lang = link.get("lang");
  const staffSel = $("staff");
  state.staffList = [...staffSel.options].map((o) => ({ id: o.value, lang: o.dataset.lang }));
  if (!state.staffList.some((s) => s.id === state.staff)) state.staff = staffSel.value;
  staffSel.value = state.staff;
  if (!STRINGS[state.lang] || (link.get("staff") && !link.get("lang"))) {
    state.lang = staffSel.selectedOptions[0].dataset.lang || "en";
  }
  $("lang").value = state.lang;
  staffSel.onchange = () => {
    state.staff = staffSel.value;
    state.lang = staffSel.selectedOptions[0].dataset.lang || state.lang;
    $("lang").value = state.lang;
    localStorage.setItem("pagedesk.staff", state.staff);
    localStorage.setItem("pagedesk.lang", state.lang);
    translatePage();
    act(async () => {});
  };
  $("lang").onchange = () => {
    state.lang = $("lang").value;
    localStorage.setItem("pagedesk.lang", state.lang);
    translatePage();
    countChars();
    act(async () => {});
  };
  const tsel = $("transfer-to");
  for (const s of state.staffList) {
    const o = document.createElement("option");
    o.value = s.id;
    o.textContent = s.id;
    tsel.append(o);
  }
  for (const b of document.querySelectorAll(".tabs button")) {
    b.onclick = () => {
      for (const x of document.querySelectorAll(".tabs button")) x.classList.toggle("on", x === b);
      state.status = b.dataset.status;
      loadQueue().catch(showError);
    };
  }
  const id = () => encodeURIComponent(state.selected);
  $("take").onclick = () => act(() => api("POST", "/api/enquiries/" + id() + "/take"));
  $("close").onclick = () => act(() => api("POST", "/api/enquiries/" + id() + "/close"));
  $("transfer").onclick = () => act(() => api("POST", "/api/enquiries/" + id() + "/transfer", { to: tsel.value }));
  $("composer").onsubmit = (ev) => {
    ev.preventDefault();
    const text = $("text").value;
    act(async () => {
      await api("POST", "/api/enquiries/" + id() + "/reply", { text });
      $("text").value = "";
      countChars();
    });
  };
  $("text").oninput = countChars;
  $("set-name").oninput = () => countInto("set-name", "set-name-count", 40);
  $("set-info").oninput = () => countInto("set-info", "set-info-count", 10000);
  $("settings").onsubmit = (ev) => { ev.preventDefault(); settingsAction(saveSettings); };
  $("set-cancel").onclick = () => showSettings(false);
  $("set-pause").onclick = () => settingsAction(() =>
    api("POST", "/api/channels/" + encodeURIComponent(editing.id) + (editing.status === "paused" ? "/resume" : "/pause")));
  $("file").onchange = () => {
    const f = $("file").files[0];
    $("file").value = "";
    if (!f) return;
    act(async () => {
      const res = await fetch("/api/enquiries/" + id() + "/file", {
        method: "POST",
        headers: {
          "X-Staff-ID": state.staff, "Accept-Language": state.lang,
          "Content-Type": f.type || "application/octet-stream",
          "X-File-Name": encodeURIComponent(f.name),
        },
        body: f,
      });
      const data = await res.json();
      if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
    });
  };
  if ($("demo")) {
    $("advance").onclick = () => demo("/demo/advance?d=25h");
    $("visitor-en").onclick = () => demo("/demo/visitor?lang=en");
    $("visitor-zh").onclick = () => demo("/demo/visitor?lang=zh-Hant");
    $("long").onclick = () => { $("text").value = "字".repeat(2001); countChars(); };
    api("GET", "/demo/clock").then((r) => showClock(r.now)).catch(showError);
  }
  translatePage();
  countChars();
  connectEvents();
  loadQueue().catch(showError);
  loadChannels().catch(showError);
  if (link.get("e")) select(link.get("e")).catch(showError);
}

init();
