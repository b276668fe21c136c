// The MCP SDK is a few hundred KiB of the bundle: it must load when `orch mcp` runs and on no other
// command's path, where every start-up millisecond is paid by a person or the dispatch latency.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, orch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

// A module hook that writes down every module the process resolves, one URL a line.
const RECORD_LOADS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.ORCH_TEST_LOAD_LOG, result.url + '\\n');
  return result;
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(RECORD_LOADS)}`)});`;

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;

beforeAll(() => {
  scratch = tempDir();
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'shop');
  expect(orch(['init'], { cwd: repo, home }).code).toBe(0);
});
afterAll(() => scratch?.cleanup());

/** The files of the bundle a run of `orch <args>` loaded, and whether any of them holds the MCP SDK. */
function loadsOf(args: string[]): { files: string[]; sdk: boolean } {
  const log = join(scratch.path, `loads-${args.join('-')}.txt`);
  const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, CLI, ...args], {
    cwd: repo,
    env: { ...process.env, ORCH_HOME: home, ORCH_TEST_LOAD_LOG: log },
    input: '',
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const files = [...new Set(readFileSync(log, 'utf8').split('\n').filter((url) => url.startsWith('file:')))].map((url) => fileURLToPath(url));
  return { files, sdk: files.some((file) => file.includes('@modelcontextprotocol') || /\bMcpServer\b/.test(readFileSync(file, 'utf8'))) };
}

describe('the MCP SDK on the command paths', () => {
  it('loads with `orch mcp`', () => {
    const mcp = loadsOf(['mcp']);
    expect(mcp.files).toContain(CLI);
    expect(mcp.sdk).toBe(true);
  });

  it.each(['--help', 'task list', 'status', 'task add Write docs'])('stays out of `orch %s`', (command) => {
    const loads = loadsOf(command.split(' '));
    expect(loads.files).toContain(CLI);
    expect(loads.sdk).toBe(false);
  });
});
