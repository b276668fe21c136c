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
    child = spawnHere(request.command, request.args, { cwd: request.cwd, env: request.env, stdin: request.stdin });
  } catch (error) {
    return failed(error as Error);
  }
  const pid = child.pid;
  if (pid === undefined) {
    child.once('error', failed);
    return;
  }
  child.once('exit', (code, signal) => reply({ kind: 'exit', id: request.id, code, signal }));
  // Sent, the pipes are closed here: the daemon reads them.
  reply({ kind: 'output', id: request.id, pid, stream: 'stdout' }, child.stdout as Socket);
  reply({ kind: 'output', id: request.id, pid, stream: 'stderr' }, child.stderr as Socket);
}

process.on('message', (request: LaunchRequest) => {
  if (request.kind === 'spawn') return start(request);
  void runGitHere(request.cwd, request.args, request.options).then((outcome) => reply({ kind: 'git', id: request.id, outcome }));
});
process.on('disconnect', () => process.exit(0));
process.send!('ready');
