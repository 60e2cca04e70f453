import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEventKey, isMinio, listenMinio } from '../../src/storage/s3/minio-events.js';

/*
 * The MinIO notification listener against fake servers: a MinIO-like one streaming event
 * records, and one that answers S3 XML to the same request (what s3rver or a plain S3 does),
 * which must end in a reported error and a fallback, never in a crash.
 */
let server: Server | null = null;

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  const s = server;
  server = null;
  if (!s) return;
  s.closeAllConnections();
  await new Promise((r) => s.close(r));
});

describe('MinIO notifications', () => {
  it('decodes keys as MinIO encodes them', () => {
    expect(decodeEventKey('lake%2Fin%2Fa+b%C3%BC.txt')).toBe('lake/in/a bü.txt');
    expect(decodeEventKey('lake/in/plus%2B.txt')).toBe('lake/in/plus+.txt');
    expect(decodeEventKey('%E0%A4%A')).toBeNull();
  });

  it('recognises MinIO by its liveness route and Server header only', async () => {
    const minio = await serve((req, res) => {
      res.writeHead(req.url === '/minio/health/live' ? 200 : 404, { Server: 'MinIO' }).end();
    });
    expect(await isMinio(minio)).toBe(true);
    server!.closeAllConnections();
    await new Promise((r) => server!.close(r));
    const other = await serve((_req, res) => res.writeHead(200, { Server: 'nginx' }).end('ok'));
    expect(await isMinio(other)).toBe(false);
    expect(await isMinio('http://127.0.0.1:1')).toBe(false);
  });

  it('reports every created or removed key from a streamed notification', async () => {
    const url = await serve((req, res) => {
      expect(req.url).toMatch(/events=s3%3AObjectCreated%3A%2A/);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(JSON.stringify({ Records: [{ eventName: 's3:ObjectCreated:Put', s3: { object: { key: 'lake%2Fin%2Fone+two.txt' } } }] }) + '\n');
      res.write(JSON.stringify({ Records: null }) + '\n');
      res.write(JSON.stringify({ Records: [{ s3: { object: { key: 'lake/in/three.txt' } } }, { s3: {} }] }) + '\n');
    });
    const keys: string[] = [];
    const errors: unknown[] = [];
    const l = listenMinio({ endpoint: url, region: 'us-east-1', bucket: 'test-bucket', prefix: 'lake/' }, (k) => keys.push(k), (e) => errors.push(e));
    const deadline = Date.now() + 5000;
    while (keys.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    l.stop();
    expect(keys).toEqual(['lake/in/one two.txt', 'lake/in/three.txt']);
    expect(errors).toEqual([]);
  });

  it('a server that answers XML instead ends the listener with an error, without crashing', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>test-bucket</Name><Contents><Key>x</Key></Contents></ListBucketResult>');
    });
    const errors: unknown[] = [];
    const keys: string[] = [];
    const l = listenMinio({ endpoint: url, region: 'us-east-1', bucket: 'test-bucket', prefix: '' }, (k) => keys.push(k), (e) => errors.push(e));
    const deadline = Date.now() + 5000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    l.stop();
    expect(errors.length).toBe(1);
    expect(keys).toEqual([]);
  });

  it('a refused connection or an error status ends it the same way', async () => {
    const url = await serve((_req, res) => res.writeHead(501, { 'Content-Type': 'application/xml' }).end('<Error><Code>NotImplemented</Code></Error>'));
    for (const endpoint of [url, 'http://127.0.0.1:1']) {
      const errors: unknown[] = [];
      const l = listenMinio({ endpoint, region: 'us-east-1', bucket: 'test-bucket', prefix: '' }, () => undefined, (e) => errors.push(e));
      const deadline = Date.now() + 5000;
      while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      l.stop();
      expect(errors.length, endpoint).toBe(1);
    }
  });
});
