import { describe, expect, it } from 'vitest';
import { Signer } from '../../src/security/signing.js';
import { openSecretArgs, sealSecretArgs } from '../../src/command/secret-args.js';
import { loadVerbs } from '../../src/command/registry.js';
import type { Config } from '../../src/config/schema.js';

const OLD = 'old-key-0123456789abcdef0123456789abcdef';
const NEW = 'new-key-0123456789abcdef0123456789abcdef';

describe('sealed values', () => {
  it('opens under the same request, with the current or the previous key, and never shows the value', () => {
    const before = new Signer({ current: OLD });
    const during = new Signer({ current: NEW, previous: OLD });
    const after = new Signer({ current: NEW });
    const sealed = before.sealer.seal({ words: ['DB_PASSWORD=hunter2'] }, 'req-1');
    expect(sealed).toMatch(/^s1\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('hunter2');
    expect(Buffer.from(sealed.split('.')[2]!, 'base64url').toString('latin1')).not.toContain('hunter2');
    expect(during.sealer.open(sealed, 'req-1')).toEqual({ words: ['DB_PASSWORD=hunter2'] });
    expect(after.sealer.open(sealed, 'req-1'), 'a retired key').toBeUndefined();
    expect(during.sealer.open(sealed, 'req-2'), 'moved to another request').toBeUndefined();
    // The next-to-last character: all its bits count (the last one's low bits are padding). Always a different one.
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.slice(-1)}`;
    expect(flipped).not.toBe(sealed);
    expect(during.sealer.open(flipped, 'req-1'), 'edited').toBeUndefined();
    expect(during.sealer.open('s1.x.y', 'req-1')).toBeUndefined();
    expect(during.sealer.seal('x', 'r')).not.toBe(during.sealer.seal('x', 'r'));
  });

  it('masks secret config values in what Redis keeps in clear, and refuses sealed arguments that do not match them', async () => {
    const config = (await loadVerbs()).get('config')!;
    const cfg = { apps: { myapp: { secretKeys: ['DB_PASSWORD'] } } } as unknown as Config;
    const signer = new Signer({ current: NEW });
    const raw = { app: 'myapp', env: 'prod', action: 'set', words: ['DB_PASSWORD=hunter2', 'LOG_LEVEL=debug'] };
    const split = sealSecretArgs(config, raw, cfg, signer, 'req-1');
    expect(split.args).toEqual({ ...raw, words: ['DB_PASSWORD=••••••', 'LOG_LEVEL=debug'] });
    expect(openSecretArgs(config, split, cfg, signer, 'req-1')).toEqual(raw);
    // Masked args of another change with these sealed ones: refused.
    expect(openSecretArgs(config, { ...split, args: { ...split.args, env: 'beta' } }, cfg, signer, 'req-1')).toBeUndefined();
    // Nothing secret: nothing sealed.
    expect(sealSecretArgs(config, { ...raw, words: ['LOG_LEVEL=debug'] }, cfg, signer, 'req-1')).toEqual({
      args: { ...raw, words: ['LOG_LEVEL=debug'] },
    });
    expect(sealSecretArgs(config, { ...raw, action: 'unset', words: ['DB_PASSWORD'] }, cfg, signer, 'r').sealedArgs).toBeUndefined();
  });
});
