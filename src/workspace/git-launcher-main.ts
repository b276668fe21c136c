import type { LaunchReply, LaunchRequest } from './git-launcher.js';
import { runGitHere } from './git.js';

// The git launcher (git-launcher.ts): runs each git command the daemon sends and answers with its
// outcome. It ends with the daemon: when the channel closes, nothing is left to answer.

process.on('message', (request: LaunchRequest) => {
  void runGitHere(request.cwd, request.args, request.options).then((outcome) => {
    if (process.connected) process.send!({ id: request.id, outcome } satisfies LaunchReply);
  });
});
process.on('disconnect', () => process.exit(0));
process.send!('ready');
