import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ProxyAuthenticator } from '../../src/access/authenticator.js';
import { hashPassword, verifyPassword } from '../../src/access/password.js';
import { parsePasswordHash, type PasswordHash } from '../../src/policy/index.js';
import { captureIo } from '../helpers/cli.js';

// Low cost in tests (2^10): the format carries the parameters, so verification uses whatever was stored.
const CHEAP = { N: 1024, r: 8, p: 1 };

function parsed(text: string): PasswordHash {
  const h = parsePasswordHash(text);
  if (typeof h === 'string') throw new Error(h);
  return h;
}

describe('hashPassword / verifyPassword', () => {
  it('hashes with a fresh salt in the stored format and verifies only the right password', async () => {
    const a = await hashPassword('correct horse', CHEAP);
    const b = await hashPassword('correct horse', CHEAP);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b); // salted
    expect(await verifyPassword('correct horse', parsed(a))).toBe(true);
    expect(await verifyPassword('correct horse', parsed(b))).toBe(true);
    expect(await verifyPassword('correct horsf', parsed(a))).toBe(false);
    expect(await verifyPassword('', parsed(a))).toBe(false);
  });

  it('uses the default cost (N = 2^14) when none is given', async () => {
    expect(await hashPassword('x')).toMatch(/^scrypt\$16384\$8\$1\$/);
  });
});

describe('ProxyAuthenticator', () => {
  const header = (user: string, pw: string) => ['Proxy-Authorization', `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`];

  it.each([
    { name: 'right credentials', raw: header('alice', 'pw1'), ok: true, reason: undefined },
    { name: 'wrong password', raw: header('alice', 'pw2'), ok: false, reason: 'invalid credentials' },
    { name: 'unknown user', raw: header('mallory', 'pw1'), ok: false, reason: 'invalid credentials' },
    { name: 'missing header', raw: [], ok: false, reason: 'proxy authentication required' },
    { name: 'other scheme', raw: ['Proxy-Authorization', 'Digest x'], ok: false, reason: 'only the Basic scheme is supported' },
  ])('$name', async ({ raw, ok, reason }) => {
    const auth = new ProxyAuthenticator([{ username: 'alice', passwordHash: await hashPassword('pw1', CHEAP) }], 'r');
    const out = await auth.check(raw);
    expect(out.ok).toBe(ok);
    if (!out.ok) expect(out.reason).toBe(reason);
  });

  it('remembers a verified credential (synchronous afterwards) and shares one verification between concurrent checks', async () => {
    const auth = new ProxyAuthenticator([{ username: 'alice', passwordHash: await hashPassword('pw1', CHEAP) }], 'r');
    const raw = header('alice', 'pw1');
    const first = auth.check(raw);
    const second = auth.check(raw);
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBe(first);
    expect(await first).toEqual({ ok: true });
    expect(auth.check(raw)).toEqual({ ok: true }); // cached: no promise, no scrypt
    expect(await auth.check(header('alice', 'nope'))).toMatchObject({ ok: false });
  });

  it('is disabled without users and says so in the challenge', () => {
    const auth = new ProxyAuthenticator([], 'staging "east"');
    expect(auth.enabled).toBe(false);
    expect(auth.check([])).toEqual({ ok: true });
    expect(auth.challenge).toBe('Basic realm="staging \\"east\\"", charset="UTF-8"');
  });
});

describe('hopwise hash-password', () => {
  async function run(input: string): Promise<{ code: number; out: string; err: string }> {
    const io = captureIo();
    const code = await main(['hash-password'], { env: {}, stdin: Readable.from([Buffer.from(input)]), stdout: io.stdout, stderr: io.stderr });
    return { code, out: io.out(), err: io.err() };
  }

  it('prints a verifiable hash of stdin without its trailing newline', async () => {
    const r = await run('s3cret pass\n');
    expect(r.code).toBe(0);
    const line = r.out.trim();
    expect(line).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(r.out).not.toContain('s3cret');
    expect(await verifyPassword('s3cret pass', parsed(line))).toBe(true);
  });

  it.each([
    { input: '', why: /empty password/ },
    { input: '\n', why: /empty password/ },
    { input: 'x'.repeat(5000), why: /longer than 4096/ },
  ])('refuses $why with exit 2', async ({ input, why }) => {
    const r = await run(input);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(why);
  });
});
