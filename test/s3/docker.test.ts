import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { toDefinition } from '../../src/workspaces/definition.js';
import { REPO } from '../helpers/baton.js';

/*
 * What can be checked of the container setup without a Docker daemon: the compose file parses
 * with the expected services wired together, and the Dockerfile's steps use files and npm
 * scripts that exist.
 */
const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as any;
const dockerfile = readFileSync(join(REPO, 'docker', 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));

describe('docker-compose.yml', () => {
  const services = compose.services as Record<string, any>;

  it('has Redis (append-only), MinIO with its bucket, two Baton replicas and one load balancer', () => {
    expect(Object.keys(services).sort()).toEqual(['baton-1', 'baton-2', 'lb', 'minio', 'minio-init', 'redis']);
    expect(services.redis.command.join(' ')).toMatch(/--appendonly yes/);
    expect(services.minio.command).toContain('server');
    expect(services['minio-init'].command.join(' ')).toMatch(/mc mb --ignore-existing local\/agents/);
  });

  it('runs both replicas from the Dockerfile on the same Redis, bucket credentials, workspaces and data volume', () => {
    for (const name of ['baton-1', 'baton-2']) {
      const s = services[name];
      expect(s.build.dockerfile).toBe('docker/Dockerfile');
      expect(existsSync(join(REPO, s.build.context, s.build.dockerfile))).toBe(true);
      expect(s.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(s.environment.AWS_ACCESS_KEY_ID).toBeTruthy();
      expect(s.environment.AWS_SECRET_ACCESS_KEY).toBeTruthy();
      expect(s.environment.BATON_ADMIN_TOKEN).toMatch(/^\$\{BATON_ADMIN_TOKEN:\?/);
      expect(s.volumes).toEqual(['./docker/workspaces:/workspaces:ro', 'baton-data:/data']);
      expect(s.ports).toBeUndefined(); // reached only through the load balancer
      expect(s.depends_on['minio-init'].condition).toBe('service_completed_successfully');
      expect(s.depends_on.redis.condition).toBe('service_healthy');
    }
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['redis-data', 'minio-data', 'baton-data']));
  });

  it('publishes one port, in front of both replicas', () => {
    const published = Object.entries(services).filter(([, s]) => (s.ports ?? []).some((p: string) => p.endsWith(':8787')));
    expect(published.map(([n]) => n)).toEqual(['lb']);
    const mount = services.lb.volumes[0] as string;
    const conf = readFileSync(join(REPO, mount.split(':')[0]!), 'utf8');
    expect(conf).toMatch(/server baton-1:8787/);
    expect(conf).toMatch(/server baton-2:8787/);
    expect(conf).toMatch(/proxy_buffering off/); // SSE and long polls pass through
    expect(conf).toMatch(/proxy_request_buffering off/); // uploads stream
  });

  it('its workspace definitions are valid S3 workspaces on the compose MinIO bucket', () => {
    const dir = join(REPO, 'docker', 'workspaces');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const def = toDefinition(parse(readFileSync(join(dir, f), 'utf8')), f.replace(/\.yaml$/, ''), '/data', null);
      expect(def.storage.driver).toBe('s3');
      if (def.storage.driver !== 's3') continue;
      expect(def.storage.endpoint).toBe('http://minio:9000');
      expect(def.storage.forcePathStyle).toBe(true);
      expect(services['minio-init'].command.join(' ')).toContain(`local/${def.storage.bucket}`);
    }
  });
});

describe('docker/Dockerfile', () => {
  const steps = dockerfile.split('\n').filter((l) => /^(FROM|RUN|COPY|CMD|ENV|WORKDIR)\b/.test(l));

  it('builds with npm install (npm ci refuses the lock on other platforms) and npm run build, scripts that exist', () => {
    expect(steps.some((l) => /^RUN npm ci\b/.test(l))).toBe(false);
    expect(steps.some((l) => /^RUN npm install --ignore-scripts\b/.test(l))).toBe(true);
    expect(steps.some((l) => /^RUN npm run build\b/.test(l))).toBe(true);
    expect(pkg.scripts.build).toBeTruthy();
    expect(existsSync(join(REPO, 'package-lock.json'))).toBe(true);
  });

  it('copies only files that exist, and runs bin/baton.js serve on all interfaces', () => {
    for (const l of steps.filter((x) => x.startsWith('COPY') && !x.includes('--from'))) {
      const parts = l.split(/\s+/).slice(1, -1);
      for (const src of parts) expect(existsSync(join(REPO, src)), l).toBe(true);
    }
    expect(dockerfile).toMatch(/CMD \["node", "bin\/baton.js", "serve"\]/);
    expect(existsSync(join(REPO, 'bin', 'baton.js'))).toBe(true);
    expect(dockerfile).toMatch(/BATON_HOST=0\.0\.0\.0/);
    // the S3 driver's packages are runtime dependencies, so `npm prune --omit=dev` keeps them
    for (const dep of ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', 'minio']) expect(pkg.dependencies[dep], dep).toBeTruthy();
  });
});
