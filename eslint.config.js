// ESLint flat config. Besides the usual TypeScript rules it enforces the engine's layering
// (docs/architecture.md): a folder may import only from the folders listed for it below.
import reactHooks from 'eslint-plugin-react-hooks';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import path from 'node:path';

/** Engine folders and the folders each may import from (besides itself). */
const ENGINE_LAYERS = {
  base: [],
  api: ['base'],
  cpu: ['base'],
  machine: ['base', 'cpu'],
  boot: ['base', 'cpu', 'machine'],
  firmware: ['base', 'cpu', 'machine', 'boot'],
  hv: ['base', 'cpu', 'machine', 'firmware', 'boot'],
  config: ['base', 'api', 'hv'],
  iso: ['base', 'config', 'boot'],
  runtime: ['base', 'api', 'cpu', 'machine', 'firmware', 'boot', 'hv', 'config', 'iso'],
};
const ROOT = path.dirname(new URL(import.meta.url).pathname);
const ENGINE = path.join(ROOT, 'src-engine');

function layerOf(file) {
  const rel = path.relative(ENGINE, file);
  if (rel.startsWith('..')) return undefined;
  const first = rel.split(path.sep)[0];
  if (first === 'node') return 'node';
  if (first.endsWith('.ts')) return 'entry';
  return first;
}

const layering = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    const inRenderer = file.startsWith(path.join(ROOT, 'src-renderer') + path.sep);
    const inMain = file.startsWith(path.join(ROOT, 'src-main') + path.sep);
    function check(node, spec, typeOnly) {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('node:') || ['fs', 'path', 'os', 'worker_threads', 'child_process', 'net', 'http'].includes(spec)) {
        if (from && from !== 'node') context.report({ node, message: `The engine core may not import '${spec}': only src-engine/node uses Node.js modules.` });
        return;
      }
      if (spec === 'electron' && (from || inRenderer)) {
        context.report({ node, message: 'Only src-main may import electron.' });
        return;
      }
      if (!spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), spec);
      const to = layerOf(target);
      if (inRenderer && to) {
        if (!typeOnly || to !== 'api') context.report({ node, message: 'src-renderer may only import types from src-engine/api (use "import type").' });
        return;
      }
      if (inMain && to && !(to === 'entry' || to === 'api' || to === 'node')) {
        context.report({ node, message: 'src-main may import only the engine entry (src-engine/index.ts), its API types and src-engine/node.' });
        return;
      }
      if (!from || !to || from === to || from === 'node' || from === 'entry') return;
      const allowed = ENGINE_LAYERS[from];
      if (!allowed) return;
      if (to === 'node' || to === 'entry' || !allowed.includes(to)) {
        context.report({ node, message: `Layering: src-engine/${from} may not import src-engine/${to} (allowed: ${allowed.join(', ') || 'nothing'}).` });
      }
    }
    return {
      ImportDeclaration(node) { check(node, node.source.value, node.importKind === 'type'); },
      ExportNamedDeclaration(node) { if (node.source) check(node, node.source.value, node.exportKind === 'type'); },
      ExportAllDeclaration(node) { check(node, node.source.value, node.exportKind === 'type'); },
      ImportExpression(node) { if (node.source.type === 'Literal') check(node, node.source.value, false); },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test/guests/**/build/**', '**/.build/**', '**/*.d.ts.map', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { domus: { rules: { layering } } },
    rules: {
      'domus/layering': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-fallthrough': 'off',
    },
  },
  {
    // React's rules of hooks (and the exhaustive-deps warning) for the GUI.
    files: ['src-renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  {
    files: ['scripts/**/*.mjs', 'bin/**', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', performance: 'readonly', Buffer: 'readonly' } },
  },
);
