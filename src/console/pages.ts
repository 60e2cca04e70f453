function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function shell(title: string, body: string, meta = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><link rel="icon" href="/console/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/console/app.css">${meta}</head>
<body>${body}</body></html>`;
}

/** The sign-in form: the key travels once, in a POST body, never in a URL. */
export function signInPage(error?: string): string {
  return shell(
    'Baton — sign in',
    `<main class="signin"><form method="post" action="/console/sign-in" class="card">
<h1><span class="logo">◆</span> Baton</h1>
<p class="muted">Sign in with an agent key or the admin token. The key stays on the server; your browser keeps only a session cookie.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<label for="key">Key</label>
<input id="key" name="key" type="password" autocomplete="off" autofocus required>
<button type="submit">Sign in</button>
</form></main>`,
  );
}

const TABS: [string, string][] = [
  ['files', 'Files'],
  ['activity', 'Activity'],
  ['queues', 'Queues'],
  ['gates', 'Gates'],
  ['webhooks', 'Webhooks'],
  ['audit', 'Audit'],
  ['admin', 'Admin'],
];

/** The signed-in page: a frame the client script fills; the CSRF token rides in a meta tag. */
export function appPage(actor: string, admin: boolean, csrf: string): string {
  const tabs = TABS.filter(([id]) => admin || id !== 'admin')
    .map(([id, label]) => `<a href="#/${id}" data-tab="${id}">${label}</a>`)
    .join('');
  return shell(
    'Baton console',
    `<header><span class="brand"><span class="logo">◆</span> Baton</span><nav aria-label="Sections">${tabs}</nav>
<span class="who" data-testid="actor">${esc(actor)}</span>
<form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="${esc(csrf)}"><button class="ghost" type="submit">Sign out</button></form></header>
<main id="view" tabindex="-1"></main><script src="/console/app.js" type="module"></script>`,
    `<meta name="baton-csrf" content="${esc(csrf)}"><meta name="baton-admin" content="${admin ? '1' : '0'}">`,
  );
}
