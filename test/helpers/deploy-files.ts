/**
 * Reads the deployment files (Dockerfile, deploy/kubernetes.yaml) the way the tests check them against the real CLI
 * and configuration: a small Dockerfile reader for the instructions that matter (exec-form JSON arrays only).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DockerfileFacts {
  /** One entry per FROM: the image, and the stage name when `AS name` is given. */
  readonly stages: readonly { image: string; name: string | undefined }[];
  readonly user: string | undefined;
  readonly expose: readonly number[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  /** The HEALTHCHECK's CMD, exec form. */
  readonly healthcheck: readonly string[];
  /** Sources of COPY instructions that copy from the build context (not `--from=`). */
  readonly contextCopies: readonly string[];
}

/** Instructions with `\` line continuations joined, comments and blank lines dropped. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    out.push(current + line);
    current = '';
  }
  return out;
}

function execForm(rest: string, what: string): string[] {
  const parsed: unknown = JSON.parse(rest);
  if (!Array.isArray(parsed)) throw new Error(`${what}: not exec form`);
  return parsed.map((x) => {
    if (typeof x !== 'string') throw new Error(`${what}: not exec form`);
    return x;
  });
}

export function parseDockerfile(text: string): DockerfileFacts {
  const stages: { image: string; name: string | undefined }[] = [];
  let user: string | undefined;
  const expose: number[] = [];
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let healthcheck: string[] = [];
  const contextCopies: string[] = [];
  for (const ins of instructions(text)) {
    const [keyword = '', ...words] = ins.split(/\s+/);
    const rest = ins.slice(keyword.length).trim();
    switch (keyword.toUpperCase()) {
      case 'FROM':
        stages.push({ image: words[0] ?? '', name: words[1]?.toUpperCase() === 'AS' ? words[2] : undefined });
        break;
      case 'USER':
        user = words[0];
        break;
      case 'EXPOSE':
        expose.push(...words.map((w) => Number(w.split('/')[0])));
        break;
      case 'ENTRYPOINT':
        entrypoint = execForm(rest, 'ENTRYPOINT');
        break;
      case 'CMD':
        cmd = execForm(rest, 'CMD');
        break;
      case 'HEALTHCHECK': {
        const at = rest.indexOf('CMD ');
        healthcheck = execForm(rest.slice(at + 4).trim(), 'HEALTHCHECK CMD');
        break;
      }
      case 'COPY':
        if (!words.some((w) => w.startsWith('--from='))) contextCopies.push(...words.filter((w) => !w.startsWith('--')).slice(0, -1));
        break;
      default:
        break;
    }
  }
  return { stages, user, expose, entrypoint, cmd, healthcheck, contextCopies };
}

export function readDockerfile(): DockerfileFacts {
  return parseDockerfile(readFileSync(`${REPO_ROOT}Dockerfile`, 'utf8'));
}

/**
 * A value inside parsed YAML, by a dotted path of mapping keys and array indexes (`spec.containers.0.args`), or by a
 * list of keys when a key has a dot in it (`['data', 'hopwise.yaml']`).
 */
export function dig(root: unknown, dotted: string | readonly string[]): unknown {
  let node = root;
  for (const key of typeof dotted === 'string' ? dotted.split('.') : dotted) {
    if (node === null || typeof node !== 'object') throw new Error(`${String(dotted)}: no ${key}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

export function digString(root: unknown, dotted: string | readonly string[]): string {
  const v = dig(root, dotted);
  if (typeof v !== 'string') throw new Error(`${String(dotted)}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

export function digNumber(root: unknown, dotted: string): number {
  const v = dig(root, dotted);
  if (typeof v !== 'number') throw new Error(`${dotted}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}

export function digArray(root: unknown, dotted: string): unknown[] {
  const v = dig(root, dotted);
  if (!Array.isArray(v)) throw new Error(`${dotted}: expected a list`);
  return v;
}

export function digStrings(root: unknown, dotted: string): string[] {
  return digArray(root, dotted).map((x) => digString({ x }, 'x'));
}
