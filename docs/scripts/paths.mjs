// Where things are: the docs package, the repository root, the output folder, and the
// workspace packages that exist right now (the site documents whatever is there at build).
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

export const DOCS = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = dirname(DOCS);
export const DEFAULT_OUT = join(DOCS, 'dist');

/**
 * The published workspace packages (not private) with a `src/index.ts`, in the root package.json's workspace order:
 * [{dir: 'core', name: '@deepspline/core', entry: '/abs/packages/core/src/index.ts'}].
 */
export function workspacePackages() {
  const order = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces ?? [];
  const dirs = readdirSync(join(ROOT, 'packages'), {withFileTypes: true})
    .filter((d) => d.isDirectory()).map((d) => d.name)
    .sort((a, b) => rank(order, a) - rank(order, b) || a.localeCompare(b));
  return dirs.map((dir) => {
    const entry = join(ROOT, 'packages', dir, 'src', 'index.ts');
    const pkgFile = join(ROOT, 'packages', dir, 'package.json');
    if (!existsSync(entry) || !existsSync(pkgFile)) return null;
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    if (pkg.private) return null;  // packages/testing: the tests' kit, not published
    return {dir, name: pkg.name ?? `@deepspline/${dir}`, description: pkg.description ?? '', entry};
  }).filter(Boolean);
}

function rank(order, dir) {
  const i = order.indexOf(`packages/${dir}`);
  return i < 0 ? order.length : i;
}
