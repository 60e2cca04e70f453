/** Accepts `"abc"`, `W/"abc"` or `abc`: the JSON carries the bare value, the header a quoted one. */
export function bareEtag(value: string): string {
  let v = value.trim();
  if (v.startsWith('W/')) v = v.slice(2);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  return v;
}

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}
