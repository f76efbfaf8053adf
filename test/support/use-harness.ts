/**
 * One harness per test file: `const h = useHarness({ name, config })` at the top of the file starts it in a beforeAll and
 * stops it in an afterAll; `h` is used as the Harness itself. (Not re-exported from harness.ts: that file is also run
 * outside vitest by bench/, and importing vitest there would fail.)
 *
 * Hook order (vitest's default `sequence.hooks: 'stack'`, which vitest.config.ts keeps): beforeAll hooks run in the order
 * they are registered, afterAll hooks in reverse. So a `beforeAll` written after `useHarness` runs once the harness is up,
 * and an `afterAll` written after it runs before the harness stops; one written before it (say, a private Redis the
 * options name) starts before the harness and stops after it.
 */
import { afterAll, beforeAll } from 'vitest';
import { startHarness, type Harness, type HarnessOptions } from './harness.js';

type State = { kind: 'not started' } | { kind: 'running'; harness: Harness } | { kind: 'stopped' };

/**
 * Registers the beforeAll that starts the harness and the afterAll that stops it; returns a handle that forwards every
 * property to the running harness (so `h.chatops`, `h.eventsUrl`, … stay live across `h.restart()`), and throws a clear
 * error when used before the start or after the stop. `options` may be a function: it is called in the beforeAll, so it
 * can read what an earlier beforeAll made (a private Redis's URL, say).
 */
export function useHarness(options: HarnessOptions | (() => HarnessOptions)): Harness {
  let state: State = { kind: 'not started' };
  let label = typeof options === 'function' ? 'useHarness' : `useHarness('${options.name}')`;
  beforeAll(async () => {
    const resolved = typeof options === 'function' ? options() : options;
    label = `useHarness('${resolved.name}')`;
    state = { kind: 'running', harness: await startHarness(resolved) };
  });
  afterAll(async () => {
    const running = state.kind === 'running' ? state.harness : undefined;
    state = { kind: 'stopped' };
    await running?.stop();
  });
  const harness = (key: PropertyKey): Harness => {
    if (state.kind === 'running') return state.harness;
    const when = state.kind === 'stopped' ? 'after its afterAll stopped it' : 'before its beforeAll started it (or that start failed)';
    throw new Error(
      `${label}: the harness was used ${when} (reading ${String(key)}); use it only in tests and in hooks written after useHarness`,
    );
  };
  return new Proxy({} as Harness, {
    get(_, key) {
      // `await h` or returning h from an async function asks for `then`: the harness is no thenable, whatever its state.
      if (key === 'then') return undefined;
      const target = harness(key);
      return Reflect.get(target, key, target);
    },
    set(_, key, value) {
      const target = harness(key);
      return Reflect.set(target, key, value, target);
    },
    has(_, key) {
      return key in harness(key);
    },
  });
}
