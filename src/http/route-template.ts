import type { Application, Request } from 'express';

/** The label of a request no route matched (404s, preflights, requests refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/** The parts of Express's router stack this module reads (the same walk as test/openapi/openapi.test.ts). */
interface Layer {
  route?: { path: unknown };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

const templatesByApp = new WeakMap<Application, WeakMap<object, string>>();

/**
 * The template of the route that served `req` (`/api/v1/checkins/:id`), for metrics and error reports: bounded, and
 * free of ids. `req.route.path` alone is relative to its router, and `req.baseUrl` is reset when an error leaves the
 * router, which is exactly when the template matters most; so every route of the app is indexed once, with its full
 * path, and looked up by identity.
 */
export function routeTemplate(req: Request): string {
  const route: unknown = req.route;
  if (!route || typeof route !== 'object') return UNMATCHED_ROUTE;
  let templates = templatesByApp.get(req.app);
  if (!templates) {
    templates = indexRoutes(req.app);
    templatesByApp.set(req.app, templates);
  }
  // A route added after the first request is not indexed; its router's mount path is still right on success.
  return templates.get(route) ?? join(req.baseUrl, String((route as { path: unknown }).path));
}

function indexRoutes(app: Application): WeakMap<object, string> {
  const templates = new WeakMap<object, string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) templates.set(layer.route, join(prefix, String(layer.route.path)));
      else if (layer.handle?.stack && typeof layer.rawPath === 'string') {
        walk(layer.handle.stack, trimSlash(`${prefix}${layer.rawPath}`));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return templates;
}

/** A mount prefix (no trailing slash, `` at the root) and a route path: `/health` + `/` → `/health`. */
function join(prefix: string, path: string): string {
  return trimSlash(`${prefix}${path}`) || '/';
}

const trimSlash = (path: string) => path.replace(/\/+$/, '');
