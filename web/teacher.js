// The teacher's page: says it is the teacher's (the token in its cookie, or in its address),
// draws every month the server sends, and pulls the levers; a click on the map selects units for
// a pilot or a student's move.
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
$("address").textContent = location.host;
$("debrief").href = "/debrief/";
const routeColours = { invented: "#1f77b4", neighbour: "#d62728", exemplar: "#2ca02c", parent: "#ff7f0e", leader: "#9467bd", mandated: "#8c564b", seeded: "#7f7f7f" };
const depthColours = ["#d9dde3", "#fde0a6", "#f9b54c", "#e8772e", "#c0392b", "#8e1c14", "#5c0f0a", "#3d0a07", "#200503"];
for (const id of ["space-value", "signal-value"]) {
  for (let v = 0; v <= 10; v++) $(id).add(new Option((v / 10).toFixed(1), (v / 10).toFixed(1)));
}
let socket, world = null, last = null, selected = new Set(), dots = [], leversShown = false;
function send(msg) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg)); }
function connect() {
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  socket.onopen = () => { $("status").textContent = "connected"; send({ type: "teacher", token }); };
  socket.onclose = () => { $("status").textContent = "disconnected, retrying…"; setTimeout(connect, 1000); };
  socket.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "error") $("error").textContent = m.message;
    else if (m.type === "hello") $("code").textContent = m.code;
    else if (m.type === "lever") $("error").textContent = "pulled: from month " + m.from_month;
    else if (m.type === "assigned") $("error").textContent = "moved";
    else if (m.type === "world") world = m;
    else if (m.type === "month" && world) {
      // The world came once; a month sends what changed: each unit's adoption and depth.
      const held = new Map(m.students.map((s) => [s.unit, s.name]));
      m.units = world.names.map((name, i) => ({ name, x: world.x[i], y: world.y[i], level: world.level[i], adopted: m.adopted[i] || null, depth: m.depth[i], student: held.get(i) || null }));
      m.band = world.band;
      last = m; draw(m);
    }
  };
}
function draw(m) {
  $("code").textContent = m.code;
  $("status").textContent = (m.running ? "running" : "paused") + " · seed " + m.seed;
  const year = m.start_year ? " (" + (m.start_year + Math.floor(Math.max(m.month - 1, 0) / 12)) + ")" : "";
  $("month").textContent = "month " + m.month + " of " + m.months + year + " · " + m.decisions + " decisions" + (m.over ? " · the end: open the debrief" : "");
  const speed = String(m.months_per_second);
  if ([...$("speed").options].some((o) => o.value === speed)) $("speed").value = speed;
  $("students").textContent = m.students.length + " student" + (m.students.length === 1 ? "" : "s");
  const who = $("who"), picked = who.value;
  who.innerHTML = m.students.map((s) => '<option value="' + s.id + '">' + esc(s.name) + " (" + esc(s.unit_name) + ")</option>").join("");
  if (picked) who.value = picked;
  if ($("mandate-depth").options.length !== m.rungs) {
    $("mandate-depth").innerHTML = Array.from({ length: m.rungs }, (_, j) => "<option value=\"" + (j + 1) + "\">" + (j + 1) + "</option>").join("");
  }
  const L = m.levers;
  if (!leversShown) {
    // The lever selects start at the values in force.
    leversShown = true;
    $("space-value").value = (Math.round(L.space * 10) / 10).toFixed(1);
    $("signal-value").value = (Math.round(L.signal * 10) / 10).toFixed(1);
  }
  $("space-now").textContent = "now " + L.space.toFixed(2);
  $("signal-now").textContent = "now " + L.signal.toFixed(2);
  const parts = [];
  if (L.mandates.length) parts.push("mandates: " + L.mandates.map((d) => "rung " + d.depth + ", months " + d.from + "–" + d.to).join("; "));
  if (L.pilots.length) parts.push("pilots: " + L.pilots.map((p) => p.units + " units from month " + p.month).join("; "));
  if (L.pending.length) parts.push("next month: " + L.pending.join("; "));
  $("levers").textContent = parts.join(" · ");
  $("legend").innerHTML = depthColours.slice(0, m.rungs + 1).map((c, d) => '<span style="background:' + c + '"></span>' + d).join("");
  drawMap(m);
  const c = $("curve"), h = c.getContext("2d");
  h.fillStyle = "#fff"; h.fillRect(0, 0, c.width, c.height);
  h.strokeStyle = "#9aa5b1"; h.strokeRect(40, 10, c.width - 50, c.height - 40);
  h.fillStyle = "#52606d"; h.font = "12px sans-serif"; h.fillText("1", 25, 15); h.fillText("0", 25, c.height - 28); h.fillText("month " + m.months, c.width - 80, c.height - 12);
  // The model's band for this seed with no players (median, 5–95 %), behind the class's curve.
  const X = (t) => 40 + (t + 1) / m.months * (c.width - 50), Y = (v) => c.height - 30 - v * (c.height - 40);
  if (m.band.median.length) {
    h.beginPath(); h.fillStyle = "rgba(192,57,43,0.15)";
    m.band.hi.forEach((v, t) => (t ? h.lineTo(X(t), Y(v)) : h.moveTo(X(t), Y(v))));
    for (let t = m.band.lo.length - 1; t >= 0; t--) h.lineTo(X(t), Y(m.band.lo[t]));
    h.fill();
    h.beginPath(); h.strokeStyle = "#c0392b"; h.lineWidth = 1; h.setLineDash([5, 4]);
    m.band.median.forEach((v, t) => (t ? h.lineTo(X(t), Y(v)) : h.moveTo(X(t), Y(v))));
    h.stroke(); h.setLineDash([]);
    h.fillStyle = "#c0392b"; h.fillText("the model alone (median, 5–95 %)", 50, 25);
    h.fillStyle = "#1f4e79"; h.fillText("this class", 50, 40);
  }
  h.beginPath(); h.strokeStyle = "#1f4e79"; h.lineWidth = 2;
  m.curve.forEach((v, t) => (t ? h.lineTo(X(t), Y(v)) : h.moveTo(X(t), Y(v))));
  h.stroke();
  // The routes: how the adopters got their design, as a bar split by route.
  const adopted = m.routes.reduce((a, r) => a + r.units, 0);
  $("routes").innerHTML = adopted
    ? "<span>routes</span>" + m.routes.map((r) => '<span class="route" style="flex:' + r.units + ";background:" + (routeColours[r.route] || "#9aa5b1") + '" title="' + r.route + '">' + r.route + " " + r.units + "</span>").join("")
    : "<span>routes: no adoption yet</span>";
  $("events").innerHTML = m.events.map((e) => "<li>" + esc(e) + "</li>").join("");
  $("rankings").innerHTML = m.rankings.map((r) => "<li>month " + r.month + ": " + esc(r.name) + (r.student ? ' <span class="student">' + esc(r.student) + "</span>" : "") + " " + esc(r.why) + "</li>").join("") || "<li>no term has ended yet</li>";
  $("board").innerHTML = m.leaderboard.map((b, i) => "<tr><td>" + (i + 1) + "</td><td>" + esc(b.name) + "</td><td class=student>" + esc(b.student || "") + "</td><td>" + b.depth + "</td><td>" + b.score.toFixed(3) + "</td></tr>").join("");
}
function drawMap(m) {
  const map = $("map"), g = map.getContext("2d");
  g.fillStyle = "#fff"; g.fillRect(0, 0, map.width, map.height);
  const xs = m.units.map((u) => u.x), ys = m.units.map((u) => u.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x) => 30 + (x - x0) / Math.max(x1 - x0, 1e-9) * (map.width - 60);
  const sy = (y) => map.height - 30 - (y - y0) / Math.max(y1 - y0, 1e-9) * (map.height - 60);
  const r = Math.max(3, Math.min(22, 260 / Math.sqrt(m.units.length)));
  dots = [];
  m.units.forEach((u, i) => {
    const [x, y, ru] = [sx(u.x), sy(u.y), u.level === 0 ? r * 0.6 : r];
    dots.push([x, y, ru, i]);
    g.beginPath();
    g.arc(x, y, ru, 0, 2 * Math.PI);
    g.fillStyle = depthColours[Math.min(u.depth, depthColours.length - 1)];
    g.fill();
    g.lineWidth = u.student ? 3 : 1;
    g.strokeStyle = u.student ? "#1f4e79" : "#52606d";
    g.stroke();
    if (selected.has(i)) {
      g.beginPath(); g.arc(x, y, ru + 4, 0, 2 * Math.PI); g.lineWidth = 3; g.strokeStyle = "#2c9f2c"; g.stroke();
    }
    if (u.student && m.units.length <= 400) {
      g.fillStyle = "#1f4e79"; g.font = "12px sans-serif"; g.fillText(u.student, x + r + 2, y + 4);
    }
  });
  $("selected").textContent = selected.size ? [...selected].map((i) => m.units[i].name).join(", ") : "none";
}
$("map").onclick = (e) => {
  if (!last) return;
  const box = $("map").getBoundingClientRect();
  const x = (e.clientX - box.left) * $("map").width / box.width, y = (e.clientY - box.top) * $("map").height / box.height;
  // The nearest dot under the click (small units drawn over large ones are found first).
  let hit = null, best = Infinity;
  for (const [dx, dy, r, i] of dots) {
    const d = Math.hypot(dx - x, dy - y);
    if (d <= r + 3 && d < best) { best = d; hit = i; }
  }
  if (hit === null) return;
  selected.has(hit) ? selected.delete(hit) : selected.add(hit);
  drawMap(last);
};
function esc(s) { return String(s).replace(/[&<>"']/g, (ch) => "&#" + ch.charCodeAt(0) + ";"); }
$("start").onclick = () => send({ type: "start" });
$("pause").onclick = () => send({ type: "pause" });
$("step").onclick = () => send({ type: "step" });
$("speed").onchange = (e) => send({ type: "speed", months_per_second: Number(e.target.value) });
$("reset").onclick = () => {
  if (confirm("Start the class again with a new seed? The old decision log is archived in the class's folder; the students keep their units.")) send({ type: "reset", seed: Math.floor(Math.random() * 1e9), students: "keep" });
};
$("clear").onclick = () => { selected.clear(); if (last) drawMap(last); };
$("space").onclick = () => send({ type: "lever", lever: "space", value: $("space-value").value });
$("signal").onclick = () => send({ type: "lever", lever: "signal", value: $("signal-value").value });
$("mandate").onclick = () => send({ type: "lever", lever: "mandate", value: $("mandate-depth").value + " " + $("mandate-months").value });
$("recognise").onclick = () => send({ type: "lever", lever: "recognise", value: "" });
$("pilot").onclick = () => {
  if (!selected.size) { $("error").textContent = "select the pilot's units on the map first"; return; }
  send({ type: "lever", lever: "pilot", value: [...selected].join(" ") });
};
$("assign").onclick = () => {
  if (selected.size !== 1) { $("error").textContent = "select exactly one free unit on the map"; return; }
  send({ type: "assign", student: Number($("who").value), unit: [...selected][0] });
};
connect();
