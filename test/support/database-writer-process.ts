// A child process for the database's SIGKILL test: it writes pairs of rows, each pair in one transaction, as fast
// as it can, and says on stdout how many pairs are committed, until it is killed.
import { writeSync } from 'node:fs';
import { openWorkspaceDatabase } from '../../lib/store/workspace-database.ts';

const database = openWorkspaceDatabase({ path: process.argv[2] ?? '', now: Date.now });
const insert = database.connection.prepare("INSERT INTO outcomes (stage, key, status, outcome) VALUES ('test', ?, 'succeeded', ?)");
// A large value, so that a kill often lands inside a write of several pages.
const filler = 'x'.repeat(20_000);
// Numbered on from what earlier (killed) writers left.
const first = Number(database.connection.prepare("SELECT count(*) FROM outcomes WHERE stage = 'test'").pluck().get()) / 2;
for (let pair = first; ; pair += 1) {
  database.transaction(() => {
    insert.run(`${pair}-a`, JSON.stringify({ pair, filler }));
    insert.run(`${pair}-b`, JSON.stringify({ pair, filler }));
  });
  writeSync(1, `${pair + 1 - first}\n`);
}
