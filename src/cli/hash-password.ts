/**
 * `hopwise hash-password` (issue 7): reads one password from stdin and prints its salted scrypt hash for
 * `access.users[].passwordHash`. The password is never an argument (it would land in shell history and `ps`); type it
 * without echo with the shell, for example:
 *
 *     read -rs PW && printf '%s' "$PW" | hopwise hash-password; unset PW
 *
 * Exactly one trailing newline is removed (`echo pw | hopwise hash-password` works too). Exit 0 with the hash on
 * stdout, 2 when the input is empty or too long.
 */
import { hashPassword } from '../access/password.js';

export interface HashPasswordIO {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Longest accepted input: a pass phrase, not a file. */
const MAX_BYTES = 4096;

async function readAll(stdin: NodeJS.ReadableStream): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    length += b.length;
    if (length > MAX_BYTES) return undefined;
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Run the command; resolves with the exit code. */
export async function hashPasswordCommand(io: HashPasswordIO): Promise<number> {
  if (io.stdin.isTTY === true) {
    io.stderr.write('hopwise: reading the password from stdin (it echoes on a terminal; see `read -rs` in docs/security.md), end with Ctrl-D\n');
  }
  const input = await readAll(io.stdin);
  if (input === undefined) {
    io.stderr.write(`hopwise: hash-password: input longer than ${MAX_BYTES} bytes\n`);
    return 2;
  }
  const password = input.toString('utf8').replace(/\r?\n$/, '');
  if (password === '') {
    io.stderr.write('hopwise: hash-password: empty password on stdin\n');
    return 2;
  }
  io.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}
