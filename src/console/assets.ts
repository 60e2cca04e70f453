// The console's client script and styles, kept as strings so that \`tsc\` builds them into the
// package: no bundler, no runtime file reads, no CDN. Plain ES2020 that every current browser runs.

export const APP_JS = String.raw`const csrf = document.querySelector('meta[name="baton-csrf"]').content;
const view = document.getElementById('view');
let stream = null;

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

function enc(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

async function api(method, url, body) {
  const init = { method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error((data && data.error && data.error.message) || (data && data.message) || res.statusText);
  return data;
}

function fail(err) {
  return h('p', { class: 'error', role: 'alert' }, String(err.message || err));
}

function size(n) {
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(1) + ' KB';
  return (n / 1048576).toFixed(1) + ' MB';
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

function setView(...kids) {
  view.replaceChildren(...kids);
}

// ---- files ----
async function files(path, uploaded) {
  const dir = path || '/';
  const crumbs = [h('a', { href: '#/files/' }, 'workspaces')];
  let acc = '';
  for (const part of dir.split('/').filter(Boolean)) {
    acc += '/' + part;
    crumbs.push(' / ', h('a', { href: '#/files' + acc + '/' }, part));
  }
  const table = h('table', { class: 'list', 'data-testid': 'listing' });
  const drop = uploader(dir, uploaded);
  setView(h('h2', {}, 'Files'), h('nav', { class: 'crumbs', 'aria-label': 'Path' }, crumbs), dir === '/' ? '' : drop, table);
  try {
    const data = await api('GET', '/v1/list' + (dir === '/' ? '' : enc(dir.replace(/\/$/, ''))));
    const entries = data.entries || data.items || [];
    table.append(h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Size'), h('th', {}, 'Modified')));
    if (entries.length === 0) table.append(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'Nothing here you may read.')));
    for (const e of entries) {
      const name = e.path.replace(/\/$/, '').split('/').pop();
      const isDir = e.type === 'directory';
      const href = isDir ? '#/files' + e.path.replace(/\/?$/, '/') : '#/file' + e.path;
      table.append(h('tr', {}, h('td', {}, h('a', { href }, isDir ? name + '/' : name)), h('td', {}, isDir ? '' : size(e.size)), h('td', {}, when(e.modifiedAt))));
    }
  } catch (err) {
    table.replaceWith(fail(err));
  }
}

// The listing is drawn again after an upload; 'uploaded' carries the finished upload's bar and words over.
function uploader(dir, uploaded) {
  const bar = h('progress', { max: 100, value: uploaded ? 100 : 0, hidden: !uploaded });
  const note = h('span', { class: 'muted', 'aria-live': 'polite' }, uploaded || '');
  const input = h('input', { type: 'file', multiple: true, id: 'upload-input' });
  const zone = h('div', { class: 'drop', 'data-testid': 'drop' }, h('label', { for: 'upload-input' }, 'Drop files here or choose: '), input, bar, note);
  const send = (list) => {
    let chain = Promise.resolve();
    for (const file of list) chain = chain.then(() => put(dir.replace(/\/?$/, '/') + file.name, file, bar, note));
    chain.then(() => files(dir, note.textContent)).catch((err) => note.replaceChildren(fail(err)));
  };
  input.addEventListener('change', () => send(input.files));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); send(e.dataTransfer.files); });
  return zone;
}

function put(path, file, bar, note) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', '/v1/files' + enc(path));
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    if (file.type) xhr.setRequestHeader('Content-Type', file.type);
    bar.hidden = false;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100); };
    xhr.onload = () => {
      bar.value = 100;
      if (xhr.status < 300) { note.textContent = 'Uploaded ' + path; resolve(); }
      else { let m = xhr.statusText; try { m = JSON.parse(xhr.responseText).error.message || m; } catch {} reject(new Error(m)); }
    };
    xhr.onerror = () => reject(new Error('upload failed: network'));
    xhr.send(file);
  });
}

async function file(path) {
  const parent = path.replace(/[^/]+$/, '');
  const preview = h('div', { class: 'preview', 'data-testid': 'preview' });
  const versions = h('div', {});
  setView(
    h('h2', {}, path),
    h('p', {}, h('a', { href: '#/files' + parent }, '← back'), ' · ', h('a', { href: '/v1/files' + enc(path), download: path.split('/').pop() }, 'Download')),
    preview,
    gateActions(path),
    h('h3', {}, 'Versions'),
    versions,
  );
  try {
    const res = await fetch('/v1/files' + enc(path), { credentials: 'same-origin' });
    if (!res.ok) throw new Error((await res.json()).error?.message || res.statusText);
    const type = res.headers.get('content-type') || '';
    if (type.startsWith('image/')) preview.append(h('img', { src: URL.createObjectURL(await res.blob()), alt: path }));
    else if (/^text\/|json|yaml|xml|javascript/.test(type) || /\.(md|txt|json|ya?ml|csv|log)$/.test(path)) {
      let text = await res.text();
      if (type.includes('json')) { try { text = JSON.stringify(JSON.parse(text), null, 2); } catch {} }
      preview.append(/\.md$/.test(path) || type.includes('markdown') ? markdown(text) : h('pre', {}, text));
    } else preview.append(h('p', { class: 'muted' }, type + ' — download to view.'));
  } catch (err) {
    preview.append(fail(err));
  }
  try {
    const list = (await api('GET', '/v1/versions' + enc(path))).versions.sort((p, q) => p.version - q.version);
    if (!list.length) versions.append(h('p', { class: 'muted' }, 'No versions kept for this folder.'));
    const a = h('select', { 'aria-label': 'From version' });
    const b = h('select', { 'aria-label': 'To version' });
    const table = h('table', { class: 'list' }, h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Size'), h('th', {}, 'Written'), h('th', {}, 'By'), h('th', {}, '')));
    for (const v of list) {
      a.append(h('option', { value: v.version }, 'v' + v.version));
      b.append(h('option', { value: v.version }, 'v' + v.version));
      table.append(h('tr', {}, h('td', {}, 'v' + v.version), h('td', {}, size(v.size || 0)), h('td', {}, when(v.time)), h('td', {}, v.actor + (v.deleted ? ' (deleted)' : '')),
        h('td', {}, h('button', { class: 'ghost', onclick: async () => { await api('POST', '/v1/restore', { path, version: v.version }); file(path); } }, 'Restore'))));
    }
    if (list.length > 1) { a.selectedIndex = list.length - 2; b.selectedIndex = list.length - 1; }
    const out = h('div', { class: 'diff', 'data-testid': 'diff' });
    const diffBtn = h('button', { onclick: async () => {
      const [x, y] = await Promise.all([a.value, b.value].map((v) => fetch('/v1/files' + enc(path) + '?version=' + v).then((r) => r.text())));
      out.replaceChildren(...diff(x, y));
    } }, 'Diff');
    versions.append(table, list.length > 1 ? h('p', {}, a, ' → ', b, ' ', diffBtn) : '', out);
  } catch (err) {
    versions.append(fail(err));
  }
}

// A file waiting at a gate (it sits in one of the gate's from folders) gets the decision card.
// The server decides who may decide: only a human key with write on the gate.
function gateActions(path) {
  const box = h('div', {});
  const parent = path.replace(/\/[^/]+$/, '');
  // A rejected item says who rejected it and why: the note rides on the file.moved that put it here.
  if (/\/rejected$/.test(parent)) {
    api('GET', '/v1/events?after=0&limit=1000&path=' + encodeURIComponent(path)).then(({ events }) => {
      const last = events.filter((e) => e.review && e.review.decision === 'rejected' && e.path === path).pop();
      if (last) box.append(h('div', { class: 'card gate', 'data-testid': 'rejection' }, h('b', {}, 'Rejected at ' + last.review.gate + ' by ' + last.actor + ': '), last.review.note || ''));
    }).catch(() => {});
  }
  api('GET', '/v1/gates').then(({ gates }) => {
    for (const g of gates.filter((x) => x.canDecide && x.from.includes(parent))) box.append(decisionCard(path, g.gate, () => {}));
  }).catch(() => {});
  return box;
}

function decisionCard(path, gate, done) {
  const result = h('span', { 'aria-live': 'polite', class: 'muted' });
  const note = h('input', { placeholder: 'note (required to reject)', 'aria-label': 'Note for ' + path, class: 'note' });
  const decide = async (verb) => {
    try {
      const r = await api('POST', '/v1/gates/' + verb, { path, gate, note: note.value || undefined });
      result.textContent = verb === 'approve' ? 'Approved into ' + r.path : 'Rejected to ' + r.path + ': ' + r.note;
      result.className = 'ok';
      for (const b of card.querySelectorAll('button, input')) b.disabled = true;
      done();
    } catch (err) { result.replaceChildren(fail(err)); }
  };
  const card = h('div', { class: 'card gate', 'data-testid': 'decision' }, h('b', {}, 'Human gate: '),
    h('button', { onclick: () => decide('approve') }, 'Approve into ' + gate), ' ', note, ' ',
    h('button', { class: 'danger', onclick: () => decide('reject') }, 'Reject with note'), ' ', result);
  return card;
}

// ---- gates ----
// Each gate's waiting list: read an item (its link opens the preview), approve it, or reject it with a note.
async function gates() {
  setView(h('h2', {}, 'Human gates'));
  try {
    const { gates: list } = await api('GET', '/v1/gates');
    if (!list.length) view.append(h('p', { class: 'muted' }, 'No gate with a waiting list. Declare one as {path, from} under gates: in a workspace YAML.'));
    for (const g of list) {
      const table = h('table', { class: 'list', 'data-testid': 'waiting' }, h('tr', {}, ['Waiting item', 'Size', 'Since', g.canDecide ? 'Decision' : ''].map((x) => h('th', {}, x))));
      if (!g.waiting.length) table.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'Nothing waiting.')));
      for (const item of g.waiting) {
        table.append(h('tr', {}, h('td', {}, h('a', { href: '#/file' + item.path }, item.path.split('/').pop())), h('td', {}, size(item.size)), h('td', {}, when(item.modifiedAt)),
          h('td', {}, g.canDecide ? decisionCard(item.path, g.gate, () => {}) : '')));
      }
      view.append(h('section', {}, h('h3', {}, g.gate + ' ', h('span', { class: 'muted' }, '← waiting in ' + g.from.join(', '))),
        g.canDecide ? '' : h('p', { class: 'muted' }, 'Only a human key with write on ' + g.gate + ' may approve or reject.'), table));
    }
  } catch (err) {
    view.append(fail(err));
  }
}

// Line diff by longest common subsequence: files shown here are small text hand-offs.
function diff(a, b) {
  const x = a.split('\n'), y = b.split('\n');
  const n = x.length, m = y.length;
  if (n * m > 4e6) return [h('p', { class: 'muted' }, 'Too large to diff here.')];
  const t = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) t[i][j] = x[i] === y[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { out.push(h('div', {}, '  ' + x[i])); i++; j++; }
    else if (j < m && (i >= n || t[i][j + 1] >= t[i + 1][j])) { out.push(h('div', { class: 'add' }, '+ ' + y[j])); j++; }
    else { out.push(h('div', { class: 'del' }, '- ' + x[i])); i++; }
  }
  return out;
}

// A small, safe subset of markdown: headings, lists, code blocks, paragraphs; text only, never HTML.
function markdown(text) {
  const box = h('div', { class: 'md' });
  let code = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('~~~') || line.startsWith(String.fromCharCode(96, 96, 96))) {
      if (code) { box.append(code); code = null; } else code = h('pre', {});
      continue;
    }
    if (code) { code.append(line + '\n'); continue; }
    const m = /^(#{1,4})\s+(.*)$/.exec(line);
    if (m) box.append(h('h' + (m[1].length + 2), {}, m[2]));
    else if (/^\s*[-*]\s+/.test(line)) box.append(h('li', {}, line.replace(/^\s*[-*]\s+/, '')));
    else if (line.trim()) box.append(h('p', {}, line));
  }
  if (code) box.append(code);
  return box;
}

// ---- activity ----
function activity() {
  const glob = h('input', { placeholder: '/**', value: sessionStorage.getItem('glob') || '/**', 'aria-label': 'Path glob' });
  const actor = h('input', { placeholder: 'any actor', 'aria-label': 'Actor' });
  const type = h('select', { 'aria-label': 'Event type' }, h('option', { value: '' }, 'any event'),
    ...['file.created', 'file.updated', 'file.deleted', 'file.moved', 'ticket.claimed', 'ticket.completed', 'ticket.failed', 'ticket.expired'].map((t) => h('option', { value: t }, t)));
  const state = h('span', { class: 'muted', 'data-testid': 'stream-state' }, 'connecting…');
  const list = h('ol', { class: 'events', 'data-testid': 'events', 'aria-live': 'polite' });
  const timeline = h('div', { class: 'timeline' });
  const connect = () => {
    if (stream) stream.close();
    list.replaceChildren();
    stream = new EventSource('/v1/events/stream?path=' + encodeURIComponent(glob.value || '/**'));
    stream.addEventListener('ready', () => { state.textContent = 'live'; state.className = 'live'; });
    stream.addEventListener('error', () => { state.textContent = 'reconnecting…'; state.className = 'muted'; });
    const show = (msg) => {
      const e = JSON.parse(msg.data);
      if (actor.value && e.actor !== actor.value) return;
      if (type.value && e.event !== type.value) return;
      const link = e.path ? h('a', { href: '#/file' + e.path }, e.path + (e.version ? ' v' + e.version : '')) : '';
      list.prepend(h('li', {}, h('time', {}, new Date(e.at || e.time || Date.now()).toLocaleTimeString()), ' ', h('b', { class: 'tag' }, e.event), ' ', link, ' ', h('span', { class: 'muted' }, 'by ' + (e.actor || '?')),
        e.review ? h('span', { class: 'review' }, ' ' + e.review.decision + (e.review.note ? ': ' + e.review.note : '')) : '',
        ' ', e.path ? h('button', { class: 'ghost', onclick: () => handoff(e.path, timeline) }, 'Timeline') : ''));
    };
    for (const t of ['file.created', 'file.updated', 'file.deleted', 'file.moved', 'ticket.claimed', 'ticket.completed', 'ticket.failed', 'ticket.expired']) stream.addEventListener(t, show);
  };
  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); sessionStorage.setItem('glob', glob.value); connect(); } }, glob, actor, type, h('button', { type: 'submit' }, 'Apply'), state);
  setView(h('h2', {}, 'Live activity'), form, timeline, list);
  connect();
}

// One hand-off: every event and audit entry about one path, in order.
async function handoff(path, box) {
  box.replaceChildren(h('h3', {}, 'Hand-off of ' + path));
  try {
    const { events } = await api('GET', '/v1/events?path=' + encodeURIComponent(path) + '&after=0');
    const { entries } = await api('GET', '/v1/audit?path=' + encodeURIComponent(path));
    const rows = [
      ...events.map((e) => ({ at: e.at || e.time, text: e.actor + ' → ' + e.event + (e.version ? ' v' + e.version : '') })),
      ...(entries || []).filter((a) => /deliver|claim|notify/.test(a.action)).map((a) => ({ at: a.at || a.time, text: a.actor + ' → ' + a.action })),
    ].sort((p, q) => String(p.at).localeCompare(String(q.at)));
    box.append(h('ol', { class: 'steps' }, rows.map((r) => h('li', {}, h('time', {}, when(r.at)), ' ', r.text))));
  } catch (err) {
    box.append(fail(err));
  }
}

// ---- queues ----
// A queue is a folder with pending/, in-progress/, done/ and failed/ under it. Holder and lease come
// from each ticket's ticket.claimed event; retry moves a failed ticket back to pending/.
async function queues(path) {
  const queue = (path || '').replace(/\/$/, '');
  const input = h('input', { value: queue || sessionStorage.getItem('queue') || '', placeholder: '/demo/tasks', 'aria-label': 'Queue folder' });
  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); sessionStorage.setItem('queue', input.value); location.hash = '#/queues' + input.value.replace(/\/$/, ''); } }, input, h('button', { type: 'submit' }, 'Open queue'));
  const board = h('div', { class: 'board', 'data-testid': 'board' });
  setView(h('h2', {}, 'Queues'), form, board);
  if (!queue) return;
  try {
    const cols = {};
    for (const folder of ['pending', 'in-progress', 'done', 'failed']) {
      try { cols[folder] = (await api('GET', '/v1/list' + enc(queue + '/' + folder))).entries.filter((e) => e.type === 'file'); }
      catch { cols[folder] = []; }
    }
    let claims = {};
    try {
      const { events } = await api('GET', '/v1/events?after=0&limit=1000&path=' + encodeURIComponent(queue + '/in-progress/**'));
      for (const e of events) if (e.event === 'ticket.claimed') claims[e.path] = e;
    } catch {}
    const reasons = new Set(cols.failed.filter((e) => e.path.endsWith('.reason')).map((e) => e.path));
    const card = async (folder, e) => {
      const name = e.path.split('/').pop();
      const body = [h('a', { href: '#/file' + e.path }, name)];
      if (folder === 'in-progress') {
        const c = claims[e.path];
        const until = c && c.ticket && c.ticket.leaseExpiresAt ? Date.parse(c.ticket.leaseExpiresAt) : null;
        body.push(h('div', { class: 'muted' }, c ? 'held by ' + c.actor : 'holder unknown'), until ? h('div', { class: 'muted' }, Math.max(0, Math.round((until - Date.now()) / 1000)) + ' s of lease left') : '');
      }
      if (folder === 'failed') {
        if (reasons.has(e.path + '.reason')) body.push(h('div', { class: 'error' }, await fetch('/v1/files' + enc(e.path + '.reason')).then((r) => r.text())));
        body.push(h('button', { class: 'ghost', onclick: async () => {
          try { await api('POST', '/v1/move', { from: e.path, to: queue + '/pending/' + name }); queues(queue); } catch (err) { board.prepend(fail(err)); }
        } }, 'Retry'));
      }
      return h('li', { class: 'card' }, body);
    };
    for (const folder of ['pending', 'in-progress', 'done', 'failed']) {
      const items = cols[folder].filter((e) => !e.path.endsWith('.reason'));
      board.append(h('section', { 'aria-label': folder }, h('h3', {}, folder + ' (' + items.length + ')'), h('ul', {}, await Promise.all(items.map((e) => card(folder, e))))));
    }
  } catch (err) {
    board.append(fail(err));
  }
}

// ---- webhooks ----
async function webhooks() {
  setView(h('h2', {}, 'Webhooks'));
  try {
    const { subscriptions } = await api('GET', '/v1/subscriptions');
    if (!subscriptions.length) view.append(h('p', { class: 'muted' }, 'No subscriptions you may see.'));
    for (const s of subscriptions) {
      const log = h('table', { class: 'list', 'data-testid': 'deliveries' });
      const load = async () => {
        const { deliveries } = await api('GET', '/v1/subscriptions/' + encodeURIComponent(s.id) + '/deliveries');
        log.replaceChildren(h('tr', {}, ['', 'Event', 'Status', 'Attempt', 'HTTP', 'At', 'Error cause'].map((x) => h('th', {}, x))));
        for (const d of deliveries) {
          log.append(h('tr', {}, h('td', {}, h('input', { type: 'checkbox', value: d.eventId, 'aria-label': 'Select delivery of ' + d.eventId })),
            h('td', {}, h('code', {}, d.eventId)), h('td', {}, h('b', { class: 'tag ' + d.status }, d.status)), h('td', {}, d.attempt ?? ''),
            h('td', {}, d.responseStatus ?? ''), h('td', {}, when(d.at)), h('td', { class: 'muted' }, d.error || (d.nextAttemptAt ? 'retry at ' + when(d.nextAttemptAt) : ''))));
        }
      };
      const replay = async (all) => {
        const ids = [...new Set([...log.querySelectorAll(all ? 'input' : 'input:checked')].map((x) => x.value))];
        if (!ids.length) { note.textContent = 'Select a delivery first.'; return; }
        const r = await api('POST', '/v1/subscriptions/' + encodeURIComponent(s.id) + '/replay', { eventIds: ids });
        note.textContent = 'Replay queued for ' + (r.replayed ?? ids.length) + ' event(s).';
        setTimeout(load, 800);
      };
      const note = h('span', { class: 'muted', 'aria-live': 'polite' });
      const state = h('b', { 'data-testid': 'sub-state' });
      const toggle = h('button', { class: 'ghost' });
      const show = (sub) => {
        s.paused = sub.paused;
        state.className = 'tag ' + (!sub.enabled ? 'dead' : sub.paused ? 'paused' : 'delivered');
        state.textContent = !sub.enabled ? 'disabled' : sub.paused ? 'paused · ' + (sub.backlog ?? 0) + ' held' : 'live';
        toggle.textContent = sub.paused ? 'Resume' : 'Pause';
      };
      // Paused, events are held in the subscription's backlog; Resume sends them oldest first.
      toggle.addEventListener('click', async () => {
        try {
          const r = await api('POST', '/v1/subscriptions/' + encodeURIComponent(s.id) + (s.paused ? '/resume' : '/pause'));
          show(r);
          note.textContent = s.paused ? 'Paused: new events are held, nothing is sent.' : 'Resumed: ' + r.released + ' held event(s) queued, oldest first.';
          setTimeout(load, 800);
        } catch (err) { note.replaceChildren(fail(err)); }
      });
      show(s);
      view.append(h('section', { class: 'card', 'data-sub': s.id }, h('h3', {}, s.url || s.id, ' ', state), h('p', { class: 'muted' }, (s.paths || []).join(', ') + ' · ' + s.id),
        h('p', {}, h('button', { onclick: () => replay(false) }, 'Replay selected'), ' ', h('button', { class: 'ghost', onclick: () => replay(true) }, 'Replay all'), ' ', toggle, ' ', note), log));
      await load();
    }
  } catch (err) {
    view.append(fail(err));
  }
}

// ---- audit ----
function audit() {
  const f = { path: h('input', { placeholder: 'path', 'aria-label': 'Path' }), actor: h('input', { placeholder: 'actor', 'aria-label': 'Actor' }),
    action: h('input', { placeholder: 'action', 'aria-label': 'Action' }), since: h('input', { type: 'datetime-local', 'aria-label': 'Since' }) };
  const out = h('table', { class: 'list' });
  const verify = h('div', {});
  const search = async () => {
    const q = new URLSearchParams();
    for (const [k, el] of Object.entries(f)) if (el.value) q.set(k, k === 'since' ? new Date(el.value).toISOString() : el.value);
    try {
      const { entries } = await api('GET', '/v1/audit?' + q);
      out.replaceChildren(h('tr', {}, ['#', 'Time', 'Actor', 'Action', 'Path', 'Result', 'Note'].map((x) => h('th', {}, x))));
      for (const e of entries) out.append(h('tr', {}, h('td', {}, e.seq), h('td', {}, when(e.time)), h('td', {}, e.actor), h('td', {}, e.action), h('td', {}, e.path || ''), h('td', {}, e.outcome + (e.code ? ' (' + e.code + ')' : '')), h('td', {}, e.note || '')));
    } catch (err) { out.replaceChildren(fail(err)); }
  };
  const runVerify = async () => {
    try {
      const r = await api('GET', '/v1/audit/verify');
      verify.replaceChildren(h('p', { class: r.ok ? 'ok' : 'error' }, r.ok ? 'Chain intact (' + (r.entries ?? r.checked ?? '') + ' entries).' : 'First broken entry: ' + JSON.stringify(r.firstBroken ?? r.broken ?? r)));
    } catch (err) { verify.replaceChildren(fail(err)); }
  };
  setView(h('h2', {}, 'Audit'), h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); search(); } }, Object.values(f), h('button', { type: 'submit' }, 'Search'), h('button', { type: 'button', class: 'ghost', onclick: runVerify }, 'Verify chain')), verify, out);
  search();
}

// ---- admin ----
function folderList(w) {
  return Array.isArray(w.folders) ? w.folders.map((f) => (typeof f === 'string' ? f : f.path || f.name)) : Object.keys(w.folders || {});
}

async function admin() {
  const keys = h('table', { class: 'list' });
  const shown = h('div', { 'aria-live': 'polite' });
  const picker = h('div', { class: 'picker' });
  const agent = h('input', { placeholder: 'agent name', required: true, 'aria-label': 'Agent name' });
  const human = h('input', { type: 'checkbox', id: 'human' });
  const load = async () => {
    const { keys: list } = await api('GET', '/v1/keys');
    keys.replaceChildren(h('tr', {}, ['Agent', 'Id', 'Grants', 'Status', ''].map((x) => h('th', {}, x))));
    for (const k of list) keys.append(h('tr', {}, h('td', {}, k.agent), h('td', { class: 'muted' }, k.id), h('td', {}, (k.grants || []).join(', ')), h('td', {}, k.revokedAt ? 'revoked' : 'active'),
      h('td', {}, k.revokedAt ? '' : h('button', { class: 'ghost', onclick: async () => { if (confirm('Revoke ' + k.agent + '?')) { await api('DELETE', '/v1/keys/' + encodeURIComponent(k.id)); load(); } } }, 'Revoke'))));
  };
  const create = async (e) => {
    e.preventDefault();
    const grants = [...picker.querySelectorAll('input:checked')].map((x) => x.value);
    try {
      const r = await api('POST', '/v1/keys', { agent: agent.value, grants, human: human.checked || undefined });
      shown.replaceChildren(h('div', { class: 'card once' }, h('p', {}, 'Key for ' + r.agent + ' — shown once, copy it now:'), h('code', { 'data-testid': 'new-key' }, r.key)));
      load();
    } catch (err) { shown.replaceChildren(fail(err)); }
  };
  const ws = h('table', { class: 'list' });
  setView(h('h2', {}, 'Keys'), h('form', { class: 'card', onsubmit: create }, agent, h('label', {}, human, ' human (may approve gates)'), h('p', { class: 'muted' }, 'Grants:'), picker, h('button', { type: 'submit' }, 'Create key')), shown, keys, h('h2', {}, 'Workspaces'), ws);
  try {
    const { workspaces } = await api('GET', '/v1/workspaces');
    ws.append(h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Driver'), h('th', {}, 'Folders')));
    for (const w of workspaces) {
      const name = w.name || w;
      ws.append(h('tr', {}, h('td', {}, name), h('td', {}, w.driver || w.storage?.driver || ''), h('td', {}, folderList(w).join(', '))));
      for (const [verb] of [['read'], ['write']]) {
        picker.append(h('label', {}, h('input', { type: 'checkbox', value: verb + ':/' + name + '/**' }), ' ' + verb + ' /' + name + '/**'));
        for (const folder of folderList(w)) picker.append(h('label', {}, h('input', { type: 'checkbox', value: verb + ':/' + name + '/' + folder.replace(/^\/|\/$/g, '') + '/**' }), ' ' + verb + ' /' + name + '/' + folder.replace(/^\/|\/$/g, '') + '/**'));
      }
    }
    await load();
  } catch (err) { view.append(fail(err)); }
}

function route() {
  if (stream && !location.hash.startsWith('#/activity')) { stream.close(); stream = null; }
  const hash = decodeURIComponent(location.hash.slice(1) || '/files/');
  const [, tab, rest] = /^\/([a-z]+)(.*)$/.exec(hash) || [, 'files', '/'];
  for (const a of document.querySelectorAll('nav a')) a.toggleAttribute('aria-current', a.dataset.tab === (tab === 'file' ? 'files' : tab));
  const views = { files: () => files(rest || '/'), file: () => file(rest), queues: () => queues(rest), activity, gates, webhooks, audit, admin };
  (views[tab] || views.files)();
  view.focus();
}
window.addEventListener('hashchange', route);
route();
`;

export const APP_CSS = String.raw`:root { --bg: #f6f7f9; --card: #fff; --ink: #1b1f24; --muted: #667085; --line: #e4e7ec; --accent: #3b5bdb; --ok: #2f9e44; --bad: #c92a2a; color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #111827; color: #fff; }
header nav { display: flex; gap: .25rem; flex: 1; }
header nav a { color: #cbd5e1; text-decoration: none; padding: .35rem .75rem; border-radius: 6px; }
header nav a[aria-current], header nav a:hover { background: #1f2937; color: #fff; }
header form { margin: 0; }
.brand { font-weight: 700; letter-spacing: .02em; }
.logo { color: #748ffc; }
.who { color: #cbd5e1; font-size: .9rem; }
main#view { max-width: 1100px; margin: 1.5rem auto; padding: 0 1.5rem; outline: none; }
h2 { margin: .2rem 0 1rem; font-size: 1.35rem; }
h3 { margin: 1.2rem 0 .5rem; font-size: 1.05rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #91a7ff; outline-offset: 2px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; margin: 0 0 1rem; box-shadow: 0 1px 2px rgba(16,24,40,.05); }
table.list { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; margin-bottom: 1rem; }
table.list th, table.list td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid var(--line); }
table.list th { background: #f9fafb; font-weight: 600; font-size: .85rem; color: var(--muted); }
table.list tr:last-child td { border-bottom: 0; }
table.list td a { text-decoration: none; }
button { font: inherit; background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .4rem .9rem; cursor: pointer; }
button.ghost { background: transparent; color: inherit; border: 1px solid currentColor; opacity: .85; }
button.danger { background: var(--bad); }
button:disabled, input:disabled { opacity: .5; cursor: default; }
.gate .note { min-width: 16rem; }
input, select { font: inherit; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: 1rem; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
.ok, .live { color: var(--ok); font-weight: 600; }
.crumbs { margin-bottom: .75rem; }
.drop { border: 2px dashed #c5cee0; border-radius: 10px; padding: 1rem; margin-bottom: 1rem; background: #fbfcfe; display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
.drop.over { border-color: var(--accent); background: #eef2ff; }
.preview { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; overflow: auto; max-height: 60vh; }
.preview img { max-width: 100%; }
pre { margin: 0; white-space: pre-wrap; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
.diff { font: 13px/1.45 ui-monospace, monospace; white-space: pre-wrap; }
.diff .add { background: #ebfbee; color: #2b8a3e; }
.diff .del { background: #fff5f5; color: #c92a2a; }
ol.events { list-style: none; padding: 0; margin: 0; }
ol.events li { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .5rem .75rem; margin-bottom: .4rem; animation: fade .4s; }
@keyframes fade { from { background: #eef2ff; } }
.tag { font-size: .8rem; background: #edf2ff; color: #364fc7; border-radius: 4px; padding: .1rem .4rem; }
.tag.failed, .tag.dead { background: #fff5f5; color: var(--bad); }
.tag.delivered, .tag.succeeded { background: #ebfbee; color: var(--ok); }
.tag.paused { background: #fff4e6; color: #d9480f; }
.picker { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: .25rem; margin-bottom: .75rem; }
.once code { display: block; padding: .5rem; background: #fff9db; border-radius: 6px; word-break: break-all; }
.board { display: grid; grid-template-columns: repeat(4, 1fr); gap: 1rem; }
.board ul { list-style: none; padding: 0; margin: 0; }
.board li.card { padding: .6rem .8rem; margin-bottom: .5rem; }
.board li .error { font-size: .85rem; }
.signin { display: grid; place-items: center; min-height: 100vh; }
.signin form { width: min(420px, 92vw); display: grid; gap: .6rem; }
.signin h1 { margin: 0; }
`;

/** The tab icon: the logo's diamond on the header's ink, small enough to keep as a string. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#111827"/><path d="M8 2.5 13.5 8 8 13.5 2.5 8z" fill="#748ffc"/></svg>';
