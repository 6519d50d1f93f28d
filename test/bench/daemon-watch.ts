// What the whole-daemon bench reads from outside the daemon: series in a /metrics answer (found by prefix, not
// parsed whole: 10,000 servers make ~19 MB of text), and a process's CPU and memory from /proc.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux x64). */
const TICKS_PER_SECOND = 100;

/** The values of every sample whose line starts with `prefix` (a name, or a name and the start of its labels). */
export function samples(text: string, prefix: string): { line: string; value: number }[] {
  const found: { line: string; value: number }[] = [];
  let at = text.startsWith(prefix) ? 0 : text.indexOf(`\n${prefix}`);
  while (at >= 0) {
    const start = text[at] === '\n' ? at + 1 : at;
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? undefined : end);
    found.push({ line, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
    at = end < 0 ? -1 : text.indexOf(`\n${prefix}`, end);
  }
  return found;
}

/** The value of the series named exactly `series` (name and labels as printed), or undefined. */
export function sample(text: string, series: string): number | undefined {
  return samples(text, `${series} `)[0]?.value;
}

/** A histogram's cumulative buckets (upper bound, count), its count and sum. */
export interface Histogram {
  buckets: [number, number][];
  count: number;
  sum: number;
}

/** The unlabelled histogram `name` in a /metrics answer. */
export function histogram(text: string, name: string): Histogram {
  const buckets = samples(text, `${name}_bucket{le="`).map(({ line, value }): [number, number] => {
    const le = line.slice(line.indexOf('"') + 1, line.lastIndexOf('"'));
    return [le === '+Inf' ? Infinity : Number(le), value];
  });
  return { buckets, count: sample(text, `${name}_count`) ?? 0, sum: sample(text, `${name}_sum`) ?? 0 };
}

/**
 * The q-quantile (0-1) of what a histogram counted between two answers, interpolated inside a bucket as
 * Prometheus' histogram_quantile does; the largest finite bound when it falls in +Inf.
 */
export function quantileBetween(before: Histogram, after: Histogram, q: number): number {
  const counts = after.buckets.map(([le, n], i) => [le, n - (before.buckets[i]?.[1] ?? 0)] as const);
  const total = counts.at(-1)?.[1] ?? 0;
  if (total <= 0) return 0;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, n] of counts) {
    if (n >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(1, n - below);
    }
    lower = le;
    below = n;
  }
  return lower;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds the whole machine has been busy so far, all cores together (/proc/stat: all but idle and iowait). */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal: the busy ones are all but the 4th and 5th.
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + Number(t)), 0);
  return busy / TICKS_PER_SECOND;
}

/** Resident memory now and its peak (VmRSS, VmHWM), bytes. */
export function memory(pid: number): { rssBytes: number; peakBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(/\s(\d+) kB/.exec(status.slice(status.indexOf(`${key}:`)))?.[1] ?? 0);
  return { rssBytes: kib('VmRSS') * 1_024, peakBytes: kib('VmHWM') * 1_024 };
}

/** The pid of this process's child running `command` (e.g. influxd started by test/support), or undefined. */
export function childPid(command: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === command && parent === process.pid) return Number(entry);
    } catch {
      // The process ended while the list was read.
    }
  }
  return undefined;
}
