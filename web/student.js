// A student's page: join with the code (from the QR code's address, or typed; the token kept in
// this browser, so a reload gets the same unit), then see the unit's panel every month, each
// number with a line on what it is, its range and what moves it, and send decisions — choices,
// never numbers.
"use strict";
const given = new URLSearchParams(location.search).get("code");
if (given) $("code").value = given.trim().toUpperCase();

// The panel's numbers: id, name, kind (share: 0 to 1 with a meter), and one line from the model.
const MEASURES = [
  ["stage", "stage", "stage", "Where your unit is: need, agenda, design, then the rungs; a failed rung sends it back to idle."],
  ["depth", "rungs reached", "rungs", "0 to all rungs: how far the innovation is in place; a rung may fail, the rungs reached stay."],
  ["gap", "performance gap", "share", "0 to 1: how far you trail your neighbours and what is expected; their gains raise it, your rungs close it."],
  ["incentive", "your incentive", "share", "0 to 1: your leader's ambition, lower past the peak age; with the gap it starts a need, and it pushes on after a rung."],
  ["backing", "upper backing", "share", "0 to 1: the upper leader's support, which helps each rung succeed; the pitch, rungs and recognitions raise it; it fades, a failure cuts it."],
  ["legitimacy", "legitimacy", "share", "0 to 1: your record; helps each rung succeed and counts for promotion; rungs (early ones most) raise it; it fades, a failure cuts it."],
  ["publicity", "publicity", "share", "0 to 1: how loudly you publicise; what a rung earns in legitimacy and backing grows by (1 + publicity). Your choice sets it."],
  ["rank", "rank among peers", "rank", "1 is the best of your peers by promotion score (performance gained + credit for rungs + legitimacy); the top are promoted."],
  ["term", "term ends in", "term", "Months until your leader's ranking: promoted (a new leader takes over) or another term."],
];
const STAGES = ["idle", "need", "agenda", "design", "implement"];
$("measures").innerHTML = MEASURES.map(([id, name, kind, why]) =>
  '<div class="measure"><div class="m-head"><span class="m-name">' + name + '</span><span class="m-value" id="' + id + '"></span></div>' +
  (kind === "share" || kind === "rungs" ? '<div class="meter"><i id="' + id + '-meter"></i></div>' : "") +
  (kind === "stage" ? '<div class="stages" id="stages">' + STAGES.map((s) => "<span>" + s + "</span>").join("") + "</div>" : "") +
  '<p class="m-why">' + why + "</p></div>").join("");

function connect() {
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  socket.onopen = () => {
    gone = "";
    $("status").textContent = "connected";
    const token = localStorage.getItem("pioneer-token");
    if (token) send({ type: "rejoin", token });
  };
  socket.onclose = (e) => { $("status").textContent = closedText(e); setTimeout(connect, 1000); };
  socket.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "error") {
      if (m.message === "unknown student token") leave("");
      else flash(m.message, "error");
    } else if (m.type === "removed") {
      leave(m.message);
    } else if (m.type === "joined") {
      localStorage.setItem("pioneer-token", m.token);
      $("join").hidden = true; $("panel").hidden = false; $("decide").hidden = false; $("story").hidden = false;
      $("join-message").textContent = "";
      $("status").textContent = "joined as " + m.name;
    } else if (m.type === "chosen") {
      flash("decided: from month " + m.from_month);
    } else if (m.type === "unit") show(m);
  };
}

// Back to the join form (removed by the teacher, or a token the class no longer knows).
function leave(message) {
  localStorage.removeItem("pioneer-token");
  shown = false;
  $("join").hidden = false; $("panel").hidden = true; $("decide").hidden = true; $("story").hidden = true;
  $("clock").hidden = true; $("when").textContent = "";
  $("join-message").textContent = message;
  $("status").textContent = "not in the class";
}

// Each source once: a unit seen in two ways (the exemplar and the parent) is one line.
function sourcesOnce(list) {
  const out = [];
  for (const d of list) {
    const same = d.unit !== null && out.find((o) => o.unit === d.unit);
    if (same) { if (!same.kind.split(" and ").includes(d.kind)) same.kind += " and " + d.kind; } else out.push({ ...d });
  }
  return out;
}

let shown = false;
function show(m) {
  const p = m.panel;
  if (!shown) {
    // After a join or a reload: the selects show the choices in force.
    shown = true;
    $("agenda").value = p.policy.agenda; $("push").value = p.policy.push;
    const l = p.policy.learn;
    const value = p.policy.invent === "yes" ? "invent" : typeof l === "object" ? "unit:" + l.unit : l;
    if (![...$("design").options].some((o) => o.value === value)) $("design").add(new Option("learn from unit " + value.slice(5) + "'s design", value));
    $("design").value = value;
    const mu = p.policy.publicity;
    $("publicity-choice").value = mu === null ? "model" : mu === 0 ? "low" : mu >= 65535 ? "high" : "medium";
  }
  const clock = $("clock");
  clock.hidden = false;
  clock.textContent = m.month >= m.months ? "■ the end" : m.running ? "● running" : "❚❚ paused";
  clock.className = "badge " + (m.month >= m.months ? "over" : m.running ? "running" : "paused");
  const y = Math.floor(Math.max(m.month - 1, 0) / 12);
  $("when").textContent = (m.start_year ? String(m.start_year + y) : "year " + (y + 1)) + " · month " + m.month + " of " + m.months;
  $("unit").textContent = p.name;
  $("stage").textContent = p.stage;
  [...$("stages").children].forEach((s) => s.classList.toggle("here", s.textContent === p.stage));
  $("depth").textContent = p.depth + " of " + p.rungs;
  $("depth-meter").style.width = (100 * p.depth) / Math.max(p.rungs, 1) + "%";
  for (const k of ["gap", "incentive", "backing", "legitimacy", "publicity"]) {
    $(k).textContent = p[k].toFixed(2);
    $(k + "-meter").style.width = Math.round(100 * Math.min(1, Math.max(0, p[k]))) + "%";
  }
  $("rank").textContent = p.rank + " of " + p.peers;
  $("term").textContent = p.term_left + " months";
  $("neighbours").textContent = p.neighbours.map((n) => n.name + (n.depth ? " (" + n.depth + " rungs)" : "")).join(", ") || "none";
  const sources = sourcesOnce(p.sources);
  $("sources").innerHTML = sources.map((d) => "<li><b>" + esc(d.name) + "</b> (" + esc(d.kind) + "): quality " + d.quality.toFixed(2) + ", " + d.depth + " rung" + (d.depth === 1 ? "" : "s") + "</li>").join("") || "<li>none: you would invent</li>";
  // Each design in sight that has a unit can be picked by name.
  for (const d of sources) {
    const value = "unit:" + d.unit;
    if (d.unit !== null && ![...$("design").options].some((o) => o.value === value)) {
      $("design").add(new Option("learn from " + d.name + "'s design (" + d.kind + ")", value), $("design").options.length - 1);
    }
  }
  $("rankings").innerHTML = m.rankings.map((r) => "<li>" + esc(r) + "</li>").join("") || "<li>no term of yours has ended yet</li>";
  $("trace").innerHTML = m.trace.map((t) => "<li>" + esc(t) + "</li>").join("");
}
function esc(s) { return String(s).replace(/[&<>"']/g, (ch) => "&#" + ch.charCodeAt(0) + ";"); }
$("joinform").onsubmit = (e) => { e.preventDefault(); send({ type: "join", code: $("code").value.trim().toUpperCase(), name: $("name").value.trim() }); };
$("apply").onclick = () => {
  const d = $("design").value;
  const learn = d === "invent" ? "model" : d.startsWith("unit:") ? { unit: Number(d.slice(5)) } : d;
  send({ type: "choose", agenda: $("agenda").value, invent: d === "invent" ? "yes" : "model", learn, push: $("push").value, publicity: $("publicity-choice").value });
};
connect();
