import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identifyDaemonProcess, lastLines, readDaemonRecord, readPidFile } from '../../src/service/daemon-process.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => (scratch = tempDir('orch-daemon-process-')));
afterEach(() => scratch.cleanup());

describe('what the service modes read about a daemon', () => {
  it('reads a pid file and a daemon record, and treats anything else as absent', () => {
    const file = join(scratch.path, 'f');
    expect(readPidFile(file)).toBeNull();
    for (const junk of ['', 'abc', '-5', '0', '12 13', '1.5']) {
      writeFileSync(file, junk);
      expect(readPidFile(file)).toBeNull();
    }
    writeFileSync(file, '4242\n');
    expect(readPidFile(file)).toBe(4242);

    writeFileSync(file, '{"pid": 42, "url": "http://127.0.0.1:7878", "startedAt": 5}');
    expect(readDaemonRecord(file)).toEqual({ pid: 42, url: 'http://127.0.0.1:7878', startedAt: 5 });
    writeFileSync(file, '{"pid": 42, "ur');
    expect(readDaemonRecord(file)).toBeNull();
    writeFileSync(file, '{"pid": "42", "url": "x"}');
    expect(readDaemonRecord(file)).toBeNull();
  });

  it('tells a live orch serve from a process that is gone or is something else', async () => {
    expect(identifyDaemonProcess(spawnSync('true').pid!)).toBe('gone');
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    // Any program with a `serve` argument passes: the cmdline check guards against reused pids, not impostors.
    const serving = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'serve'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(identifyDaemonProcess(other.pid!)).toBe('other-process');
      expect(identifyDaemonProcess(serving.pid!)).toBe('orch-serve');
    } finally {
      other.kill('SIGKILL');
      serving.kill('SIGKILL');
    }
  });

  it('reads the last lines of a log from its end, whatever its size', () => {
    const log = join(scratch.path, 'daemon.log');
    expect(lastLines(log, 3)).toEqual([]);
    writeFileSync(log, Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n') + '\n\n');
    expect(lastLines(log, 3)).toEqual(['line 9997', 'line 9998', 'line 9999']);
    expect(lastLines(log, 100_000, 100).every((line) => /^line \d+$/.test(line))).toBe(true);
  });
});
