import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';
import { withContract } from './contract.js';
import { HttpError } from './errors.js';

/** Keys that let a parsed body reach an object's prototype once merged somewhere; no client needs them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class ForbiddenKeyError extends Error {}

/**
 * Strict JSON bodies only: objects or arrays, at most `limitBytes`, `application/json` (or `+json`); any other
 * content type on a request that has a body is 415. Parser failures become problem answers with a fixed detail,
 * never the parser's own message.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({
    limit: limitBytes,
    strict: true,
    type: ['application/json', 'application/*+json'],
    reviver: (key, value) => {
      if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKeyError(key);
      return value;
    },
  });
  const middleware: RequestHandler = (req, res, next) => {
    if (!hasBody(req)) return next();
    if (!req.is(['application/json', 'application/*+json'])) {
      return next(new HttpError(415, 'unsupported-media-type', 'Request bodies must be sent as application/json'));
    }
    parse(req, res, (err?: unknown) => next(err === undefined ? undefined : translate(err)));
  };
  // Whatever the operation: a body sent to one that takes none is read (and refused) all the same.
  return withContract(middleware, {
    problems: ['malformed-json', 'forbidden-key', 'bad-request', 'payload-too-large', 'unsupported-media-type'],
  });
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function translate(err: unknown): unknown {
  const { type, status } = (err ?? {}) as { type?: string; status?: number };
  // body-parser re-throws the reviver's error object itself, tagged entity.parse.failed.
  if (err instanceof ForbiddenKeyError) {
    return new HttpError(400, 'forbidden-key', 'Keys named __proto__, constructor or prototype are not accepted');
  }
  switch (type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed-json', 'The request body is not valid JSON (an object or an array)');
    case 'entity.too.large':
      return new HttpError(413, 'payload-too-large', 'The request body is larger than the limit of 100 kB');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported-media-type', 'Request bodies must be UTF-8 application/json');
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad-request', 'The request body could not be read');
  }
  return err;
}
