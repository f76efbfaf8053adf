/** The rest of deploy/: the Secret example, the Slack app manifests, the Grafana dashboard and the Dockerfile. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { registry } from '../src/server/metrics.js';
import { CASES, DEPLOY, ROOT, ofKind, renderEveryCase } from './support/kustomize.js';

const rendered = renderEveryCase();

describe('the rest of deploy/', () => {
  it('ships a Secret example, never a Secret', async () => {
    for (const name of CASES) expect(ofKind(rendered(name), 'Secret')).toEqual([]);
    const example = await readFile(join(DEPLOY, 'secret.example.env'), 'utf8');
    expect(example).toMatch(/^SLACK_BOT_TOKEN=xoxb-replace-me$/m);
    expect(example).toMatch(/^CHATOPS_SIGNING_KEY=/m);
    for (const name of CASES) {
      for (const d of ofKind(rendered(name), 'Deployment').filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'k8s-chatops')) {
        const key = d.spec.template.spec.containers[0].env.find((e: any) => e.name === 'CHATOPS_SIGNING_KEY');
        expect(key?.valueFrom.secretKeyRef, `${name}: ${d.metadata.name} reads CHATOPS_SIGNING_KEY from the Secret`).toEqual({
          name: 'k8s-chatops-slack',
          key: 'CHATOPS_SIGNING_KEY',
        });
      }
    }
    expect(example).toMatch(/^SLACK_SIGNING_SECRET=/m);
    expect(example).toMatch(/^# SLACK_APP_TOKEN=/m);
  });

  it('Slack app manifests: /k8s, interactivity, exactly the scopes the bot needs', async () => {
    const scopes = ['commands', 'chat:write', 'files:write', 'usergroups:read', 'users:read', 'channels:read', 'groups:read'];
    const http = parseYaml(await readFile(join(DEPLOY, 'slack-app-manifest.yaml'), 'utf8'));
    const socket = parseYaml(await readFile(join(DEPLOY, 'slack-app-manifest.socket-mode.yaml'), 'utf8'));
    for (const m of [http, socket]) {
      expect([...m.oauth_config.scopes.bot].sort()).toEqual([...scopes].sort());
      expect(m.features.slash_commands).toHaveLength(1);
      expect(m.features.slash_commands[0]).toMatchObject({ command: '/k8s', usage_hint: expect.stringContaining('deploy') });
      expect(m.settings.interactivity.is_enabled).toBe(true);
    }
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(http.settings.interactivity.request_url).toBe('https://YOUR-HOST/slack/events');
    expect(http.features.slash_commands[0].url).toBe('https://YOUR-HOST/slack/events');
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(socket.settings.interactivity.request_url).toBeUndefined();
    expect(socket.features.slash_commands[0].url).toBeUndefined();
  });

  it('Grafana dashboard: queries only metrics the bot exports, and shows each of its own', async () => {
    const dashboard = JSON.parse(await readFile(join(DEPLOY, 'grafana-dashboard.json'), 'utf8'));
    const exported = (await registry.getMetricsAsJSON()).flatMap((m) =>
      String(m.type) === 'histogram'
        ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
        : String(m.type) === 'summary'
          ? [m.name, `${m.name}_sum`, `${m.name}_count`]
          : [m.name],
    );
    const exprs: string[] = [];
    const walk = (panels: any[]) => {
      for (const p of panels) {
        for (const t of p.targets ?? []) exprs.push(t.expr);
        walk(p.panels ?? []);
      }
    };
    walk(dashboard.panels);
    const used = new Set(exprs.flatMap((e) => e.match(/\bchatops_[a-z0-9_]+/g) ?? []));
    expect([...used].filter((m) => !exported.includes(m))).toEqual([]);
    const own = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => !/^chatops_(process|nodejs)_/.test(n));
    expect(own.filter((n) => ![...used].some((u) => u === n || u.startsWith(`${n}_`)))).toEqual([]);
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('Dockerfile: multi-stage, production dependencies only, non-root, exec-form entrypoint', async () => {
    const dockerfile = await readFile(join(DEPLOY, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\w+)$/gm)].map((m) => m[1]);
    expect(stages).toEqual(['build', 'deps', 'runtime']);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev/);
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER 10001:10001$/m);
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1];
    expect(JSON.parse(entrypoint!)).toEqual(['/usr/bin/tini', '--', 'node', '--enable-source-maps', 'dist/src/main.js']);
    const ignore = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', 'dist', '.git', '.env']));
    for (const needed of ['src', 'commands', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      expect(ignore).not.toContain(needed);
    // The deployments run the image as the Dockerfile's user.
    const [d] = ofKind(rendered('overlays/all-in-one'), 'Deployment');
    expect(d!.spec.template.spec.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001 });
  });
});
