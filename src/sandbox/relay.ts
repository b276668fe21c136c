// Runs inside a `model-only` sandbox, before the agent, with the node that runs Orch:
//
//   node relay.js --socket PATH --proxy-port PORT [--relay PORT=HOST]... -- COMMAND [ARG]...
//
// The sandbox's network namespace is empty; the only way out is the proxy's Unix socket PATH, bound in.
// The relay listens on 127.0.0.1 at the proxy port (HTTPS_PROXY / HTTP_PROXY point there: bytes go to
// the proxy as they are) and at each relayed model port (so `http://127.0.0.1:PORT` base URLs work
// unchanged: each connection becomes a CONNECT HOST:PORT through the proxy). Then it runs COMMAND and
// exits as it does. It imports nothing but Node's own modules: it runs from the build as it is.

import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';

interface Relay {
  port: number;
  host: string;
}

function fail(message: string): never {
  process.stderr.write(`orch sandbox relay: ${message}\n`);
  process.exit(125);
}

function parseArguments(argv: string[]): { socketPath: string; proxyPort: number; relays: Relay[]; command: string[] } {
  let socketPath: string | null = null;
  let proxyPort: number | null = null;
  const relays: Relay[] = [];
  let index = 0;
  for (; index < argv.length && argv[index] !== '--'; index++) {
    const option = argv[index];
    const value = argv[++index] ?? '';
    if (option === '--socket') socketPath = value;
    else if (option === '--proxy-port') proxyPort = Number(value);
    else if (option === '--relay') {
      const match = /^(\d+)=(.+)$/.exec(value);
      if (!match) fail(`--relay expects PORT=HOST, got ${JSON.stringify(value)}`);
      relays.push({ port: Number(match[1]), host: match[2]! });
    } else fail(`unknown option ${JSON.stringify(option)}`);
  }
  const command = argv.slice(index + 1);
  if (socketPath === null || proxyPort === null || !Number.isInteger(proxyPort)) fail('--socket and --proxy-port are required');
  if (command.length === 0) fail('no command given after --');
  return { socketPath, proxyPort, relays, command };
}

/** Pipes both ways and closes each side with the other. */
function join(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
}

/** One connection to a relayed port: a CONNECT through the proxy, then the agent's bytes as they are. */
function relayConnection(inside: Socket, socketPath: string, target: string): void {
  inside.pause();
  const outside = connect(socketPath);
  let answer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    answer = Buffer.concat([answer, chunk]);
    const end = answer.indexOf('\r\n\r\n');
    if (end < 0) return;
    outside.off('data', onData);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.subarray(0, end).toString('latin1'))?.[1];
    if (status !== '200') {
      // The proxy said why (a denial, an unreachable model API): the agent sees a closed connection,
      // the run's log the reason.
      process.stderr.write(`orch sandbox relay: ${answer.subarray(end + 4).toString('utf8').trim() || `the proxy refused ${target}`}\n`);
      inside.destroy();
      outside.destroy();
      return;
    }
    const rest = answer.subarray(end + 4);
    if (rest.length > 0) inside.write(rest);
    join(inside, outside);
    inside.resume();
  };
  outside.on('data', onData);
  outside.once('connect', () => outside.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\nX-Orch-Relay: 1\r\n\r\n`));
  outside.on('error', () => inside.destroy());
  inside.on('error', () => outside.destroy());
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** bwrap brings `lo` up in a new network namespace; another launcher may not have. */
async function listenBringingLoopbackUp(server: Server, port: number): Promise<void> {
  try {
    await listen(server, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw error;
    spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'ignore' });
    await listen(server, port);
  }
}

const { socketPath, proxyPort, relays, command } = parseArguments(process.argv.slice(2));
const servers: Server[] = [
  createServer((inside) => {
    const outside = connect(socketPath);
    join(inside, outside);
  }),
];
for (const relay of relays) {
  const target = `${relay.host.includes(':') ? `[${relay.host}]` : relay.host}:${relay.port}`;
  servers.push(createServer((inside) => relayConnection(inside, socketPath, target)));
}
try {
  await listenBringingLoopbackUp(servers[0]!, proxyPort);
  for (const [index, relay] of relays.entries()) await listenBringingLoopbackUp(servers[index + 1]!, relay.port);
} catch (error) {
  fail(`cannot listen on 127.0.0.1: ${(error as Error).message}`);
}
// The listeners must not keep this process alive once the command is done.
for (const server of servers) server.unref();

const [file, ...args] = command;
const child = spawn(file!, args, { stdio: 'inherit' });
// Whoever signals this process (rather than its whole group) means the command.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
child.on('error', (error) => fail(`cannot run ${file}: ${error.message}`));
child.on('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // As the namespace's first process a signal's default action does not apply: say it the shell's way.
  setImmediate(() => process.exit(128 + (constants.signals[signal] ?? 0)));
});
