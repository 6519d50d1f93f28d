// E-mail of issued revisions: which messages a revision owes (planning), and sending them exactly once per (month,
// revision, recipient) through the delivery records (state/delivery-records.ts says how a crash is handled).
//
// A revision is planned once its files and journal rows are written, so what is attached is what is on disk. Revision
// 1 goes to every customer; a later one to the customers whose report it replaces (the others' figures did not
// change) and always to finance, with that revision's journal rows.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/types.js';
import type { DeliveryConfig } from '../config/schema.js';
import { manifestFileNames, revisionDir } from '../close/revision-files.js';
import type { Logger } from '../logging.js';
import { reportFileName } from '../reports/ledger.js';
import type { CloseRecords, RevisionRecord } from '../state/close-records.js';
import {
  customerRecipient,
  FINANCE_RECIPIENT,
  type DeliveryKey,
  type DeliveryRecord,
  type DeliveryRecords,
  type NewDelivery,
} from '../state/delivery-records.js';
import type { PortalLinkSigner } from '../web/portal-links.js';
import { customerMail, financeMail, type MailContent } from './compose.js';
import { deliveryLeaseMs, SendError, type Mailer, type SentReceipt } from './mailer.js';

/** The domain of the sender's address (`Name <sla@example.com>` -> example.com), for Message-IDs. */
export function senderDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return match?.[1]?.toLowerCase() ?? 'uptime-credits.invalid';
}

/**
 * The Message-ID of a delivery: the same for every attempt of one sending (so a message sent twice after a crash is
 * recognisably the same), a new one for each resend a person asks for.
 */
export function deliveryMessageId(key: DeliveryKey, sends: number, domain: string): string {
  const readable = key.recipient.replace(/[^A-Za-z0-9-]/g, '-');
  const digest = createHash('sha256')
    .update(`${key.month}\u0000${key.revision}\u0000${key.recipient}\u0000${sends}`)
    .digest('hex')
    .slice(0, 12);
  return `<uptime-credits.${key.month}.r${key.revision}.${readable}${sends > 1 ? `.resend-${sends - 1}` : ''}.${digest}@${domain}>`;
}

/** The wait before attempt `attempts + 1` after a temporary failure: retryAfter doubled per attempt, at most retryMax. */
export function retryDelayMs(attempts: number, delivery: Pick<DeliveryConfig, 'retryAfter' | 'retryMax'>): number {
  return Math.min(delivery.retryMax, delivery.retryAfter * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

export interface DeliveryPass {
  sent: number;
  retried: number;
  failed: number;
}

export interface Deliverer {
  /** Plans every finished revision issued since automatic delivery began; returns how many deliveries were new. */
  planIssued(): number;
  /**
   * Plans every finished revision of a month, whenever issued (a person asked), and gives undeliverable deliveries
   * the address the configuration has now; returns how many deliveries were new.
   */
  planMonth(month: string): number;
  /** Sends what is due (or, with dueOnly false, everything pending), claiming each message first. */
  send(
    filter?: { month?: string; customerId?: string; dueOnly?: boolean },
    shouldStop?: () => boolean,
  ): Promise<DeliveryPass>;
  /**
   * Makes the latest sent or refused delivery of each recipient of a month pending again, under a new Message-ID and
   * to the address configured now; returns them.
   */
  resend(month: string, customerId?: string): DeliveryRecord[];
}

export interface DelivererDeps {
  config: AppConfig & { delivery: DeliveryConfig };
  closeRecords: CloseRecords;
  deliveries: DeliveryRecords;
  mailer: Mailer;
  /** Makes the portal link of each customer's e-mail. */
  portalLinks?: PortalLinkSigner;
  logger: Logger;
  /** Who claims messages (host:pid), so two senders never take the same one. */
  owner: string;
  now: () => number;
  onAttempt?: (outcome: 'sent' | 'retry' | 'failed') => void;
}

export function createDeliverer(deps: DelivererDeps): Deliverer {
  const { config, closeRecords, deliveries, logger } = deps;
  const delivery = config.delivery;
  const domain = senderDomain(delivery.from);
  const leaseMs = deliveryLeaseMs(delivery);

  const plannedFor = (revision: RevisionRecord): NewDelivery[] | undefined => {
    if (revision.credits === null || !revision.filesWritten || !revision.journalWritten) return undefined;
    const names = manifestFileNames(config.reports.dir, revision.month, revision.revision);
    if (!names) return undefined;
    const files = new Set(names);
    const key = (recipient: string) => ({ month: revision.month, revision: revision.revision, recipient });
    const planned: NewDelivery[] = [];
    for (const credit of revision.credits.customers) {
      if (!files.has(reportFileName(credit.id))) continue; // its figures did not change in this revision
      const configured = config.customers.find((c) => c.id === credit.id);
      // The language the revision's own report was written in; the configuration's for revisions without terms.
      const language =
        revision.terms?.customers.find((c) => c.id === credit.id)?.language ?? configured?.language ?? 'pl';
      const address = configured?.email;
      const k = key(customerRecipient(credit.id));
      const base = { ...k, customerId: credit.id, language, messageId: deliveryMessageId(k, 1, domain) };
      planned.push(
        address === undefined
          ? { ...base, state: 'undeliverable', reason: `customer "${credit.id}" has no email in the configuration` }
          : { ...base, address, state: 'pending' },
      );
    }
    const k = key(FINANCE_RECIPIENT);
    planned.push({
      ...k,
      address: delivery.financeEmail,
      language: delivery.financeLanguage,
      messageId: deliveryMessageId(k, 1, domain),
      state: 'pending',
    });
    return planned;
  };

  const planRevisions = (revisions: RevisionRecord[]): number => {
    let added = 0;
    for (const revision of revisions) {
      const planned = plannedFor(revision);
      if (!planned) continue;
      added += deliveries.plan(planned, deps.now());
      for (const d of planned.filter((p) => p.state === 'undeliverable')) {
        logger.warn(
          { month: d.month, revision: d.revision, customer: d.customerId },
          `the ${d.month} report (revision ${d.revision}) cannot be e-mailed to customer "${d.customerId}": no email in the configuration`,
        );
      }
    }
    return added;
  };

  // Messages are claimed in (month, revision) order, so the revision read for one message serves the next ones (an
  // issued revision never changes); a month's figures are parsed once per revision, not once per recipient.
  let lastRevision: RevisionRecord | undefined;
  const revisionOf = (month: string, revision: number): RevisionRecord | undefined => {
    if (lastRevision?.month !== month || lastRevision.revision !== revision)
      lastRevision = closeRecords.revisions(month).find((r) => r.revision === revision);
    return lastRevision;
  };

  const compose = (record: DeliveryRecord): MailContent => {
    const revision = revisionOf(record.month, record.revision);
    if (!revision?.credits)
      throw new SendError(`${record.month} revision ${record.revision} has no figures in the state database`, true);
    const dir = revisionDir(config.reports.dir, record.month, record.revision);
    const read = (name: string) => {
      const path = join(dir, name);
      if (!existsSync(path)) throw new SendError(`${path} is missing`, true);
      return readFileSync(path);
    };
    const note = { month: record.month, revision: record.revision, reason: revision.reason };
    if (record.recipient === FINANCE_RECIPIENT) {
      return financeMail({
        note,
        totalGrosze: revision.totalGrosze,
        language: record.language,
        ledgerCsv: read('ledger.csv'),
        journalRows: closeRecords.journal(record.month).filter((row) => row.revision === record.revision),
        providerName: config.provider.name,
      });
    }
    const customerId = record.customerId;
    if (customerId === undefined) throw new SendError(`the delivery to ${record.recipient} names no customer`, true);
    const expiresAtMs = deps.now() + config.portal.linkValidity;
    return customerMail({
      note,
      credits: revision.credits,
      customerId,
      language: record.language,
      providerName: config.provider.name,
      pdf: read(reportFileName(customerId)),
      ...(deps.portalLinks ? { portal: { url: deps.portalLinks.link(customerId, expiresAtMs), expiresAtMs } } : {}),
    });
  };

  const sendOne = async (record: DeliveryRecord): Promise<'sent' | 'retry' | 'failed'> => {
    const where = {
      month: record.month,
      revision: record.revision,
      recipient: record.recipient,
      messageId: record.messageId,
      attempt: record.attempts,
    };
    let receipt: SentReceipt;
    try {
      const content = compose(record);
      if (record.address === undefined) throw new SendError(`the delivery to ${record.recipient} has no address`, true);
      receipt = await deps.mailer.send({ ...content, to: record.address, messageId: record.messageId });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof SendError && error.permanent) {
        if (!deliveries.finish(record, deps.owner, { state: 'failed', atMs: deps.now(), error: message }))
          logger.warn(where, 'the delivery was taken over by another sender meanwhile');
        logger.error(
          { ...where, to: record.address, err: message },
          `e-mail of the ${record.month} report (revision ${record.revision}) to ${record.recipient} was refused; it is not retried (\`uptime-credits deliver --month ${record.month} --resend\` once fixed)`,
        );
        return 'failed';
      }
      const waitMs = retryDelayMs(record.attempts, delivery);
      if (
        !deliveries.finish(record, deps.owner, {
          state: 'pending',
          atMs: deps.now(),
          nextAttemptAtMs: deps.now() + waitMs,
          error: message,
        })
      )
        logger.warn(where, 'the delivery was taken over by another sender meanwhile');
      logger.warn(
        { ...where, to: record.address, err: message, retryInMs: waitMs },
        `e-mail of the ${record.month} report to ${record.recipient} failed for now; retried in ${Math.round(waitMs / 1000)} s`,
      );
      return 'retry';
    }
    // Recorded outside the try: a failure to record a message the server took must not count as a failed send (it
    // would be sent again at once). The row stays `sending`; when its lease runs out it goes again, same Message-ID.
    if (!deliveries.finish(record, deps.owner, { state: 'sent', atMs: deps.now(), detail: receipt.response })) {
      logger.warn(
        { ...where, to: record.address },
        'the SMTP server took the message after its lease ran out and another sender took it over: it may arrive twice, with the same Message-ID',
      );
    }
    logger.info(
      { ...where, to: record.address },
      `e-mailed the ${record.month} report (revision ${record.revision}) to ${record.recipient}`,
    );
    return 'sent';
  };

  return {
    planIssued() {
      const since = deliveries.automaticSince(deps.now());
      let added = 0;
      for (const month of closeRecords.months()) {
        if (month.revision < 1) continue;
        let missing = false;
        for (let r = 1; r <= month.revision && !missing; r++) missing = !deliveries.isPlanned(month.month, r);
        if (!missing) continue;
        added += planRevisions(
          closeRecords
            .revisions(month.month)
            .filter((r) => r.closedAtMs >= since && !deliveries.isPlanned(r.month, r.revision)),
        );
      }
      return added;
    },
    planMonth(month) {
      // A customer who had no address when the month was planned and has one now is sent to.
      for (const d of deliveries
        .list({ month })
        .filter((x) => x.state === 'undeliverable' && x.customerId !== undefined)) {
        const address = config.customers.find((c) => c.id === d.customerId)?.email;
        if (address !== undefined && deliveries.readdress(d, address, deps.now()))
          logger.info(
            { month, revision: d.revision, customer: d.customerId },
            `customer "${d.customerId}" has an address now: ${address}`,
          );
      }
      return planRevisions(closeRecords.revisions(month).filter((r) => !deliveries.isPlanned(r.month, r.revision)));
    },
    async send(filter = {}, shouldStop = () => false) {
      const pass: DeliveryPass = { sent: 0, retried: 0, failed: 0 };
      const { dueOnly, ...which } = filter;
      if (dueOnly === false) deliveries.makeDue(deps.now(), which);
      // One message claimed at a time, so a lease never runs out while the message waits behind others; a retried
      // one is due later, so the loop ends.
      for (;;) {
        if (shouldStop()) return pass;
        const [record] = deliveries.claimDue(deps.owner, deps.now(), leaseMs, 1, which);
        if (!record) return pass;
        const outcome = await sendOne(record);
        deps.onAttempt?.(outcome);
        if (outcome === 'sent') pass.sent++;
        else if (outcome === 'retry') pass.retried++;
        else pass.failed++;
      }
    },
    resend(month, customerId) {
      // The latest revision each recipient was sent or refused (an earlier revision's report is superseded), to the
      // address the configuration has now (a refused address may have been corrected).
      const latest = new Map<string, DeliveryRecord>();
      for (const d of deliveries.list({ month, ...(customerId !== undefined ? { customerId } : {}) })) {
        if (d.state === 'sent' || d.state === 'failed') latest.set(d.recipient, d);
      }
      const again = [...latest.values()];
      for (const d of again) {
        const address =
          d.recipient === FINANCE_RECIPIENT
            ? delivery.financeEmail
            : (config.customers.find((c) => c.id === d.customerId)?.email ?? d.address);
        if (address === undefined)
          throw new Error(`the ${month} delivery to ${d.recipient} was ${d.state} without an address`);
        deliveries.resend(d, deliveryMessageId(d, d.sends + 1, domain), address, deps.now());
      }
      return again;
    },
  };
}
