import { describe, expect, it } from 'vitest';
import { buildProgram, registrarsFor } from '../../src/cli/program.js';

const topLevel = async (argv: string[]) => buildProgram(await registrarsFor(argv)).commands.map((c) => c.name());

describe('loading only the commands an invocation uses', () => {
  it('registers every command for help, no command and a typo, in help order', async () => {
    const all = await topLevel([]);
    expect(all).toEqual(expect.arrayContaining(['task', 'run', 'stream', 'serve', 'service', 'agent', 'agents', 'job', 'project', 'dashboard', 'version']));
    expect(await topLevel(['help'])).toEqual(all);
    expect(await topLevel(['tsak', 'add'])).toEqual(all);
    expect(all.indexOf('demo')).toBeLessThan(all.indexOf('task'));
  });

  it('registers only the group of the first word, options before it ignored', async () => {
    expect(await topLevel(['task', 'add', 'x'])).toEqual(['task', 'run', 'stream']);
    expect(await topLevel(['--json', 'run', '3'])).toEqual(['task', 'run', 'stream']);
    expect(await topLevel(['agent', 'claim', '4'])).toEqual(['agents', 'agent']);
    expect(await topLevel(['serve'])).toEqual(['serve']);
    expect(await topLevel(['mcp'])).toEqual(['mcp']);
  });

  it('needs no command module for --version', async () => {
    expect(await registrarsFor(['--version'])).toEqual([]);
    expect(await registrarsFor(['-V'])).toEqual([]);
  });
});
