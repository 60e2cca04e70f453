import { lookup } from 'mime-types';

export function guessMimeType(name: string): string {
  return lookup(name) || 'application/octet-stream';
}

/**
 * The type to keep for a file written with `declared` as its Content-Type. No type, or
 * `application/x-www-form-urlencoded` (which `curl -d`/`--data-binary` sends when told nothing,
 * and which is never the type of a stored file), means "not said": guess from the name.
 */
export function storedMimeType(declared: string | undefined, name: string): string {
  const type = declared?.trim();
  if (!type || /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return guessMimeType(name);
  return type;
}
