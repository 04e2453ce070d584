// @ts-check
/**
 * The dependency rule of the plugin (README "Dependency rule"), checked by `npm run lint:deps`
 * in the static checks of `npm test`. A forbidden import fails the check.
 *
 * `ALLOWED` below is the rule itself: each folder of libs/calls/src/ and the folders it may import
 * besides itself. Everything may import the shared leaves (errors/, config/, identity/ and
 * calls.constants.ts); the root files (ROOT_FILES) may import anything;
 * testing/ (test helpers) may import anything. Spec files are not cruised (nothing imports a
 * spec, so they cannot be part of a cycle, and they are exempt from the rule).
 */

const SRC = 'libs/calls/src';
const SPEC = '\\.(spec|int-spec|e2e-spec)\\.ts$';

/** The shared leaves, in layers: each may import only the leaves listed before it. */
const LEAVES = {
  errors: [],
  identity: ['errors'],
  config: ['errors', 'identity'],
};

/** Folder → the folders it may import besides itself and the shared leaves. */
const ALLOWED = {
  state: [],
  media: [], // the media port: neutral types
  metrics: ['state', 'media'],
  calls: ['state', 'media', 'metrics'], // the core
  protocol: ['calls', 'state', 'media'],
  gateway: ['calls', 'protocol', 'metrics'], // the socket.io transport
  // the LiveKit transport (ws); its protocol carries per-connection SDP, so it drives the media
  // port directly for each participant's two connections
  livekit: ['calls', 'protocol', 'metrics', 'media'],
  api: ['calls', 'protocol'], // the HTTP controllers
  sfu: ['media'], // mediasoup
  cluster: ['calls', 'state', 'sfu', 'media', 'metrics'],
  health: ['calls', 'state', 'sfu', 'media', 'cluster', 'metrics'],
};

/** Files a folder may import with `import type` only, on top of `ALLOWED`. */
const TYPE_ONLY = {
  gateway: ['state/call-state.types.ts'],
  livekit: ['state/call-state.types.ts'],
  api: ['state/call-state.types.ts'],
};

/** The transports: nothing but the root files (and test helpers) imports them. */
const TRANSPORTS = ['gateway', 'livekit', 'api'];
/** Root files that wire the module together and may import anything. */
const ROOT_FILES = [
  'calls.module.ts',
  'calls.module-definition.ts',
  'calls-core.providers.ts',
  'index.ts',
];
const CONSTANTS = 'calls.constants.ts';

const esc = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const folder = (/** @type {string} */ name) => `^${SRC}/${name}/`;
const file = (/** @type {string} */ name) => `^${SRC}/${esc(name)}$`;
const either = (/** @type {string[]} */ names) => `^${SRC}/(${names.join('|')})/`;
/**
 * A package and its subpaths: resolved, wherever node_modules is (a worktree may link it), or by
 * name when it does not resolve.
 */
const pkg = (/** @type {string[]} */ names) =>
  `(^|/node_modules/)(${names.map(esc).join('|')})(/|$)`;

/** @type {Record<string, string[]>} */
const LAYERS = { ...LEAVES, ...ALLOWED };

// The rule must be a DAG: then the folder graph that obeys it has no cycle either.
(function assertNoFolderCycle() {
  const done = new Set();
  const visit = (/** @type {string} */ name, /** @type {string[]} */ path) => {
    if (path.includes(name)) {
      throw new Error(
        `.dependency-cruiser.cjs: ALLOWED has a cycle: ${[...path, name].join(' → ')}`,
      );
    }
    if (done.has(name)) return;
    const next = [...(LAYERS[name] ?? []), ...(name in LEAVES ? [] : Object.keys(LEAVES))];
    for (const dep of next) {
      if (dep !== name) visit(dep, [...path, name]);
    }
    done.add(name);
  };
  for (const name of Object.keys(LAYERS)) visit(name, []);
})();

/** One rule per folder: what it may import inside the plugin. */
const folderRules = Object.entries(LAYERS).map(([name, allowed]) => {
  const isLeaf = name in LEAVES;
  const leaves = isLeaf ? [] : Object.keys(LEAVES);
  const typeOnly = TYPE_ONLY[/** @type {keyof typeof TYPE_ONLY} */ (name)] ?? [];
  const listed = [...allowed, ...leaves].map((other) => `${other}/`);
  return {
    name: `${name}-allowed-imports`,
    comment:
      `${name}/${isLeaf ? ' is a shared leaf: it' : ''} may import only ` +
      [...listed, CONSTANTS].join(', ') +
      (typeOnly.length ? `, and with \`import type\` ${typeOnly.join(', ')}` : '') +
      ' (README "Dependency rule").',
    severity: 'error',
    from: { path: folder(name) },
    to: {
      path: `^${SRC}/`,
      pathNot: [
        either([name, ...allowed, ...leaves]),
        file(CONSTANTS),
        ...typeOnly.map(file),
        // reported by their own rules below
        either([...TRANSPORTS, 'testing']),
      ],
    },
  };
});

/** @type {import('dependency-cruiser', { with: { 'resolution-mode': 'import' } }).IConfiguration} */
module.exports = {
  forbidden: [
    ...folderRules,
    ...Object.entries(TYPE_ONLY).map(([name, files]) => ({
      name: `${name}-type-only-imports`,
      comment: `${name}/ may import ${files.join(', ')} for its types only: use \`import type\`.`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: files.map(file), dependencyTypesNot: ['type-only'] },
    })),
    {
      name: 'constants-is-a-leaf',
      comment: `${CONSTANTS} is imported by every folder, so it imports nothing of the plugin.`,
      severity: 'error',
      from: { path: file(CONSTANTS) },
      to: { path: `^${SRC}/` },
    },
    {
      name: 'folder-not-in-the-rule',
      comment:
        'Every file of libs/calls/src/ is in a folder of the dependency rule: add a new folder to ' +
        'ALLOWED in .dependency-cruiser.cjs and to the table in README "Dependency rule".',
      severity: 'error',
      from: {
        path: `^${SRC}/`,
        pathNot: [
          either([...Object.keys(LAYERS), 'testing']),
          ...[...ROOT_FILES, CONSTANTS].map(file),
        ],
      },
      to: { path: `^${SRC}/` },
    },
    ...TRANSPORTS.map((transport) => ({
      name: 'no-import-of-a-transport',
      comment:
        `Nothing imports a transport (${transport}/) but the root files that wire the module; the ` +
        'core reaches sessions through its ports (CallDelivery, SessionControl).',
      severity: 'error',
      from: {
        path: `^${SRC}/`,
        pathNot: [either([transport, 'testing']), ...ROOT_FILES.map(file)],
      },
      to: { path: folder(transport) },
    })),
    {
      name: 'no-import-of-testing',
      comment:
        'testing/ holds test helpers, left out of the build: only specs and testing/ import it.',
      severity: 'error',
      from: { pathNot: folder('testing') },
      to: { path: folder('testing') },
    },
    {
      name: 'mediasoup-only-in-sfu',
      comment: 'Only sfu/ imports mediasoup; everything else speaks the media port (media/).',
      severity: 'error',
      from: { path: `^${SRC}/`, pathNot: either(['sfu', 'testing']) },
      to: { path: pkg(['mediasoup']) },
    },
    {
      name: 'socket-io-only-in-the-gateway',
      comment:
        'Only gateway/ and cluster/calls-io.adapter.ts import socket.io (and @nestjs/websockets, ' +
        '@nestjs/platform-socket.io, @socket.io/*); the core (calls/) knows no transport.',
      severity: 'error',
      from: {
        path: `^${SRC}/`,
        pathNot: [either(['gateway', 'testing']), file('cluster/calls-io.adapter.ts')],
      },
      to: {
        path: [
          pkg([
            'socket.io',
            'socket.io-adapter',
            'socket.io-client',
            '@nestjs/websockets',
            '@nestjs/platform-socket.io',
          ]),
          '(^|/node_modules/)@socket\\.io/',
        ],
      },
    },
    {
      name: 'ws-only-in-the-livekit-transport',
      comment: 'Only livekit/ (the LiveKit signal WebSocket) imports ws.',
      severity: 'error',
      from: { path: `^${SRC}/`, pathNot: either(['livekit', 'testing']) },
      to: { path: pkg(['ws']) },
    },
    {
      name: 'livekit-packages-only-in-livekit',
      comment:
        'Only protocol/livekit/ and livekit/ import the LiveKit packages (@livekit/protocol, ' +
        'livekit-server-sdk, @bufbuild/protobuf).',
      severity: 'error',
      from: {
        path: `^${SRC}/`,
        pathNot: [either(['livekit', 'testing']), folder('protocol/livekit')],
      },
      to: { path: pkg(['@livekit/protocol', 'livekit-server-sdk', '@bufbuild/protobuf']) },
    },
    {
      name: 'ioredis-only-in-state-and-cluster',
      comment: 'Only state/ and cluster/ talk to Redis (ioredis).',
      severity: 'error',
      from: { path: `^${SRC}/`, pathNot: either(['state', 'cluster', 'testing']) },
      to: { path: pkg(['ioredis']) },
    },
    {
      name: 'libs-never-import-the-host',
      comment: 'Dependencies point one way: the host app (src/) imports the plugin, never back.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^src/' },
    },
    {
      name: 'host-imports-the-barrel',
      comment:
        'The host app (src/) imports the plugin through its public API only: `@app/calls` (index.ts).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^libs/', pathNot: file('index.ts') },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or a package; else this check cannot see it.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles between files (type-only imports count too).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment:
        'No cycles between folders, sub-folders included (sfu/room/, sfu/peer/, ...): move what ' +
        'both sides need into one of them.',
      severity: 'error',
      scope: 'folder',
      from: { path: `^${SRC}/` },
      to: { path: `^${SRC}/`, circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: SPEC },
    tsConfig: { fileName: 'tsconfig.json' },
    // see `import type` too, and mark it 'type-only'
    tsPreCompilationDeps: true,
    skipAnalysisNotInRules: true,
  },
};
