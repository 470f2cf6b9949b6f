// The web pages of `vigil up`, in front of the log's app at the root of the port: the assets, the
// status page (GET / for browsers; every other request, and GET / without text/html in Accept,
// goes on to the log's API untouched), GET /status.json and the search page. The search page calls
// the search API at searchUrl and checks checkpoints with the log's key from up.json.
import express, { type Express } from 'express';
import type { Queryable } from '../platform/db.ts';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { createPageAssets } from '../platform/page.ts';
import type { StartedLog } from '../log/main.ts';
import { createStatusPage, type MonitorStatus } from '../log/status-page.ts';
import { createSearchPage } from '../monitor/search-page.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';

/** UpPagesDeps are what the pages read; monitorStatus is absent until a monitor runs in `vigil up`. */
export interface UpPagesDeps {
  db: Queryable;
  logVkey: string;
  /** searchUrl is the absolute URL of the search API (GET /api/v1/search). */
  searchUrl: string;
  logger: Logger;
  clock: Clock;
  monitorStatus?: () => Promise<MonitorStatus | undefined>;
}

/** createUpPagesApp returns the app mounted at '/': the pages, then the log's app. */
export function createUpPagesApp(started: StartedLog, deps: UpPagesDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const logger = deps.logger.child({ component: 'pages' });
  app.use(createPageAssets());
  const monitor = deps.monitorStatus === undefined ? {} : { monitorStatus: deps.monitorStatus };
  app.use(createStatusPage({ log: started.log, publisher: started.publisher, db: deps.db, clock: deps.clock, logger, ...monitor }));
  app.use(createSearchPage({ searchUrl: deps.searchUrl, logKeys: new Map([[started.log.origin, [parseVerifierKey(deps.logVkey)]]]), logger }));
  app.use(started.app);
  return app;
}
