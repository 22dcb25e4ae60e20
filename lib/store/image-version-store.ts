import { readCheckpointDatabase, withCheckpointDatabase } from './checkpoint-store.ts';
import type { WorkspaceDatabase } from './workspace-database.ts';

/** One image of an output entry kept in the workspace's versions folder (file names there), with its sidecar. */
export interface ImageVersion {
  id: number;
  entry: string;
  sourcePath: string;
  variant: number;
  requestKey: string;
  image: string;
  sidecar: string;
  /** For people: `v2 · seed 42 · 2026-12-02 14:31`. */
  label: string;
  createdAt: string;
}

export interface ChosenVersion {
  version: number;
  requestKey: string;
  chosenAt: string;
}

interface VersionRow { id: number; entry: string; source_path: string; variant: number; request_key: string; image: string; sidecar: string; label: string; created_at: string }

function toVersion(row: VersionRow): ImageVersion {
  return { id: row.id, entry: row.entry, sourcePath: row.source_path, variant: row.variant, requestKey: row.request_key, image: row.image, sidecar: row.sidecar, label: row.label, createdAt: row.created_at };
}

/**
 * The versions of each output entry and the one the artist chose, in the workspace's checkpoints.sqlite. A version
 * is known by its entry and request key: the same request answered again is the same version, never a second one.
 */
export interface ImageVersionStore {
  /** Adds a version, or returns the one of the same entry and request key. */
  add(version: Omit<ImageVersion, 'id' | 'createdAt'>): ImageVersion;
  get(id: number): ImageVersion | undefined;
  find(entry: string, requestKey: string): ImageVersion | undefined;
  list(entry: string): ImageVersion[];
  /** The versions of an image as the gallery names it (its source and variant, whatever its shot is called now), or of all a character's images. */
  listOf(sourcePath: string, variant?: number): ImageVersion[];
  count(entry: string): number;
  choose(entry: string, version: ImageVersion): void;
  chosen(): Map<string, ChosenVersion>;
  close(): void;
}

function createStore(database: WorkspaceDatabase, now: () => number): ImageVersionStore {
  const { connection } = database;
  const statements = {
    insert: connection.prepare('INSERT OR IGNORE INTO image_versions (entry, source_path, variant, request_key, image, sidecar, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    get: connection.prepare('SELECT * FROM image_versions WHERE id = ?'),
    find: connection.prepare('SELECT * FROM image_versions WHERE entry = ? AND request_key = ?'),
    list: connection.prepare('SELECT * FROM image_versions WHERE entry = ? ORDER BY id'),
    listOf: connection.prepare('SELECT * FROM image_versions WHERE source_path = ? AND variant = ? ORDER BY id'),
    listOfCharacter: connection.prepare('SELECT * FROM image_versions WHERE source_path = ? ORDER BY variant, id'),
    count: connection.prepare('SELECT count(*) FROM image_versions WHERE entry = ?').pluck(),
    choose: connection.prepare('INSERT INTO chosen_versions (entry, version, request_key, chosen_at) VALUES (?, ?, ?, ?) ON CONFLICT (entry) DO UPDATE SET version = excluded.version, request_key = excluded.request_key, chosen_at = excluded.chosen_at'),
    chosen: connection.prepare('SELECT entry, version, request_key AS requestKey, chosen_at AS chosenAt FROM chosen_versions'),
  };
  const find = (entry: string, requestKey: string) => {
    const row = statements.find.get(entry, requestKey) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  };
  return {
    add: (version) =>
      database.transaction(() => {
        statements.insert.run(version.entry, version.sourcePath, version.variant, version.requestKey, version.image, version.sidecar, version.label, new Date(now()).toISOString());
        return find(version.entry, version.requestKey) as ImageVersion;
      }),
    get(id) {
      const row = statements.get.get(id) as VersionRow | undefined;
      return row ? toVersion(row) : undefined;
    },
    find,
    list: (entry) => (statements.list.all(entry) as VersionRow[]).map(toVersion),
    listOf: (sourcePath, variant) => ((variant === undefined ? statements.listOfCharacter.all(sourcePath) : statements.listOf.all(sourcePath, variant)) as VersionRow[]).map(toVersion),
    count: (entry) => statements.count.get(entry) as number,
    choose: (entry, version) => void database.transaction(() => statements.choose.run(entry, version.id, version.requestKey, new Date(now()).toISOString())),
    chosen: () => new Map((statements.chosen.all() as (ChosenVersion & { entry: string })[]).map(({ entry, ...chosen }) => [entry, chosen])),
    close: () => database.close(),
  };
}

/** Opens the store for writing (migrating the database), runs `work` and closes it. */
export function withImageVersionStore<T>(options: { workspaceDirectory: string; now: () => number }, work: (store: ImageVersionStore) => T): T {
  return withCheckpointDatabase(options, (database) => work(createStore(database, options.now)));
}

/** For readers (the page's GETs): the store read without a write lock; undefined without a database of this schema. */
export function readImageVersionStore<T>(workspaceDirectory: string, read: (store: ImageVersionStore) => T): T | undefined {
  return readCheckpointDatabase(workspaceDirectory, (database) => read(createStore(database, Date.now)));
}

/** For readers (a run's plan, the UI): the chosen version of each entry; none without a database of this schema. */
export function readChosenVersions(workspaceDirectory: string): Map<string, ChosenVersion> {
  return readImageVersionStore(workspaceDirectory, (store) => store.chosen()) ?? new Map();
}
