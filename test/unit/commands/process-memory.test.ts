// The daemon process's memory settings: the V8 flags `start` sets at run time are real flags of the V8 this Node
// carries (setFlagsFromString only prints an unknown one to stderr, so a Node upgrade that dropped one would go
// unnoticed without this), and the allocator's, which only the environment can set, are the same in every place
// that starts the daemon as it ships.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HEAP_FLAGS, MALLOC_ENV, missingMallocSettings } from '../../../src/commands/process-memory.js';

const root = new URL('../../../', import.meta.url);
const assignments = Object.entries(MALLOC_ENV).map(([name, value]) => `${name}=${value}`);

describe('start: V8 heap flags', () => {
  it('names only flags this V8 knows', () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    const names = HEAP_FLAGS.map((flag) => flag.replace(/^--(no-)?/, '').replace(/=.*$/, ''));
    expect(names).toContain('allocation-site-pretenuring');
    for (const name of names) expect(known).toContain(`  --${name} (`);
  });
});

describe('start: the allocator settings', () => {
  it('npm start sets each of them on the daemon it starts', () => {
    const scripts = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts as Record<string, string>;
    const start = scripts.start ?? '';
    const command = start.slice(start.lastIndexOf('&&') + 2).trim();
    expect(command).toBe(`${assignments.join(' ')} node dist/src/cli.js start`);
  });

  it('the Docker image sets each of them', () => {
    const env = readFileSync(new URL('Dockerfile', root), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('ENV '))
      .flatMap((line) => line.slice(4).trim().split(/\s+/));
    for (const assignment of assignments) expect(env).toContain(assignment);
  });

  it('names the settings missing or different on Linux, none elsewhere', () => {
    expect(missingMallocSettings({}, 'linux')).toEqual(assignments);
    expect(missingMallocSettings({ ...MALLOC_ENV }, 'linux')).toEqual([]);
    expect(missingMallocSettings({ ...MALLOC_ENV, MALLOC_ARENA_MAX: '8' }, 'linux')).toEqual(['MALLOC_ARENA_MAX=2']);
    expect(missingMallocSettings({}, 'darwin')).toEqual([]);
  });
});
