import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';

const SCRIPT = '/docs/scalar.js';

// No CDN: the reference page's script is the one installed beside Baton. Its fonts are off
// too, so the page works on a host with no way out.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baton API reference</title>
</head>
<body>
<script id="api-reference" data-url="/openapi.json" data-configuration='{"withDefaultFonts":false,"hideClientButton":true,"agent":{"disabled":true},"telemetry":false}'></script>
<script src="${SCRIPT}"></script>
</body>
</html>
`;

let script: Promise<Buffer> | undefined;

/** Read once, on the first visit: most servers never serve the page. */
function scalarScript(): Promise<Buffer> {
  script ??= readFile(createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js'));
  return script;
}

/** GET /docs: a readable reference page over /openapi.json (Scalar). */
export function docsRoutes() {
  const app = new Hono<AppEnv>();
  app.get('/docs', (c) => c.html(PAGE));
  app.get(SCRIPT, async (c) =>
    c.body(new Uint8Array(await scalarScript()), 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }),
  );
  return app;
}
