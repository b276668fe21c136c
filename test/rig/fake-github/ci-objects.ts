// CI records rendered as GitHub's REST objects: check runs, check suites, workflow runs, jobs and commit
// statuses, each with the fields GitHub's description requires. GitHub Actions is the app behind them.

import type { JobRecord, StatusRecord, WorkflowRunRecord } from './checks.js';
import { nodeId, timestamp, type GitHubObjects } from './objects.js';
import type { FakeRepository } from './state.js';

const ACTIONS_APP_ID = 15368;

export class CiObjects {
  constructor(private readonly objects: GitHubObjects) {}

  checkRun(repo: FakeRepository, job: JobRecord): Record<string, unknown> {
    const run = repo.ci.run(job.runId);
    const url = `${this.objects.repoUrl(repo)}/check-runs/${job.id}`;
    const html = `${this.objects.addresses.html}/${repo.fullName}/actions/runs/${run.id}/job/${job.id}`;
    return {
      id: job.id,
      node_id: nodeId('CR', job.id),
      head_sha: job.headSha,
      external_id: String(job.id),
      url,
      html_url: html,
      details_url: html,
      status: job.status,
      conclusion: job.conclusion,
      started_at: timestamp(job.startedAt),
      completed_at: job.completedAt === null ? null : timestamp(job.completedAt),
      output: { title: job.conclusion === null ? null : `${job.name}: ${job.conclusion}`, summary: null, text: null, annotations_count: 0, annotations_url: `${url}/annotations` },
      name: job.name,
      check_suite: { id: run.checkSuiteId },
      app: this.actionsApp(),
      pull_requests: this.pullsOf(repo, job.headSha),
    };
  }

  checkSuite(repo: FakeRepository, run: WorkflowRunRecord): Record<string, unknown> {
    const state = repo.ci.runState(run.id);
    return {
      id: run.checkSuiteId,
      node_id: nodeId('CS', run.checkSuiteId),
      head_branch: run.headBranch,
      head_sha: run.headSha,
      status: state.status,
      conclusion: state.conclusion,
      url: `${this.objects.repoUrl(repo)}/check-suites/${run.checkSuiteId}`,
      before: null,
      after: run.headSha,
      pull_requests: this.pullsOf(repo, run.headSha),
      app: this.actionsApp(),
      repository: this.objects.repository(repo),
      created_at: timestamp(run.createdAt),
      updated_at: timestamp(run.updatedAt),
      head_commit: this.commit(run),
      latest_check_runs_count: repo.ci.latestJobs(run.id).length,
      check_runs_url: `${this.objects.repoUrl(repo)}/check-suites/${run.checkSuiteId}/check-runs`,
      rerequestable: true,
      runs_rerequestable: true,
    };
  }

  workflowRun(repo: FakeRepository, run: WorkflowRunRecord): Record<string, unknown> {
    const state = repo.ci.runState(run.id);
    const url = `${this.objects.repoUrl(repo)}/actions/runs/${run.id}`;
    return {
      id: run.id,
      name: run.name,
      node_id: nodeId('WFR', run.id),
      check_suite_id: run.checkSuiteId,
      check_suite_node_id: nodeId('CS', run.checkSuiteId),
      head_branch: run.headBranch,
      head_sha: run.headSha,
      path: `.github/workflows/${run.name.toLowerCase()}.yml`,
      run_number: run.runNumber,
      run_attempt: run.attempt,
      display_title: run.name,
      event: 'pull_request',
      status: state.status,
      conclusion: state.conclusion,
      workflow_id: run.workflowId,
      url,
      html_url: `${this.objects.addresses.html}/${repo.fullName}/actions/runs/${run.id}`,
      pull_requests: this.pullsOf(repo, run.headSha),
      created_at: timestamp(run.createdAt),
      updated_at: timestamp(run.updatedAt),
      run_started_at: timestamp(run.createdAt),
      jobs_url: `${url}/jobs`,
      logs_url: `${url}/logs`,
      check_suite_url: `${this.objects.repoUrl(repo)}/check-suites/${run.checkSuiteId}`,
      artifacts_url: `${url}/artifacts`,
      cancel_url: `${url}/cancel`,
      rerun_url: `${url}/rerun`,
      previous_attempt_url: run.attempt > 1 ? `${url}/attempts/${run.attempt - 1}` : null,
      workflow_url: `${this.objects.repoUrl(repo)}/actions/workflows/${run.workflowId}`,
      head_commit: this.commit(run),
      repository: this.objects.repository(repo),
      head_repository: this.objects.repository(repo),
    };
  }

  job(repo: FakeRepository, job: JobRecord): Record<string, unknown> {
    const run = repo.ci.run(job.runId);
    return {
      id: job.id,
      run_id: run.id,
      run_url: `${this.objects.repoUrl(repo)}/actions/runs/${run.id}`,
      run_attempt: job.attempt,
      node_id: nodeId('CR', job.id),
      head_sha: job.headSha,
      url: `${this.objects.repoUrl(repo)}/actions/jobs/${job.id}`,
      html_url: `${this.objects.addresses.html}/${repo.fullName}/actions/runs/${run.id}/job/${job.id}`,
      status: job.status,
      conclusion: job.conclusion,
      created_at: timestamp(job.createdAt),
      started_at: timestamp(job.startedAt),
      completed_at: job.completedAt === null ? null : timestamp(job.completedAt),
      name: job.name,
      steps: [],
      check_run_url: `${this.objects.repoUrl(repo)}/check-runs/${job.id}`,
      labels: ['ubuntu-latest'],
      runner_id: job.status === 'queued' ? null : 1,
      runner_name: job.status === 'queued' ? null : 'GitHub Actions 1',
      runner_group_id: job.status === 'queued' ? null : 0,
      runner_group_name: job.status === 'queued' ? null : 'GitHub Actions',
      workflow_name: run.name,
      head_branch: job.headBranch,
    };
  }

  /** A status as `POST /statuses/{sha}` answers it (with its creator). */
  status(repo: FakeRepository, status: StatusRecord): Record<string, unknown> {
    return { ...this.simpleStatus(repo, status), creator: this.objects.user(status.creator) };
  }

  combinedStatus(repo: FakeRepository, sha: string): Record<string, unknown> {
    const combined = repo.ci.combinedStatus(sha);
    const commitUrl = `${this.objects.repoUrl(repo)}/commits/${sha}`;
    return {
      state: combined.state,
      statuses: combined.statuses.map((status) => this.simpleStatus(repo, status)),
      sha,
      total_count: combined.statuses.length,
      repository: this.objects.repository(repo),
      commit_url: commitUrl,
      url: `${commitUrl}/status`,
    };
  }

  private simpleStatus(repo: FakeRepository, status: StatusRecord): Record<string, unknown> {
    const creator = this.objects.user(status.creator);
    return {
      url: `${this.objects.repoUrl(repo)}/statuses/${status.sha}`,
      avatar_url: creator.avatar_url,
      id: status.id,
      node_id: nodeId('SC', status.id),
      state: status.state,
      description: status.description,
      target_url: status.targetUrl,
      context: status.context,
      created_at: timestamp(status.createdAt),
      updated_at: timestamp(status.updatedAt),
    };
  }

  private commit(run: WorkflowRunRecord): Record<string, unknown> {
    const author = { name: 'Orch', email: 'orch@example.com' };
    return { id: run.headSha, tree_id: [...run.headSha].reverse().join(''), message: `Head of ${run.headBranch ?? run.headSha}`, timestamp: timestamp(run.createdAt), author, committer: author };
  }

  /** The open pull requests whose head is `sha`, in GitHub's minimal form. */
  private pullsOf(repo: FakeRepository, sha: string): Record<string, unknown>[] {
    const repoRef = { id: repo.id, url: this.objects.repoUrl(repo), name: repo.name };
    return repo
      .pulls()
      .filter((issue) => issue.state === 'open' && issue.pull?.headSha === sha)
      .map((issue) => ({
        id: issue.id,
        number: issue.number,
        url: `${this.objects.repoUrl(repo)}/pulls/${issue.number}`,
        head: { ref: issue.pull?.head, sha, repo: repoRef },
        base: { ref: issue.pull?.base, sha: [...sha].reverse().join(''), repo: repoRef },
      }));
  }

  private actionsApp(): Record<string, unknown> {
    const at = timestamp(Date.parse('2018-07-30T09:30:17Z'));
    return {
      id: ACTIONS_APP_ID,
      slug: 'github-actions',
      node_id: nodeId('A', ACTIONS_APP_ID),
      owner: this.objects.user('github'),
      name: 'GitHub Actions',
      description: 'Automate your workflow from idea to production',
      external_url: 'https://help.github.com/en/actions',
      html_url: 'https://github.com/apps/github-actions',
      created_at: at,
      updated_at: at,
      permissions: { actions: 'write', checks: 'write', contents: 'write', metadata: 'read', pull_requests: 'write', statuses: 'write' },
      events: ['check_run', 'check_suite', 'pull_request', 'push', 'workflow_dispatch'],
    };
  }
}
