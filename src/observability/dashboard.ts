/**
 * The live dashboard served at `GET /` on the admin listener (issue 4): one self-contained page, inline CSS and JS, no
 * CDN and no request other than `stats` (the workshop machine has no internet; the admin server's CSP enforces it).
 * It polls `stats` every second and shows, per origin, open/idle upstream sockets, requests vs new sockets per second,
 * and the reuse ratio, next to the downstream connection count: the picture a room watches while a trainer toggles
 * client keep-alive; a tunnels card; and (issue 14, dashboard-flows.ts) the flows and connections views. Kept as a string in a module so `tsc` ships it in dist/ with no file lookup at run time.
 *
 * A static asset, not logic: longer than the usual file budget (STYLE rule 10). The script uses no template literals
 * so it can live inside this one. Origin names come from client requests: they are only ever set as textContent.
 */
import { createHash } from 'node:crypto';
import { FLOWS_HTML, FLOWS_SCRIPT, FLOWS_STYLE } from './dashboard-flows.js';

const STYLE = `
:root { color-scheme: dark; --bg: #0d1117; --panel: #161b22; --fg: #f0f6fc; --muted: #9da7b3; --req: #58a6ff;
  --sock: #ffa657; --good: #56d364; --warn: #e3b341; --bad: #f85149; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; background: var(--bg); color: var(--fg);
  font: 20px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 28px; margin-bottom: 20px; }
h1 { font-size: 30px; margin: 0; font-weight: 650; }
h2 { font-size: 24px; margin: 0 0 14px; font-weight: 600; overflow-wrap: anywhere; }
h2 .side { color: var(--muted); font-weight: 500; }
#status, #uptime { font-size: 18px; color: var(--muted); }
#status::before { content: "\\25CF"; margin-right: 8px; color: var(--muted); }
#status.live::before { color: var(--good); }
#status.down::before { color: var(--bad); }
.panel { background: var(--panel); border-radius: 14px; padding: 20px 26px; margin: 0 0 22px; }
.row { display: flex; flex-wrap: wrap; gap: 12px 44px; align-items: flex-end; }
.v { font-size: 52px; font-weight: 700; line-height: 1.05; font-variant-numeric: tabular-nums; }
.big .v { font-size: 76px; }
.l { font-size: 17px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
.good { color: var(--good); } .warn { color: var(--warn); } .bad { color: var(--bad); }
svg { display: block; width: 100%; height: 150px; margin-top: 16px; background: #0d1117; border-radius: 8px; }
.legend, .closes { font-size: 18px; color: var(--muted); margin-top: 8px; }
.legend span { margin-right: 18px; } .legend .req { color: var(--req); } .legend .sock { color: var(--sock); }
#empty { color: var(--muted); }
section.idle .row, section.idle svg, section.idle .legend, section.idle .closes { display: none; }
section.idle { padding: 10px 26px; opacity: .6; } section.idle h2 { margin: 0; cursor: pointer; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var HISTORY = 60, W = 600, H = 150, SVGNS = 'http://www.w3.org/2000/svg';
  var prev = null, down = [], origins = new Map(), list = document.getElementById('origins'), IDLE_POLLS = 30;

  function fmt(n) { return Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 }); }
  function set(el, value, text) { el.dataset.value = String(value); el.textContent = text === undefined ? fmt(value) : text; }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
  function stat(parent, label, field, big) {
    var box = el('div', big ? 'stat big' : 'stat'), v = el('div', 'v', '\\u2013');
    v.dataset.field = field; box.appendChild(v); box.appendChild(el('div', 'l', label)); parent.appendChild(box); return v;
  }
  function reasons(map) {
    var e = Object.entries(map || {}).filter(function (x) { return x[1] > 0; }).sort(function (a, b) { return b[1] - a[1]; });
    return e.length === 0 ? 'none yet' : e.map(function (x) { return x[0] + ' ' + fmt(x[1]); }).join(', ');
  }
  function chart(parent, labelA, labelB) {
    var svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H); svg.setAttribute('preserveAspectRatio', 'none');
    var a = document.createElementNS(SVGNS, 'polyline'), b = document.createElementNS(SVGNS, 'polyline');
    a.setAttribute('stroke', 'var(--req)'); b.setAttribute('stroke', 'var(--sock)');
    [a, b].forEach(function (p) {
      p.setAttribute('fill', 'none'); p.setAttribute('stroke-width', '3');
      p.setAttribute('vector-effect', 'non-scaling-stroke'); svg.appendChild(p);
    });
    var legend = el('div', 'legend');
    legend.appendChild(el('span', 'req', '\\u2501 ' + labelA));
    legend.appendChild(el('span', 'sock', '\\u2501 ' + labelB));
    var peak = el('span', '', ''); legend.appendChild(peak);
    parent.appendChild(svg); parent.appendChild(legend);
    return { svg: svg, a: a, b: b, peak: peak };
  }
  function draw(c, hist) {
    var peak = 0;
    hist.forEach(function (p) { peak = Math.max(peak, p[0], p[1]); });
    var max = Math.max(1, peak);
    function pts(k) {
      return hist.map(function (p, i) {
        var x = hist.length < 2 ? W : (W * (i + HISTORY - hist.length)) / (HISTORY - 1);
        return x.toFixed(1) + ',' + (H - 4 - (p[k] / max) * (H - 12)).toFixed(1);
      }).join(' ');
    }
    c.a.setAttribute('points', pts(0)); c.b.setAttribute('points', pts(1));
    c.svg.dataset.points = String(hist.length);
    c.peak.textContent = 'last ' + HISTORY + ' s \\u00b7 peak ' + fmt(peak) + '/s';
  }
  function push(hist, a, b) { hist.push([a, b]); if (hist.length > HISTORY) hist.shift(); }
  function rate(now, before, dt) { return dt > 0 ? Math.max(0, now - before) / dt : 0; }
  function ratioClass(r) { return r >= 0.9 ? 'v good' : r >= 0.5 ? 'v warn' : 'v bad'; }

  var dsChart = chart(document.getElementById('ds-chart'), 'requests/s', 'new connections/s');
  var tn = {};
  ['active', 'opened', 'bytesIn', 'bytesOut', 'closes'].forEach(function (k) {
    tn[k] = document.querySelector('[data-field="tunnels-' + k + '"]');
  });
  var ds = {};
  ['active', 'accepted', 'requests', 'per-conn', 'closes'].forEach(function (k) {
    ds[k] = document.querySelector('[data-field="downstream-' + k + '"]');
  });

  function originCard(origin) {
    var card = el('section', 'panel');
    card.dataset.origin = origin;
    var h = el('h2'); h.appendChild(el('span', 'side', 'proxy \\u2192 ')); h.appendChild(document.createTextNode(origin));
    card.appendChild(h);
    var row = el('div', 'row'), c = { card: card, hist: [] };
    c.ratio = stat(row, 'reuse ratio', 'reuse-ratio', true);
    c.active = stat(row, 'sockets open', 'sockets-active');
    c.idle = stat(row, 'idle in pool', 'sockets-idle');
    c.busy = stat(row, 'in use', 'sockets-busy');
    c.created = stat(row, 'sockets created', 'sockets-created');
    c.requests = stat(row, 'requests', 'requests');
    c.errors = stat(row, 'errors', 'errors');
    card.appendChild(row);
    c.chart = chart(card, 'requests/s', 'new sockets/s');
    c.closes = el('div', 'closes'); c.closes.dataset.field = 'closes'; card.appendChild(c.closes);
    c.errorKinds = el('div', 'closes'); c.errorKinds.dataset.field = 'error-kinds'; card.appendChild(c.errorKinds);
    h.addEventListener('click', function () { c.pinned = !c.pinned; card.classList.toggle('idle', false); });
    var empty = document.getElementById('empty'); if (empty) empty.remove();
    list.appendChild(card);
    return c;
  }

  function render(s) {
    var restart = prev !== null && s.uptimeSeconds < prev.uptimeSeconds;
    if (restart) { prev = null; down = []; origins.forEach(function (c) { c.hist = []; }); }
    var dt = prev === null ? 0 : s.uptimeSeconds - prev.uptimeSeconds, d = s.downstream;
    set(ds.active, d.connectionsActive); set(ds.accepted, d.connectionsAccepted); set(ds.requests, d.requests);
    set(ds['per-conn'], d.requestsPerConnection.mean);
    ds.closes.textContent = 'closed: ' + reasons(d.connectionsClosed);
    if (prev !== null) {
      push(down, rate(d.requests, prev.downstream.requests, dt), rate(d.connectionsAccepted, prev.downstream.connectionsAccepted, dt));
      draw(dsChart, down);
    }
    Object.keys(s.upstream.origins).forEach(function (origin) {
      var u = s.upstream.origins[origin], c = origins.get(origin);
      if (c === undefined) { c = originCard(origin); origins.set(origin, c); }
      // An origin with no requests has no ratio: a dash, not a red 0 % (issue 14).
      if (u.requests === 0) { set(c.ratio, '', '\u2014'); c.ratio.className = 'v'; }
      else { set(c.ratio, u.reuseRatio, (u.reuseRatio * 100).toFixed(1) + '%'); c.ratio.className = ratioClass(u.reuseRatio); }
      var errs = Object.values(u.errors || {}).reduce(function (a, b) { return a + b; }, 0);
      set(c.errors, errs); c.errors.className = errs > 0 ? 'v bad' : 'v';
      c.errorKinds.textContent = 'errors: ' + reasons(u.errors);
      set(c.active, u.socketsActive); set(c.idle, u.socketsIdle); set(c.busy, u.socketsBusy);
      set(c.created, u.socketsCreated); set(c.requests, u.requests);
      // Issue 13: a parent proxy's pool is an origin card too, marked as such, with its failovers.
      var par = s.upstream.parents ? s.upstream.parents[origin] : undefined;
      c.closes.textContent = 'closed: ' + reasons(u.socketsClosed) + (par ? ' \u00b7 parent proxy, failovers ' + fmt(par.failovers) : '');
      var p = prev === null ? undefined : prev.upstream.origins[origin];
      if (prev !== null) {
        push(c.hist, rate(u.requests, p ? p.requests : 0, dt), rate(u.socketsCreated, p ? p.socketsCreated : 0, dt));
        draw(c.chart, c.hist);
      }
      // Idle origins collapse: no open socket and no request for IDLE_POLLS polls (a click on the name pins it open).
      c.quiet = p !== undefined && p.requests === u.requests && u.socketsActive === 0 ? (c.quiet || 0) + 1 : 0;
      var idle = !c.pinned && c.quiet >= IDLE_POLLS;
      c.card.classList.toggle('idle', idle); c.card.dataset.idle = String(idle); c.traffic = u.requests;
    });
    // Busiest origin first.
    Array.from(origins.values()).sort(function (a, b) { return b.traffic - a.traffic; })
      .forEach(function (c) { list.appendChild(c.card); });
    var t = s.tunnels;
    set(tn.active, t.active); set(tn.opened, t.opened); set(tn.bytesIn, t.bytesIn); set(tn.bytesOut, t.bytesOut);
    tn.closes.textContent = 'closed: ' + reasons(t.closed);
    document.getElementById('uptime').textContent = 'up ' + Math.floor(s.uptimeSeconds) + ' s';
    prev = s;
  }

  var status = document.getElementById('status');
  function poll() {
    fetch('stats', { cache: 'no-store', signal: AbortSignal.timeout(2000) })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (s) { render(s); status.className = 'live'; status.textContent = 'live'; })
      .catch(function (e) { status.className = 'down'; status.textContent = 'no data: ' + e.message; })
      .finally(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
`;

const ALL_STYLE = STYLE + FLOWS_STYLE;
const ALL_SCRIPT = SCRIPT + FLOWS_SCRIPT;

/** The dashboard page (text/html). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hopwise · connection reuse</title>
<style>${ALL_STYLE}</style>
</head>
<body>
<header><h1>hopwise · connection reuse</h1><span id="status">connecting…</span><span id="uptime"></span></header>
<nav><button data-view="view-pools" aria-selected="true">pools</button><button data-view="view-flows" aria-selected="false">flows</button><button data-view="view-connections" aria-selected="false">connections</button></nav>
<div id="view-pools">
<section class="panel" id="downstream">
  <h2><span class="side">clients \u2192 proxy</span> downstream</h2>
  <div class="row">
    <div class="stat big"><div class="v" data-field="downstream-active">\u2013</div><div class="l">connections open</div></div>
    <div class="stat"><div class="v" data-field="downstream-accepted">\u2013</div><div class="l">connections accepted</div></div>
    <div class="stat"><div class="v" data-field="downstream-requests">\u2013</div><div class="l">requests</div></div>
    <div class="stat"><div class="v" data-field="downstream-per-conn">\u2013</div><div class="l">requests / connection</div></div>
  </div>
  <div id="ds-chart"></div>
  <div class="closes" data-field="downstream-closes"></div>
</section>
<section class="panel" id="tunnels">
  <h2><span class="side">clients ⇄ destinations</span> CONNECT tunnels and upgrades</h2>
  <div class="row">
    <div class="stat"><div class="v" data-field="tunnels-active">–</div><div class="l">open</div></div>
    <div class="stat"><div class="v" data-field="tunnels-opened">–</div><div class="l">opened</div></div>
    <div class="stat"><div class="v" data-field="tunnels-bytesIn">–</div><div class="l">bytes in</div></div>
    <div class="stat"><div class="v" data-field="tunnels-bytesOut">–</div><div class="l">bytes out</div></div>
  </div>
  <div class="closes" data-field="tunnels-closes"></div>
</section>
<div id="origins"><p id="empty" class="panel">No upstream origin contacted yet: send a request through the proxy.</p></div>
</div>
${FLOWS_HTML}
<script>${ALL_SCRIPT}</script>
</body>
</html>
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * Content-Security-Policy for the page: its own inline style and script (by hash) and `fetch('stats')` to this
 * listener; nothing else, so a page that tried to reach a CDN would fail loudly in the browser.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(ALL_SCRIPT)}`,
  `style-src ${sha256(ALL_STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
