import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth, requireRole } from '../../http/authenticate.js';
import type { Csrf } from '../../http/csrf.js';
import { requestContext } from '../../http/request-context.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import { User } from '../users/users.schemas.js';
import { FailedJobPage, failedJobsQuery, JobIdParams, RetriedJob } from './admin.jobs.schemas.js';
import type { AdminJobsService } from './admin.jobs.service.js';
import {
  AdminUserPage,
  AdminUsersQuery,
  AdminUserUpdate,
  AuditEntryPage,
  AuditLogQuery,
  UserIdParams,
} from './admin.schemas.js';
import type { AdminService } from './admin.service.js';

const tag = 'Admin';

const LIST_USERS = operation({
  operationId: 'adminListUsers',
  tag,
  summary: 'Accounts, newest first',
  replies: { 200: json('A page of accounts', AdminUserPage) },
  problems: ['invalid-cursor'],
});
const UPDATE_USER = operation({
  operationId: 'adminUpdateUser',
  tag,
  summary: "Suspend or reactivate an account, or change its role; ends the account's sessions when it matters",
  description: 'Admins cannot change their own role or status.',
  replies: { 200: json('The updated account', User) },
  problems: ['not-found', 'cannot-change-self', 'session-store-unavailable'],
});
const AUDIT_LOG = operation({
  operationId: 'adminListAuditLog',
  tag,
  summary: 'Audit entries, newest first',
  replies: { 200: json('A page of audit entries', AuditEntryPage) },
  problems: ['invalid-cursor'],
});
const FAILED_JOBS = operation({
  operationId: 'adminListFailedJobs',
  tag,
  summary: 'Failed background jobs, most recently failed first',
  description:
    'Each job says where it ran, how often, and the failure it declared (`errorCode`); an unexpected failure shows a fixed `errorMessage`, its raw text being only in the worker log. No payload is shown.',
  replies: { 200: json('A page of failed jobs', FailedJobPage) },
  problems: ['invalid-cursor', 'jobs-unavailable'],
});
const RETRY_JOB = operation({
  operationId: 'adminRetryJob',
  tag,
  summary: 'Put a failed job back to waiting, for a worker to run it again (audited)',
  description:
    'The retry is one more attempt, counted after those already made. A failed reminder delivery is sent by it: nothing was sent before.',
  replies: { 202: json('The job waits for a worker again', RetriedJob) },
  problems: ['not-found', 'job-not-failed', 'jobs-unavailable'],
});

/**
 * Administration: signed-in admins only. API keys are refused outright (they are read-only credentials a user
 * hands to scripts; an admin's must not read every account), and cookie sessions need the CSRF token.
 */
export function adminRoutes(svc: AdminService, deps: { csrf: Csrf; jobs: AdminJobsService }): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth({ apiKeys: false }), requireRole('admin'), deps.csrf.protect);

  const listUsers = validate({ query: AdminUsersQuery });
  r.get('/users', LIST_USERS, listUsers, async (req, res) => {
    res.json(await svc.listUsers(listUsers.input(req).query));
  });

  const updateUser = validate({ params: UserIdParams, body: AdminUserUpdate });
  r.patch('/users/:id', UPDATE_USER, updateUser, async (req, res) => {
    const { params, body } = updateUser.input(req);
    res.json(await svc.updateUser(principalOf(req).userId, params.id, body, requestContext(req)));
  });

  const auditLog = validate({ query: AuditLogQuery });
  r.get('/audit-log', AUDIT_LOG, auditLog, async (req, res) => {
    res.json(await svc.auditLog(auditLog.input(req).query));
  });

  const failedJobs = validate({ query: failedJobsQuery(deps.jobs.queueNames) });
  r.get('/jobs/failed', FAILED_JOBS, failedJobs, async (req, res) => {
    res.json(await deps.jobs.listFailed(failedJobs.input(req).query));
  });

  const retryJob = validate({ params: JobIdParams });
  r.post('/jobs/:id/retry', RETRY_JOB, retryJob, async (req, res) => {
    const { params } = retryJob.input(req);
    res.status(202).json(await deps.jobs.retry(principalOf(req).userId, params.id, requestContext(req)));
  });

  return r;
}
