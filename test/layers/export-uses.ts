/**
 * Who uses each export of the shipped code (core, main, preload, renderer), found by the TypeScript checker
 * over the whole repository: every identifier of every file resolved to the declaration it names, through
 * re-exports, namespace imports and destructured dynamic imports. A use in the export's own file is counted
 * apart, so "exported only for a test" and "used by nothing" can be told from "used by the app".
 *
 * `node --import tsx test/layers/export-uses.ts` prints every export that no shipped file outside its own uses.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../shared-data';

export type UserKind = 'shipped' | 'test' | 'tool';

export interface ExportUse {
  /** Relative to the repository root, with forward slashes. */
  readonly file: string;
  readonly name: string;
  readonly isType: boolean;
  /** Uses in the export's own file (its declaration not counted). */
  readonly ownFileUses: number;
  /** Other files that use it, by kind. */
  readonly users: ReadonlyMap<UserKind, readonly string[]>;
}

const SHIPPED = /^(core|main|preload|renderer)\//;
const SCANNED = ['core', 'main', 'preload', 'renderer', 'test', 'models', 'build'];

function kindOf(relative: string): UserKind | null {
  if (relative.startsWith('..') || relative.includes('node_modules/')) return null;
  if (SHIPPED.test(relative)) return 'shipped';
  if (relative.startsWith('test/')) return 'test';
  return 'tool';
}

function sourceFiles(root: string): string[] {
  const LAYER_FIXTURES = path.join(root, 'test', 'layers', 'fixtures'); // deliberately wrong imports
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        const skip = entry.name === 'node_modules' || entry.name === 'dist' || full === LAYER_FIXTURES;
        if (!skip) walk(full);
      } else if (/\.(ts|tsx|mts)$/.test(entry.name)) {
        out.push(full);
      }
    }
  };
  for (const top of SCANNED) walk(path.join(root, top));
  return out;
}

export function exportUses(root: string = REPO_ROOT): ExportUse[] {
  const program = ts.createProgram(sourceFiles(root), {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    jsx: ts.JsxEmit.ReactJSX,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    resolveJsonModule: true,
    esModuleInterop: true,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const rel = (file: string): string => path.relative(root, file).split(path.sep).join('/');
  const resolve = (symbol: ts.Symbol): ts.Symbol =>
    symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;

  interface Entry {
    file: string;
    name: string;
    isType: boolean;
    declarations: Set<ts.Node>;
    own: number;
    users: Map<UserKind, Set<string>>;
  }
  const exported = new Map<ts.Symbol, Entry>();
  for (const sf of program.getSourceFiles()) {
    const file = rel(sf.fileName);
    if (kindOf(file) !== 'shipped') continue;
    const module = checker.getSymbolAtLocation(sf);
    if (!module) continue;
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = resolve(symbol);
      const declarations = target.declarations ?? [];
      // a re-export is counted where it is declared
      if (declarations[0]?.getSourceFile() !== sf) continue;
      exported.set(target, {
        file,
        name: symbol.name,
        isType: (target.flags & ts.SymbolFlags.Value) === 0,
        declarations: new Set(declarations),
        own: 0,
        users: new Map(),
      });
    }
  }

  for (const sf of program.getSourceFiles()) {
    const file = rel(sf.fileName);
    const kind = kindOf(file);
    if (kind === null) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node)) {
        let symbol = checker.getSymbolAtLocation(node);
        const binding = node.parent;
        // const { printReport } = await import('./report')
        if (
          ts.isBindingElement(binding) &&
          ts.isObjectBindingPattern(binding.parent) &&
          (binding.propertyName ?? binding.name) === node
        ) {
          symbol = checker.getTypeAtLocation(binding.parent).getProperty(node.text) ?? symbol;
        }
        const entry = symbol ? exported.get(resolve(symbol)) : undefined;
        if (entry) {
          const isDeclarationName = entry.declarations.has(node.parent);
          if (entry.file === file) {
            if (!isDeclarationName) entry.own++;
          } else if (!ts.isExportSpecifier(node.parent)) {
            const users = entry.users.get(kind) ?? new Set<string>();
            users.add(file);
            entry.users.set(kind, users);
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  return [...exported.values()].map((e) => ({
    file: e.file,
    name: e.name,
    isType: e.isType,
    ownFileUses: e.own,
    users: new Map([...e.users].map(([k, v]) => [k, [...v].sort()])),
  }));
}

/** Shipped code that runs only under the tests: used by no shipped file, its own included, but by a test. */
export function testOnlyCode(uses: readonly ExportUse[]): ExportUse[] {
  return uses.filter((u) => u.ownFileUses === 0 && !u.users.has('shipped') && u.users.has('test'));
}

/** Exports used nowhere at all, not even in their own file. */
export function unusedCode(uses: readonly ExportUse[]): ExportUse[] {
  return uses.filter((u) => u.ownFileUses === 0 && u.users.size === 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const uses = exportUses();
  const rows = uses
    .filter((u) => !u.users.has('shipped'))
    .map((u) => {
      const by = [...u.users.keys()].sort().join('+') || 'nobody';
      return `${u.ownFileUses > 0 ? 'own file + ' : ''}${by}\t${u.file}\t${u.name}${u.isType ? ' (type)' : ''}`;
    })
    .sort();
  console.log(rows.join('\n'));
  console.error(`${uses.length} exports of shipped code; ${rows.length} used by no other shipped file`);
}
