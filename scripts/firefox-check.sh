#!/usr/bin/env bash
# The classroom's pages in Firefox, by hand: starts `pioneer serve`, drives Firefox ESR over
# WebDriver BiDi (built into Firefox; no geckodriver), joins a student on a phone-sized screen,
# runs the clock from the teacher's page, and writes two screenshots into DIR.
# Needs: firefox-esr, node ≥ 20, target/release/pioneer.  Usage: scripts/firefox-check.sh [DIR]
set -euo pipefail
out=${1:-target/firefox-check}
mkdir -p "$out"
port=18090 bidi=9339
export HOME=$(mktemp -d)
target/release/pioneer serve scenarios/classroom.toml --bind 127.0.0.1 --port $port --out "$out/debrief" >"$out/serve.txt" 2>&1 &
server=$!
firefox-esr --headless --remote-debugging-port=$bidi about:blank >"$out/firefox.txt" 2>&1 &
firefox=$!
trap 'kill $server $firefox 2>/dev/null || true; rm -rf "$HOME"' EXIT
sleep 5
token=$(grep -o 'token=[0-9a-f]*' "$out/serve.txt" | cut -d= -f2)
code=$(grep -o 'code [A-Z]*' "$out/serve.txt" | cut -d' ' -f2)
join="document.getElementById('code').value='$code'; document.getElementById('name').value='Firefox'; document.querySelector('#joinform button').click(); 1"
run="document.getElementById('speed').value='50'; document.getElementById('speed').dispatchEvent(new Event('change')); document.getElementById('start').click(); new Promise((ok) => setTimeout(() => { document.getElementById('pause').click(); ok(1); }, 3000))"
node --experimental-websocket scripts/firefox-bidi.mjs $bidi \
  "http://127.0.0.1:$port/|$out/student-phone.png|$join|390x844" \
  "http://127.0.0.1:$port/teacher?token=$token|$out/teacher.png|$run|1300x1000"
