import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';

/** TRACE (and the IIS-era TRACK) echo requests back, cookies included (cross-site tracing): never served. */
const REFUSED = new Set(['TRACE', 'TRACK']);

export const refuseTrace: RequestHandler = (req, res, next) => {
  if (!REFUSED.has(req.method)) return next();
  res.setHeader('Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
  throw new HttpError(405, 'method-not-allowed', `${req.method} is not supported`);
};
