import express, { type Express } from 'express';

/**
 * Reference servers measured in the same run as the app, so its figures read as ratios rather than as absolute
 * numbers that depend on the machine. Each is the least code that does the same job as the app's route; a later
 * feature adds its own (e.g. `jwt.verify` + SELECT by primary key with pg) beside the route it is compared with.
 */
export const baselines = {
  /**
   * Express 5 with one JSON route. It has the app's two settings that are not middleware (no ETag, no
   * X-Powered-By) so that what the ratio measures is our middleware stack, not a hash of each body.
   */
  'bare-json': (): Express => {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.get('/json', (_req, res) => {
      res.json({ status: 'ok' });
    });
    return app;
  },
} satisfies Record<string, () => Express>;

export type BaselineName = keyof typeof baselines;
