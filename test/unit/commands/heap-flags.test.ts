// The V8 settings `start` makes at run time are real flags of the V8 this Node carries: setFlagsFromString only
// prints an unknown one to stderr, so a Node upgrade that dropped one would go unnoticed without this.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_FLAGS } from '../../../src/commands/start.js';

describe('start: V8 heap flags', () => {
  it('names only flags this V8 knows', () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    const names = HEAP_FLAGS.map((flag) => flag.replace(/^--(no-)?/, '').replace(/=.*$/, ''));
    expect(names).toContain('allocation-site-pretenuring');
    for (const name of names) expect(known).toContain(`  --${name} (`);
  });
});
