// The teacher's page, and at /projector the same page without a control: the class as the room
// sees it. It says it is the teacher's (the token in its cookie), keeps the world the server sends
// once, draws every month, and pulls the levers; a click on the map selects units for a pilot or a
// student's move.
"use strict";
const projector = location.pathname === "/projector";
const token = new URLSearchParams(location.search).get("token") || "";
if (projector) {
  // No button, select, lever or teacher's link on the projector: they are not hidden, they are gone.
  document.body.classList.add("projector");
  document.title = "pioneer classroom";
  for (const e of document.querySelectorAll(".control")) e.remove();
}
const put = (id, text) => { const e = $(id); if (e) e.textContent = text; };
const routeColours = { invented: "#1f77b4", neighbour: "#d62728", exemplar: "#2ca02c", parent: "#ff7f0e", leader: "#9467bd", mandated: "#8c564b", seeded: "#7f7f7f" };
const depthColours = ["#d9dde3", "#fde0a6", "#f9b54c", "#e8772e", "#c0392b", "#8e1c14", "#5c0f0a", "#3d0a07", "#200503"];
if (!projector) {
  for (const id of ["space-value", "signal-value"]) {
    for (let v = 0; v <= 10; v++) $(id).add(new Option((v / 10).toFixed(1), (v / 10).toFixed(1)));
  }
}
$("address").textContent = location.origin + "/";
// Without a QR code from the server (an error, or one not yet loaded that failed), no broken image.
$("qr").onerror = () => { $("qr").hidden = true; };
if ($("qr").complete && !$("qr").naturalWidth) $("qr").hidden = true;
let world = null, last = null, selected = new Set(), dots = [], leversShown = false, studentsShown = "", labelsShown = "";

// Months can come 50 a second: the page keeps the latest and draws it once a frame.
let drawing = false;
function schedule() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(() => { drawing = false; if (last) draw(last); });
}

function connect() {
  socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  socket.onopen = () => { gone = ""; put("status", "connected"); send({ type: "teacher", token }); };
  socket.onclose = (e) => { put("status", closedText(e)); setTimeout(connect, 1000); };
  socket.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "error") flash(m.message, "error");
    else if (m.type === "hello") hello(m);
    else if (m.type === "world") { world = m; selected.clear(); labelsShown = ""; schedule(); }
    else if (m.type === "lever") flash("lever pulled: it acts from month " + m.from_month);
    else if (m.type === "assigned") flash("moved to " + unitName(m.unit));
    else if (m.type === "locked") { flash(m.locked ? "locked: no new student can join" : "unlocked: students can join"); showLock(m.locked); }
    else if (m.type === "removed") flash("removed; the unit is free");
    else if (m.type === "reset") resetDone(m);
    else if (m.type === "month") { last = m; schedule(); }
  };
}

function hello(m) {
  put("code", m.code);
  const join = m.join && m.join.length ? m.join : [location.origin + "/"];
  put("address", join[0]);
  put("more-addresses", join.length > 1 ? "or " + join.slice(1).join(" · ") : "");
}

function resetDone(m) {
  const kept = m.students === "clear" ? "the students were cleared" : "the students kept their units";
  flash("reset with seed " + m.seed + "; " + kept + (m.archived ? "; the old log is archived as " + m.archived : ""));
  const a = $("archived");
  if (a && m.archived) { a.hidden = false; a.textContent = "The log before the reset is archived in the class's folder as " + m.archived + "."; }
}

function showLock(locked) {
  put("lock-state", locked ? "locked: no new student can join" : "open to new students");
  $("lock-state").className = "lock-state" + (locked ? " locked" : "");
  const b = $("lock");
  if (b) { b.textContent = locked ? "Unlock the class" : "Lock the class"; b.dataset.locked = locked ? "yes" : "no"; }
}

const unitName = (i) => (world && world.names[i]) || "unit " + i;
function yearOf(m, month) {
  const y = Math.floor(Math.max(month - 1, 0) / 12);
  return m.start_year ? String(m.start_year + y) : "year " + (y + 1);
}

function draw(m) {
  if (!world) return;
  put("code", m.code);
  put("status", "seed " + m.seed);
  const clock = $("clock");
  clock.textContent = m.over ? "■ the end" : m.running ? "● running" : "❚❚ paused";
  clock.className = "badge " + (m.over ? "over" : m.running ? "running" : "paused");
  put("when", yearOf(m, m.month) + " · month " + m.month + " of " + m.months);
  const t = $("toggle");
  if (t) {
    t.textContent = m.running ? "❚❚ Pause" : "▶ Start";
    t.className = m.running ? "pause" : "start";
    t.disabled = !!m.over;
  }
  put("facts", m.decisions + " decisions · " + m.months_per_second + " months a second" + (m.over ? " · the end: open the debrief" : ""));
  const speed = String(m.months_per_second);
  if ($("speed") && [...$("speed").options].some((o) => o.value === speed)) $("speed").value = speed;
  showLock(!!m.locked);
  drawStudents(m);
  if ($("mandate-depth") && $("mandate-depth").options.length !== m.rungs) {
    $("mandate-depth").innerHTML = Array.from({ length: m.rungs }, (_, j) => "<option value=\"" + (j + 1) + "\">" + (j + 1) + "</option>").join("");
  }
  if (!projector) drawLevers(m.levers);
  $("legend").innerHTML = depthColours.slice(0, m.rungs + 1).map((c, d) => '<span class="key"><i class="swatch" style="background:' + c + '"></i>' + d + (d === 0 ? " rungs" : "") + "</span>").join("");
  drawMap(m);
  drawCurve(m);
  drawRoutes(m.routes);
  $("events").innerHTML = m.events.map((e) => "<li>" + esc(e) + "</li>").join("") || "<li>nothing yet</li>";
  $("rankings").innerHTML = m.rankings.map((r) => "<li>month " + r.month + ": " + esc(r.name) + (r.student ? ' <span class="student">' + esc(r.student) + "</span>" : "") + " " + esc(r.why) + "</li>").join("") || "<li>no term has ended yet</li>";
  $("board").innerHTML = m.leaderboard.map((b, i) => "<tr><td>" + (i + 1) + "</td><td>" + esc(b.name) + "</td><td class=student>" + esc(b.student || "") + "</td><td>" + b.depth + "</td><td>" + b.score.toFixed(3) + "</td></tr>").join("");
}

function drawLevers(L) {
  if (!leversShown) {
    // The lever selects start at the values in force.
    leversShown = true;
    $("space-value").value = (Math.round(L.space * 10) / 10).toFixed(1);
    $("signal-value").value = (Math.round(L.signal * 10) / 10).toFixed(1);
  }
  put("space-now", "now " + L.space.toFixed(2));
  put("signal-now", "now " + L.signal.toFixed(2));
  const parts = [];
  if (L.mandates.length) parts.push("mandates: " + L.mandates.map((d) => "rung " + d.depth + ", months " + d.from + "–" + d.to).join("; "));
  if (L.pilots.length) parts.push("pilots: " + L.pilots.map((p) => p.units + " units from month " + p.month).join("; "));
  if (L.pending.length) parts.push("next month: " + L.pending.join("; "));
  put("levers", parts.join(" · "));
}

// Who is in the class: a dot each (online, reconnecting, away), the unit, and on the teacher's page
// a move and a remove button. Rebuilt only when something in it changes, so a button is never
// replaced under the pointer.
function state(s) { return s.online === false ? (s.away ? "away" : "reconnecting") : "online"; }
function drawStudents(m) {
  const online = m.students.filter((s) => state(s) === "online").length;
  put("count", m.students.length ? online + " of " + m.students.length + " online" : "none yet");
  const shown = JSON.stringify(m.students.map((s) => [s.id, s.name, s.unit, state(s)]));
  if (shown === studentsShown) return;
  studentsShown = shown;
  $("students").innerHTML = m.students.map((s) => '<li data-id="' + s.id + '"><span class="dot ' + state(s) + '" title="' + state(s) + '"></span><span class="name">' + esc(s.name) + '</span><span class="unit">' + esc(s.unit_name) + "</span>" +
    (projector ? "" : '<span class="row-buttons"><button class="secondary move" data-id="' + s.id + '">Move to selected</button><button class="secondary remove" data-id="' + s.id + '">Remove</button></span>') + "</li>").join("") ||
    '<li class="empty">no student yet: they open the address and type the code</li>';
}

// A canvas drawn at the screen's resolution: `aspect` is height / width; the width is the box's,
// and the height at most `tall` of the window.
function fit(canvas, aspect, tall) {
  const box = canvas.parentElement.clientWidth;
  const w = Math.max(200, Math.min(box, (innerHeight * tall) / aspect));
  const h = Math.round(w * aspect), dpr = devicePixelRatio || 1;
  canvas.style.width = w + "px"; canvas.style.height = h + "px";
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [g, w, h];
}

function drawMap(m) {
  const map = $("map");
  const xs = world.x, ys = world.y, n = xs.length;
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const aspect = Math.min(1, Math.max(0.5, (y1 - y0) / Math.max(x1 - x0, 1e-9)));
  const [g, W, H] = fit(map, aspect, projector ? 0.5 : 0.58);
  g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
  // Dots smaller on a small map, so that the names find room beside them.
  const r = Math.max(3, Math.min(24, ((W < 500 ? 0.28 : 0.36) * W) / Math.sqrt(n)));
  const pad = r + 6;
  const sx = (x) => pad + ((x - x0) / Math.max(x1 - x0, 1e-9)) * (W - 2 * pad);
  const sy = (y) => H - pad - ((y - y0) / Math.max(y1 - y0, 1e-9)) * (H - 2 * pad);
  const studentAt = new Map(m.students.map((s) => [s.unit, s]));
  dots = [];
  for (let i = 0; i < n; i++) {
    const [x, y, ru] = [sx(xs[i]), sy(ys[i]), world.level[i] === 0 ? r * 0.6 : r];
    dots.push([x, y, ru, i]);
    g.beginPath();
    g.arc(x, y, ru, 0, 2 * Math.PI);
    g.fillStyle = depthColours[Math.min(m.depth[i], depthColours.length - 1)];
    g.fill();
    const s = studentAt.get(i);
    g.lineWidth = s ? 4 : 1;
    g.strokeStyle = s ? "#1f4e79" : "#52606d";
    g.stroke();
    if (selected.has(i)) {
      g.beginPath(); g.arc(x, y, ru + 5, 0, 2 * Math.PI); g.lineWidth = 3; g.strokeStyle = "#2c9f2c"; g.stroke();
    }
  }
  placeLabels(m, studentAt, W, H);
  put("selected", selected.size ? [...selected].map(unitName).join(", ") : "none");
}

// The students' names on their units, each where it overlaps no other name, stays inside the map
// and, if it can, covers no other unit: below, above, right or left of the dot. A name that fits nowhere
// is left out (the list and the pointer give it).
function placeLabels(m, studentAt, W, H) {
  // The names move only when the map's size or the students do.
  const key = JSON.stringify([W, H, m.students.map((s) => [s.unit, s.name])]);
  if (key === labelsShown) return;
  labelsShown = key;
  const layer = $("labels");
  layer.innerHTML = "";
  if (dots.length > 400) return;
  const placed = [];
  const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const coversDot = (b, own) => dots.some(([x, y, r, j]) => j !== own && x + r > b.x && x - r < b.x + b.w && y + r > b.y && y - r < b.y + b.h);
  const order = dots.filter((d) => studentAt.has(d[3])).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  for (const [x, y, r, i] of order) {
    const el = document.createElement("span");
    el.className = "label";
    el.textContent = studentAt.get(i).name;
    layer.appendChild(el);
    const w = el.offsetWidth, h = el.offsetHeight;
    // Each name overlaps the edge of its own dot, so that it is read as that dot's.
    const at = [[x - w / 2, y + r * 0.45], [x - w / 2, y - r * 0.45 - h], [x + r * 0.5, y - h / 2], [x - r * 0.5 - w, y - h / 2]]
      .map(([bx, by]) => ({ x: bx, y: by, w, h }))
      .filter((b) => b.x >= 0 && b.y >= 0 && b.x + b.w <= W && b.y + b.h <= H && !placed.some((p) => hit(p, b)));
    const best = at.find((b) => !coversDot(b, i)) || at[0];
    if (!best) { el.remove(); continue; }
    placed.push(best);
    el.style.left = best.x + "px"; el.style.top = best.y + "px";
  }
}

function unitAt(e) {
  const box = $("map").getBoundingClientRect();
  const x = e.clientX - box.left, y = e.clientY - box.top;
  // The nearest dot under the pointer (small units drawn over large ones are found first).
  let hit = null, best = Infinity;
  for (const [dx, dy, r, i] of dots) {
    const d = Math.hypot(dx - x, dy - y);
    if (d <= r + 3 && d < best) { best = d; hit = i; }
  }
  return hit;
}
$("map").onmousemove = (e) => {
  const i = last ? unitAt(e) : null, tip = $("tip");
  if (i === null) { tip.hidden = true; return; }
  const s = last.students.find((st) => st.unit === i);
  tip.textContent = unitName(i) + (s ? " · " + s.name : "") + " · depth " + last.depth[i] + (last.adopted[i] ? " · adopted in month " + last.adopted[i] : "");
  const box = $("mapbox").getBoundingClientRect();
  tip.style.left = Math.min(e.clientX - box.left + 14, box.width - 220) + "px";
  tip.style.top = e.clientY - box.top + 14 + "px";
  tip.hidden = false;
};
$("map").onmouseleave = () => { $("tip").hidden = true; };
if (!projector) {
  $("map").onclick = (e) => {
    if (!last) return;
    const hit = unitAt(e);
    if (hit === null) return;
    selected.has(hit) ? selected.delete(hit) : selected.add(hit);
    drawMap(last);
  };
}

function drawCurve(m) {
  const band = world.band;
  const [h, W, H] = fit($("curve"), 0.58, projector ? 0.36 : 0.45);
  h.fillStyle = "#fff"; h.fillRect(0, 0, W, H);
  const font = Math.max(13, Math.min(18, W / 36));
  h.font = font + "px system-ui, sans-serif";
  const [L, R, T, B] = [h.measureText("100 %").width + 12, 12, font / 2 + 4, font * 2.4];
  const X = (t) => L + ((t + 1) / m.months) * (W - L - R), Y = (v) => H - B - v * (H - T - B); h.fillStyle = "#52606d"; h.strokeStyle = "#e4e7eb"; h.lineWidth = 1;
  h.textAlign = "right"; h.textBaseline = "middle";
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    h.beginPath(); h.moveTo(L, Y(v)); h.lineTo(W - R, Y(v)); h.stroke();
    h.fillText(Math.round(v * 100) + " %", L - 6, Y(v));
  }
  // Years along the bottom: every year if few, else every 5.
  const years = m.months / 12, every = years <= 8 ? 1 : years <= 25 ? 5 : 10;
  h.textAlign = "center"; h.textBaseline = "top";
  for (let y = 0; y * 12 <= m.months; y += every) {
    const x = X(y * 12 - 1);
    h.beginPath(); h.moveTo(x, H - B); h.lineTo(x, H - B + 5); h.strokeStyle = "#9aa5b1"; h.stroke();
    h.fillText(m.start_year ? String(m.start_year + y) : "year " + y, Math.min(Math.max(x, L), W - R - font), H - B + 7);
  }
  h.strokeStyle = "#9aa5b1"; h.strokeRect(L, T, W - L - R, H - T - B);
  // The model's band for this seed with no players (median, 5–95 %), behind the class's curve.
  if (band && band.median.length) {
    h.beginPath(); h.fillStyle = "rgba(192,57,43,0.15)";
    band.hi.forEach((v, t) => (t ? h.lineTo(X(t), Y(v)) : h.moveTo(X(t), Y(v))));
    for (let t = band.lo.length - 1; t >= 0; t--) h.lineTo(X(t), Y(band.lo[t]));
    h.fill();
    h.beginPath(); h.strokeStyle = "#c0392b"; h.lineWidth = 2; h.setLineDash([7, 5]);
    band.median.forEach((v, t) => (t ? h.lineTo(X(t), Y(v)) : h.moveTo(X(t), Y(v))));
    h.stroke(); h.setLineDash([]);
  }
  h.beginPath(); h.strokeStyle = "#1f4e79"; h.lineWidth = 4;
  m.curve.forEach((v, t) => (t ? h.lineTo(X(t), Y(v)) : h.moveTo(X(t), Y(v))));
  h.stroke();
  if (m.curve.length) {
    const t = m.curve.length - 1, v = m.curve[t];
    h.beginPath(); h.fillStyle = "#1f4e79"; h.arc(X(t), Y(v), 5, 0, 2 * Math.PI); h.fill();
    h.textAlign = X(t) > W - 80 ? "right" : "left"; h.textBaseline = "bottom"; h.font = "600 " + font + "px system-ui, sans-serif";
    h.fillText(Math.round(v * 100) + " %", X(t) + (h.textAlign === "left" ? 8 : -8), Math.max(Y(v) - 6, T + font));
  }
}

// The routes: a bar of the adopters split by how they got their design, and under it a legend
// that wraps (the bar itself carries no text, so nothing is cut).
function drawRoutes(routes) {
  const adopted = routes.reduce((a, r) => a + r.units, 0);
  $("routes").innerHTML = routes.map((r) => '<span style="flex:' + r.units + ";background:" + (routeColours[r.route] || "#9aa5b1") + '" title="' + r.route + " " + r.units + '"></span>').join("");
  $("routes").hidden = !adopted;
  $("routes-legend").innerHTML = adopted
    ? routes.map((r) => '<span class="key"><i class="swatch" style="background:' + (routeColours[r.route] || "#9aa5b1") + '"></i>' + r.route + " <b>" + r.units + "</b></span>").join("")
    : '<span class="key">no adoption yet</span>';
}

function esc(s) { return String(s).replace(/[&<>"']/g, (ch) => "&#" + ch.charCodeAt(0) + ";"); }
addEventListener("resize", schedule);

if (!projector) {
  $("toggle").onclick = () => send({ type: last && last.running ? "pause" : "start" });
  $("step").onclick = () => send({ type: "step" });
  $("speed").onchange = (e) => send({ type: "speed", months_per_second: Number(e.target.value) });
  $("lock").onclick = () => send({ type: "lock", locked: $("lock").dataset.locked !== "yes" });
  $("clear").onclick = () => { selected.clear(); if (last) drawMap(last); };
  $("space").onclick = () => send({ type: "lever", lever: "space", value: $("space-value").value });
  $("signal").onclick = () => send({ type: "lever", lever: "signal", value: $("signal-value").value });
  $("mandate").onclick = () => send({ type: "lever", lever: "mandate", value: $("mandate-depth").value + " " + $("mandate-months").value });
  $("recognise").onclick = () => send({ type: "lever", lever: "recognise", value: "" });
  $("pilot").onclick = () => {
    if (!selected.size) { flash("select the pilot's units on the map first", "error"); return; }
    send({ type: "lever", lever: "pilot", value: [...selected].join(" ") });
  };
  // A student's row: move them to the one unit selected on the map, or remove them (a second
  // click within 4 s confirms).
  $("students").onclick = (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    const id = Number(b.dataset.id);
    if (b.classList.contains("move")) {
      if (selected.size !== 1) { flash("select exactly one free unit on the map first", "error"); return; }
      send({ type: "assign", student: id, unit: [...selected][0] });
    } else if (b.classList.contains("remove")) {
      if (b.dataset.sure === "yes") { send({ type: "remove", student: id }); return; }
      b.dataset.sure = "yes"; b.textContent = "Sure? Remove"; b.classList.add("danger");
      setTimeout(() => { b.dataset.sure = ""; b.textContent = "Remove"; b.classList.remove("danger"); }, 4000);
    }
  };
  // A reset asks first: keep the students on their units, clear them, or cancel.
  let seed = 0;
  $("reset").onclick = () => {
    seed = Math.floor(Math.random() * 1e9);
    put("reset-seed", String(seed));
    $("reset-dialog").showModal();
  };
  $("reset-keep").onclick = () => { $("reset-dialog").close(); send({ type: "reset", seed, students: "keep" }); };
  $("reset-clear").onclick = () => { $("reset-dialog").close(); send({ type: "reset", seed, students: "clear" }); };
  $("reset-cancel").onclick = () => $("reset-dialog").close();
}
connect();
