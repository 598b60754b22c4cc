"""The web view's page: one HTML document, its style and its script (served as files of their
own so the Content-Security-Policy can forbid inline script). The script polls the fleet JSON
each second and builds every row with ``textContent``: nothing an agent wrote is parsed as
markup. On a narrow screen each task is a card; on a wide one a table row."""

from __future__ import annotations

HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>swarmtui</title><link rel="stylesheet" href="/app.css"></head>
<body>
<header><h1 id="title">swarmtui</h1><div id="run" class="muted">connecting\u2026</div>
<div id="runactions" class="actions"></div></header>
<section id="alerts"></section>
<table id="fleet"><thead><tr><th>task</th><th>state</th><th>#</th><th>health</th>
<th>note</th><th></th></tr></thead><tbody id="rows"></tbody></table>
<footer id="status" class="muted"></footer>
<script src="/app.js"></script>
</body></html>
"""

CSS = """
:root { color-scheme: dark; --bg:#111417; --fg:#d8dee4; --mu:#8b949e; --bd:#2d333b;
  --ok:#3fb950; --warn:#d29922; --err:#f85149; }
* { box-sizing: border-box; }
body { margin:0; padding:12px; background:var(--bg); color:var(--fg);
  font:15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size:18px; margin:0 0 4px; }
.muted { color:var(--mu); }
header { margin-bottom:10px; }
.alert { border-left:4px solid var(--warn); padding:6px 8px; margin:6px 0; background:#1c2128;
  overflow-wrap:anywhere; }
.alert.error { border-color:var(--err); }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--bd); vertical-align:top; }
td.note { overflow-wrap:anywhere; color:var(--mu); }
.title { font-weight:normal; font-size:13px; overflow-wrap:anywhere; }
.state-running { color:var(--ok); } .state-failed, .state-dead { color:var(--err); }
.health-bad { color:var(--err); }
button { background:#21262d; color:var(--fg); border:1px solid var(--bd); border-radius:6px;
  padding:6px 10px; margin:2px; font-size:14px; }
.actions { margin-top:6px; }
.ask { border-left:4px solid var(--warn); padding:4px 8px; margin:4px 0; background:#1c2128;
  overflow-wrap:anywhere; }
.ask .input { font-family:ui-monospace, monospace; font-size:13px; }
@media (max-width: 640px) {
  thead { display:none; }
  table, tbody, tr, td { display:block; width:100%; }
  tr { border:1px solid var(--bd); border-radius:8px; margin:8px 0; padding:6px; }
  td { border:none; padding:2px 4px; }
  td.id { font-weight:600; font-size:16px; }
  td.attempt::before { content:"attempt "; color:var(--mu); }
}
"""

JS = """
'use strict';
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
async function act(kind, args) {
  const r = await fetch('/api/action', {method:'POST', credentials:'same-origin',
    headers:{'Content-Type':'application/json', 'X-Swarmtui-Action':'1'},
    body: JSON.stringify({kind, args})});
  const j = await r.json().catch(() => ({}));
  $('status').textContent = kind + ': ' + (j.status || r.status) +
    (j.reason ? ' (' + j.reason + ')' : '');
}
function button(label, kind, args) {
  const b = el('button', label);
  b.addEventListener('click', () => act(kind, args));
  return b;
}
function render(f) {
  $('title').textContent = 'swarmtui: run ' + f.run;
  $('run').textContent = f.status + ' \u00b7 slots ' + f.slots + ' \u00b7 supervisor ' +
    f.supervisor + ' \u00b7 ' + f.alerts.length + ' alert' + (f.alerts.length === 1 ? '' : 's');
  const ra = $('runactions'); ra.replaceChildren();
  if (f.actions) {
    ra.append(f.paused || f.breaker_open ? button('resume', 'resume', {})
      : button('pause', 'pause', {}));
  }
  const al = $('alerts'); al.replaceChildren();
  for (const a of f.alerts) {
    const d = el('div', undefined, 'alert ' + a.level);
    d.append(el('span', a.text + (a.count > 1 ? ' (\u00d7' + a.count + ')' : '')));
    if (f.actions) d.append(button('ack', 'ack', {alert: a.id}));
    al.append(d);
  }
  const rows = $('rows'); rows.replaceChildren();
  for (const t of f.tasks) {
    const tr = el('tr'); tr.id = 'task-' + t.id; tr.dataset.state = t.state_key;
    const id = el('td', t.id, 'id');
    if (t.title && t.title !== t.id) id.append(el('div', t.title, 'title muted'));
    tr.append(id, el('td', t.state, 'state state-' + t.state_key),
      el('td', t.attempt, 'attempt'),
      el('td', t.health, 'health' + (t.health_key === 'ok' ? '' : ' health-bad')),
      el('td', t.note, 'note'));
    const td = el('td', undefined, 'acts');
    for (const a of t.asks) {
      const d = el('div', undefined, 'ask');
      d.append(el('div', 'asks to use ' + a.rule + ' (#' + a.n + ')'),
        el('div', a.input, 'input muted'));
      if (f.actions) {
        const ref = {task: t.id, attempt: t.attempt, request: a.n};
        d.append(button('allow', 'answer', Object.assign({allow: true}, ref)),
          button('deny', 'answer', Object.assign({allow: false}, ref)));
      }
      td.append(d);
    }
    if (f.actions) {
      td.append(button('kill', 'kill', {task: t.id}), button('retry', 'retry', {task: t.id}));
    }
    tr.append(td);
    rows.append(tr);
  }
  document.body.dataset.seq = f.seq;
}
async function poll() {
  try {
    const r = await fetch('/api/fleet', {credentials:'same-origin', cache:'no-store'});
    if (r.ok) { render(await r.json()); }
    else { $('run').textContent = 'refused: ' + r.status + ' (open the link serve printed)'; }
  } catch (e) { $('run').textContent = 'disconnected: ' + e; }
  setTimeout(poll, 1000);
}
poll();
"""
