// The floor bench/concurrency.mjs measures the daemon against: a minimal Node process doing the least
// the daemon must do with the same agents — spawn them, read their stdout a line at a time, parse each
// JSON line and store it in SQLite (WAL, synchronous NORMAL, as Orch opens it) in one transaction
// every 10 ms. No supervision, no SSE, no git. Started by bench/concurrency.mjs with
//   node bench/concurrency-baseline.mjs <agent script> <agents> <dir>
// it prints one JSON line: its CPU (user + system, % of one core) while every agent ran, and events stored.
/* global setTimeout, clearTimeout */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

const [script, agentsArg, dir] = process.argv.slice(2);
const agents = Number(agentsArg);
mkdirSync(dir, { recursive: true });
const db = new Database(join(dir, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('create table events (id integer primary key, at integer not null, type text not null, run_id integer, data text not null)');
const insert = db.prepare('insert into events (at, type, run_id, data) values (?, ?, ?, ?)');
const insertAll = db.transaction((rows) => {
  for (const row of rows) insert.run(row.at, row.type, row.run, row.data);
});

let queue = [];
let timer = null;
let stored = 0;
const flush = () => {
  timer = null;
  const rows = queue;
  queue = [];
  insertAll(rows);
  stored += rows.length;
};

const log = join(dir, 'emitted.txt');
writeFileSync(log, '');
let running = 0;
let window = null; // CPU and time when the last agent started
let result = null;
let exited = 0;
for (let i = 1; i <= agents; i++) {
  const child = spawn(process.execPath, [script, log], { cwd: dir, env: { ...process.env, ORCH_TASK_ID: String(i) }, stdio: ['ignore', 'pipe', 'ignore'] });
  child.once('spawn', () => {
    if (++running === agents) window = { at: Date.now(), cpu: process.cpuUsage() };
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let event;
    try {
      event = JSON.parse(line);
    } catch {
      return; // the result block's fences
    }
    queue.push({ at: Date.now(), type: `agent.${event.type}`, run: i, data: JSON.stringify(event) });
    timer ??= setTimeout(flush, 10);
  });
  child.once('exit', () => {
    // The window closes as the first agent ends: from then on fewer than all are running.
    if (!result && window) {
      const cpu = process.cpuUsage(window.cpu);
      const ms = Date.now() - window.at;
      result = { allRunningMs: ms, cpuAllRunningPct: (100 * (cpu.user + cpu.system)) / 1000 / ms };
    }
  });
  // Done once every agent's output has been read to its end.
  lines.once('close', () => {
    if (++exited < agents) return;
    clearTimeout(timer);
    flush();
    db.close();
    process.stdout.write(JSON.stringify({ ...result, stored }) + '\n');
  });
}
