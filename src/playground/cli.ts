/** Entry point of `npm run playground`: start, print where, stop cleanly on Ctrl-C / SIGTERM. */
import { startPlayground } from './main.js';

let playground;
try {
  playground = await startPlayground();
} catch (err) {
  process.stderr.write(`playground: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const redisFrom = { REDIS_URL: 'REDIS_URL', local: 'the local Redis', started: 'a redis-server started for this run' }[
  playground.redis.source
];
process.stdout.write(
  `k8s-chatops playground: open ${playground.url}\n` +
    `  bot ${playground.botUrl} · Kubernetes emulator ${playground.kube.url} · Slack emulator ${playground.slack.origin} · Redis: ${redisFrom}\n` +
    '  Ctrl-C stops it.\n',
);
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\nplayground: ${signal}, stopping…\n`);
  const hard = setTimeout(() => process.exit(1), 15_000);
  hard.unref();
  void playground.stop().then(() => process.exit(0));
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
