import { BatonClientError } from './errors.js';

/** Follow `cursor` from page to page until it is null, yielding each page's items. */
export async function* paginate<P extends { cursor: string | null }, T>(
  fetchPage: (cursor: string | undefined) => Promise<P>,
  items: (page: P) => readonly T[],
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* items(page);
    if (page.cursor !== null && page.cursor === cursor) throw new BatonClientError('internal', 'the server returned the same cursor twice');
    cursor = page.cursor ?? undefined;
  } while (cursor !== undefined);
}
