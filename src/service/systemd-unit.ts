import { isAbsolute, join } from 'node:path';
import { OrchError } from '../core/errors.js';

// The systemd user unit that runs `orch serve`, rendered as text (pure: no I/O). Every value that comes
// from this machine (node's path, Orch's path, ORCH_HOME) is quoted for systemd's own parser, which
// splits on whitespace, honours C escapes inside quotes, expands `%` specifiers everywhere and `$`
// variables in arguments; nothing here goes through a shell.

export const UNIT_NAME = 'orch.service';

/** Words made only of these need no quotes (specifier and variable escaping still applies). */
const PLAIN_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

/** Backslash escapes for a double-quoted word: systemd unescapes C-style sequences inside quotes. */
function escapeForDoubleQuotes(value: string): string {
  let escaped = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '\\' || char === '"') escaped += `\\${char}`;
    else if (char === '\n') escaped += '\\n';
    else if (char === '\t') escaped += '\\t';
    else if (code < 0x20 || code === 0x7f) escaped += `\\x${code.toString(16).padStart(2, '0')}`;
    else escaped += char;
  }
  return escaped;
}

const escapeSpecifiers = (value: string) => value.replaceAll('%', '%%');
const quoteIfNeeded = (original: string, escaped: string) => (PLAIN_WORD.test(original) ? escaped : `"${escapeForDoubleQuotes(escaped)}"`);

/** One argument of an Exec line, arriving in the program's argv exactly as given. */
export function quoteExecArgument(value: string): string {
  return quoteIfNeeded(value, escapeSpecifiers(value).replaceAll('$', () => '$$'));
}

/**
 * The program of an Exec line. systemd expands no variables in it, but refuses quotes, backslashes
 * and control characters there whatever the quoting, so such a path cannot be used at all.
 */
export function quoteExecPath(path: string): string {
  if (!isAbsolute(path)) throw new OrchError('invalid_input', `a systemd unit needs an absolute program path, not "${path}"`);
  // eslint-disable-next-line no-control-regex
  if (/["'\\\x00-\x1f\x7f]/.test(path)) {
    throw new OrchError('invalid_input', `systemd cannot run a program whose path holds a quote, backslash or control character: ${JSON.stringify(path)}`);
  }
  return quoteIfNeeded(path, escapeSpecifiers(path));
}

/** An `Environment=` assignment; its value is taken literally (systemd expands no `$` there). */
export function quoteEnvironmentAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new OrchError('invalid_input', `"${name}" is not an environment variable name`);
  const assignment = `${name}=${value}`;
  return quoteIfNeeded(assignment, escapeSpecifiers(assignment));
}

export interface UnitSpec {
  /** Absolute argv that runs Orch's CLI; `serve` is appended. */
  orchCommand: readonly [string, ...string[]];
  home: string;
  port?: number;
  graceSeconds: number;
  /** Exit codes of `orch serve` a restart would not cure (bad usage, conflict, broken config). */
  permanentExitCodes: readonly number[];
}

/** The `ExecStart=` and `Environment=` lines: what identifies this installation. */
export function renderServiceCommand(spec: UnitSpec): string[] {
  const [program, ...args] = spec.orchCommand;
  const serveArgs = ['serve', ...(spec.port === undefined ? [] : ['--port', String(spec.port)])];
  return [
    `ExecStart=${[quoteExecPath(program), ...[...args, ...serveArgs].map(quoteExecArgument)].join(' ')}`,
    `Environment=${quoteEnvironmentAssignment('ORCH_HOME', spec.home)}`,
  ];
}

export function renderUnit(spec: UnitSpec): string {
  return [
    '# Written by `orch service install`: run it again (with --force) rather than editing this file.',
    '[Unit]',
    'Description=Orch daemon: runs AI coding agents on the backlog',
    '',
    '[Service]',
    'Type=simple',
    ...renderServiceCommand(spec),
    // SIGTERM to the daemon alone: it lets running agents finish within its grace period, which a
    // SIGTERM to every process of the unit at once would cut short. What is left gets SIGKILL at the
    // timeout, which leaves the daemon time to exit on its own first.
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${spec.graceSeconds + 15}`,
    'Restart=on-failure',
    'RestartSec=5',
    ...(spec.permanentExitCodes.length > 0 ? [`RestartPreventExitStatus=${spec.permanentExitCodes.join(' ')}`] : []),
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

/** `$XDG_CONFIG_HOME/systemd/user/orch.service`; XDG says a relative XDG_CONFIG_HOME is to be ignored. */
export function unitPath(env: NodeJS.ProcessEnv, userHome: string): string {
  const configured = env.XDG_CONFIG_HOME;
  const configHome = configured && isAbsolute(configured) ? configured : join(userHome, '.config');
  return join(configHome, 'systemd', 'user', UNIT_NAME);
}
