// `uptime-credits deliver`: shows what was e-mailed for a month, sends what is still owed, or sends again on request.
// The close instance of the daemon sends on its own; this is the person's view and hand.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import { createDeliverer } from '../delivery/deliverer.js';
import { createSmtpMailer } from '../delivery/mailer.js';
import { createLogger } from '../logging.js';
import { SqliteCloseRecords } from '../state/close-records.js';
import { SqliteDeliveryRecords, type DeliveryRecord } from '../state/delivery-records.js';
import { isMonth } from '../sla/month.js';
import { formatTextTable } from '../text-table.js';
import { createPortalLinkSigner, portalSecretFromEnv } from '../web/portal-links.js';
import { loadCommandConfig } from './context.js';

function deliveryJson(d: DeliveryRecord, timeZone: string) {
  return {
    month: d.month,
    revision: d.revision,
    recipient: d.recipient,
    address: d.address ?? null,
    state: d.state,
    attempts: d.attempts,
    messageId: d.messageId,
    sentAt: d.sentAtMs === undefined ? null : DateTime.fromMillis(d.sentAtMs, { zone: timeZone }).toISO(),
    nextAttemptAt: d.state === 'pending' ? DateTime.fromMillis(d.nextAttemptAtMs, { zone: timeZone }).toISO() : null,
    lastError: d.lastError ?? null,
  };
}

export function registerDeliver(program: Command): void {
  program
    .command('deliver')
    .description(
      "show a month's report e-mails (customers and finance) and send those still owed: once per revision and recipient",
    )
    .requiredOption('--month <YYYY-MM>', 'the month')
    .option('--customer <id>', 'only this customer')
    .option('--resend', 'send again what was sent or refused (new Message-IDs)')
    .option('--list', 'only show what is recorded; plan and send nothing')
    .option('--json', 'print JSON')
    .action(
      async (
        options: { month: string; customer?: string; resend?: boolean; list?: boolean; json?: boolean },
        command: Command,
      ) => {
        const logger = createLogger();
        const config = loadCommandConfig(command, logger);
        if (!isMonth(options.month)) throw new Error(`--month: "${options.month}" is not a month (YYYY-MM)`);
        if (options.customer !== undefined && !config.customers.some((c) => c.id === options.customer)) {
          process.stderr.write(
            `uptime-credits: --customer: no customer "${options.customer}" in ${config.sourcePath}\n`,
          );
          process.exitCode = 2;
          return;
        }
        const delivery = config.delivery;
        if (!delivery && !options.list) {
          process.stderr.write(
            `uptime-credits: e-mail delivery is not configured: add a delivery section to ${config.sourcePath} (README, "E-mail delivery")\n`,
          );
          process.exitCode = 2;
          return;
        }
        const closeRecords = SqliteCloseRecords.open(config.state.path);
        const deliveries = SqliteDeliveryRecords.open(config.state.path);
        const filter = {
          month: options.month,
          ...(options.customer !== undefined ? { customerId: options.customer } : {}),
        };
        let summary = '';
        try {
          if (delivery && !options.list) {
            const mailer = createSmtpMailer(delivery);
            try {
              const secret = portalSecretFromEnv(config.portal.secretEnv);
              const deliverer = createDeliverer({
                config: { ...config, delivery },
                closeRecords,
                deliveries,
                mailer,
                portalLinks: createPortalLinkSigner(
                  secret,
                  config.http.publicUrl ?? `http://${config.http.listen}:${config.http.port}`,
                ),
                logger,
                owner: `${hostname()}:${process.pid}:deliver`,
                now: () => Date.now(),
              });
              const planned = deliverer.planMonth(options.month);
              const resent = options.resend ? deliverer.resend(options.month, options.customer) : [];
              const pass = await deliverer.send({ ...filter, dueOnly: false });
              summary = `planned ${planned} new, ${resent.length} to send again; sent ${pass.sent}, failed for now ${pass.retried}, refused ${pass.failed}`;
            } finally {
              mailer.close();
            }
          }
          const listed = deliveries.list(filter);
          if (options.json) {
            process.stdout.write(
              `${JSON.stringify({ month: options.month, deliveries: listed.map((d) => deliveryJson(d, config.timeZone)) }, null, 2)}\n`,
            );
          } else if (listed.length === 0) {
            process.stdout.write(
              `nothing to deliver for ${options.month}: no issued revision with its files written\n`,
            );
          } else {
            const rows = listed.map((d) => [
              String(d.revision),
              d.recipient,
              d.address ?? '-',
              d.state,
              String(d.attempts),
              d.sentAtMs === undefined
                ? '-'
                : DateTime.fromMillis(d.sentAtMs, { zone: config.timeZone }).toFormat('yyyy-MM-dd HH:mm'),
              d.lastError ?? '',
            ]);
            process.stdout.write(
              `${formatTextTable(['revision', 'recipient', 'address', 'state', 'attempts', 'sent', 'last error'], rows, { rightAligned: new Set([0, 4]) }).join('\n')}\n`,
            );
            if (summary) process.stdout.write(`${summary}\n`);
          }
          // Anything not delivered makes the exit code 1, so a script notices.
          if (listed.some((d) => d.state !== 'sent')) process.exitCode = 1;
        } finally {
          deliveries.close();
          closeRecords.close();
        }
      },
    );
}

export function registerPortalLink(program: Command): void {
  program
    .command('portal-link')
    .description("print a signed link to a customer's portal page (to send by hand)")
    .requiredOption('--customer <id>', 'the customer')
    .option('--valid <days>', 'days the link works (default portal.linkValidity)')
    .action((options: { customer: string; valid?: string }, command: Command) => {
      const config = loadCommandConfig(command, createLogger());
      if (!config.customers.some((c) => c.id === options.customer))
        throw new Error(`--customer: no customer "${options.customer}" in ${config.sourcePath}`);
      if (config.http.publicUrl === undefined)
        throw new Error(`http.publicUrl is not set in ${config.sourcePath}: links are built from it`);
      const days = options.valid === undefined ? undefined : Number(options.valid);
      if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 3660))
        throw new Error(`--valid: "${options.valid}" is not a number of days (1-3660)`);
      const validMs = days === undefined ? config.portal.linkValidity : days * 86_400_000;
      const expiresAtMs = Date.now() + validMs;
      const signer = createPortalLinkSigner(portalSecretFromEnv(config.portal.secretEnv), config.http.publicUrl);
      process.stdout.write(`${signer.link(options.customer, expiresAtMs)}\n`);
      process.stderr.write(
        `works until ${DateTime.fromMillis(expiresAtMs, { zone: config.timeZone }).toFormat('yyyy-MM-dd HH:mm ZZ')}\n`,
      );
    });
}
