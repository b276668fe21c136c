import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const CONTENDERS = 10;
const FILES = 50;

const workerPath = fileURLToPath(new URL('./fixtures/claim-race-worker.mjs', import.meta.url));
const compiledTracker = fileURLToPath(new URL('../../dist/trackers/markdown-queue.js', import.meta.url));

interface Report {
  pid: number;
  won: string[];
  refused: number;
}

function startContender(args: string[]): ChildProcess {
  const child = fork(workerPath, args, {
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    // A plain node process running the compiled tracker, not one inheriting vitest's flags.
    execArgv: [],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', (code, signal) => {
    if (code !== 0) child.emit('failed', new Error(`contender exited (${signal ?? code}):\n${stderr}`));
  });
  return child;
}

/** The next message of `type` from a contender, or its failure if it dies first. */
function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.on('message', (message: { type: string }) => {
      if (message.type === type) resolve(message as T);
    });
    child.once('failed', reject);
  });
}

describe('queue claims raced by several processes', () => {
  let repo: string;
  const contenders: ChildProcess[] = [];

  beforeEach(() => {
    if (!existsSync(compiledTracker)) {
      throw new Error(`${compiledTracker} is missing: run \`npm run build\` before this test`);
    }
    repo = mkdtempSync(join(tmpdir(), 'orch-queue-race-'));
  });
  afterEach(() => {
    for (const child of contenders.splice(0)) if (child.exitCode === null) child.kill();
    rmSync(repo, { recursive: true, force: true });
  });

  it('gives every file to exactly one process and loses none', async () => {
    const incoming = join(repo, 'queue', 'incoming');
    mkdirSync(incoming, { recursive: true });
    const names = Array.from({ length: FILES }, (_, i) => `${String(i).padStart(4, '0')}-task.md`);
    const content = (name: string) => `# [TASK-${name.slice(0, 4)}] Task ${name}\n\nPRIORITY: P1\n\n## Context\nFor ${name}.\n`;
    for (const name of names) writeFileSync(join(incoming, name), content(name));

    for (let i = 0; i < CONTENDERS; i++) contenders.push(startContender([repo, 'queue', names.join(',')]));
    await Promise.all(contenders.map((child) => nextMessage(child, 'ready')));
    const finished = contenders.map((child) => nextMessage<Report>(child, 'done'));
    for (const child of contenders) child.send('go');
    const reports = await Promise.all(finished);

    expect(new Set(reports.map((report) => report.pid)).size).toBe(CONTENDERS);
    const won = reports.flatMap((report) => report.won);
    // Exactly one winner per file: no file twice, none missing.
    expect(won).toHaveLength(FILES);
    expect([...won].sort()).toEqual(names);
    expect(reports.reduce((sum, report) => sum + report.refused, 0)).toBe(FILES * (CONTENDERS - 1));
    // Contention really happened across processes, or the test proves nothing.
    expect(reports.filter((report) => report.won.length > 0).length).toBeGreaterThan(1);

    // On disk: every file in claimed/, intact; nothing left behind or duplicated.
    expect(readdirSync(incoming)).toEqual([]);
    const claimed = join(repo, 'queue', 'claimed');
    expect(readdirSync(claimed).sort()).toEqual(names);
    for (const name of names) expect(readFileSync(join(claimed, name), 'utf8')).toBe(content(name));
  });
});
