import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * A BullMQ queue that is made again when its one-time start failed. BullMQ starts a queue once (an
 * INFO to Redis) and never retries: a queue built while Redis was away, or whose INFO was lost to a
 * dropped link, refuses every job for the life of the process. So the queue behind this handle is
 * replaced on first use once Redis answers again; 'on' listeners carry over to the new one.
 */
export function selfHealingQueue<Q extends Queue>(connection: Pick<Redis, 'status'>, make: () => Q): Q {
  const listeners: Array<[string, (...args: unknown[]) => void]> = [];
  let failed = false;
  const build = () => {
    const queue = make();
    // An 'error' without a listener would throw out of BullMQ's event handler and end the process.
    queue.on('error', () => undefined);
    for (const [event, listener] of listeners) (queue.on as (e: string, l: (...args: unknown[]) => void) => Q)(event, listener);
    queue.waitUntilReady().then(
      () => undefined,
      () => {
        if (queue === current) failed = true;
      },
    );
    return queue;
  };
  let current = build();
  const heal = () => {
    if (!failed || connection.status !== 'ready') return;
    failed = false;
    const broken = current;
    current = build();
    void broken.close().catch(() => undefined);
  };
  const handle: Q = new Proxy(current, {
    get(_target, prop) {
      heal();
      if (prop === 'on')
        return (event: string, listener: (...args: unknown[]) => void) => {
          listeners.push([event, listener]);
          (current.on as (e: string, l: (...args: unknown[]) => void) => Q)(event, listener);
          return handle;
        };
      const value: unknown = Reflect.get(current, prop, current);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
  return handle;
}
