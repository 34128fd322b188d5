import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Middleware } from 'openapi-fetch';
import { expect } from 'vitest';

/** What the validator reads of an OpenAPI 3.1 document; anything else in it is left alone. */
interface Document {
  paths?: Record<string, PathItem | undefined>;
  components?: { securitySchemes?: Record<string, SecurityScheme | Reference> };
  security?: SecurityRequirement[];
}
type Reference = { $ref: string };
type SecurityRequirement = Record<string, string[]>;
type SecurityScheme =
  | { type: 'http'; scheme: string }
  | { type: 'apiKey'; in: 'header' | 'query' | 'cookie'; name: string }
  | { type: 'oauth2' | 'openIdConnect' | 'mutualTLS' };
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: unknown;
}
interface MediaTypes {
  [mediaType: string]: { schema?: unknown } | undefined;
}
interface ResponseObject {
  content?: MediaTypes;
  headers?: Record<string, (HeaderObject & Partial<Reference>) | undefined>;
}
interface HeaderObject {
  required?: boolean;
  schema?: unknown;
}
interface Operation {
  parameters?: (Parameter | Reference)[];
  requestBody?: ({ required?: boolean; content?: MediaTypes } & Partial<Reference>) | undefined;
  responses?: Record<string, (ResponseObject & Partial<Reference>) | undefined>;
  security?: SecurityRequirement[];
}
type PathItem = { parameters?: (Parameter | Reference)[] } & Partial<Record<string, unknown>>;

export type RequestViolationKind =
  | 'undocumented operation'
  | 'request security'
  | 'request parameter'
  | 'request header'
  | 'request body';

export type ViolationKind =
  | RequestViolationKind
  | 'client mistake the document allows'
  | 'response status'
  | 'response content type'
  | 'response header'
  | 'response body';

export interface Violation {
  /** `POST /api/v1/checkins → 201`, as sent. */
  call: string;
  kind: ViolationKind;
  message: string;
}

const DOCUMENT_ID = 'https://contract.mingus.test/openapi.json';
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
/**
 * Request headers that HTTP itself defines (or that a security scheme accounts for): any other header a client sends
 * is part of the API and must be in the document, as a parameter or an `apiKey` security scheme.
 */
const HTTP_HEADERS = new Set(['accept', 'accept-language', 'authorization', 'content-type', 'cookie', 'origin']);

/**
 * Checks every call an openapi-fetch client makes against an OpenAPI 3.1 document, as client middleware: the
 * operation exists; the credentials meet its `security`; path, query and header parameters and the body match their
 * schemas; the answer's status, content type, headers and body are the ones the document declares. Schemas are
 * checked by Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) with the whole document loaded, so every `$ref`
 * into `#/components` resolves. Bodies are read from clones: the client still gets them.
 */
export function createContract(document: unknown) {
  const doc = document as Document;
  // OpenAPI's own keywords (`example`, `discriminator`, the document's top level) are not JSON Schema: not an error.
  const options = { allErrors: true, strictSchema: false, allowUnionTypes: true } as const;
  const bodies = new Ajv2020(options);
  // Parameters and headers travel as text: `?limit=20` is the integer 20 if the schema says integer.
  const texts = new Ajv2020({ ...options, coerceTypes: 'array' });
  for (const ajv of [bodies, texts]) {
    addFormats.default(ajv);
    ajv.addSchema({ ...(document as object), $id: DOCUMENT_ID });
  }
  const compiled = new Map<string, ValidateFunction>();
  const validator = (ajv: Ajv2020, pointer: string[]) => {
    const ref = `${DOCUMENT_ID}#${pointer.map((p) => `/${encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('')}`;
    const key = `${ajv === bodies ? 'body' : 'text'} ${ref}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      compiled.set(key, validate);
    }
    return validate;
  };

  const violations: Violation[] = [];
  const inFlight = new Map<string, { sent: Violation[]; mistake: Mistake | undefined }>();
  let nextMistake: Mistake | undefined;

  /** Follows a local `$ref` (parameters, bodies, responses, headers); schemas are left to Ajv. */
  function deref<T>(value: T | Reference | undefined): { value: T | undefined; pointer: string[] | undefined } {
    const ref = (value as Partial<Reference> | undefined)?.$ref;
    if (ref === undefined) return { value: value as T | undefined, pointer: undefined };
    if (!ref.startsWith('#/')) throw new Error(`contract: only local $refs are supported, not ${ref}`);
    const pointer = ref
      .slice(2)
      .split('/')
      .map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'));
    return { value: resolve(pointer) as T | undefined, pointer };
  }

  function resolve(pointer: string[]): unknown {
    let target: unknown = document;
    for (const part of pointer) target = (target as Record<string, unknown> | undefined)?.[part];
    return target;
  }

  function operationOf(schemaPath: string, method: string) {
    const item = doc.paths?.[schemaPath];
    const op = item?.[method] as Operation | undefined;
    if (!item || !op || !METHODS.has(method)) return undefined;
    return { item, op, pointer: ['paths', schemaPath, method] };
  }

  /** The operation's parameters (the path item's, overridden by the operation's), each with its schema's pointer. */
  function parametersOf(found: NonNullable<ReturnType<typeof operationOf>>) {
    const all = new Map<string, { parameter: Parameter; schema: string[] }>();
    const add = (list: (Parameter | Reference)[] | undefined, base: string[]) =>
      list?.forEach((entry, i) => {
        const { value, pointer } = deref<Parameter>(entry);
        if (!value) return;
        // Header names are case-insensitive; the others are not.
        const name = value.in === 'header' ? value.name.toLowerCase() : value.name;
        all.set(`${value.in}:${name}`, {
          parameter: value,
          schema: [...(pointer ?? [...base, 'parameters', String(i)]), 'schema'],
        });
      });
    add(found.item.parameters, found.pointer.slice(0, 2));
    add(found.op.parameters, found.pointer);
    return [...all.values()];
  }

  function checkText(pointer: string[], value: unknown, what: string): string[] {
    if (resolve(pointer) === undefined) return [];
    const validate = validator(texts, pointer);
    return validate(value) ? [] : describeErrors(validate.errors, what);
  }

  function checkRequest(request: Request, schemaPath: string, body: string): Violation[] {
    const method = request.method.toLowerCase();
    const url = new URL(request.url);
    const call = `${request.method} ${url.pathname}${url.search}`;
    const out: Violation[] = [];
    const add = (kind: ViolationKind, message: string) => out.push({ call, kind, message });
    const found = operationOf(schemaPath, method);
    if (!found) {
      add('undocumented operation', `${request.method} ${schemaPath} is not in the document`);
      return out;
    }
    const { op, pointer } = found;
    const parameters = parametersOf(found);
    const cookies = cookieNames(request.headers.get('cookie'));

    const requirements = op.security ?? doc.security ?? [];
    if (requirements.length > 0) {
      const met = requirements.some((requirement) =>
        Object.keys(requirement).every((name) => satisfies(name, request, url, cookies)),
      );
      if (!met) {
        const sent = [
          request.headers.has('authorization') ? 'an Authorization header' : undefined,
          cookies.length > 0 ? `the cookies ${cookies.join(', ')}` : undefined,
        ].filter(Boolean);
        add(
          'request security',
          `no security requirement of the operation (${requirements.map((r) => Object.keys(r).join(' + ') || 'anonymous').join(' | ')}) is met by the request, which sends ${sent.join(' and ') || 'no credentials'}`,
        );
      }
    }

    const template = new RegExp(
      `^${schemaPath.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '([^/]+)')}$`,
    );
    const names = [...schemaPath.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
    const values = template.exec(url.pathname)?.slice(1) ?? [];
    names.forEach((name, i) => {
      const declared = parameters.find((p) => p.parameter.in === 'path' && p.parameter.name === name);
      const problems = declared
        ? checkText(declared.schema, decodeURIComponent(values[i] ?? ''), `path ${name}`)
        : [`path parameter ${name} is not declared`];
      for (const m of problems) add('request parameter', m);
    });

    for (const { parameter, schema } of parameters) {
      if (parameter.in === 'query') {
        const given = url.searchParams.getAll(parameter.name);
        if (given.length === 0) {
          if (parameter.required) add('request parameter', `required query parameter ${parameter.name} is missing`);
        } else {
          const value = given.length === 1 ? given[0] : given;
          for (const m of checkText(schema, value, `query ${parameter.name}`)) add('request parameter', m);
        }
      } else if (parameter.in === 'header') {
        const given = request.headers.get(parameter.name);
        if (given === null) {
          if (parameter.required) add('request header', `required header ${parameter.name} is missing`);
        } else for (const m of checkText(schema, given, `header ${parameter.name}`)) add('request header', m);
      } else if (parameter.in === 'cookie' && parameter.required && !cookies.includes(parameter.name)) {
        add('request parameter', `required cookie ${parameter.name} is missing`);
      }
    }
    for (const name of new Set(url.searchParams.keys())) {
      if (!parameters.some((p) => p.parameter.in === 'query' && p.parameter.name === name)) {
        add('request parameter', `query parameter ${name} is not declared`);
      }
    }
    const headerSchemes = requirements
      .flatMap((r) => Object.keys(r))
      .map((name) => deref<SecurityScheme>(doc.components?.securitySchemes?.[name]).value)
      .flatMap((s) => (s?.type === 'apiKey' && s.in === 'header' ? [s.name.toLowerCase()] : []));
    for (const [name] of request.headers) {
      const declared =
        HTTP_HEADERS.has(name) ||
        headerSchemes.includes(name) ||
        parameters.some((p) => p.parameter.in === 'header' && p.parameter.name.toLowerCase() === name);
      if (!declared) add('request header', `header ${name} is sent but not declared (parameter or security scheme)`);
    }

    const requestBody = deref(op.requestBody);
    const bodyPointer = requestBody.pointer ?? [...pointer, 'requestBody'];
    if (body === '') {
      if (requestBody.value?.required) add('request body', 'no body, but the document requires one');
    } else if (!requestBody.value) {
      add('request body', 'a body is sent, but the operation declares none');
    } else {
      const type = mediaType(request.headers.get('content-type'));
      const match = matchMediaType(type, requestBody.value.content);
      if (!match) {
        add(
          'request body',
          `content type ${type || '(none)'} is not declared (${declared(requestBody.value.content)})`,
        );
      } else if (isJson(type) && requestBody.value.content?.[match]?.schema !== undefined) {
        for (const m of checkJson(bodies, [...bodyPointer, 'content', match, 'schema'], body, 'body'))
          add('request body', m);
      }
    }
    return out;
  }

  function checkResponse(request: Request, response: Response, schemaPath: string, body: string): Violation[] {
    const url = new URL(request.url);
    const call = `${request.method} ${url.pathname}${url.search} → ${response.status}`;
    const out: Violation[] = [];
    const add = (kind: ViolationKind, message: string) => out.push({ call, kind, message });
    const found = operationOf(schemaPath, request.method.toLowerCase());
    if (!found) return out;
    const responses = found.op.responses ?? {};
    const status = String(response.status);
    const key = [status, `${status[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
    if (key === undefined) {
      add(
        'response status',
        `status ${status} is not declared (declared: ${Object.keys(responses).join(', ') || 'none'})`,
      );
      return out;
    }
    const { value: declaredResponse, pointer: refPointer } = deref(responses[key]);
    const pointer = refPointer ?? [...found.pointer, 'responses', key];

    for (const [name, entry] of Object.entries(declaredResponse?.headers ?? {})) {
      const { value: header, pointer: headerRef } = deref<HeaderObject>(entry);
      const given = response.headers.get(name);
      if (given === null) {
        if (header?.required) add('response header', `required header ${name} is missing`);
      } else if (header?.schema !== undefined) {
        for (const m of checkText(
          [...(headerRef ?? [...pointer, 'headers', name]), 'schema'],
          given,
          `header ${name}`,
        )) {
          add('response header', m);
        }
      }
    }
    const setCookies = response.headers.getSetCookie().map((line) => line.slice(0, line.indexOf('=')));
    const declaresSetCookie = Object.keys(declaredResponse?.headers ?? {}).some(
      (h) => h.toLowerCase() === 'set-cookie',
    );
    if (setCookies.length > 0 && !declaresSetCookie) {
      add(
        'response header',
        `sets the cookies ${setCookies.join(', ')}, but the response declares no Set-Cookie header`,
      );
    }

    const content = declaredResponse?.content;
    const type = mediaType(response.headers.get('content-type'));
    if (body === '') {
      if (content && Object.keys(content).length > 0)
        add('response body', `no body, but the document declares ${declared(content)}`);
      return out;
    }
    const match = matchMediaType(type, content);
    if (!match) {
      add('response content type', `${type || '(none)'} is not declared for ${key} (${declared(content)})`);
    } else if (isJson(type) && content?.[match]?.schema !== undefined) {
      for (const m of checkJson(bodies, [...pointer, 'content', match, 'schema'], body, 'body'))
        add('response body', m);
    }
    return out;
  }

  function checkJson(ajv: Ajv2020, pointer: string[], text: string, what: string): string[] {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return [`${what} is not JSON`];
    }
    const validate = validator(ajv, pointer);
    return validate(value) ? [] : describeErrors(validate.errors, what);
  }

  function satisfies(name: string, request: Request, url: URL, cookies: string[]): boolean {
    const scheme = deref<SecurityScheme>(doc.components?.securitySchemes?.[name]).value;
    if (!scheme) return false;
    const authorization = request.headers.get('authorization') ?? '';
    switch (scheme.type) {
      case 'http':
        return new RegExp(`^${scheme.scheme} \\S+$`, 'i').test(authorization);
      case 'apiKey':
        if (scheme.in === 'header') return request.headers.has(scheme.name);
        if (scheme.in === 'query') return url.searchParams.has(scheme.name);
        return cookies.includes(scheme.name);
      case 'oauth2':
      case 'openIdConnect':
        return /^Bearer \S+$/i.test(authorization);
      default:
        return false;
    }
  }

  const middleware: Middleware = {
    async onRequest({ request, schemaPath, id }) {
      const body = request.body === null ? '' : await request.clone().text();
      inFlight.set(id, { sent: checkRequest(request, schemaPath, body), mistake: nextMistake });
      nextMistake = undefined;
    },
    async onResponse({ request, response, schemaPath, id }) {
      const { sent = [], mistake } = inFlight.get(id) ?? {};
      inFlight.delete(id);
      const breaks: readonly ViolationKind[] = mistake ? [mistake.breaks].flat() : [];
      violations.push(...sent.filter((v) => !breaks.includes(v.kind)));
      if (mistake && !sent.some((v) => breaks.includes(v.kind))) {
        const url = new URL(request.url);
        violations.push({
          call: `${request.method} ${url.pathname}${url.search} → ${response.status}`,
          kind: 'client mistake the document allows',
          message: `sent on purpose with ${mistake.what}, yet the document finds no ${breaks.join(' or ')} problem in it`,
        });
      }
      violations.push(...checkResponse(request, response, schemaPath, await response.clone().text()));
    },
  };

  return {
    middleware,
    violations,
    /**
     * Sends a request the client knows to be wrong: violations of the kinds it `breaks` are expected, not recorded
     * (any other kind is); a document that finds none of them is recorded. Its answer is checked as usual.
     */
    async mistake<T>(mistake: Mistake, call: () => Promise<T>): Promise<T> {
      nextMistake = mistake;
      try {
        return await call();
      } finally {
        nextMistake = undefined;
      }
    },
    /** One line per violation, for an assertion that prints them all. */
    report(): string[] {
      return violations.map((v) => `${v.call} · ${v.kind}: ${v.message}`);
    },
  };
}

export type Contract = ReturnType<typeof createContract>;

/** A request sent wrong on purpose: which part of the document it breaks, and how. */
export interface Mistake {
  breaks: RequestViolationKind | readonly RequestViolationKind[];
  /** "stressLevel 11", "no credentials". */
  what: string;
}

function describeErrors(errors: ErrorObject[] | null | undefined, what: string): string[] {
  const lines = (errors ?? []).map((e) => {
    const at = `${what}${e.instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
      .join('')}`;
    if (e.keyword === 'additionalProperties')
      return `${at} has the undeclared property '${String(e.params.additionalProperty)}'`;
    if (e.keyword === 'enum') return `${at} ${e.message}: ${JSON.stringify(e.params.allowedValues)}`;
    return `${at} ${e.message}`;
  });
  return [...new Set(lines)];
}

function cookieNames(header: string | null): string[] {
  return (header ?? '')
    .split(';')
    .map((pair) => pair.slice(0, pair.indexOf('=')).trim())
    .filter(Boolean);
}

const mediaType = (header: string | null) => (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
const isJson = (type: string) => type === 'application/json' || type.endsWith('+json');
const declared = (content: MediaTypes | undefined) =>
  content && Object.keys(content).length > 0 ? `declared: ${Object.keys(content).join(', ')}` : 'declared: no body';

function matchMediaType(type: string, content: MediaTypes | undefined): string | undefined {
  const keys = Object.keys(content ?? {});
  return (
    keys.find((k) => k.toLowerCase() === type) ??
    keys.find((k) => k.toLowerCase() === `${type.split('/')[0]}/*`) ??
    keys.find((k) => k === '*/*')
  );
}

/** Fails the test with every call the served document does not describe. */
export function expectNoViolations(contract: Contract): void {
  expect(contract.report(), 'calls that the served document does not describe').toEqual([]);
}
