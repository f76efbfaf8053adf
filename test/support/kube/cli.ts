/**
 * Run the Kubernetes API emulator as its own process (local sandbox, or benchmarks that must not count
 * the emulator's memory):  npx tsx test/support/kube/cli.ts --port 6443 --nodes 3 --namespaces default,beta,prod --kubeconfig ./kubeconfig
 */
import { parseArgs } from 'node:util';
import { startKubeEmulator, type EventMode } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    nodes: { type: 'string', default: '3' },
    namespaces: { type: 'string', default: 'default' },
    kubeconfig: { type: 'string', default: './kubeconfig.emulator' },
    contexts: { type: 'string', default: 'emulator' },
    events: { type: 'string', default: 'all' },
    'history-limit': { type: 'string', default: '10000' },
  },
});

const emu = await startKubeEmulator({
  port: Number(values.port),
  nodes: Number(values.nodes),
  namespaces: values.namespaces.split(',').filter(Boolean),
  events: values.events as EventMode,
  historyLimit: Number(values['history-limit']),
});
const path = await emu.writeKubeconfig(values.kubeconfig, values.contexts.split(',').filter(Boolean));
process.stdout.write(`${JSON.stringify({ url: emu.url, kubeconfig: path })}\n`);
const stop = (): void => {
  void emu.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
