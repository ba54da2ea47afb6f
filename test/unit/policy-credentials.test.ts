import { describe, expect, it } from 'vitest';
import { basicChallenge, formatPasswordHash, parseBasicCredentials, parsePasswordHash } from '../../src/policy/index.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('parseBasicCredentials', () => {
  it.each([
    { name: 'plain', raw: ['Proxy-Authorization', `Basic ${b64('alice:s3cret')}`], out: { ok: true, username: 'alice', password: 's3cret' } },
    { name: 'scheme case-insensitive, name case-insensitive', raw: ['proxy-authorization', `bAsIc ${b64('a:b')}`], out: { ok: true, username: 'a', password: 'b' } },
    { name: 'colon in password', raw: ['Proxy-Authorization', `Basic ${b64('a:b:c')}`], out: { ok: true, username: 'a', password: 'b:c' } },
    { name: 'empty password', raw: ['Proxy-Authorization', `Basic ${b64('a:')}`], out: { ok: true, username: 'a', password: '' } },
    { name: 'UTF-8', raw: ['Proxy-Authorization', `Basic ${b64('zoë:pässwörd')}`], out: { ok: true, username: 'zoë', password: 'pässwörd' } },
    { name: 'surrounding whitespace', raw: ['Proxy-Authorization', `  Basic   ${b64('a:b')}  `], out: { ok: true, username: 'a', password: 'b' } },
    { name: 'missing', raw: ['Authorization', `Basic ${b64('a:b')}`], out: { ok: false, problem: 'missing' } },
    { name: 'two lines', raw: ['Proxy-Authorization', `Basic ${b64('a:b')}`, 'Proxy-Authorization', `Basic ${b64('c:d')}`], out: { ok: false, problem: 'malformed' } },
    { name: 'other scheme', raw: ['Proxy-Authorization', 'Bearer abc'], out: { ok: false, problem: 'not-basic' } },
    { name: 'scheme only', raw: ['Proxy-Authorization', 'Basic'], out: { ok: false, problem: 'malformed' } },
    { name: 'not base64', raw: ['Proxy-Authorization', 'Basic a:b'], out: { ok: false, problem: 'malformed' } },
    { name: 'bad padding', raw: ['Proxy-Authorization', 'Basic YTpi='], out: { ok: false, problem: 'malformed' } },
    { name: 'no colon', raw: ['Proxy-Authorization', `Basic ${b64('alice')}`], out: { ok: false, problem: 'malformed' } },
    { name: 'empty user', raw: ['Proxy-Authorization', `Basic ${b64(':pw')}`], out: { ok: false, problem: 'malformed' } },
  ])('$name', ({ raw, out }) => {
    expect(parseBasicCredentials(raw)).toMatchObject(out);
  });
});

describe('basicChallenge', () => {
  it.each([
    { realm: 'hopwise', out: 'Basic realm="hopwise", charset="UTF-8"' },
    { realm: 'a "quoted" \\ realm', out: 'Basic realm="a \\"quoted\\" \\\\ realm", charset="UTF-8"' },
    { realm: 'no\r\nsplit', out: 'Basic realm="nosplit", charset="UTF-8"' },
  ])('$realm', ({ realm, out }) => {
    expect(basicChallenge(realm)).toBe(out);
  });
});

describe('parsePasswordHash', () => {
  const salt = Buffer.alloc(16, 1).toString('base64');
  const hash = Buffer.alloc(32, 2).toString('base64');
  it('round-trips with formatPasswordHash', () => {
    const text = `scrypt$16384$8$1$${salt}$${hash}`;
    const parsed = parsePasswordHash(text);
    expect(typeof parsed).toBe('object');
    expect(formatPasswordHash(parsed as Exclude<typeof parsed, string>)).toBe(text);
  });
  it.each([
    { text: 'plaintext', why: /scrypt\$N\$r\$p\$salt\$hash/ },
    { text: `bcrypt$16384$8$1$${salt}$${hash}`, why: /scrypt\$N/ },
    { text: `scrypt$16000$8$1$${salt}$${hash}`, why: /power of two/ },
    { text: `scrypt$512$8$1$${salt}$${hash}`, why: /power of two between/ },
    { text: `scrypt$16384$0$1$${salt}$${hash}`, why: /r must be/ },
    { text: `scrypt$16384$8$x$${salt}$${hash}`, why: /decimal/ },
    { text: `scrypt$16384$8$1$!!$${hash}`, why: /base64/ },
    { text: `scrypt$16384$8$1$${Buffer.alloc(8).toString('base64')}$${hash}`, why: /at least 16 bytes/ },
  ])('$text is refused', ({ text, why }) => {
    const parsed = parsePasswordHash(text);
    expect(typeof parsed).toBe('string');
    expect(parsed).toMatch(why);
  });
});
