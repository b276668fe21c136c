// Runs inside a fresh network namespace (started by `unshare --net`, see loopback-only.ts), where the only
// interface is loopback: nothing in here can reach another machine, whatever language it is written in.
//
//   node loopback-namespace.mjs [--forward PORT=SOCKET]... -- COMMAND [ARG]...
//   node loopback-namespace.mjs --probe
//
// It brings `lo` up, makes each forwarded 127.0.0.1:PORT inside lead to the Unix socket SOCKET (which a bridge
// outside connects to the same port on the host's loopback: filesystem sockets cross network namespaces), then
// runs COMMAND and exits as it does.

import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';

const LOOPBACK_UP_WITH_PYTHON = `
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
flags = struct.unpack('16sH', fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack('16sH', b'lo', 0))[:18])[1]
fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack('16sH', b'lo', flags | IFF_UP))
`;

function fail(message) {
  process.stderr.write(`loopback-namespace: ${message}\n`);
  process.exit(125);
}

/** A new network namespace starts with `lo` down; iproute2 is usual, python3 is the fallback. */
function bringLoopbackUp() {
  const ip = spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: 'pipe' });
  if (ip.status === 0) return;
  const python = spawnSync('python3', ['-c', LOOPBACK_UP_WITH_PYTHON], { stdio: 'pipe' });
  if (python.status === 0) return;
  fail(`cannot bring lo up (ip: ${ip.error?.message ?? ip.stderr}; python3: ${python.error?.message ?? python.stderr})`);
}

function parseArguments(argv) {
  const forwards = [];
  let index = 0;
  for (; index < argv.length && argv[index] !== '--'; index++) {
    if (argv[index] === '--probe') return { probe: true, forwards, command: [] };
    if (argv[index] !== '--forward') fail(`unknown option ${argv[index]}`);
    const match = /^(\d+)=(.+)$/.exec(argv[++index] ?? '');
    if (!match) fail(`--forward expects PORT=SOCKET, got ${argv[index]}`);
    forwards.push({ port: Number(match[1]), socketPath: match[2] });
  }
  const command = argv.slice(index + 1);
  if (command.length === 0) fail('no command given after --');
  return { probe: false, forwards, command };
}

function forwardPort({ port, socketPath }) {
  const server = net.createServer((inside) => {
    const outside = net.connect(socketPath);
    inside.pipe(outside).pipe(inside);
    inside.on('error', () => outside.destroy());
    outside.on('error', () => inside.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function listenOnLoopback() {
  const server = net.createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => server.close(resolve));
  });
}

const { probe, forwards, command } = parseArguments(process.argv.slice(2));
bringLoopbackUp();
if (probe) {
  await listenOnLoopback().catch((error) => fail(`loopback unusable: ${error.message}`));
  process.exit(0);
}
const servers = await Promise.all(forwards.map(forwardPort)).catch((error) => fail(`cannot forward: ${error.message}`));
// The servers must not keep this process alive once the command is done.
for (const server of servers) server.unref();

const [file, ...args] = command;
const child = spawn(file, args, { stdio: 'inherit' });
// Whoever signals this process (rather than its whole process group) means the command.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => fail(`cannot run ${file}: ${error.message}`));
child.on('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
