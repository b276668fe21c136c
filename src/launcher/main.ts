import type { Socket } from 'node:net';
import { runGitHere } from '../workspace/git.js';
import { spawnHere } from './launcher.js';
import type { LaunchReply, LaunchRequest, SpawnRequest } from './protocol.js';

// The launcher (launcher.ts): runs each git command the daemon sends and answers with its outcome;
// starts each process it is asked to and hands over its stdout and stderr pipes, then tells its exit.
// It ends with the daemon: when the channel closes, nobody is left to answer.

const reply = (message: LaunchReply, handle?: Socket) => {
  if (process.connected) process.send!(message, handle);
};

function start(request: SpawnRequest): void {
  const failed = (error: Error) => reply({ kind: 'spawn_failed', id: request.id, message: error.message, code: (error as NodeJS.ErrnoException).code ?? null });
  let child;
  try {
    child = spawnHere(request.command, request.args, { cwd: request.cwd, env: request.env, stdin: request.stdin, nice: request.nice });
  } catch (error) {
    return failed(error as Error);
  }
  const pid = child.pid;
  // Without a pid it never started, and says why here. After a start an error (a signal that could
  // not be sent) changes nothing the exit will not tell, and must not end the launcher unheard.
  child.on('error', (error) => pid === undefined && failed(error));
  if (pid === undefined) return;
  // Told once it exited and its stderr is all passed on (stdout went over as it is).
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
  const stderrDone = new Promise((resolve) => child.stderr!.once('close', resolve));
  void Promise.all([exited, stderrDone]).then(([[code, signal]]) => reply({ kind: 'exit', id: request.id, code, signal }));
  // Sent, stdout is closed here: the daemon reads the pipe itself. One handle an agent: each waits
  // for the daemon's acknowledgement before anything else goes. stderr, seldom much, is passed on as
  // messages, read no faster than they are sent.
  reply({ kind: 'output', id: request.id, pid }, withReadingStopped(child.stdout as Socket));
  const stderr = child.stderr!;
  stderr.on('data', (chunk: Buffer) => {
    if (!process.connected) return;
    const sent = process.send!({ kind: 'stderr', id: request.id, chunk } satisfies LaunchReply, () => stderr.resume());
    if (!sent) stderr.pause();
  });
}

// Requests arrive many to a read (32 agents starting together) and would all be started in one turn
// of the loop, every pipe waiting behind the last start to be handed over. One start a turn lets the
// daemon's acknowledgements in between, so each process's pipes reach it as soon as it runs.
const toStart: SpawnRequest[] = [];
const startNext = () => {
  const next = toStart.shift();
  if (!next) return;
  start(next);
  if (toStart.length > 0) setImmediate(startNext);
};

/**
 * The pipe, no longer read here. Node starts reading a child's stdout the moment it makes the socket,
 * and a socket being sent has its reads thrown away until the handle actually goes — which waits for
 * the daemon's acknowledgement of the one before. What the process printed meanwhile was lost; with
 * reading stopped (no public call does it), it waits in the pipe for the daemon.
 */
function withReadingStopped(socket: Socket): Socket {
  (socket as unknown as { _handle?: { readStop?: () => number; reading?: boolean } })._handle?.readStop?.();
  return socket;
}

process.on('message', (request: LaunchRequest) => {
  if (request.kind === 'spawn') {
    if (toStart.push(request) === 1) setImmediate(startNext);
    return;
  }
  void runGitHere(request.cwd, request.args, request.options).then((outcome) => reply({ kind: 'git', id: request.id, outcome }));
});
process.on('disconnect', () => process.exit(0));
process.send!('ready');
