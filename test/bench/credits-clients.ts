// Bench child: API clients asking for a month's credits back to back (a 429 waits as long as Retry-After says), in
// their own process, as clients elsewhere would be: reading megabytes of answers in the bench's process delayed its
// own timed scrapes of /metrics (its event loop was busy with the answers' bodies).
import { fromParent, tellParent, yieldCpuIfAsked } from './children.js';
import { sleep } from './figures.js';

yieldCpuIfAsked();

/** What the clients say when told to stop. */
export interface CreditsClientsResult {
  /** Answers by HTTP status ('failed': no answer; 'aborted_at_end': asked when told to stop). */
  statuses: Record<string, number>;
  /** Time to the last byte of each 200 answer. */
  answeredMs: number[];
}

/** How long the clients' requests in flight may take to end once told to stop. */
const STOP_GRACE_MS = 2_000;

const [url, month, token, clientsText, mode] = process.argv.slice(2) as [string, string, string, string, string];
/** 'conditional': each client sends its last answer's ETag, as a polling client would (304 while it holds). */
const conditional = mode === 'conditional';
const stop = new AbortController();
const statuses: Record<string, number> = {};
const answeredMs: number[] = [];
const count = (status: string) => {
  statuses[status] = (statuses[status] ?? 0) + 1;
};

async function client(): Promise<void> {
  let etag: string | null = null;
  while (!stop.signal.aborted) {
    const startedMs = performance.now();
    try {
      const response = await fetch(`${url}/api/v1/credits?month=${month}`, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(conditional && etag !== null ? { 'if-none-match': etag } : {}),
        },
        signal: stop.signal,
      });
      await response.arrayBuffer();
      count(String(response.status));
      if (response.status === 200) {
        etag = response.headers.get('etag');
        answeredMs.push(performance.now() - startedMs);
      } else if (response.status !== 304) {
        const retryAfterS = Number(response.headers.get('retry-after'));
        await sleep(response.status === 429 && retryAfterS > 0 ? retryAfterS * 1_000 : 1_000);
      }
    } catch {
      count(stop.signal.aborted ? 'aborted_at_end' : 'failed');
      if (!stop.signal.aborted) await sleep(1_000);
    }
  }
}

const running = Promise.all(Array.from({ length: Number(clientsText) }, client));
await tellParent('ready', {});
await fromParent<'stop'>();
stop.abort();
// A body being inflated when the abort came may never settle (undici's fetch, seen with gzip answers), and with
// nothing else pending the process would exit without its result: what was counted so far is the result.
await Promise.race([running, sleep(STOP_GRACE_MS)]);
await tellParent('result', { statuses, answeredMs } satisfies CreditsClientsResult);
process.exit(0);
