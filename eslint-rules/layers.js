/**
 * `layers/direction`: a module imports only from its own layer or below (STYLE "Dependency direction",
 * docs/architecture.md "Layers"). A local rule because the usual plugins (eslint-plugin-import-x,
 * dependency-cruiser) are not dependencies of this repository; it needs nothing but ESLint.
 *
 * Layer order, bottom (0) to top. Each `src/` file belongs to the first entry whose pattern matches its path relative
 * to `src/` (without extension); a file that matches none is reported, so a new directory has to be placed here.
 *   0 errors        errors/                      ProxyError, codes, classify, the one writer
 *   1 policy        policy/                      pure header, target, address, access and retry rules
 *   2 pure core     config/schema, validate, merge, issues, proxy-settings, demos; observability/events, samples, stats,
 *                   stats-snapshot, aggregate, summary-format, flow-record, flows, flow-view, har
 *                                                pure data and counters
 *   3 owners        access/, upstream/, downstream/, observability/logger, log-json, log-events, log-sink
 *   4 tunnel        tunnel/                      the splice, the registry, CONNECT
 *   5 engines       forward/, observability/admin, admin-flows, dashboard, dashboard-flows, metrics, summary
 *   6 composition   proxy, drain, routes, chaining, index, workshop/
 *   7 process edge  cli/, config/load
 * Within a layer imports are free (access ↔ downstream). `tunnel` sits below `forward` because the upgrade relay
 * splices through it; a tunnel module reaching into `forward/` is a back-edge. Imports from outside `src/` (packages,
 * node:) are not checked here. Type-only imports count: a type is a dependency too.
 *
 * Options: `{ root: 'src', layers: [[name, [pattern, ...]], ...], allow: [{ from, to, owner }] }`; patterns are path
 * prefixes (`forward/`) or exact module paths (`proxy`). `allow` lists temporary exceptions, each naming who removes it.
 */
import path from 'node:path';

/** The layer order above, as data (the rule's default `layers`). */
export const LAYERS = [
  ['errors', ['errors/']],
  ['policy', ['policy/']],
  [
    'pure core',
    [
      'config/schema', 'config/validate', 'config/merge', 'config/issues', 'config/proxy-settings', 'config/demos',
      'observability/events', 'observability/samples', 'observability/stats', 'observability/stats-snapshot',
      'observability/aggregate', 'observability/summary-format', 'observability/flow-record', 'observability/flows',
      'observability/flow-view', 'observability/har',
    ],
  ],
  [
    'resource owners',
    ['access/', 'upstream/', 'downstream/', 'observability/logger', 'observability/log-json', 'observability/log-events', 'observability/log-sink'],
  ],
  ['tunnel', ['tunnel/']],
  [
    'engines',
    [
      'forward/', 'observability/admin', 'observability/admin-flows', 'observability/dashboard',
      'observability/dashboard-flows', 'observability/metrics', 'observability/summary',
    ],
  ],
  ['composition', ['proxy', 'drain', 'routes', 'chaining', 'index', 'workshop/']],
  ['process edge', ['cli/', 'config/load']],
];

function moduleId(file, root) {
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/').replace(/\.(d\.)?[cm]?[jt]sx?$/, '');
}

function layerOf(id, layers) {
  for (let i = 0; i < layers.length; i++) {
    const [name, patterns] = layers[i];
    if (patterns.some((p) => (p.endsWith('/') ? id.startsWith(p) : id === p))) return { rank: i, name };
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
export const direction = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid imports that run back up the layers (STYLE "Dependency direction")' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          layers: { type: 'array' },
          allow: { type: 'array', items: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, owner: { type: 'string' } } } },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      backEdge: "'{{from}}' ({{fromLayer}}) must not import '{{to}}' ({{toLayer}}): imports run down the layers only; see eslint-rules/layers.js.",
      unplaced: "'{{id}}' is in no layer: place it in eslint-rules/layers.js (and docs/architecture.md).",
    },
  },
  create(context) {
    const opts = context.options[0] ?? {};
    const root = path.resolve(context.cwd, opts.root ?? 'src');
    const layers = opts.layers ?? LAYERS;
    const allow = opts.allow ?? [];
    const from = moduleId(context.filename, root);
    if (from === undefined) return {};
    const fromLayer = layerOf(from, layers);
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = moduleId(path.resolve(path.dirname(context.filename), source), root);
      if (to === undefined) return;
      const toLayer = layerOf(to, layers);
      if (fromLayer === undefined || toLayer === undefined || toLayer.rank <= fromLayer.rank) return;
      if (allow.some((a) => a.from === from && a.to === to)) return;
      context.report({ node, messageId: 'backEdge', data: { from, to, fromLayer: fromLayer.name, toLayer: toLayer.name } });
    };
    return {
      Program(node) {
        if (fromLayer === undefined) context.report({ node, messageId: 'unplaced', data: { id: from } });
      },
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

export default { meta: { name: 'hopwise-layers' }, rules: { direction } };
