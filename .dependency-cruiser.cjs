/**
 * Layer rules, checked on every `npm test`. The allow-list is generated from build/architecture.cjs: an
 * import that is on no arrow there fails as `not-in-allowed`. The named rules below say why for the
 * violations that matter most. Paths are matched with a leading (^|/) so the same rules also apply to the
 * deliberately wrong fixtures in test/layers/fixtures.
 */
const { parts } = require('./build/architecture.cjs');

const NODE_BUILTINS = { dependencyTypes: ['core'] };
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const partPath = (part) => `(^|/)${escape(part)}(/|\\.tsx?$)`;

function allowedArrows() {
  const rules = [];
  for (const [name, part] of Object.entries(parts)) {
    const from = { path: partPath(name) };
    rules.push({ from, to: { path: [name, ...part.may].map(partPath) } });
    if (part.npm.length > 0) {
      const names = part.npm.map((pkg) => `${escape(pkg)}|@types/${escape(pkg)}`).join('|');
      rules.push({ from, to: { path: `(^|/)node_modules/(${names})/` } });
      rules.push({ from, to: { path: `^(${part.npm.map(escape).join('|')})$`, dependencyTypes: ['npm-no-pkg', 'npm-unknown', 'unknown', 'undetermined'] } });
    }
    if (part.node) rules.push({ from, to: NODE_BUILTINS });
  }
  return rules;
}

module.exports = {
  allowed: allowedArrows(),
  allowedSeverity: 'error',
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'core/ runs everywhere (renderer, main, CLI): no Node built-ins, no npm packages, nothing outside core/.',
      severity: 'error',
      from: { path: '(^|/)core/' },
      to: { pathNot: '(^|/)core/' },
    },
    {
      name: 'core-no-node-builtins',
      severity: 'error',
      from: { path: '(^|/)core/' },
      to: NODE_BUILTINS,
    },
    {
      name: 'renderer-not-main',
      comment: 'The renderer reaches main only through the preload API.',
      severity: 'error',
      from: { path: '(^|/)renderer/' },
      to: { path: '(^|/)(main|preload)/' },
    },
    {
      name: 'renderer-no-node-or-electron',
      severity: 'error',
      from: { path: '(^|/)renderer/' },
      to: { path: '^electron$|node_modules/electron/', dependencyTypes: ['npm', 'npm-dev', 'npm-no-pkg', 'npm-unknown', 'core', 'unknown', 'undetermined'] },
    },
    {
      name: 'renderer-no-node-builtins',
      severity: 'error',
      from: { path: '(^|/)renderer/' },
      to: NODE_BUILTINS,
    },
    {
      name: 'main-not-renderer',
      severity: 'error',
      from: { path: '(^|/)main/' },
      to: { path: '(^|/)renderer/' },
    },
    {
      name: 'electron-only-in-shell',
      comment: 'Only main/app, main/ipc and preload/electron.ts may import electron: everything else runs under plain Node.',
      severity: 'error',
      from: { pathNot: '(^|/)(main/app/|main/ipc/|preload/electron\\.ts$)' },
      to: { path: '^electron$|node_modules/electron/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    // Resolve like Node and the bundlers do, so ESM-only packages with an "exports" map resolve.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['module', 'main'] },
    exclude: { path: '(^|/)dist/' },
  },
};
