// The one HTTP server of `vigil up`: every component's Express app (a witness's: its request
// handler) is mounted at its path on one port (DESIGN.md paths: the log at the root, each witness
// under /witness/<name>/). Mount points are declared before the server listens, in order (most
// specific first, the root last, since the log's app answers every path it does not know with a
// 404); a component whose app is not ready yet (the log starts after the port is known, because
// its witness policy names the URLs) answers 503 with Retry-After.
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import type { ErrorBody } from '../platform/http.ts';

/**
 * UpComponent is one part of `vigil up`: a name for people, its mount path, its app and how to
 * stop it: each witness, alerts (/alerts), and the root (the CA, TSA, dev issuer, search API, pages
 * and the log's API, in that order).
 */
export interface UpComponent {
  readonly name: string;
  /** mountPath is '/' or '/<segment>/...' without a final slash. */
  readonly mountPath: string;
  /** app is an Express app, or a request handler such as a witness's (witness/http.ts). */
  readonly app: RequestHandler;
  /** close stops the component (its database is closed by whoever opened it). */
  close(): Promise<void>;
}

/** UpMounts is the root app and its mount points. */
export interface UpMounts {
  readonly app: Express;
  /** mount serves `component` at its declared mount point. */
  mount(component: UpComponent): void;
  /** components are the mounted components, in mount order. */
  readonly components: readonly UpComponent[];
}

/** createUpMounts declares the mount points, in the order given (the root last). */
export function createUpMounts(mountPaths: readonly string[]): UpMounts {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const apps = new Map<string, RequestHandler | undefined>(mountPaths.map((p) => [p, undefined]));
  const components: UpComponent[] = [];
  for (const path of mountPaths) {
    app.use(path, (req: Request, res: Response, next) => {
      const mounted = apps.get(path);
      if (mounted !== undefined) return void mounted(req, res, next);
      res.setHeader('Retry-After', '1');
      res.status(503).json({ code: 'starting', message: 'this part of vigil up is still starting' } satisfies ErrorBody);
    });
  }
  return {
    app,
    components,
    mount(component) {
      if (!apps.has(component.mountPath)) throw new Error(`no mount point ${component.mountPath} was declared`);
      apps.set(component.mountPath, component.app);
      components.push(component);
    },
  };
}
