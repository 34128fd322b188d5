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
  /** The middleware added with `use`, which also runs for requests this router passes on unanswered. */
  readonly middleware: readonly RequestHandler[];
  /** Middleware for every route registered after it (as Router#use). */
  use(...handlers: Handlers): void;
  /** Serves `child`'s routes under `prefix`, after `handlers`; `child` takes no route after that. */
  mount(prefix: string, child: ApiRouter, ...handlers: Handlers): void;
  /** Refuses any further route or middleware (its parent's `mount` calls it). */
  seal(): void;
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
  const mounted = new Map<string, ApiRouter>();
  let sealed = false;
  // Once mounted, the parent has copied the routes: one added later would be served but missing from the table.
  const assertOpen = () => {
    if (sealed) throw new Error('createApiRouter(): a route or middleware was added after the router was mounted');
  };
  const route =
    (method: HttpMethod): RouteMethod =>
    (path, description, ...handlers) => {
      assertOpen();
      const own = handlers.flat();
      router[method](path, ...own);
      routes.push({ method, path, description, handlers: [...chain, ...own] });
    };
  return {
    router,
    routes,
    middleware: chain,
    use(...handlers) {
      assertOpen();
      const own = handlers.flat();
      router.use(...own);
      chain.push(...own);
    },
    mount(prefix, child, ...handlers) {
      assertOpen();
      // The earlier router's middleware would run for the later one's requests, unrecorded in the table.
      if (mounted.get(prefix)?.middleware.length) {
        throw new Error(`createApiRouter(): ${prefix} is mounted twice and the first router has middleware`);
      }
      mounted.set(prefix, child);
      child.seal();
      const own = handlers.flat();
      router.use(prefix, ...own, child.router);
      for (const r of child.routes) {
        routes.push({ ...r, path: joinPaths(prefix, r.path), handlers: [...chain, ...own, ...r.handlers] });
      }
    },
    seal() {
      sealed = true;
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

/**
 * 405 with `Allow` for a path that is served, but not with this method (RFC 9110 §15.5.6): one catch-all route per
 * served path, matched by Express itself as the routes are (case, repeated slashes), mounted after every route and
 * before the 404. GET routes answer HEAD too, as Express serves them; the CORS layer answers OPTIONS everywhere.
 */
export function methodNotAllowed(routes: readonly RouteRecord[]): Router {
  const methodsOf = new Map<string, Set<string>>();
  for (const route of routes) {
    const methods = methodsOf.get(route.path) ?? new Set(['OPTIONS']);
    methods.add(route.method.toUpperCase());
    if (route.method === 'get') methods.add('HEAD');
    methodsOf.set(route.path, methods);
  }
  const router = Router();
  for (const [path, methods] of methodsOf) {
    const allow = [...methods].sort().join(', ');
    router.all(path, (req, res) => {
      res.setHeader('Allow', allow);
      throw new HttpError(405, 'method-not-allowed', `${req.method} is not served at this path; Allow: ${allow}`);
    });
  }
  return router;
}
