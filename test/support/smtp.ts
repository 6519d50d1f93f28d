// A real SMTP server on loopback inside the test process (the `smtp-server` package), keeping every message it
// accepted, parsed with `mailparser`. It can refuse recipients (550), fail for now (451), or be stopped and
// started again on the same port.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  raw: Buffer;
  parsed: ParsedMail;
  envelopeTo: string[];
}

export interface TestSmtp {
  port: number;
  received: ReceivedMail[];
  /** Recipients answered 550 at RCPT TO. */
  refuse: Set<string>;
  /** While true, every message is answered 451 after DATA. */
  failForNow: boolean;
  /** While set, DATA is never answered (a server that hangs after taking the message). */
  hangOnData: boolean;
  stop(): Promise<void>;
  /** Starts again on the same port. */
  start(): Promise<void>;
}

export async function startTestSmtp(port = 0): Promise<TestSmtp> {
  let server: SMTPServer | undefined;
  const smtp: TestSmtp = {
    port,
    received: [],
    refuse: new Set(),
    failForNow: false,
    hangOnData: false,
    async start() {
      server = new SMTPServer({
        secure: false,
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        size: 20 * 1024 * 1024,
        closeTimeout: 500,
        onRcptTo(address, _session, callback) {
          if (smtp.refuse.has(address.address)) {
            const error = new Error('mailbox unavailable') as Error & { responseCode: number };
            error.responseCode = 550;
            callback(error);
            return;
          }
          callback();
        },
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            if (smtp.hangOnData) return;
            if (smtp.failForNow) {
              const error = new Error('try again later') as Error & { responseCode: number };
              error.responseCode = 451;
              callback(error);
              return;
            }
            const raw = Buffer.concat(chunks);
            void simpleParser(raw).then((parsed) => {
              smtp.received.push({ raw, parsed, envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
              callback();
            }, callback);
          });
        },
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(smtp.port, '127.0.0.1', () => resolve());
      });
      smtp.port = (server.server.address() as AddressInfo).port;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await smtp.start();
  return smtp;
}
