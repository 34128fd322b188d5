import { type RequestHandler, Router } from 'express';
import type { RouteDescription } from '../openapi/operation.js';
import type { HttpMethod } from './contract.js';
import { HttpError } from './errors.js';

type Handlers = (RequestHandler | readonly RequestHandler[])[];

/** One route as served: its full path (Express syntax), its description, and every handler a request runs through. */
export interface RouteRecord {
  method: HttpMethod;
  path: string;
  description: RouteDescription;
  handlers: readonly RequestHandler[];
}

type RouteMethod = (path: string, description: RouteDescription, ...handlers: Handlers) => void;

export interface ApiRouter extends Record<HttpMethod, RouteMethod> {
  readonly router: Router;
  /** Every route registered here or in a mounted router, with the middleware that runs before each. */
  readonly routes: readonly RouteRecord[];
  /** Middleware for every route registered after it (as Router#use). */
  use(...handlers: Handlers): void;
  /** Serves `child`'s routes under `prefix`, after `handlers`. */
  mount(prefix: string, child: ApiRouter, ...handlers: Handlers): void;
}

/**
 * An Express router that keeps the list of its routes, each with its description and the full chain of handlers
 * it runs through. The OpenAPI document is built from that list, so a route cannot exist undocumented, and what
 * the document says a route answers follows the middleware it really passes through.
 */
export function createApiRouter(): ApiRouter {
  const router = Router();
  const routes: RouteRecord[] = [];
  const chain: RequestHandler[] = [];
  const route =
    (method: HttpMethod): RouteMethod =>
    (path, description, ...handlers) => {
      const own = handlers.flat();
      router[method](path, ...own);
      routes.push({ method, path, description, handlers: [...chain, ...own] });
    };
  return {
    router,
    routes,
    use(...handlers) {
      const own = handlers.flat();
      router.use(...own);
      chain.push(...own);
    },
    mount(prefix, child, ...handlers) {
      const own = handlers.flat();
      router.use(prefix, ...own, child.router);
      for (const r of child.routes) {
        routes.push({ ...r, path: joinPaths(prefix, r.path), handlers: [...chain, ...own, ...r.handlers] });
      }
    },
    get: route('get'),
    put: route('put'),
    post: route('post'),
    patch: route('patch'),
    delete: route('delete'),
  };
}

function joinPaths(prefix: string, path: string): string {
  if (path === '/') return prefix;
  return `${prefix.replace(/\/$/, '')}${path}`;
}

/** Whether `path` (`/a/:id/b`) matches the request path segment by segment; our routes use no other syntax. */
export function pathMatches(pattern: string, requestPath: string): boolean {
  const want = pattern.split('/');
  const got = requestPath.replace(/\/$/, '').split('/');
  if (want.length !== got.length) return false;
  return want.every((segment, i) => (segment.startsWith(':') ? got[i] !== '' : segment === got[i]));
}

/**
 * 405 with `Allow` for a path that is served, but not with this method (RFC 9110 §15.5.6); mount after every route
 * and before the 404. GET routes answer HEAD too, as Express serves them.
 */
export function methodNotAllowed(routes: readonly RouteRecord[]): RequestHandler {
  return (req, res, next) => {
    const methods = new Set(routes.filter((r) => pathMatches(r.path, req.path)).map((r) => r.method.toUpperCase()));
    if (methods.size === 0) return next();
    if (methods.has('GET')) methods.add('HEAD');
    const allow = [...methods].sort().join(', ');
    res.setHeader('Allow', allow);
    throw new HttpError(405, 'method-not-allowed', `${req.method} is not served at this path; Allow: ${allow}`);
  };
}
