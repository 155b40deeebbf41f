// What both classroom pages use: an element by id, the message that fades, and the socket to the
// server with its send and its closing's words (each page opens it in its own connect()).
"use strict";

const $ = (id) => document.getElementById(id);

// Messages fade: a success after 4 s, a refusal after 8 s; a newer message replaces an older one.
let noteTimer = 0;
function flash(text, kind) {
  const n = $("note");
  n.textContent = text;
  n.className = "note shown " + (kind || "ok");
  clearTimeout(noteTimer);
  noteTimer = setTimeout(() => {
    n.className = "note " + (kind || "ok");
    noteTimer = setTimeout(() => { n.textContent = ""; }, 600);
  }, kind === "error" ? 8000 : 4000);
}

let socket;
function send(msg) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg)); }

// Why the socket closed, as the page says it until it is open again: a server that stops says
// why (the class is saved), and a retry that fails keeps that reason.
let gone = "";
function closedText(e) { gone = e.reason || gone; return (gone || "disconnected") + "; retrying…"; }
