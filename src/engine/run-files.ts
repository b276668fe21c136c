import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrchError } from '../core/errors.js';
import { runDirectory } from './attempt.js';
import type { Orch } from './context.js';

/** `runs/<run>/verdict.md`, the judge's account of a run's branch; null when the run was never judged. */
export async function runVerdict(orch: Orch, runId: number): Promise<string | null> {
  const run = await orch.store.getRun(runId);
  if (!run) throw new OrchError('not_found', `run ${runId} not found`);
  const path = join(runDirectory(orch.home, runId), 'verdict.md');
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}
