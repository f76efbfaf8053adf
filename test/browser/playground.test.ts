/**
 * The playground in a real browser (Debian's Chromium through playwright-core):
 * what a new user would do in their first minutes. Screenshots of each step go
 * to test-results/playground/ for people to look at.
 */
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlayground, type Playground } from '../../src/playground/main.js';
import { TEST_REDIS_URL } from '../support/redis.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = 'test-results/playground';
const WAIT = 15_000;

let playground: Playground;
let browser: Browser;
let page: Page;
let step = 0;

const shot = async (name: string) => {
  await page.screenshot({ path: `${SHOTS}/${String(++step).padStart(2, '0')}-${name}.png`, fullPage: false });
};

async function as(userId: string, channel: string): Promise<void> {
  await page.selectOption('#user-select', userId);
  await page.click(`#channels button[data-channel="${channel}"]`);
}

async function send(text: string): Promise<void> {
  await page.fill('#composer-input', text);
  await page.press('#composer-input', 'Enter');
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  [playground, browser] = await Promise.all([
    startPlayground({ port: 0, logLevel: process.env.TEST_LOG_LEVEL ?? 'silent', env: { REDIS_URL: TEST_REDIS_URL } }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    }),
  ]);
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  page.setDefaultTimeout(WAIT);
  await page.goto(playground.url);
  await page.waitForSelector('body[data-ready="true"]');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await playground?.stop();
});

describe('the playground in a browser', () => {
  it('a developer deploys to beta and sees the thread complete', async () => {
    await as('U0DEV', 'dev-team');
    await send('/k8s deploy myapp beta 1.4.2');
    await shot('dev-deploys-beta');
    const message = page.locator('#messages article', { hasText: 'beta — done in' });
    await message.waitFor();
    await message.locator('button.replies').click();
    await page.locator('#thread-messages article', { hasText: 'applied to beta' }).waitFor();
    await expect(page.locator('#thread-messages article').first().textContent()).resolves.toContain(
      '2 of 2 replicas updated and available',
    );
    await shot('beta-thread-complete');
    const pods = playground.kube.list('v1', 'Pod', 'beta');
    expect(pods.length).toBe(2);
    expect(pods.every((p) => p.spec.containers[0].image === 'registry.example.com/team/myapp:1.4.2')).toBe(true);
  });

  it("a developer's prod deploy waits until the approver approves, then the thread completes", async () => {
    await as('U0DEV', 'dev-team');
    await send('/k8s deploy myapp prod 1.4.2');
    const request = page.locator('#messages article', { hasText: 'prod' }).filter({ has: page.getByRole('button', { name: 'Approve' }) });
    await request.waitFor();
    await shot('prod-deploy-waits-for-approval');
    expect(playground.kube.list('apps/v1', 'Deployment', 'prod')).toEqual([]);

    await as('U0OPSLEAD', 'dev-team');
    await request.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#messages article.ephemeral', { hasText: 'Approved — deploy myapp 1.4.2 → prod' }).waitFor();
    await shot('approver-approved');
    // The approval request becomes the run's parent message, and the run reports in its thread.
    const done = page.locator('#messages article', { hasText: 'prod — done in' });
    await done.waitFor();
    await done.locator('button.replies').click();
    await page.locator('#thread-messages article', { hasText: 'applied to prod' }).waitFor();
    await shot('prod-thread-complete');
    expect(playground.kube.list('v1', 'Pod', 'prod').filter((p) => p.status.phase === 'Running')).toHaveLength(3);
  });

  it('OOM chaos brings an alert to #oncall, and Show logs answers', async () => {
    await as('U0ONCALL', 'oncall');
    const oom = page.locator('button[aria-label^="OOM-kill pod myapp-"][aria-label$=" in beta"]').first();
    const label = (await oom.getAttribute('aria-label'))!;
    const pod = label.replace('OOM-kill pod ', '').replace(' in beta', '');
    await oom.click();
    await page.locator('#chaos-result', { hasText: `OOM-killed ${pod}` }).waitFor();
    const alert = page.locator('#messages article', { hasText: 'OOMKilled' });
    await alert.first().waitFor();
    await shot('oom-alert-in-oncall');
    await alert.first().getByRole('button', { name: 'Show logs' }).click();
    const logs = page.locator('article.ephemeral', { hasText: `log lines of ${pod}` });
    await logs.waitFor();
    await expect(logs.textContent()).resolves.toContain('Only visible to you');
    await shot('show-logs-answered');
  });

  it('a bad command gets its usage line', async () => {
    await as('U0DEV', 'dev-team');
    await send('/k8s scale myapp beta lots');
    const answer = page.locator('#messages article.ephemeral', { hasText: 'Usage:' }).filter({ hasText: 'scale' });
    await answer.waitFor();
    await expect(answer.textContent()).resolves.toContain('/k8s scale');
    await shot('bad-command-usage');
  });

  it('never turns message text into markup', async () => {
    await as('U0DEV', 'dev-team');
    await send('/k8s deploy <img src=x onerror=alert(1)> beta');
    await page.locator('#messages article.ephemeral', { hasText: 'deploy' }).last().waitFor();
    expect(await page.locator('#messages img').count()).toBe(0);
  });
});
