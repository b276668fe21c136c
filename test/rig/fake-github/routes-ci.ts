// The CI operations: check runs and suites on a commit, workflow runs and their jobs, re-running failed
// jobs, job logs (a 302 to a download address the fake serves itself, as GitHub sends one to its
// storage), and commit statuses.

import { RerunRefusedError, STATUS_STATES, type StatusState } from './checks.js';
import { CiObjects } from './ci-objects.js';
import { DOCUMENTATION_URL, invalid, optionalString, record, type Route } from './routes.js';

/** Where the fake serves a job's log text; GitHub's own answer points at short-lived blob storage. */
export const JOB_LOG_PATH = /^\/_fake\/job-logs\/([^/]+)\/([^/]+)\/(\d+)$/;

export const CI_ROUTES: Route[] = [
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/commits/{ref}/check-runs',
    handle: ({ repo, params, query, objects }) => {
      const filter = query.get('filter') === 'all' ? 'all' : 'latest';
      const name = query.get('check_name');
      const status = query.get('status');
      const runs = repo.ci
        .checkRunsOn(repo.resolveRef(params.ref ?? ''), filter)
        .filter((job) => (name === null || job.name === name) && (status === null || job.status === status))
        .sort((a, b) => b.id - a.id);
      const ci = new CiObjects(objects);
      return { status: 200, body: { total_count: runs.length, check_runs: runs.map((job) => ci.checkRun(repo, job)) } };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/commits/{ref}/check-suites',
    handle: ({ repo, params, objects }) => {
      const runs = repo.ci.runsOn(repo.resolveRef(params.ref ?? ''));
      const ci = new CiObjects(objects);
      return { status: 200, body: { total_count: runs.length, check_suites: runs.map((run) => ci.checkSuite(repo, run)) } };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/check-runs/{check_run_id}',
    handle: ({ repo, params, objects }) => ({ status: 200, body: new CiObjects(objects).checkRun(repo, repo.ci.job(Number(params.check_run_id))) }),
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/actions/runs/{run_id}',
    handle: ({ repo, params, objects }) => ({ status: 200, body: new CiObjects(objects).workflowRun(repo, repo.ci.run(Number(params.run_id))) }),
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
    handle: ({ repo, params, query, objects }) => {
      const run = repo.ci.run(Number(params.run_id));
      const jobs = repo.ci.jobsOf(run.id, query.get('filter') === 'all' ? 'all' : 'latest').sort((a, b) => a.id - b.id);
      const ci = new CiObjects(objects);
      return { status: 200, body: { total_count: jobs.length, jobs: jobs.map((job) => ci.job(repo, job)) } };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs',
    handle: ({ repo, params }) => {
      try {
        repo.ci.rerunFailedJobs(Number(params.run_id));
      } catch (error) {
        if (error instanceof RerunRefusedError) return { status: 403, body: { message: error.message, documentation_url: DOCUMENTATION_URL, status: '403' } };
        throw error;
      }
      return { status: 201, body: {} };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/actions/jobs/{job_id}/logs',
    handle: ({ repo, params, objects }) => {
      const job = repo.ci.job(Number(params.job_id));
      return { status: 302, body: undefined, headers: { location: `${objects.addresses.api}/_fake/job-logs/${repo.owner}/${repo.name}/${job.id}` } };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/commits/{ref}/status',
    handle: ({ repo, params, objects }) => ({ status: 200, body: new CiObjects(objects).combinedStatus(repo, repo.resolveRef(params.ref ?? '')) }),
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/statuses/{sha}',
    handle: ({ repo, params, body, login, objects }) => {
      const fields = record(body);
      const state = fields.state;
      if (typeof state !== 'string' || !(STATUS_STATES as readonly string[]).includes(state)) throw invalid('Status', 'state', 'invalid');
      const sha = params.sha ?? '';
      if (!/^[0-9a-f]{40}$/.test(sha)) throw invalid('Status', 'sha', 'invalid');
      const status = repo.ci.addStatus(sha, {
        state: state as StatusState,
        context: optionalString(fields, 'context') ?? undefined,
        description: optionalString(fields, 'description'),
        targetUrl: optionalString(fields, 'target_url'),
        creator: login,
      });
      return { status: 201, body: new CiObjects(objects).status(repo, status) };
    },
  },
];
