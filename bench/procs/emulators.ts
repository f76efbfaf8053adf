/**
 * The Slack and Kubernetes emulators in a process of their own, for benchmarks whose
 * measured processes must not share a CPU queue with them. Prints one JSON line
 * ({ slackUrl, kubeconfig, config }) once both listen; stops on SIGTERM.
 *   npx tsx bench/procs/emulators.ts <dir> [namespaces,comma,separated]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startKubeEmulator } from '../../test/support/kube/index.js';
import { startSlackEmulator } from '../../test/support/slack/index.js';
import { BOT_TOKEN, E2E_CONFIG } from '../../test/support/harness.js';

const [dir = '.', namespaces = 'default,beta,prod', nodes = '3'] = process.argv.slice(2);
const kube = await startKubeEmulator({ namespaces: namespaces.split(','), nodes: Number(nodes) });
const slack = await startSlackEmulator({ botToken: BOT_TOKEN });
const kubeconfig = await kube.writeKubeconfig(join(dir, 'kubeconfig'), ['emulator']);
const config = join(dir, 'chatops.yaml');
await writeFile(config, E2E_CONFIG(kubeconfig));
process.stdout.write(`${JSON.stringify({ slackUrl: slack.url, kubeUrl: kube.url, kubeconfig, config })}\n`);
process.on('SIGTERM', () => {
  void Promise.all([slack.close(), kube.close()]).then(() => process.exit(0));
});
