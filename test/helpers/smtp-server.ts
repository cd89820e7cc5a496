import type { AddressInfo } from 'node:net';

import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

/** One mail the server accepted, parsed back, with the SMTP envelope it came with. */
export interface ReceivedMail {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  readonly user: string | undefined;
  readonly parsed: ParsedMail;
}

/**
 * What the server does next. Change the fields between sends; they are read at each command.
 * - `rejectRecipients`: RCPT TO of these addresses gets 550 (a permanent, per-recipient no).
 * - `tempFailures`: the next N messages get 451 at DATA (then it decrements).
 * - `hang`: stop answering after RCPT TO (a stuck server), until the connection drops.
 */
export interface SmtpScript {
  rejectRecipients: Set<string>;
  tempFailures: number;
  hang: boolean;
}

export interface TestSmtpServer {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** `smtp://user:password@127.0.0.1:port` (credentials URL-encoded). */
  readonly url: string;
  readonly script: SmtpScript;
  /** Every accepted mail, in arrival order. */
  readonly mails: ReceivedMail[];
  /** Client connections the server holds right now. */
  openConnections(): number;
  /**
   * An outage: close the listener and cut every open connection, so connecting is refused
   * (ECONNREFUSED) until `accept()` listens on the same port again.
   */
  refuse(): Promise<void>;
  accept(): Promise<void>;
  /** Resolve once `count` mails have arrived (or reject after `timeoutMs`). */
  waitForMails(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

function smtpError(code: number, text: string): SMTPServerError {
  const err: SMTPServerError = new Error(text);
  err.responseCode = code;
  return err;
}

/**
 * A real SMTP server on 127.0.0.1 (random port) with AUTH PLAIN/LOGIN over plain text (no
 * STARTTLS, so no certificates), recording what it receives, parsed with mailparser.
 */
export async function startSmtpServer(options: { user?: string; password?: string } = {}): Promise<TestSmtpServer> {
  const user = options.user ?? 'mailer';
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}-s3cr3t`;
  const script: SmtpScript = { rejectRecipients: new Set(), tempFailures: 0, hang: false };
  const mails: ReceivedMail[] = [];
  const waiters = new Set<() => void>();

  const makeServer = () =>
    new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      // The reverse lookup of 127.0.0.1 costs ~300 ms per connection on this box.
      disableReverseLookup: true,
      logger: false,
      // Stuck sessions are cut at close() quickly, so a test never waits for them.
      closeTimeout: 200,
      onAuth(auth, _session, callback) {
        if (auth.username === user && auth.password === password) callback(null, { user });
        else callback(smtpError(535, 'Authentication credentials invalid'));
      },
      onRcptTo(address, _session, callback) {
        if (script.hang) return; // never answer
        if (script.rejectRecipients.has(address.address.toLowerCase())) {
          callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`));
          return;
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (script.tempFailures > 0) {
            script.tempFailures -= 1;
            callback(smtpError(451, '4.3.0 Temporary local problem, try again later'));
            return;
          }
          const raw = Buffer.concat(chunks);
          simpleParser(raw, { keepCidLinks: true })
            .then((parsed) => {
              mails.push({
                envelope: {
                  from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
                  to: session.envelope.rcptTo.map((r) => r.address),
                },
                user: typeof session.user === 'string' ? session.user : undefined,
                parsed,
              });
              for (const w of waiters) w();
              callback(null, 'queued');
            })
            .catch((err: unknown) => callback(smtpError(554, `unparseable message: ${String(err)}`)));
        });
      },
    });
  const listen = async (at: number): Promise<SMTPServer> => {
    const s = makeServer();
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.listen(at, '127.0.0.1', () => resolve()));
    return s;
  };
  let server: SMTPServer | null = await listen(0);
  const port = (server.server.address() as AddressInfo).port;
  const closeServer = async () => {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  return {
    port,
    user,
    password,
    url: `smtp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    script,
    mails,
    openConnections: () => server?.connections.size ?? 0,
    refuse: closeServer,
    async accept() {
      server ??= await listen(port);
    },
    waitForMails(count, timeoutMs = 5000) {
      if (mails.length >= count) return Promise.resolve(mails.slice());
      return new Promise((resolve, reject) => {
        const check = () => {
          if (mails.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(mails.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} mails within ${timeoutMs} ms, got ${mails.length}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: closeServer,
  };
}
