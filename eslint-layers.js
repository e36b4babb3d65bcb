// The layers of src/, bottom to top; an import may only point to its own floor or below.
// Read top to bottom, the tree tells the story: define, represent, persist, track, scope, invoke, expose.
import { dirname, relative, resolve } from 'node:path';

export const FLOORS = [
  ['errors', 'error-codes', 'wire-errors', 'describe', 'identity', 'observability', 'protocol', 'backoff', 'clock', 'promises'], // ground: shared by all
  ['registry'], // define: classes, their members and the triggers they declare
  ['triggers'], // trigger targets resolved, matched to changes, and the outbox's events
  ['object'], // represent
  ['stores', 'cluster'], // persist; cluster: the slot space and the membership contract the shared stores keep
  ['config', 'config-checks', 'reminder-config'],
  ['session'], // track and scope: sessions, turns, scopes, commits
  ['runtime'], // the runtime's parts and the process-wide runtime
  ['invocation'], // invoke: the gateway and the dispatcher
  ['server', 'grpc', 'client', 'package', 'cli'], // expose: HTTP, the gRPC function runtime, the client, the package document, the CLI
  ['legacy'], // the manual-session API, over everything else
  ['index'], // the curated entry points
];

/** Rooms that must not import another room of their floor or below, though the floors allow it. */
const FORBIDDEN = {
  // The client shares wire types with the server, never its runtime.
  client: ['session', 'runtime', 'invocation', 'server', 'config'],
};

const floorOf = new Map(FLOORS.flatMap((rooms, floor) => rooms.map((room) => [room, floor])));

function roomOf(file, srcDir) {
  const rel = relative(srcDir, file);
  if (rel.startsWith('..')) return undefined;
  const [first, ...rest] = rel.split(/[\\/]/);
  if (rest.length > 0) return first;
  // A file at the top of src/ is a room of its own (`cli.ts`, the bin entry, sits with the index).
  const name = first.replace(/\.[jt]s$/, '');
  return name === 'cli' ? 'index' : name;
}

/** @type {import('eslint').Rule.RuleModule} */
const layers = {
  meta: { type: 'problem', docs: { description: 'imports in src/ run down the layers' }, schema: [] },
  create(context) {
    const srcDir = resolve(context.cwd, 'src');
    const file = context.filename;
    const from = roomOf(file, srcDir);
    if (from === undefined || !floorOf.has(from)) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = roomOf(resolve(dirname(file), source), srcDir);
      if (to === undefined || to === from) return;
      const fromFloor = floorOf.get(from);
      const toFloor = floorOf.get(to);
      if (toFloor === undefined) {
        context.report({ node, message: `src/${to} has no floor in eslint-layers.js: place it before importing it` });
      } else if (toFloor > fromFloor) {
        context.report({ node, message: `${from}/ (floor ${fromFloor}) must not import ${to}/ (floor ${toFloor}): imports run down the layers` });
      } else if (FORBIDDEN[from]?.includes(to)) {
        context.report({ node, message: `${from}/ must not import ${to}/` });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { layers } };
