import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { now } from './stats.js';

export interface Delivery {
  /** The URL path the delivery was POSTed to: one per subscription. */
  route: string;
  path: string;
  id: string;
  event: string;
  size: number;
  /** hrtime when the request's headers arrived, before the body is read. */
  arrival: bigint;
  /** The event's own `time`: when Baton recorded the change (ms since the epoch). */
  time: number;
}

/**
 * A loopback webhook receiver. It answers 200 at once and records every delivery; `waitFor`
 * resolves when a condition holds (checked on each delivery) or the time runs out.
 */
export class Receiver {
  readonly deliveries: Delivery[] = [];
  /** route|path → deliveries of it. */
  readonly byKey = new Map<string, Delivery[]>();
  /** route → how many distinct paths it received. */
  private readonly uniqueByRoute = new Map<string, number>();
  private waiters = new Set<{ pred: () => boolean; resolve: (ok: boolean) => void }>();
  private server!: http.Server;
  url = '';
  badBodies = 0;

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    r.server = http.createServer((req, res) => r.handle(req, res));
    r.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const arrival = now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      try {
        const ev = JSON.parse(Buffer.concat(chunks).toString()) as { path: string; event: string; size: number; id: string; time: string };
        const d: Delivery = { route: req.url ?? '/', path: ev.path, id: String(req.headers['webhook-id'] ?? ev.id), event: ev.event, size: ev.size, arrival, time: Date.parse(ev.time) };
        this.deliveries.push(d);
        const key = `${d.route}|${d.path}`;
        const list = this.byKey.get(key);
        if (list) list.push(d);
        else {
          this.byKey.set(key, [d]);
          this.uniqueByRoute.set(d.route, (this.uniqueByRoute.get(d.route) ?? 0) + 1);
        }
      } catch {
        this.badBodies++;
      }
      for (const w of this.waiters) {
        if (w.pred()) {
          this.waiters.delete(w);
          w.resolve(true);
        }
      }
    });
  }

  /** Distinct (route, path) pairs delivered to routes starting with `routePrefix` (cheap: per-route counters). */
  unique(routePrefix = ''): number {
    if (!routePrefix) return this.byKey.size;
    let n = 0;
    for (const [route, c] of this.uniqueByRoute) if (route.startsWith(routePrefix)) n += c;
    return n;
  }

  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { pred, resolve };
      this.waiters.add(w);
      setTimeout(() => {
        if (this.waiters.delete(w)) resolve(pred());
      }, timeoutMs).unref();
    });
  }

  /** Paths delivered more than once, and how many extra deliveries (same id = a redelivery). */
  duplicates(routePrefix = ''): { paths: number; extra: number; sameId: number; otherId: number } {
    let paths = 0;
    let extra = 0;
    let sameId = 0;
    let otherId = 0;
    for (const [k, list] of this.byKey) {
      if (!k.startsWith(routePrefix) || list.length < 2) continue;
      paths++;
      extra += list.length - 1;
      const ids = new Set(list.map((d) => d.id));
      otherId += ids.size - 1;
      sameId += list.length - ids.size;
    }
    return { paths, extra, sameId, otherId };
  }

  first(route: string, path: string): Delivery | undefined {
    return this.byKey.get(`${route}|${path}`)?.[0];
  }

  async close(): Promise<void> {
    for (const w of this.waiters) w.resolve(false);
    this.waiters.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
