// The alert worker: fans findings out after its cursor, mails the precertificate alerts whose wait
// for a signature is over (fanout.ts), queues due digests, and sends due messages. It runs every
// `pollIntervalMs` and whenever woken (a confirmation mail was queued, a monitor job said findings
// were committed). Embedded, messages are sent in this process; with a
// JobQueue (BullMQ in production) each due message becomes a job `msg-<id>` that any worker
// process may run: the claim in SQL (alerts/messages.ts) makes sure only one attempt runs at a time.
import type { JobQueue, QueueConsumer } from '../platform/queue.ts';
import type { AlertsContext } from './context.ts';
import { sendDueDigests } from './digest.ts';
import { errorMessage } from './errors.ts';
import { fanOutFindings, releaseHeldAlerts } from './fanout.ts';
import { dueMessageIds } from './messages.ts';
import { pruneRateLimits } from './rate-limit.ts';
import { sendMessage } from './sender.ts';
import { pruneTokens } from './tokens.ts';
import type { MailTransport } from './transport.ts';

/** SendJob names one message to attempt. */
export interface SendJob {
  messageId: string;
}

/** AlertWorker is a running worker. */
export interface AlertWorker {
  /** runOnce does one full pass (fan-out, digests, due messages) and resolves when it is done. */
  runOnce(): Promise<void>;
  /** wake asks for a pass soon (coalesced with one in progress). */
  wake(): void;
  stop(): Promise<void>;
}

const PRUNE_INTERVAL_MS = 3_600_000;
const DUE_BATCH = 500;

/**
 * startAlertWorker starts the loop. With `queue`, due messages are queued as jobs and consumed
 * here too (other processes may consume the same queue); without, they are sent in this process.
 * `loop: false` starts no timer (tests drive runOnce themselves).
 */
export function startAlertWorker(ctx: AlertsContext, transport: MailTransport, opts: { queue?: JobQueue<SendJob>; loop?: boolean } = {}): AlertWorker {
  let consumer: QueueConsumer | undefined;
  if (opts.queue) {
    consumer = opts.queue.consume((job) => sendMessage(ctx, transport, BigInt(job.data.messageId)), { concurrency: ctx.config.sendConcurrency });
  }
  let lastPrune = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const pass = async () => {
    while ((await fanOutFindings(ctx)) === ctx.config.findingsBatch);
    await releaseHeldAlerts(ctx);
    await sendDueDigests(ctx);
    const now = ctx.clock.nowMs();
    const due = await dueMessageIds(ctx.db, now, DUE_BATCH);
    if (opts.queue) await opts.queue.add(due.map((id) => ({ id: `msg-${id}`, data: { messageId: id.toString() } })));
    else await inPool(due, ctx.config.sendConcurrency, (id) => sendMessage(ctx, transport, id));
    if (now - lastPrune > PRUNE_INTERVAL_MS) {
      lastPrune = now;
      await pruneTokens(ctx.db, now);
      await pruneRateLimits(ctx.db, now);
      // Addresses that never confirmed are forgotten once their last confirmation link has expired.
      await ctx.db.query(
        `DELETE FROM alerts_subscribers s WHERE s.state = 'pending' AND s.created_at < $1 AND NOT EXISTS (SELECT 1 FROM alerts_tokens t WHERE t.subscriber_id = s.id)`,
        [new Date(now - ctx.config.confirmTokenTtlMs)],
      );
    }
  };
  const runOnce = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopped);
    })().finally(() => (running = undefined));
    return running;
  };
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    runOnce()
      .catch((err: unknown) => ctx.logger.error({ err: errorMessage(err) }, 'alert worker pass failed; retrying at the next poll'))
      .finally(() => {
        if (!stopped && timer === undefined) timer = setTimeout(tick, ctx.config.pollIntervalMs);
      });
  };
  if (opts.loop !== false) timer = setTimeout(tick, 0);
  return {
    runOnce,
    wake: () => {
      if (opts.loop === false || stopped) return;
      if (running) {
        again = true; // the pass in progress runs once more
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(tick, 0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
      await consumer?.close();
    },
  };
}

async function inPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}
