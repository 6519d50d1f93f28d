// Sending one message over SMTP (nodemailer), and telling a temporary failure from a final one: a 4xx reply or no
// connection is retried later; a 5xx reply (the server refused the message or the recipient) is reported.
import nodemailer from 'nodemailer';
import type { DeliveryConfig } from '../config/schema.js';
import type { MailContent } from './compose.js';

export interface OutgoingMail extends MailContent {
  to: string;
  messageId: string;
}

/** What the SMTP server said when it took the message. */
export interface SentReceipt {
  response: string;
}

/** An SMTP failure, classified. */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SentReceipt>;
  close(): void;
}

/**
 * How long a claimed message may stay `sending` before another sender takes it over (same Message-ID). A send is
 * abandoned after half of it (SEND_DEADLINE), so a live send never outlives its lease.
 */
export const deliveryLeaseMs = (delivery: Pick<DeliveryConfig, 'smtp'>) => 10 * delivery.smtp.timeout + 60_000;

/**
 * Whether nodemailer's error is final for this message: the server answered 5xx to it. Anything else (4xx, network,
 * timeout) is temporary, and so is a refused login (535): that is our configuration, not the message, and every
 * message of the pass would otherwise be marked refused.
 */
export function isPermanentSmtpError(error: { responseCode?: number; code?: string }): boolean {
  if (error.code === 'EAUTH') return false;
  return typeof error.responseCode === 'number' && error.responseCode >= 500 && error.responseCode < 600;
}

/** The password from the variable delivery.smtp.passwordEnv names, when a user is configured. */
function smtpAuth(smtp: DeliveryConfig['smtp'], env: NodeJS.ProcessEnv): { user: string; pass: string } | undefined {
  if (smtp.user === undefined) return undefined;
  const pass = env[smtp.passwordEnv];
  if (pass === undefined)
    throw new Error(
      `delivery.smtp.user is set but the environment variable ${smtp.passwordEnv} (delivery.smtp.passwordEnv) holds no password`,
    );
  return { user: smtp.user, pass };
}

export function createSmtpMailer(delivery: DeliveryConfig, env: NodeJS.ProcessEnv = process.env): Mailer {
  const { smtp } = delivery;
  const auth = smtpAuth(smtp, env);
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    // A password never crosses the network in clear: with a user, STARTTLS is required whatever requireTls says.
    requireTLS: smtp.requireTls || (auth !== undefined && !smtp.secure),
    tls: { rejectUnauthorized: smtp.tlsVerify },
    connectionTimeout: smtp.timeout,
    greetingTimeout: smtp.timeout,
    socketTimeout: smtp.timeout,
    ...(auth ? { auth } : {}),
  });
  return {
    async send(mail) {
      let deadline: NodeJS.Timeout | undefined;
      const deadlineMs = deliveryLeaseMs(delivery) / 2;
      try {
        const sending = transport.sendMail({
          from: delivery.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          attachments: mail.attachments.map((a) => ({
            filename: a.filename,
            content: a.content,
            contentType: a.contentType,
          })),
        });
        const info = await Promise.race([
          sending,
          new Promise<never>((_, reject) => {
            deadline = setTimeout(
              () =>
                reject(
                  Object.assign(new Error(`no answer from the SMTP server within ${deadlineMs / 1000} s`), {
                    code: 'ETIMEDOUT',
                  }),
                ),
              deadlineMs,
            );
          }),
        ]);
        return { response: String(info.response ?? '') };
      } catch (error) {
        const e = error as Error & { responseCode?: number; response?: string; code?: string };
        throw new SendError(e.response ?? e.message, isPermanentSmtpError(e));
      } finally {
        clearTimeout(deadline);
      }
    },
    close() {
      transport.close();
    },
  };
}
