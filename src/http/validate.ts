import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { type RequestSchemas, withContract } from './contract.js';
import { type FieldError, UnprocessableError, ValidationError } from './errors.js';

type Output<S extends RequestSchemas> = {
  [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never;
};

export type Validator<S extends RequestSchemas> = RequestHandler & {
  /** The schemas, for the OpenAPI document: the same objects that validate the request. */
  readonly schemas: S;
  /** The parsed, typed input of a request this validator has passed. */
  input(req: Request): Output<S>;
};

const parsed = new WeakMap<Request, unknown>();

/**
 * Parses `req.body`, `req.query` and `req.params` with zod before the handler runs. A bad path parameter is 400;
 * a body or query of the wrong shape is 422, listing every problem as `{path, message}`. Express 5 makes
 * `req.query` read-only, so the parsed values are kept beside the request and read back with `input(req)`.
 */
export function validate<S extends RequestSchemas>(schemas: S): Validator<S> {
  const middleware: RequestHandler = (req, _res, next) => {
    const result: Record<string, unknown> = {};
    const problems: Record<'params' | 'other', FieldError[]> = { params: [], other: [] };
    for (const part of ['params', 'query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const outcome = schema.safeParse(part === 'body' ? bodyOf(req, schema) : req[part]);
      if (outcome.success) result[part] = outcome.data;
      else problems[part === 'params' ? 'params' : 'other'].push(...toFieldErrors(part, outcome.error));
    }
    if (problems.params.length > 0) {
      throw new ValidationError('invalid-parameter', 'A path parameter is malformed', problems.params);
    }
    if (problems.other.length > 0) {
      throw new UnprocessableError(
        'validation-failed',
        'The request has invalid fields',
        problems.other.slice(0, MAX_FIELD_ERRORS),
      );
    }
    parsed.set(req, result);
    next();
  };
  const contract = withContract(middleware, {
    request: schemas,
    problems: [
      ...(schemas.params ? (['invalid-parameter'] as const) : []),
      ...(schemas.body || schemas.query ? (['validation-failed'] as const) : []),
    ],
  });
  return Object.assign(contract, {
    schemas,
    input(req: Request) {
      const value = parsed.get(req);
      if (!value) throw new Error('validate(): input() read on a request the validator did not pass');
      return value as Output<S>;
    },
  });
}

/**
 * No body at all is `{}` to a body schema, so that an all-optional body may be left out; a schema marked
 * `.optional()` (an operation whose body is optional as a whole) gets `undefined`.
 */
function bodyOf(req: Request, schema: z.ZodType): unknown {
  if (req.body !== undefined) return req.body;
  return isOptionalBody(schema) ? undefined : {};
}

/** Whether a body schema makes the body optional as a whole (`.optional()`): the document marks it not required. */
export function isOptionalBody(schema: z.ZodType): schema is z.ZodOptional {
  return schema instanceof z.ZodOptional;
}

/** The most field problems one answer lists: a 100 kB body could otherwise earn a megabyte of them. */
export const MAX_FIELD_ERRORS = 100;

export function toFieldErrors(root: string, error: z.ZodError): FieldError[] {
  return error.issues.slice(0, MAX_FIELD_ERRORS).map((issue) => ({
    path: [root, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
      .join('.')
      .replace(/\.\[/g, '['),
    message: issue.message,
  }));
}
