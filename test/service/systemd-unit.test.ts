import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import { quoteEnvironmentAssignment, quoteExecArgument, quoteExecPath, renderUnit, unitPath, type UnitSpec } from '../../src/service/systemd-unit.js';
import { tempDir } from '../helpers/git.js';

/**
 * systemd's reading of a unit file line, as systemd.service(5) and systemd.syntax(7) describe it: words
 * split on unquoted whitespace, quotes removed, C escapes resolved, then `%%` → `%` and (in Exec
 * arguments) `$$` → `$`. Any other `%` or `$` would be expanded by systemd, so it fails here.
 */
function systemdWords(line: string, expandsVariables: boolean): string[] {
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    let word = '';
    const quote = line[i] === '"' || line[i] === "'" ? line[i++] : null;
    while (i < line.length && (quote ? line[i] !== quote : line[i] !== ' ' && line[i] !== '\t')) {
      if (line[i] === '\\') {
        const next = line[i + 1]!;
        if (next === 'x') {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
        } else {
          if (!(next in escapes)) throw new Error(`unknown escape \\${next}`);
          word += escapes[next];
          i += 2;
        }
      } else {
        word += line[i++];
      }
    }
    if (quote) {
      if (line[i] !== quote) throw new Error('unterminated quote');
      i++;
    }
    word = word.replace(/%(.?)/g, (_, c: string) => {
      if (c !== '%') throw new Error(`specifier %${c} would be expanded`);
      return '%';
    });
    if (expandsVariables) {
      word = word.replace(/\$(.?)/g, (_, c: string) => {
        if (c !== '$') throw new Error(`variable $${c}… would be expanded`);
        return '$';
      });
    }
    words.push(word);
  }
  return words;
}

describe('quoting for systemd unit files', () => {
  it('leaves plain words alone and quotes the rest', () => {
    expect(quoteExecArgument('serve')).toBe('serve');
    expect(quoteExecArgument('--port')).toBe('--port');
    expect(quoteExecArgument('/usr/lib/node_modules/orch/dist/cli/main.js')).toBe('/usr/lib/node_modules/orch/dist/cli/main.js');
    expect(quoteExecArgument('/home/ann/my code/main.js')).toBe('"/home/ann/my code/main.js"');
    expect(quoteExecArgument('')).toBe('""');
    expect(quoteExecArgument(';')).toBe('";"');
    expect(quoteExecArgument("it's")).toBe('"it\'s"');
    expect(quoteExecArgument('ünï')).toBe('"ünï"');
  });

  it('escapes specifiers, variables, quotes, backslashes and control characters', () => {
    expect(quoteExecArgument('100%')).toBe('"100%%"');
    expect(quoteExecArgument('$HOME/${USER}')).toBe('"$$HOME/$${USER}"');
    expect(quoteExecArgument('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteExecArgument('C:\\dir')).toBe('"C:\\\\dir"');
    expect(quoteExecArgument('a\nb\tc\x01d\x7f')).toBe('"a\\nb\\tc\\x01d\\x7f"');
  });

  it('reads back as the same single argument, whatever the text', () => {
    // Characters systemd treats specially, often enough to meet each other, among any others.
    const special = fc.constantFrom('$', '%', '"', "'", '\\', ' ', '\t', '\n', '\x01', '\x7f', '{', '}', ';', 'x', 'ü');
    const text = fc.string({ unit: fc.oneof(special, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) });
    fc.assert(
      fc.property(text, (value) => {
        expect(systemdWords(quoteExecArgument(value), true)).toEqual([value]);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(text, (value) => {
        expect(systemdWords(quoteEnvironmentAssignment('ORCH_HOME', value), false)).toEqual([`ORCH_HOME=${value}`]);
      }),
      { numRuns: 500 },
    );
  });

  it('quotes a program path without touching `$`, which systemd does not expand there', () => {
    expect(quoteExecPath('/usr/bin/node')).toBe('/usr/bin/node');
    expect(quoteExecPath('/opt/my node/bin/node')).toBe('"/opt/my node/bin/node"');
    expect(quoteExecPath('/opt/a$b%c/node')).toBe('"/opt/a$b%%c/node"');
  });

  it('refuses a program path systemd would not run', () => {
    expect(() => quoteExecPath('bin/node')).toThrow(/absolute/);
    for (const path of ['/opt/"x"/node', "/opt/it's/node", '/opt/back\\slash/node', '/opt/new\nline/node']) {
      expect(() => quoteExecPath(path)).toThrow(OrchError);
      expect(() => quoteExecPath(path)).toThrow(/quote, backslash or control character/);
    }
  });

  it('keeps an environment value literal and refuses a bad variable name', () => {
    expect(quoteEnvironmentAssignment('ORCH_HOME', '/home/ann/.orch')).toBe('ORCH_HOME=/home/ann/.orch');
    expect(quoteEnvironmentAssignment('ORCH_HOME', '/home/ann/orch home')).toBe('"ORCH_HOME=/home/ann/orch home"');
    expect(quoteEnvironmentAssignment('ORCH_HOME', '/srv/$x/50%')).toBe('"ORCH_HOME=/srv/$x/50%%"');
    expect(() => quoteEnvironmentAssignment('ORCH HOME', '/x')).toThrow(/not an environment variable name/);
  });
});

describe('the orch.service unit', () => {
  const spec: UnitSpec = {
    orchCommand: ['/opt/node 20/bin/node', '/home/ann/my tools/orch/dist/cli/main.js'],
    home: '/home/ann/orch home',
    graceSeconds: 30,
    permanentExitCodes: [2, 4, 5],
  };
  const line = (unit: string, key: string) => unit.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);

  it('runs this node and this CLI with `serve`, for this ORCH_HOME', () => {
    const unit = renderUnit(spec);
    expect(systemdWords(line(unit, 'ExecStart')!, true)).toEqual(['/opt/node 20/bin/node', '/home/ann/my tools/orch/dist/cli/main.js', 'serve']);
    expect(systemdWords(line(unit, 'Environment')!, false)).toEqual(['ORCH_HOME=/home/ann/orch home']);
    expect(systemdWords(line(renderUnit({ ...spec, port: 7999 }), 'ExecStart')!, true).slice(2)).toEqual(['serve', '--port', '7999']);
  });

  it('stops with SIGTERM to the daemon alone, waits longer than the grace period and restarts only after a failure', () => {
    const unit = renderUnit(spec);
    expect(line(unit, 'KillSignal')).toBe('SIGTERM');
    expect(line(unit, 'KillMode')).toBe('mixed');
    expect(Number(line(unit, 'TimeoutStopSec'))).toBeGreaterThan(spec.graceSeconds);
    expect(line(unit, 'Restart')).toBe('on-failure');
    expect(line(unit, 'RestartPreventExitStatus')).toBe('2 4 5');
    expect(line(unit, 'WantedBy')).toBe('default.target');
    expect(unit.split('\n').filter((l) => /^\[\w+\]$/.test(l))).toEqual(['[Unit]', '[Service]', '[Install]']);
  });

  it('lives under XDG_CONFIG_HOME when that is an absolute path, else under ~/.config', () => {
    expect(unitPath({ XDG_CONFIG_HOME: '/home/ann/.cfg' }, '/home/ann')).toBe('/home/ann/.cfg/systemd/user/orch.service');
    expect(unitPath({ XDG_CONFIG_HOME: 'relative/cfg' }, '/home/ann')).toBe('/home/ann/.config/systemd/user/orch.service');
    expect(unitPath({}, '/home/ann')).toBe('/home/ann/.config/systemd/user/orch.service');
  });

  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
  const haveSystemdAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

  it.runIf(haveSystemdAnalyze)('is accepted by systemd itself, program path with odd characters included', () => {
    const scratch = tempDir('orch-unit-');
    cleanups.push(scratch.cleanup);
    const oddDir = join(scratch.path, 'odd dir %$ ü;x');
    mkdirSync(oddDir);
    symlinkSync(process.execPath, join(oddDir, 'node'));
    const unitFile = join(scratch.path, 'orch.service');
    writeFileSync(unitFile, renderUnit({ ...spec, orchCommand: [join(oddDir, 'node'), join(oddDir, 'main "q" \\ $HOME %h.js')], home: '/srv/orch "home" %i $X', port: 7000 }));
    const verified = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
    expect(verified.stderr).not.toContain('orch.service');
    expect(verified.status).toBe(0);
  });
});
