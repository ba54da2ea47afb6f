/**
 * Issue 7 proxy authentication over real sockets: 407 with the challenge, Basic credentials checked against salted
 * scrypt hashes, the header never forwarded and never logged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/access/password.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, eventually, header } from '../helpers/raw.js';

const { track } = useCleanup();

let users: { username: string; passwordHash: string }[] = [];

const PASSWORD = 'corr3ct-h0rse';
const basic = (user: string, pw: string): string => Buffer.from(`${user}:${pw}`).toString('base64');

beforeAll(async () => {
  // A cheap cost keeps the test fast; the format carries it, production hashes use N = 2^14.
  users = [{ username: 'alice', passwordHash: await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }) }];
});

async function connect(port: number): Promise<RawClient> {
  return track(await RawClient.connect(port));
}

describe('Proxy-Authorization: Basic (enabled by access.users)', () => {
  it('no credentials → 407 with Proxy-Authenticate; right credentials on the same connection → 200', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { users, realm: 'staging proxy' } }));
    const c = await connect(proxy.port);
    c.write(`GET ${origin.url}/x HTTP/1.1\r\nHost: x\r\n\r\n`);
    const challenge = await c.readResponse();
    expect(challenge.status).toBe(407);
    expect(header(challenge, 'proxy-authenticate')).toEqual(['Basic realm="staging proxy", charset="UTF-8"']);
    expect(header(challenge, 'connection')).toEqual(['keep-alive']); // a bodyless 407 keeps the connection, like curl expects
    expect(origin.seen).toHaveLength(0);
    c.write(`GET ${origin.url}/x HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${basic('alice', PASSWORD)}\r\n\r\n`);
    const ok = await c.readResponse();
    expect(ok.status).toBe(200);
    // Never forwarded (SPEC §1.1), in any spelling.
    expect(header(origin.seen[0]!, 'proxy-authorization')).toEqual([]);
  });

  it.each([
    { name: 'wrong password', value: () => `Basic ${basic('alice', 'guess')}` },
    { name: 'unknown user', value: () => `Basic ${basic('bob', PASSWORD)}` },
    { name: 'other scheme', value: () => 'Bearer abc' },
    { name: 'broken base64', value: () => 'Basic @@@' },
  ])('$name → 407, nothing upstream', async ({ value }) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { users } }));
    const c = await connect(proxy.port);
    c.write(`GET ${origin.url}/x HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${value()}\r\n\r\n`);
    expect((await c.readResponse()).status).toBe(407);
    expect(origin.seen).toHaveLength(0);
  });

  it('a refused request with a body closes the connection instead of draining it', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { users } }));
    const c = await connect(proxy.port);
    c.write(`POST ${origin.url}/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello`);
    const res = await c.readResponse();
    expect(res.status).toBe(407);
    expect(header(res, 'connection')).toEqual(['close']);
    await c.waitClosed();
  });

  it('answers even Max-Forwards: 0 only after authentication (TRACE would echo the request)', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { users } }));
    const c = await connect(proxy.port);
    c.write(`TRACE ${origin.url}/x HTTP/1.1\r\nHost: x\r\nMax-Forwards: 0\r\n\r\n`);
    expect((await c.readResponse()).status).toBe(407);
  });

  it('never logs the credentials, and logs the denial', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { users } }));
    const c = await connect(proxy.port);
    const token = basic('alice', 'wrong-pass');
    c.write(`GET ${origin.url}/x HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${token}\r\n\r\n`);
    await c.readResponse();
    c.write(`GET ${origin.url}/y HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${basic('alice', PASSWORD)}\r\n\r\n`);
    await c.readResponse();
    await eventually(() => proxy.logs.filter((l) => l.event === 'request').length === 2, 2000, 'two access-log entries');
    const text = JSON.stringify(proxy.logs);
    for (const secret of [token, basic('alice', PASSWORD), 'wrong-pass', PASSWORD]) expect(text).not.toContain(secret);
    expect(proxy.logs.filter((l) => l.event === 'access-denied')).toEqual([
      expect.objectContaining({ kind: 'auth', reason: 'invalid credentials', conn: 1, remote: '127.0.0.1' }),
    ]);
  });

  it('many connections sending the same new credentials at once all pass (one scrypt run shared)', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { users } }));
    const port = proxy.port;
    const url = origin.url;
    const statuses = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const c = await connect(port);
        c.write(`GET ${url}/p HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${basic('alice', PASSWORD)}\r\n\r\n`);
        return (await c.readResponse()).status;
      }),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
  });
});
