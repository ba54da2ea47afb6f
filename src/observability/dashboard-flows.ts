/**
 * The dashboard's flows and connections views (issue 14), as inline CSS and script appended to dashboard.ts's page.
 * Flows: recent requests with a waterfall column; selecting one shows its connection story and its hop-by-hop diff,
 * one colour per reason. Connections: one lane per upstream socket with its requests as bars on a shared time axis, so
 * reuse (and the lack of it) shows at a glance. Both poll `flows?after=ID` once a second; nothing else is fetched.
 *
 * A static asset, not logic: longer than the usual file budget (STYLE rule 10). No template literals in the script.
 * Everything that came from a request (URLs, header names and values) is only ever set as textContent.
 */

export const FLOWS_STYLE = `
nav { display: flex; gap: 10px; margin: 0 0 18px; }
nav button { font: inherit; font-size: 18px; color: var(--fg); background: var(--panel); border: 1px solid #30363d;
  border-radius: 10px; padding: 6px 18px; cursor: pointer; }
nav button[aria-selected="true"] { border-color: var(--req); color: var(--req); }
[hidden] { display: none !important; }
table.flows { width: 100%; border-collapse: collapse; font-size: 16px; font-variant-numeric: tabular-nums; }
table.flows th { text-align: left; color: var(--muted); font-weight: 500; padding: 4px 8px; }
table.flows td { padding: 4px 8px; border-top: 1px solid #21262d; white-space: nowrap; }
table.flows td.url { max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
table.flows tr[data-flow-id] { cursor: pointer; }
table.flows tr.selected { background: #1f2937; }
.wf { position: relative; width: 260px; height: 14px; background: #0d1117; border-radius: 3px; }
.wf span { position: absolute; top: 0; height: 14px; }
.ph-queued { background: #6e7681; } .ph-connect { background: var(--sock); } .ph-send { background: #d2a8ff; }
.ph-wait { background: var(--req); } .ph-receive { background: var(--good); }
.tag-new { color: var(--sock); } .tag-reused { color: var(--good); }
.s2 { color: var(--good); } .s3 { color: var(--req); } .s4 { color: var(--warn); } .s5, .s0 { color: var(--bad); }
#flow-detail { font-size: 16px; }
#flow-detail h3 { font-size: 18px; margin: 14px 0 6px; color: var(--muted); font-weight: 500; }
.story li { margin: 2px 0; }
table.diff { border-collapse: collapse; font: 15px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
table.diff td { padding: 2px 10px; vertical-align: top; overflow-wrap: anywhere; }
.op-removed td.h { text-decoration: line-through; }
.r-hop-by-hop { color: #ff7b72; } .r-named-in-connection { color: #ffa657; } .r-proxy-auth { color: #d2a8ff; }
.r-framing { color: #e3b341; } .r-host-from-uri { color: #79c0ff; } .r-via-appended { color: #56d364; }
.r-forwarded-added { color: #56d364; } .r-max-forwards-decremented { color: #a5d6ff; } .r-expect-answered { color: #f2cc60; }
.r-upgrade-kept { color: #bc8cff; } .r-proxy-hop { color: #8b949e; } .r-server-timing { color: #8b949e; }
.r-proxy-status { color: #ff7b72; } .r-changed-by-proxy { color: #f85149; }
.lanes { position: relative; font-size: 15px; }
.lane { display: flex; align-items: center; gap: 12px; margin: 4px 0; }
.lane .name { width: 260px; flex: none; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lane .track { position: relative; flex: 1; height: 20px; background: #0d1117; border-radius: 4px; }
.lane .bar { position: absolute; top: 2px; height: 16px; min-width: 3px; border-radius: 3px; background: var(--good); }
.lane .bar.new { background: var(--sock); }
.axis { color: var(--muted); font-size: 14px; margin-left: 272px; display: flex; justify-content: space-between; }
`;

export const FLOWS_SCRIPT = `
(function () {
  'use strict';
  var KEEP = 300, flows = [], last = 0, selected = null, off = false;
  var rowsEl = document.getElementById('flow-rows'), detail = document.getElementById('flow-detail');
  var lanesEl = document.getElementById('lanes'), axisEl = document.getElementById('lanes-axis');
  var flowsNote = document.getElementById('flows-note');

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = String(text); return e; }
  function ms(n) { return n < 0 ? '\\u2013' : n < 10 ? n.toFixed(1) : String(Math.round(n)); }
  function phases(t) {
    var connect = Math.max(0, t.dns) + Math.max(0, t.tcp) + Math.max(0, t.tls);
    return [['queued', Math.max(0, t.proxy) + Math.max(0, t.queued)], ['connect', connect], ['send', Math.max(0, t.send)],
      ['wait', Math.max(0, t.wait)], ['receive', Math.max(0, t.receive)]];
  }

  document.querySelectorAll('nav button').forEach(function (b) {
    b.addEventListener('click', function () {
      document.querySelectorAll('nav button').forEach(function (o) {
        var on = o === b; o.setAttribute('aria-selected', String(on));
        document.getElementById(o.dataset.view).hidden = !on;
      });
    });
  });

  function waterfall(f, scale) {
    var wf = el('div', 'wf'), x = 0;
    phases(f.timings).forEach(function (p) {
      if (p[1] <= 0) return;
      var s = el('span', 'ph-' + p[0]);
      s.style.left = (100 * x / scale).toFixed(2) + '%'; s.style.width = Math.max(0.5, 100 * p[1] / scale).toFixed(2) + '%';
      s.title = p[0] + ' ' + ms(p[1]) + ' ms'; wf.appendChild(s); x += p[1];
    });
    wf.dataset.total = String(f.timings.total);
    return wf;
  }

  function connTag(f) {
    if (f.kind !== 'http') return f.kind;
    return f.upstream.socket === null ? '\\u2013' : f.upstream.reused ? 'reused' : 'new';
  }

  function renderRows() {
    var scale = 1;
    flows.forEach(function (f) { scale = Math.max(scale, f.timings.total); });
    rowsEl.textContent = '';
    flows.forEach(function (f) {
      var tr = el('tr'); tr.dataset.flowId = String(f.id);
      if (f.id === selected) tr.className = 'selected';
      tr.appendChild(el('td', '', f.request.method));
      tr.appendChild(el('td', 'url', f.request.target));
      tr.appendChild(el('td', 's' + String(f.status).charAt(0), f.status === 0 ? '\\u2013' : f.status));
      var tag = connTag(f); tr.appendChild(el('td', 'tag-' + tag, tag)).dataset.field = 'conn';
      tr.appendChild(el('td', '', 'c' + f.client.conn + '#' + f.client.connReq + ' \\u2192 ' +
        (f.upstream.socket === null ? '\\u2013' : 's' + f.upstream.socket + '#' + f.upstream.socketReq)));
      tr.appendChild(el('td', '', ms(f.timings.total)));
      var td = el('td'); td.appendChild(waterfall(f, scale)); tr.appendChild(td);
      tr.addEventListener('click', function () { select(f.id); });
      rowsEl.appendChild(tr);
    });
  }

  function story(f) {
    var ul = el('ul', 'story'), u = f.upstream, t = f.timings;
    ul.appendChild(el('li', '', 'client connection ' + f.client.conn + ' from ' + f.client.remote + ', request ' + f.client.connReq + ' on it (HTTP/' + f.client.httpVersion + ')'));
    ul.appendChild(el('li', '', f.request.method + ' ' + f.request.target + (f.request.forwardedTarget ? ' \\u2192 forwarded as ' + f.request.forwardedTarget : '')));
    if (u.socket !== null) {
      ul.appendChild(el('li', '', (u.reused ? 'reused' : 'new') + ' upstream socket ' + u.socket + ' to ' + u.pool + ', request ' + u.socketReq + ' on it' +
        (u.idleMs !== null ? ', idle ' + ms(u.idleMs) + ' ms before' : '') + (u.keepAliveHint ? ', origin Keep-Alive: ' + u.keepAliveHint : '') + (u.retried ? ', retried once (stale socket)' : '')));
    }
    ul.appendChild(el('li', '', 'queued ' + ms(t.queued) + ' ms, dns ' + ms(t.dns) + ', tcp ' + ms(t.tcp) + ', tls ' + ms(t.tls) + ', send ' + ms(t.send) + ', wait ' + ms(t.wait) + ', receive ' + ms(t.receive) + ', total ' + ms(t.total) + ' ms'));
    ul.appendChild(el('li', '', 'status ' + f.status + ', ' + f.bytes.down + ' B down, ' + f.bytes.up + ' B up, outcome ' + (f.error || f.outcome) + (f.closeReason ? ', closed: ' + f.closeReason : '')));
    return ul;
  }

  function diffTable(changes, dir) {
    var table = el('table', 'diff'); table.dataset.direction = dir;
    if (changes.length === 0) { var tr0 = el('tr'); tr0.appendChild(el('td', '', 'no change')); table.appendChild(tr0); }
    changes.forEach(function (c) {
      var tr = el('tr', 'op-' + c.op + ' r-' + c.reason); tr.dataset.change = c.op; tr.dataset.reason = c.reason; tr.dataset.name = c.name.toLowerCase();
      tr.appendChild(el('td', '', c.op === 'removed' ? '\\u2212' : c.op === 'added' ? '+' : '\\u00b1'));
      tr.appendChild(el('td', 'h', c.name + ': ' + c.value + (c.to !== undefined ? ' \\u2192 ' + c.to : '')));
      tr.appendChild(el('td', '', c.reason));
      table.appendChild(tr);
    });
    return table;
  }

  function select(id) {
    selected = id; renderRows();
    fetch('flows/' + id, { cache: 'no-store' }).then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (f) {
        detail.textContent = ''; detail.dataset.flowId = String(f.id); detail.hidden = false;
        detail.appendChild(el('h2', '', 'flow ' + f.id));
        detail.appendChild(el('h3', '', 'connection story')); detail.appendChild(story(f));
        detail.appendChild(el('h3', '', 'request: received \\u2192 forwarded')); detail.appendChild(diffTable(f.diff.request, 'request'));
        detail.appendChild(el('h3', '', 'response: received \\u2192 relayed')); detail.appendChild(diffTable(f.diff.response, 'response'));
      })
      .catch(function (e) { detail.textContent = 'flow ' + id + ': ' + e.message; });
  }

  function renderLanes() {
    var bySocket = new Map(), t0 = Infinity, t1 = -Infinity;
    flows.forEach(function (f) {
      if (f.upstream.socket === null) return;
      var start = Date.parse(f.startedAt), end = start + Math.max(0, f.timings.total);
      t0 = Math.min(t0, start); t1 = Math.max(t1, end);
      var key = f.upstream.socket;
      if (!bySocket.has(key)) bySocket.set(key, { pool: f.upstream.pool, flows: [] });
      bySocket.get(key).flows.push({ f: f, start: start, end: end });
    });
    lanesEl.textContent = ''; axisEl.textContent = '';
    if (bySocket.size === 0) { lanesEl.appendChild(el('p', 'closes', 'No upstream socket used yet.')); return; }
    var span = Math.max(1, t1 - t0);
    Array.from(bySocket.keys()).sort(function (a, b) { return a - b; }).forEach(function (socket) {
      var lane = bySocket.get(socket), row = el('div', 'lane'); row.dataset.socket = String(socket);
      row.appendChild(el('div', 'name', 'socket ' + socket + ' \\u00b7 ' + lane.pool + ' \\u00b7 ' + lane.flows.length + ' req'));
      var track = el('div', 'track');
      lane.flows.forEach(function (b) {
        var bar = el('div', b.f.upstream.reused ? 'bar' : 'bar new'); bar.dataset.flowId = String(b.f.id);
        bar.style.left = (100 * (b.start - t0) / span).toFixed(2) + '%';
        bar.style.width = (100 * (b.end - b.start) / span).toFixed(2) + '%';
        bar.title = b.f.request.method + ' ' + b.f.request.target + ' (' + ms(b.f.timings.total) + ' ms)';
        bar.addEventListener('click', function () { select(b.f.id); });
        track.appendChild(bar);
      });
      row.appendChild(track); lanesEl.appendChild(row);
    });
    axisEl.appendChild(el('span', '', '0 ms')); axisEl.appendChild(el('span', '', ms(span) + ' ms'));
  }

  function poll() {
    fetch('flows?after=' + last + '&limit=' + KEEP, { cache: 'no-store', signal: AbortSignal.timeout(2000) })
      .then(function (r) {
        if (r.status === 404) { off = true; throw new Error('flows are off (flows.size 0)'); }
        if (!r.ok) throw new Error('HTTP ' + r.status); return r.json();
      })
      .then(function (fresh) {
        flowsNote.textContent = '';
        if (fresh.length === 0) return;
        last = fresh[0].id; flows = fresh.concat(flows).slice(0, KEEP);
        document.getElementById('flows-count').dataset.value = String(flows.length);
        document.getElementById('flows-count').textContent = flows.length + ' recent';
        renderRows(); renderLanes();
      })
      .catch(function (e) { flowsNote.textContent = e.message; })
      .finally(function () { if (!off) setTimeout(poll, 1000); });
  }
  renderLanes();
  poll();
})();
`;

/** The markup of the two views (inserted after the pool view). */
export const FLOWS_HTML = `
<section id="view-flows" class="panel" hidden>
  <h2>flows <span class="side" id="flows-count" data-value="0"></span> <span class="side" id="flows-note"></span></h2>
  <div class="legend"><span class="ph-queued">&nbsp;&nbsp;</span> queued <span class="ph-connect">&nbsp;&nbsp;</span> connect
    <span class="ph-send">&nbsp;&nbsp;</span> send <span class="ph-wait">&nbsp;&nbsp;</span> wait <span class="ph-receive">&nbsp;&nbsp;</span> receive</div>
  <table class="flows"><thead><tr><th>method</th><th>url</th><th>status</th><th>socket</th><th>client \u2192 upstream</th><th>ms</th><th>waterfall</th></tr></thead>
  <tbody id="flow-rows"></tbody></table>
  <div id="flow-detail" hidden></div>
</section>
<section id="view-connections" class="panel" hidden>
  <h2>connections <span class="side">one lane per upstream socket; <span class="tag-new">new</span> and <span class="tag-reused">reused</span> requests</span></h2>
  <div id="lanes" class="lanes"></div>
  <div id="lanes-axis" class="axis"></div>
</section>
`;
