// Which maintenance windows are excluded from eligible time (sla-terms.md rule 2: *announced* maintenance). The
// contract may require notice (sla.maintenanceNotice): a window announced later than that before it starts was
// not announced in the contract's sense, so its time stays eligible and the report says why.
import type { Interval } from './types.js';

export interface AnnouncedWindow extends Interval {
  /** When the customers were told; undefined when the configuration states the window was announced in time. */
  announcedAtMs?: number;
}

/** Whether a window was announced at least `noticeMs` before it starts. */
export const announcedInTime = (window: AnnouncedWindow, noticeMs: number): boolean =>
  window.announcedAtMs === undefined || window.announcedAtMs <= window.fromMs - noticeMs;
