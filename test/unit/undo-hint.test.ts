import { describe, expect, it } from 'vitest';
import scale from '../../commands/scale.js';
import deploy from '../../commands/deploy.js';

describe('undoHint', () => {
  it('scale says to scale back (a rollback does not restore replicas)', () => {
    expect(scale.undoHint?.({ app: 'myapp', env: 'beta' })).toBe(
      'To undo it afterwards, scale back with `/k8s scale myapp beta &lt;replicas&gt;`.',
    );
  });

  it('a verb a rollback undoes leaves it to the default', () => {
    expect('undoHint' in deploy).toBe(false);
  });
});
