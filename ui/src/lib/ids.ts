/**
 * The short form of a long hex id, for people: the first eight and last four characters, as
 * in `3f9a1c07…b2e4`. Ids of twelve characters or fewer are shown whole.
 */
export function shortId(id: string): string {
  return id.length <= 12 ? id : `${id.slice(0, 8)}…${id.slice(-4)}`;
}
