// A student's page: join with the code (the token kept in this browser, so a reload gets the same
// unit), then see the unit's panel every month and send decisions — choices, never numbers.
"use strict";
const $ = (id) => document.getElementById(id);
let socket;
function send(msg) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg)); }
function connect() {
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  socket.onopen = () => {
    $("status").textContent = "connected";
    const token = localStorage.getItem("pioneer-token");
    if (token) send({ type: "rejoin", token });
  };
  socket.onclose = () => { $("status").textContent = "disconnected, retrying…"; setTimeout(connect, 1000); };
  socket.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "error") {
      $("error").textContent = m.message;
      if (m.message === "unknown student token") { localStorage.removeItem("pioneer-token"); $("join").hidden = false; }
    } else if (m.type === "joined") {
      localStorage.setItem("pioneer-token", m.token);
      $("join").hidden = true; $("panel").hidden = false; $("decide").hidden = false; $("story").hidden = false;
      $("status").textContent = "joined as " + m.name;
    } else if (m.type === "removed") {
      localStorage.removeItem("pioneer-token"); shown = false;
      $("join").hidden = false; $("panel").hidden = true; $("decide").hidden = true; $("story").hidden = true;
      $("error").textContent = m.message; $("status").textContent = m.message;
    } else if (m.type === "chosen") {
      $("error").textContent = "decided: from month " + m.from_month;
    } else if (m.type === "unit") show(m);
  };
}
let shown = false;
// The QR code on the teacher's page opens this page with the class's code.
const given = new URLSearchParams(location.search).get("code");
if (given) $("code").value = given;
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
  $("unit").textContent = p.name; $("month").textContent = m.month + " of " + m.months;
  $("stage").textContent = p.stage; $("depth").textContent = p.depth + " of " + p.rungs;
  for (const k of ["gap", "incentive", "backing", "legitimacy", "publicity"]) $(k).textContent = p[k].toFixed(2);
  $("rank").textContent = p.rank + " of " + p.peers;
  $("neighbours").textContent = p.neighbours.map((n) => n.name + (n.depth ? " (" + n.depth + " rungs)" : "")).join(", ");
  $("sources").textContent = p.sources.map((d) => d.kind + " " + d.name + ": quality " + d.quality.toFixed(2) + ", " + d.depth + " rungs").join("; ") || "none: you would invent";
  // Each design in sight that has a unit can be picked by name.
  for (const d of p.sources) {
    const value = "unit:" + d.unit;
    if (d.unit !== null && ![...$("design").options].some((o) => o.value === value)) {
      $("design").add(new Option("learn from " + d.name + "'s design (" + d.kind + ")", value), $("design").options.length - 1);
    }
  }
  $("term").textContent = p.term_left + " months";
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
