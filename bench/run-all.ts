/** npm run bench: every benchmark, each printing its figures beside DESIGN.md's targets. */
import { benchAck } from './ack.js';
import { benchAlerts } from './alerts.js';
import { benchCharts } from './charts.js';
import { benchEnqueue } from './enqueue.js';
import { benchRollout } from './rollout.js';
import { benchReplicas } from './replicas.js';
import { benchStart } from './start.js';
import { benchStorm } from './storm.js';

const sections: Array<[string, () => Promise<string[]>]> = [
  ['ack', () => benchAck()],
  ['enqueue', () => benchEnqueue()],
  ['rollout', () => benchRollout()],
  ['alerts', () => benchAlerts()],
  ['storm', () => benchStorm()],
  ['charts', () => benchCharts()],
  ['start', () => benchStart()],
  ['replicas', async () => (await benchReplicas()).lines],
];

const only = process.argv.slice(2);
for (const [name, run] of sections) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  for (const line of await run()) console.log(line);
}
process.exit(0);
