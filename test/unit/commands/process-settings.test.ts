// The daemon process's settings: the V8 flags `start` sets at run time are real flags of the V8 this Node carries
// (setFlagsFromString only prints an unknown one to stderr, so a Node upgrade that dropped one would go unnoticed
// without this), and the allocator's and node's, which only the process's start can give, are the same in every
// place that starts the daemon as it ships.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  HEAP_FLAGS,
  MALLOC_ENV,
  missingMallocSettings,
  missingNodeFlags,
  NODE_FLAGS,
} from '../../../src/commands/process-settings.js';

const root = new URL('../../../', import.meta.url);
const assignments = Object.entries(MALLOC_ENV).map(([name, value]) => `${name}=${value}`);
const dockerfile = () => readFileSync(new URL('Dockerfile', root), 'utf8').split('\n');

describe('start: V8 heap flags', () => {
  it('names only flags this V8 knows', () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    const names = HEAP_FLAGS.map((flag) => flag.replace(/^--(no-)?/, '').replace(/=.*$/, ''));
    expect(names).toContain('allocation-site-pretenuring');
    for (const name of names) expect(known).toContain(`  --${name} (`);
  });
});

describe('start: the allocator settings and node options', () => {
  it('npm start gives each of them to the daemon it starts', () => {
    const scripts = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts as Record<string, string>;
    const start = scripts.start ?? '';
    const command = start.slice(start.lastIndexOf('&&') + 2).trim();
    expect(command).toBe(`${assignments.join(' ')} node ${NODE_FLAGS.join(' ')} dist/src/cli.js start`);
  });

  it('the Docker image sets each of them', () => {
    const env = dockerfile()
      .filter((line) => line.startsWith('ENV '))
      .flatMap((line) => line.slice(4).trim().split(/\s+/));
    for (const assignment of assignments) expect(env).toContain(assignment);
  });

  it("the Docker image's entry point gives node's options", () => {
    const entrypoint = dockerfile().find((line) => line.startsWith('ENTRYPOINT '));
    expect(JSON.parse(entrypoint?.slice('ENTRYPOINT '.length) ?? '[]')).toEqual([
      'node',
      ...NODE_FLAGS,
      'dist/src/cli.js',
    ]);
  });

  it.runIf(process.platform === 'linux')("node takes its options: V8's pool has one thread, not four", () => {
    const threads = (flags: readonly string[]) => {
      const run = spawnSync(
        process.execPath,
        [...flags, '-e', "process.stdout.write(String(require('node:fs').readdirSync('/proc/self/task').length))"],
        { encoding: 'utf8' },
      );
      expect(run.stderr).toBe('');
      return Number(run.stdout);
    };
    expect(threads(['--v8-pool-size=4']) - threads(NODE_FLAGS)).toBe(3);
  });

  it("names node's options given neither on its command line nor in NODE_OPTIONS", () => {
    expect(missingNodeFlags([], undefined)).toEqual(NODE_FLAGS);
    expect(missingNodeFlags(['--enable-source-maps'], '--max-old-space-size=512')).toEqual(NODE_FLAGS);
    expect(missingNodeFlags([...NODE_FLAGS], undefined)).toEqual([]);
    expect(missingNodeFlags([], ` --max-old-space-size=512  ${NODE_FLAGS.join(' ')}`)).toEqual([]);
    expect(missingNodeFlags(['--v8-pool-size=4'], undefined)).toEqual(NODE_FLAGS);
  });

  it('names the settings missing or different on Linux, none elsewhere', () => {
    expect(missingMallocSettings({}, 'linux')).toEqual(assignments);
    expect(missingMallocSettings({ ...MALLOC_ENV }, 'linux')).toEqual([]);
    expect(missingMallocSettings({ ...MALLOC_ENV, MALLOC_ARENA_MAX: '8' }, 'linux')).toEqual(['MALLOC_ARENA_MAX=2']);
    expect(missingMallocSettings({}, 'darwin')).toEqual([]);
  });
});
