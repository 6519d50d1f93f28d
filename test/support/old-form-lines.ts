// Lines as the store wrote them before the gap marks (src/store/influx/gap-marks.ts): every point carried `gap_ms`,
// its gap to the series' previous point as the writer knew it, or -1 when down or unknown. Databases written then
// are still read; tests and the bench write such lines to check that.
import type { Observation } from '../../src/sla/types.js';
import { EMPTY_CHECK } from '../../src/store/influx/line-protocol.js';

/** The old line of `o` after its series' last written time `lastMs`. Names must need no escaping. */
export function oldFormLine(measurement: string, o: Observation, lastMs: number | undefined): string {
  const gapMs = o.up && lastMs !== undefined && o.timeMs > lastMs ? o.timeMs - lastMs : -1;
  const error = o.error === undefined ? '' : `error="${o.error}",`;
  const latency = o.latencyMs === undefined ? '' : `latency_ms=${o.latencyMs}i,`;
  const check = o.check === '' ? EMPTY_CHECK : o.check;
  return `${measurement},check=${check},location=${o.location},server=${o.server} ${error}gap_ms=${gapMs}i,${latency}up=${o.up ? 1 : 0}i ${o.timeMs}`;
}
