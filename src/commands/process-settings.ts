// The settings of the long-running daemon process: V8's heap settings, which `start` makes at run time, and those
// only the process's start can make: glibc's allocator's (its environment) and the size of V8's thread pool (node's
// command line). npm start, the Dockerfile and the bench's daemon give the latter; test/unit/commands/
// process-settings.test.ts keeps them in step with this file. test/bench/README.md has the figures.

/**
 * V8 settings for a process that runs for months with a steady live heap, set at run time (V8 reads them at every
 * full collection, in the compute worker too).
 * - The heap may grow past what survived a full collection by half, not up to 4 times: full collections come about
 *   twice as often (the marking runs beside the program; none paused it 100 ms in the bench's runs), for ~60 MiB
 *   less at the resident peak.
 * - V8 compacts only the pages it finds fragmented. Compacting at every full collection (`--compact-on-every-full-gc`,
 *   used until the allocator's settings below) moved the whole live old generation each time: pauses of ~50 ms
 *   and, while both copies stood, a resident peak ~60-80 MiB above the steady figure.
 * - No allocation is moved to the old generation ahead of time on V8's guess that it will live long. Under load V8
 *   came to allocate the probes' short-lived objects (undici's requests, their headers) there, and the old generation
 *   grew ~10 MB/s, a full collection every ~6.5 s; without, ~4.7 MB/s and one every ~8.5 s.
 */
export const HEAP_FLAGS = ['--heap-growing-percent=50', '--no-allocation-site-pretenuring'];

/**
 * glibc's allocator, for a process whose threads pass large buffers to each other (the compute worker's answers,
 * the 19 MB exposition at 10,000 servers). By default a freed large block raises the size below which blocks come
 * from the arenas rather than from their own mapping, up to 32 MiB; from then on such buffers are carved out of
 * arenas that keep the freed memory, one arena per thread. A fixed threshold returns every block of 128 KiB or more
 * to the system when freed, and two arenas bound what the threads keep: ~90 MiB less resident at 10,000 servers.
 */
export const MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** The allocator settings missing from `env` on a Linux (glibc) process; none elsewhere. */
export function missingMallocSettings(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  if (platform !== 'linux') return [];
  return Object.entries(MALLOC_ENV)
    .filter(([name, value]) => env[name] !== value)
    .map(([name, value]) => `${name}=${value}`);
}

/**
 * Node options for the daemon that only node's command line (or NODE_OPTIONS) can give.
 * - One thread for V8's background work rather than four. The daemon's thread answers probes and scrapes; V8's pool
 *   marks its heap and the compute worker's beside it. On a machine whose cores are busy, four markers at the
 *   daemon's priority took the cores the daemon's thread was waiting for, and a scrape due during a full collection
 *   waited with them. One marker does the same work over a longer time: in three pairs of the bench's short runs at
 *   10,000 servers, scrape p95 62-66 ms against 70-84 ms and p99 85-112 ms against 142-167 ms; at full size, 2-3
 *   scrapes of 150 over 100 ms against 5. The daemon's CPU moved within the runs' spread.
 */
export const NODE_FLAGS = ['--v8-pool-size=1'];

/** NODE_FLAGS given neither on node's command line (`execArgv`) nor in NODE_OPTIONS. */
export function missingNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)]);
  return NODE_FLAGS.filter((flag) => !given.has(flag));
}
