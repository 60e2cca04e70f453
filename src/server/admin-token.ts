import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { readText, writeTextAtomic } from '../storage/local/host-files.js';

/**
 * BATON_ADMIN_TOKEN if set; else the token stored in the data directory; else a new one,
 * stored (mode 0600) and returned with `generated` so the caller prints it once.
 */
export async function resolveAdminToken(configured: string | null, systemDir: string): Promise<{ token: string; generated: boolean; file: string }> {
  const file = join(systemDir, 'admin-token');
  if (configured) return { token: configured, generated: false, file };
  const stored = (await readText(file))?.trim();
  if (stored) return { token: stored, generated: false, file };
  const token = `bat_admin_${randomBytes(24).toString('base64url')}`;
  await writeTextAtomic(file, token + '\n', 0o600);
  return { token, generated: true, file };
}
