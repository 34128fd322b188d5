import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { RouteRecord } from '../http/api-router.js';
import {
  type Credential,
  type CredentialName,
  contractOf,
  type OperationShape,
  type RequestHeaderName,
  type RequestSchemas,
  type ResponseHeaderName,
} from '../http/contract.js';
import { PROBLEM_CONTENT_TYPE } from '../http/problem.js';
import { PROBLEMS, type ProblemCode } from '../http/problems.js';
import { isOptionalBody } from '../http/validate.js';
import { Problem } from './components.js';
import { REQUEST_HEADERS, RESPONSE_HEADERS } from './headers.js';
import { type Operation, UNDOCUMENTED } from './operation.js';
import { SECURITY_SCHEMES } from './security.js';
import { type Audience, TAGS, type TagName } from './tags.js';

/** An operation as its routes' chains make it: what every handler on the way adds, merged. */
interface DerivedOperation {
  request: RequestSchemas;
  problems: Set<ProblemCode>;
  headers: Set<RequestHeaderName>;
  answerHeaders: Set<ResponseHeaderName>;
  successHeaders: Set<ResponseHeaderName>;
  /** The credentials accepted, any one of them; empty when none is needed. */
  credentials: Credential[];
  /** Whether a caller without any credential is served. */
  anonymous: boolean;
}

const OPERATION_ID = /^[a-z][a-zA-Z0-9]*$/;
const WRITE_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/**
 * The two OpenAPI 3.1 documents, built once at start from the route table: `client` (/openapi.json), what the apps
 * call, and `operator` (/openapi/operator.json). Each route's own description says what only it knows (summary,
 * successes, the problems of its rules); the rest is derived from the handlers of its chain (src/http/contract.ts).
 */
export function buildOpenApiDocuments(version: string, routes: readonly RouteRecord[]) {
  const registries: Record<Audience, OpenAPIRegistry> = {
    client: new OpenAPIRegistry(),
    operator: new OpenAPIRegistry(),
  };
  const used: Record<Audience, { tags: Set<TagName>; schemes: Set<CredentialName>; headers: Set<string> }> = {
    client: { tags: new Set(), schemes: new Set(), headers: new Set() },
    operator: { tags: new Set(), schemes: new Set(), headers: new Set() },
  };
  const operationIds = new Set<string>();
  for (const records of operationsOf(routes)) {
    const [first] = records as [RouteRecord, ...RouteRecord[]];
    const operation = first.description as Operation;
    if (!OPERATION_ID.test(operation.operationId) || operationIds.has(operation.operationId)) {
      throw new Error(`operationId "${operation.operationId}" is not unique camelCase (${first.method} ${first.path})`);
    }
    operationIds.add(operation.operationId);
    const audience = TAGS[operation.tag].audience;
    const derived = derive(records, operation);
    const config = routeConfig(first, operation, derived);
    used[audience].tags.add(operation.tag);
    for (const c of derived.credentials)
      for (const name of [c.name, ...(c.with ?? [])]) used[audience].schemes.add(name);
    for (const response of Object.values(config.responses)) {
      for (const name of Object.keys((response as ResponseConfig).headers ?? {})) used[audience].headers.add(name);
    }
    registries[audience].registerPath(config);
  }
  const documentOf = (audience: Audience, title: string, description: string) => {
    const registry = registries[audience];
    for (const name of used[audience].schemes) {
      const { name: schemeName, scheme } = SECURITY_SCHEMES[name];
      registry.registerComponent('securitySchemes', schemeName, scheme as never);
    }
    for (const name of used[audience].headers) {
      registry.registerComponent('headers', name, RESPONSE_HEADERS[name as ResponseHeaderName] as never);
    }
    return new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: { title, version, description, license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' } },
      // Relative: the document is served by the API itself, on whatever host and scheme (HTTPS in production).
      servers: [
        {
          url: '/',
          description: 'The deployment serving this document (production, staging or local)',
          'x-internal': audience === 'operator',
        },
      ],
      tags: [...used[audience].tags].map((name) => ({ name, description: TAGS[name].description })),
    });
  };
  return {
    client: documentOf(
      'client',
      'Mingus API',
      'Personal-finance assistant API for the Mingus mobile and web apps. Errors are RFC 9457 ' +
        'application/problem+json (the `type` values are listed in docs/errors.md); money is integer cents; dates ' +
        'are YYYY-MM-DD; lists use cursor pagination. Mobile clients authenticate with bearer tokens; web clients ' +
        'sign in with `X-Client: web` and then use HttpOnly cookies and the `X-CSRF-Token` header.',
    ),
    operator: documentOf(
      'operator',
      'Mingus API: operator surface',
      'Administration, probes, metrics and webhooks: what operators, Kubernetes, Prometheus and Stripe call. ' +
        'Not for client SDKs (those use /openapi.json).',
    ),
  };
}

export type OpenApiDocuments = ReturnType<typeof buildOpenApiDocuments>;

/** The routes grouped by method and path: two routes may serve one operation (tried in turn). */
function operationsOf(routes: readonly RouteRecord[]): RouteRecord[][] {
  const groups = new Map<string, RouteRecord[]>();
  for (const route of routes) {
    if (route.description === UNDOCUMENTED) continue;
    const key = `${route.method} ${route.path}`;
    const group = groups.get(key);
    if (!group) groups.set(key, [route]);
    else if (group[0]?.description !== route.description) {
      throw new Error(`${key} is registered twice with different descriptions`);
    } else group.push(route);
  }
  return [...groups.values()];
}

function derive(records: RouteRecord[], operation: Operation): DerivedOperation {
  const method = (records[0] as RouteRecord).method;
  const shape: OperationShape = { method };
  const request: RequestSchemas = {};
  const derived: DerivedOperation = {
    request,
    problems: new Set(operation.problems),
    headers: new Set(operation.headers),
    answerHeaders: new Set(),
    successHeaders: new Set(),
    credentials: [],
    anonymous: false,
  };
  for (const record of records) {
    let accepted: Credential[] | undefined;
    const roles: string[] = [];
    const companions: { credential: CredentialName; also: CredentialName }[] = [];
    for (const handler of record.handlers) {
      const part = contractOf(handler, shape);
      if (!part) continue;
      Object.assign(request, part.request);
      for (const p of part.problems ?? []) derived.problems.add(p);
      for (const h of part.headers ?? []) derived.headers.add(h);
      for (const h of part.answerHeaders ?? []) derived.answerHeaders.add(h);
      for (const h of part.successHeaders ?? []) derived.successHeaders.add(h);
      if (part.accepts) accepted = [...part.accepts];
      roles.push(...(part.requiresRoles ?? []));
      if (part.requiresWith) companions.push(part.requiresWith);
    }
    if (!accepted) derived.anonymous = true;
    // Roles and companions hold for the credentials accepted anywhere on the chain, before or after them.
    for (const c of accepted ?? []) {
      const also = companions.filter((w) => w.credential === c.name).map((w) => w.also);
      derived.credentials.push({
        ...c,
        ...(roles.length > 0 ? { roles: [...(c.roles ?? []), ...roles] } : {}),
        ...(also.length > 0 ? { with: [...(c.with ?? []), ...also] } : {}),
      });
    }
  }
  if (operation.checks) {
    derived.credentials.push(...operation.checks.accepts);
    derived.anonymous &&= operation.checks.anonymous;
  }
  return derived;
}

function routeConfig(route: RouteRecord, operation: Operation, derived: DerivedOperation): RouteConfig {
  const { request } = derived;
  const body = request.body && isOptionalBody(request.body) ? request.body.unwrap() : request.body;
  return {
    method: route.method,
    path: route.path.replace(/:(\w+)/g, '{$1}'),
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    security: securityOf(route.method, derived),
    request: {
      ...(request.params ? { params: request.params as never } : {}),
      ...(request.query ? { query: request.query as never } : {}),
      ...(derived.headers.size > 0
        ? {
            headers: z.object(
              Object.fromEntries([...derived.headers].map((name) => [name, REQUEST_HEADERS[name].optional()])),
            ),
          }
        : {}),
      ...(body
        ? {
            body: {
              required: body === request.body,
              content: {
                'application/json': { schema: body },
              },
            },
          }
        : {}),
    },
    responses: responsesOf(operation, derived),
  };
}

/**
 * The alternatives of an operation's security. A public read has `[]`; a public write has the anonymous
 * alternative `{}` spelled out, so that no write of the document looks unprotected by mistake.
 */
function securityOf(method: string, derived: DerivedOperation): Record<string, string[]>[] {
  const alternatives = new Map<string, Record<string, string[]>>();
  for (const c of derived.credentials) {
    const requirement = {
      [SECURITY_SCHEMES[c.name].name]: [...(c.roles ?? [])],
      ...Object.fromEntries((c.with ?? []).map((name) => [SECURITY_SCHEMES[name].name, []])),
    };
    alternatives.set(JSON.stringify(requirement), requirement);
  }
  const list = [...alternatives.values()];
  if (derived.anonymous && (list.length > 0 || WRITE_METHODS.has(method))) list.push({});
  return list;
}

const headerRef = (name: ResponseHeaderName) => ({ $ref: `#/components/headers/${name}` });

function responsesOf(operation: Operation, derived: DerivedOperation): Record<string, ResponseConfig> {
  const byStatus = new Map<
    number,
    { descriptions: string[]; content: ResponseConfig['content']; headers: Set<ResponseHeaderName> }
  >();
  const at = (status: number) => {
    let entry = byStatus.get(status);
    if (!entry) {
      entry = { descriptions: [], content: {}, headers: new Set(derived.answerHeaders) };
      byStatus.set(status, entry);
    }
    return entry;
  };
  for (const [status, reply] of Object.entries(operation.replies)) {
    const entry = at(Number(status));
    entry.descriptions.push(reply.description);
    if (reply.schema)
      Object.assign(entry.content ?? {}, { [reply.contentType ?? 'application/json']: { schema: reply.schema } });
    for (const h of reply.headers ?? []) entry.headers.add(h);
    if (Number(status) < 300) for (const h of derived.successHeaders) entry.headers.add(h);
  }
  const problems = [...derived.problems].sort((a, b) => PROBLEMS[a].status - PROBLEMS[b].status);
  for (const code of problems) {
    const spec: { status: number; when: string; retryAfter?: true; challenge?: true } = PROBLEMS[code];
    const entry = at(spec.status);
    entry.descriptions.push(`\`${code}\`: ${spec.when}`);
    Object.assign(entry.content ?? {}, { [PROBLEM_CONTENT_TYPE]: { schema: Problem } });
    if (spec.retryAfter) entry.headers.add('Retry-After');
    if (spec.challenge) entry.headers.add('WWW-Authenticate');
  }
  const failure = at(500);
  failure.descriptions.push('An unexpected error (`type: about:blank`); quote the `requestId` when reporting it');
  Object.assign(failure.content ?? {}, { [PROBLEM_CONTENT_TYPE]: { schema: Problem } });

  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, entry]) => [
        String(status),
        {
          description:
            entry.descriptions.length === 1
              ? (entry.descriptions[0] as string)
              : entry.descriptions.map((d) => `* ${d}`).join('\n'),
          ...(entry.content && Object.keys(entry.content).length > 0 ? { content: entry.content } : {}),
          ...(entry.headers.size > 0
            ? { headers: Object.fromEntries([...entry.headers].sort().map((h) => [h, headerRef(h)])) }
            : {}),
        },
      ]),
  );
}
