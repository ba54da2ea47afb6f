/**
 * The dependency-direction rule (eslint-rules/layers.js) run through ESLint's Node API: the fixture under
 * test/fixtures/layering/src has deliberate back-edges, which it must report, and downward imports, which it must not;
 * and the repository's own config must apply it to src/.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import layers from '../../eslint-rules/layers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/layering/', import.meta.url));

async function lintFixture(allow: readonly { from: string; to: string; owner: string }[] = []): Promise<Map<string, string[]>> {
  const eslint = new ESLint({
    cwd: fixture,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { layers },
        rules: { 'layers/direction': ['error', { root: 'src', allow }] },
      },
    ],
  });
  const results = await eslint.lintFiles(['src/**/*.ts']);
  return new Map(
    results.map((r) => [r.filePath.slice(fixture.length + 'src/'.length).replace(/\\/g, '/'), r.messages.map((m) => `${m.line}: ${m.message}`)]),
  );
}

describe('layers/direction', () => {
  it('reports every import that runs up the layers, and only those', async () => {
    const found = await lintFixture();
    expect(found.get('tunnel/back-edge.ts')).toEqual([
      "2: 'tunnel/back-edge' (tunnel) must not import 'forward/respond' (engines): imports run down the layers only; see eslint-rules/layers.js.",
    ]);
    // Re-exports and type-only imports are dependencies too.
    expect(found.get('tunnel/re-export.ts')).toHaveLength(2);
    // A lazy import() up the layers is still a back-edge...
    expect(found.get('errors/codes.ts')).toEqual([
      "3: 'errors/codes' (errors) must not import 'workshop/render' (composition): imports run down the layers only; see eslint-rules/layers.js.",
    ]);
    // ...and one down the layers is how the CLI loads the workshop.
    expect(found.get('cli/main.ts')).toEqual([]);
    expect(found.get('forward/respond.ts')).toEqual([]);
    expect(found.get('workshop/render.ts')).toEqual([]);
    expect(found.get('mystery/thing.ts')).toEqual([
      "1: 'mystery/thing' is in no layer: place it in eslint-rules/layers.js (and docs/architecture.md).",
    ]);
  });

  it('lets a named, temporary exception through', async () => {
    const found = await lintFixture([{ from: 'tunnel/back-edge', to: 'forward/respond', owner: 'test' }]);
    expect(found.get('tunnel/back-edge.ts')).toEqual([]);
    expect(found.get('tunnel/re-export.ts')).toHaveLength(2);
  });

  it('is on for every file under src/ in the repository config', async () => {
    const eslint = new ESLint({ cwd: repo });
    for (const file of ['src/tunnel/splice.ts', 'src/policy/address.ts', 'src/cli/main.ts']) {
      const config = (await eslint.calculateConfigForFile(file)) as { rules: Record<string, unknown[]> };
      expect(config.rules['layers/direction']?.[0], file).toBe(2);
    }
  });
});
