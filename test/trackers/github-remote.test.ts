import { describe, expect, it } from 'vitest';
import { githubRepoOfRemote } from '../../src/trackers/github-remote.js';

describe('a GitHub remote', () => {
  it('is read from https, ssh and scp-like github.com URLs, and from nothing else', () => {
    for (const url of ['https://github.com/acme/app.git', 'https://github.com/acme/app', 'https://x-access-token@github.com/acme/app.git', 'ssh://git@github.com/acme/app.git', 'git@github.com:acme/app.git', 'git@github.com:acme/app']) {
      expect(githubRepoOfRemote(url), url).toBe('acme/app');
    }
    for (const url of [null, '', '/srv/git/app.git', 'https://gitlab.com/acme/app.git', 'https://github.com.evil.test/acme/app.git', 'git@github.com:acme', 'https://github.com/acme/app/extra']) {
      expect(githubRepoOfRemote(url), String(url)).toBeNull();
    }
  });
});
