// A loopback SMTP server that takes mail the way a relay does (EHLO, AUTH PLAIN, MAIL FROM, RCPT TO,
// DATA, QUIT) and keeps each message, its body decoded.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** user and password of AUTH PLAIN, when the client logged in. */
  auth: { username: string; password: string } | null;
  /** The message as sent (headers and base64 body), dot-stuffing undone. */
  data: string;
  subject: string;
  /** The body, decoded. */
  text: string;
}

export interface SmtpReceiver {
  port: number;
  received: ReceivedMail[];
  close(): Promise<void>;
}

function decodeHeader(value: string): string {
  return value.replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, encoded: string) => Buffer.from(encoded, 'base64').toString('utf8'));
}

function parseMessage(data: string): { subject: string; text: string } {
  const [head = '', body = ''] = data.split(/\r\n\r\n/, 2);
  const subject = decodeHeader(/^Subject: (.*)$/m.exec(head)?.[1]?.trim() ?? '');
  const base64 = /^Content-Transfer-Encoding: base64/im.test(head);
  return { subject, text: base64 ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : body };
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const received: ReceivedMail[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setEncoding('utf8');
    let buffer = '';
    let inData = false;
    let mail: { from: string; to: string[]; auth: ReceivedMail['auth'] } = { from: '', to: [], auth: null };
    const say = (line: string) => socket.write(`${line}\r\n`);
    say('220 fake-smtp ESMTP ready');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const data = buffer.slice(0, end).replace(/^\.\./gm, '.');
          buffer = buffer.slice(end + 5);
          inData = false;
          received.push({ ...mail, data, ...parseMessage(data) });
          mail = { from: '', to: [], auth: mail.auth };
          say('250 2.0.0 queued');
          continue;
        }
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') say('250-fake-smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME');
        else if (verb === 'AUTH') {
          const [, mechanism, payload = ''] = line.split(' ');
          const [, username = '', password = ''] = Buffer.from(payload, 'base64').toString('utf8').split('\u0000');
          if (mechanism !== 'PLAIN') say('504 unrecognised mechanism');
          else {
            mail.auth = { username, password };
            say('235 2.7.0 authenticated');
          }
        } else if (line.toUpperCase().startsWith('MAIL FROM:')) {
          mail.from = line.slice(10).replace(/[<>]/g, '');
          say('250 2.1.0 ok');
        } else if (line.toUpperCase().startsWith('RCPT TO:')) {
          mail.to.push(line.slice(8).replace(/[<>]/g, ''));
          say('250 2.1.5 ok');
        } else if (verb === 'DATA') {
          inData = true;
          say('354 end data with <CR><LF>.<CR><LF>');
        } else if (verb === 'QUIT') {
          say('221 2.0.0 bye');
          socket.end();
        } else say('502 command not implemented');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
