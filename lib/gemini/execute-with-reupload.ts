import { isMissingFileError, type LineOutcome } from './line-outcome.ts';

/**
 * "The file is gone: upload it again, ask again", written once. A request that points at a Files API upload which
 * expired or was deleted since it was registered fails with a 403/404 that another round cannot mend; the items
 * behind those failures are sent once more with their uploads refreshed, and the second answers replace the first.
 */
export async function executeWithReupload<Item>(options: {
  items: readonly Item[];
  /** Uploads what the items need (again, for the sha256s in `refresh`), builds their lines and executes them. */
  send: (items: readonly Item[], refresh?: ReadonlySet<string>) => Promise<ReadonlyMap<string, LineOutcome>>;
  /** The key of the item's request line, once sent; undefined when it had none. */
  keyOf: (item: Item) => string | undefined;
  /** The sha256s of the uploads the item's request points at (one, or a character's references); undefined when none. */
  uploadOf: (item: Item) => string | readonly string[] | undefined;
  /** Told how many items go again, before they go (the stage says it in its own words). */
  onReupload: (count: number) => void;
}): Promise<Map<string, LineOutcome>> {
  const outcomes = new Map(await options.send(options.items));
  const gone = options.items.filter((item) => {
    const uploads = options.uploadOf(item);
    if (uploads === undefined || uploads.length === 0) return false;
    const outcome = outcomes.get(options.keyOf(item) ?? '');
    return outcome?.status === 'failed' && isMissingFileError(outcome.error);
  });
  if (gone.length === 0) return outcomes;
  options.onReupload(gone.length);
  const refresh = new Set(gone.flatMap((item) => options.uploadOf(item) ?? []));
  for (const [key, outcome] of await options.send(gone, refresh)) outcomes.set(key, outcome);
  return outcomes;
}
