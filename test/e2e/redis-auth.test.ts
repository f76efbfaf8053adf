import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { createLogger } from '../../src/log.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startHarness, type Harness } from '../support/harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';
import { createRedis, redisAnswers } from '../../src/queue/redis.js';

const run = promisify(execFile);
const PASSWORD = 's3cret-Redis-pass/with?odd&chars';
const ACL_PASSWORD = 'acl-only-p4ss';

/** Every log line the bot writes, to prove no secret is among them. */
function capturingLogger() {
  const lines: string[] = [];
  // The bot's own logger (its serialisers and redaction), writing where the test can read.
  const log = createLogger(
    'debug',
    new Writable({
      write: (chunk, _enc, done) => {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { log, lines };
}

const deployWorks = (h: Harness, version: string) => h.deployAndWait('myapp', 'beta', version, { timeoutMs: 20_000 });

describe('Redis with a password and an ACL user', () => {
  let redis: PrivateRedis;
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    // The default user needs the password; "chatops" is an ACL user allowed what BullMQ and the bot use.
    redis = await startPrivateRedis({
      args: ['--requirepass', PASSWORD, '--user', 'chatops', 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all', '-flushall', '-flushdb'],
    });
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    await redis?.stop();
  });

  it('runs a deploy with redis://:password@ and never logs the password', async () => {
    const { log, lines } = capturingLogger();
    const h = await startHarness({
      name: 'redis-pass',
      redisUrl: `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`,
      log,
      cleanup: false,
    });
    stops.push(() => h.stop());
    await deployWorks(h, '1.0.0');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes(PASSWORD) || l.includes(encodeURIComponent(PASSWORD)))).toEqual([]);
  });

  it('runs a deploy as an ACL user (redis://user:password@)', async () => {
    const { log, lines } = capturingLogger();
    const h = await startHarness({
      name: 'redis-acl',
      redisUrl: `redis://chatops:${ACL_PASSWORD}@127.0.0.1:${redis.port}`,
      log,
      cleanup: false,
    });
    stops.push(() => h.stop());
    await deployWorks(h, '1.0.1');
    expect(lines.filter((l) => l.includes(ACL_PASSWORD))).toEqual([]);
  });

  it('with a wrong password: not ready, commands answered "not queued", and the password is not in the log', async () => {
    const { log, lines } = capturingLogger();
    const h = await startHarness({
      name: 'redis-wrong',
      redisUrl: `redis://:wrong-${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`,
      log,
      cleanup: false,
      roles: ['app'],
    });
    stops.push(() => h.stop());
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(503);
    const ack = await h.command('deploy myapp beta 1.0.2');
    expect(ack.json.text).toMatch(/not\* queued/);
    expect(lines.filter((l) => l.includes(PASSWORD) || l.includes(encodeURIComponent(PASSWORD)))).toEqual([]);
  });

  it('a REDIS_URL that is not a URL stops start-up without echoing it', async () => {
    const { loadSettings } = await import('../../src/config/settings.js');
    const bad = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`; // unencoded: "/" and "?" break it
    let message = '';
    try {
      loadSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', CHATOPS_SIGNING_KEY: 'k'.repeat(32), REDIS_URL: bad });
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/REDIS_URL: .*value not shown/);
    expect(message).not.toContain('s3cret');
  });
});

describe('Redis over TLS (rediss://) with a private CA', () => {
  let dir: string;
  let redis: PrivateRedis;
  let h: Harness;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatops-tls-'));
    const f = (n: string) => join(dir, n);
    // A private CA and a server certificate for 127.0.0.1, as an operator would make them.
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=chatops-test-ca',
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
    ]);
    await run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      f('server.key'),
      '-out',
      f('server.csr'),
    ]);
    await run('bash', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${f('san.ext')}`]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f('san.ext'),
      '-out',
      f('server.crt'),
    ]);
    redis = await startPrivateRedis({
      tls: { cert: f('server.crt'), key: f('server.key'), ca: f('ca.crt') },
      args: ['--requirepass', PASSWORD],
    });
  }, 30_000);
  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the server without the private CA, and runs a deploy with REDIS_TLS_CA', async () => {
    const url = `rediss://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`;
    // The system's CAs do not know this server: no connection.
    const untrusted = createRedis({ url }, 'producer');
    const failed = await new Promise<string>((resolve) => untrusted.once('error', (err: Error) => resolve(err.message)));
    expect(failed).toMatch(/self[- ]signed|unable to verify|certificate/i);
    expect(await redisAnswers(untrusted)).toBe(false);
    untrusted.disconnect();
    // Plain text to a TLS port gets nowhere either.
    const plain = new Redis(`redis://127.0.0.1:${redis.port}`, {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 1_000,
    });
    plain.on('error', () => undefined);
    await expect(plain.ping()).rejects.toThrow();
    plain.disconnect();

    h = await startHarness({ name: 'redis-tls', redisUrl: url, env: { REDIS_TLS_CA: join(dir, 'ca.crt') }, cleanup: false });
    await deployWorks(h, '2.0.0');
  });
});
