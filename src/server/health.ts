import type { IncomingMessage, ServerResponse } from 'node:http';
import { registry } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean>;
}

export interface HealthRoutesOptions {
  readiness: ReadinessCheck[];
  /** Refreshes gauges (queue depth) before a scrape. */
  beforeScrape?: () => Promise<void>;
  /** Facts shown with readiness that do not decide it (e.g. Redis's eviction policy). */
  details?: () => Promise<Record<string, unknown>>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
export interface Route {
  path: string;
  method: string;
  handler: Handler;
}

/** /healthz (alive), /readyz (dependencies answer), /metrics (Prometheus). */
export function healthRoutes(opts: HealthRoutesOptions): Route[] {
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  return [
    { path: '/healthz', method: 'GET', handler: (_req, res) => json(res, 200, { ok: true }) },
    {
      path: '/readyz',
      method: 'GET',
      handler: (_req, res) => {
        void Promise.all([
          Promise.all(opts.readiness.map(async (c) => [c.name, await c.check().catch(() => false)] as const)),
          opts.details?.().catch(() => undefined),
        ]).then(([results, details]) => {
          const checks = Object.fromEntries(results);
          json(res, results.every(([, ok]) => ok) ? 200 : 503, {
            ok: results.every(([, ok]) => ok),
            checks,
            ...(details ? { details } : {}),
          });
        });
      },
    },
    {
      path: '/metrics',
      method: 'GET',
      handler: (_req, res) => {
        void (async () => {
          await opts.beforeScrape?.().catch(() => undefined);
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(await registry.metrics());
        })();
      },
    },
  ];
}

/** For Socket Mode (no Bolt HTTP server): the same routes on a plain server handler. */
export function routeHandler(routes: Route[]): Handler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.path === path && r.method === req.method);
    if (route) return route.handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  };
}
