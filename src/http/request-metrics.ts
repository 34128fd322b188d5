import type { ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../platform/metrics.js';
import { routeTemplate } from './route-template.js';

const STARTED_AT = Symbol('mingus.requestStartedAt');

type TimedResponse = ServerResponse & { req: Request; [STARTED_AT]?: bigint };

/**
 * Records every answered request in the duration histogram, labelled by method, route template and status. Mounted
 * first, so the time covers the whole pipeline. Per request: one `hrtime` pair and the label object; the 'finish'
 * listener is shared (it reads the response as `this`). A client that disconnects before the answer is complete
 * emits no 'finish' and is not counted. The method needs no bounding: Node's parser accepts only known methods.
 */
export function requestMetrics(metrics: Metrics): RequestHandler {
  function onFinish(this: TimedResponse) {
    const startedAt = this[STARTED_AT] ?? process.hrtime.bigint();
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const { req } = this;
    metrics.observeHttpRequest(
      { method: req.method, route: routeTemplate(req), status: String(this.statusCode) },
      seconds,
    );
  }
  return (_req, res, next) => {
    (res as TimedResponse)[STARTED_AT] = process.hrtime.bigint();
    res.on('finish', onFinish);
    next();
  };
}
