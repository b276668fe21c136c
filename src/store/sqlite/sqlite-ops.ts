import type { Kysely } from 'kysely';
import type { StoreOps } from '../store.js';
import { approvalOps } from './approval-ops.js';
import { claimOps } from './claim-ops.js';
import { cooldownOps } from './cooldown-ops.js';
import { eventOps } from './event-ops.js';
import { hostOps } from './host-ops.js';
import { jobOps } from './job-ops.js';
import { metricOps } from './metric-ops.js';
import { projectOps } from './project-ops.js';
import type { Database } from './schema.js';
import { runOps } from './run-ops.js';
import { taskOps } from './task-ops.js';
import { taskPageOps } from './task-page-ops.js';
import { webhookOps } from './webhook-ops.js';
import { workerOps } from './worker-ops.js';

/** One file's operations, made for the executor given. */
type OpsGroup = (db: Kysely<Database>) => Partial<StoreOps>;

const GROUPS: readonly OpsGroup[] = [
  projectOps,
  taskOps,
  taskPageOps,
  claimOps,
  runOps,
  eventOps,
  jobOps,
  cooldownOps,
  webhookOps,
  workerOps,
  hostOps,
  metricOps,
  approvalOps,
];

// Every write transaction gets the operations bound to its connection. Making all of them (some 150
// closures, spread into one object) took longer than a batch of agent events' INSERT and COMMIT:
// each transaction now gets an object whose operations are made, a file's worth at a time, on first use.
const EXECUTOR = Symbol('executor');
const MADE = Symbol('made');

interface LazyOps {
  [EXECUTOR]: Kysely<Database>;
  [MADE]: Map<OpsGroup, Partial<StoreOps>>;
}

/** The shared prototype: a getter per operation, which makes its group for the object's executor. */
let prototype: object | null = null;

function opsPrototype(db: Kysely<Database>): object {
  if (prototype) return prototype;
  const made: object = {};
  for (const group of GROUPS) {
    for (const name of Object.keys(group(db)) as (keyof StoreOps)[]) {
      Object.defineProperty(made, name, {
        enumerable: true,
        get(this: LazyOps) {
          let ops = this[MADE].get(group);
          if (!ops) {
            ops = group(this[EXECUTOR]);
            this[MADE].set(group, ops);
          }
          return ops[name];
        },
      });
    }
  }
  prototype = made;
  return made;
}

/**
 * The store operations, run on whatever executor they are given: SqliteStore passes a connection
 * inside a write transaction for mutations. No operation opens a transaction of its own, and each
 * validates before it writes, so a refused call leaves nothing behind even inside a caller's
 * transaction that catches the error.
 *
 * Its operations are read through getters: to replace some, derive an object from it
 * (`Object.create(ops, …)`) rather than spreading it, which would make them all.
 */
export function sqliteOps(db: Kysely<Database>): StoreOps {
  const ops = Object.create(opsPrototype(db)) as LazyOps;
  ops[EXECUTOR] = db;
  ops[MADE] = new Map();
  return ops as unknown as StoreOps;
}
