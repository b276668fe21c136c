import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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

/**
 * Line `line` (from 1) of `runs/<run>/agent.jsonl`, where an agent's output is kept whole: an event row
 * holds only the start of a long text and the line it came from. Lines are at most about 1 MB (longer
 * ones are stored cut), so reading line by line stays bounded.
 */
export async function runLogLine(orch: Orch, runId: number, line: number): Promise<string> {
  const run = await orch.store.getRun(runId);
  if (!run) throw new OrchError('not_found', `run ${runId} not found`);
  const path = run.logPath ?? join(runDirectory(orch.home, runId), 'agent.jsonl');
  if (!existsSync(path)) throw new OrchError('not_found', `run ${runId} has no agent output`);
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let seen = 0;
  try {
    for await (const text of lines) {
      if (++seen === line) return text;
    }
  } finally {
    lines.close();
  }
  throw new OrchError('not_found', `run ${runId}'s agent output has ${seen} lines, not ${line}`);
}
