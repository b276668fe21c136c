// Just enough SMTP to hand one message to a relay (RFC 5321): EHLO, STARTTLS when asked, AUTH PLAIN,
// MAIL FROM, RCPT TO, DATA, QUIT. A library would bring a whole mailer for these few lines; every
// reply is checked, and any surprise ends the session with the server's own words.

import { connect as connectPlain, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { hostname } from 'node:os';
import { NotifyError } from './notifier.js';

export interface SmtpSession {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  auth: { username: string; password: string } | null;
  from: string;
  to: readonly string[];
  /** The message: headers, a blank line, the body; CRLF line ends. */
  data: string;
  signal: AbortSignal;
}

interface Reply {
  code: number;
  lines: string[];
}

/** Reads replies off a socket: whole multi-line replies (`250-…` … `250 …`), one at a time. */
class ReplyReader {
  private buffer = '';
  private replies: Reply[] = [];
  private waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private socket: Socket | TLSSocket;

  constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.attach(socket);
  }

  /** After STARTTLS: the same conversation over the encrypted socket. */
  attach(socket: Socket | TLSSocket): void {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.take(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let current: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\r\n')) >= 0 || (end = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, end).replace(/\r$/, '');
      this.buffer = this.buffer.slice(end + (this.buffer[end] === '\r' ? 2 : 1));
      current.push(line);
      if (!/^\d{3}-/.test(line)) {
        this.replies.push({ code: Number(line.slice(0, 3)) || 0, lines: current.map((l) => l.slice(4)) });
        current = [];
      }
    }
    // A partial multi-line reply waits for its last line.
    if (current.length > 0) this.buffer = `${current.join('\r\n')}\r\n${this.buffer}`;
    this.deliver();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.deliver();
  }

  private deliver(): void {
    if (!this.waiting) return;
    const reply = this.replies.shift();
    if (reply) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(reply);
    } else if (this.failure) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(this.failure);
    }
  }

  next(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.deliver();
    });
  }

  detach(): Socket | TLSSocket {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('error');
    this.socket.removeAllListeners('close');
    return this.socket;
  }
}

/** Sends one message; throws NotifyError with the step and the server's reply when it is refused. */
export async function sendMail(session: SmtpSession): Promise<void> {
  const socket = await open(session);
  const reader = new ReplyReader(socket);
  let live: Socket | TLSSocket = socket;
  const onAbort = () => live.destroy(new Error('no answer in time'));
  session.signal.addEventListener('abort', onAbort, { once: true });
  const expect = async (step: string, codes: number[]) => {
    const reply = await reader.next();
    if (!codes.includes(reply.code)) throw new NotifyError(`SMTP ${session.host}:${session.port} refused ${step}: ${reply.code} ${reply.lines.join(' ').slice(0, 200)}`);
    return reply;
  };
  const say = (line: string) => live.write(`${line}\r\n`);
  const me = hostname().replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
  try {
    await expect('the connection', [220]);
    say(`EHLO ${me}`);
    let hello = await expect('EHLO', [250]);
    if (session.tls === 'starttls') {
      if (!hello.lines.some((line) => /^STARTTLS\b/i.test(line))) throw new NotifyError(`SMTP ${session.host}:${session.port} does not offer STARTTLS (set tls: none only for a relay on this machine)`);
      say('STARTTLS');
      await expect('STARTTLS', [220]);
      live = await upgrade(reader.detach(), session.host);
      reader.attach(live);
      say(`EHLO ${me}`);
      hello = await expect('EHLO after STARTTLS', [250]);
    }
    if (session.auth) {
      const plain = Buffer.from(`\u0000${session.auth.username}\u0000${session.auth.password}`).toString('base64');
      say(`AUTH PLAIN ${plain}`);
      await expect('the login (AUTH PLAIN)', [235]);
    }
    say(`MAIL FROM:<${session.from}>`);
    await expect('the sender', [250]);
    for (const to of session.to) {
      say(`RCPT TO:<${to}>`);
      await expect(`the recipient ${to}`, [250, 251]);
    }
    say('DATA');
    await expect('DATA', [354]);
    // Dot-stuffing: a line of the message starting with "." must not end it.
    live.write(`${session.data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')}\r\n.\r\n`);
    await expect('the message', [250]);
    say('QUIT');
    await reader.next().catch(() => undefined);
  } catch (error) {
    if (error instanceof NotifyError) throw error;
    throw new NotifyError(`SMTP ${session.host}:${session.port}: ${session.signal.aborted ? 'no answer in time' : (error as Error).message}`);
  } finally {
    session.signal.removeEventListener('abort', onAbort);
    live.destroy();
  }
}

function open(session: SmtpSession): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = session.tls === 'implicit' ? connectTls({ host: session.host, port: session.port, servername: session.host }) : connectPlain({ host: session.host, port: session.port });
    const ready = session.tls === 'implicit' ? 'secureConnect' : 'connect';
    const failed = (error: Error & { code?: string }) => reject(new NotifyError(`SMTP ${session.host}:${session.port} unreachable: ${error.code ?? error.message}`));
    const aborted = () => socket.destroy(new Error('no answer in time'));
    session.signal.addEventListener('abort', aborted, { once: true });
    socket.once('error', failed);
    socket.once(ready, () => {
      session.signal.removeEventListener('abort', aborted);
      socket.off('error', failed);
      resolve(socket);
    });
  });
}

function upgrade(socket: Socket | TLSSocket, host: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = connectTls({ socket, servername: host });
    secure.once('secureConnect', () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', reject);
  });
}
