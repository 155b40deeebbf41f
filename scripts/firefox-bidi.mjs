// Used by scripts/firefox-check.sh. Args: PORT then jobs "URL|OUT.png|SCRIPT|WxH".
// Drive Firefox over WebDriver BiDi (no geckodriver): open URLs, wait, screenshot, read text.
import { writeFileSync } from "node:fs";
const [port, ...jobs] = process.argv.slice(2);
const ws = new WebSocket(`ws://127.0.0.1:${port}/session`);
let id = 0; const waiting = new Map();
ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.id && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); } };
const call = (method, params) => new Promise((ok) => { const i = ++id; waiting.set(i, ok); ws.send(JSON.stringify({ id: i, method, params })); });
await new Promise((ok) => (ws.onopen = ok));
console.log(JSON.stringify((await call("session.new", { capabilities: {} })).result?.capabilities?.browserVersion));
const tree = await call("browsingContext.getTree", {});
const ctx = tree.result.contexts[0].context;
await call("browsingContext.setViewport", { context: ctx, viewport: { width: 1300, height: 1000 } });
for (const job of jobs) {
  const [url, out, script, size] = job.split("|");
  const [width, height] = (size || "1300x1000").split("x").map(Number);
  await call("browsingContext.setViewport", { context: ctx, viewport: { width, height } });
  await call("browsingContext.navigate", { context: ctx, url, wait: "complete" });
  await new Promise((ok) => setTimeout(ok, 1500));
  if (script) {
    const r = await call("script.evaluate", { expression: script, target: { context: ctx }, awaitPromise: true });
    console.log(out, "script:", JSON.stringify(r.result?.result ?? r));
    await new Promise((ok) => setTimeout(ok, 1500));
  }
  const text = await call("script.evaluate", { expression: "document.body.innerText.slice(0, 300)", target: { context: ctx }, awaitPromise: false });
  console.log(out, "text:", JSON.stringify(text.result?.result?.value));
  const shot = await call("browsingContext.captureScreenshot", { context: ctx });
  writeFileSync(out, Buffer.from(shot.result.data, "base64"));
}
await call("session.end", {});
process.exit(0);
