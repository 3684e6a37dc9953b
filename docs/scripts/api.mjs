// The API reference: TypeDoc over every workspace package's src/index.ts, as one project
// with one module per package (named after the package). Fails on any TypeDoc warning:
// an undocumented export, a documented symbol that references an unexported one, a broken
// {@link}. Returns the search entries of every symbol and a name -> URL map for the guides.
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import {Application, ReflectionKind, Renderer} from 'typedoc';
import {DOCS, ROOT} from './paths.mjs';

const SITE_ROOT = '__SITE_ROOT__/';

/**
 * @param {{dir: string, name: string, entry: string}[]} packages
 * @param {string} outDir  where the HTML goes (…/dist/api)
 */
export async function buildApi(packages, outDir) {
  // A tsconfig for exactly the entry points and what they import (not every file under
  // packages/, some of which may be work in progress), with `@deepspline/x` resolved to the
  // sources so that no package needs to be built first.
  const tmp = mkdtempSync(join(tmpdir(), 'deepspline-docs-'));
  const tsconfig = join(tmp, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({
    extends: join(ROOT, 'tsconfig.base.json'),
    compilerOptions: {composite: false, noEmit: true, declarationMap: false, baseUrl: ROOT,
      paths: {'@deepspline/*': ['packages/*/src/index.ts']}, typeRoots: [join(ROOT, 'node_modules', '@types')]},
    files: packages.map((p) => p.entry),
  }));
  try {
    return await runTypeDoc(packages, outDir, tsconfig);
  } finally {
    rmSync(tmp, {recursive: true, force: true});
  }
}

async function runTypeDoc(packages, outDir, tsconfig) {
  const app = await Application.bootstrapWithPlugins({
    name: 'tfjs-deepspline API',
    entryPoints: packages.map((p) => p.entry),
    entryPointStrategy: 'resolve',
    tsconfig,
    readme: join(DOCS, 'guides', 'api-readme.md'),
    excludePrivate: true,
    excludeInternal: true,
    disableSources: true,
    validation: {notExported: true, invalidLink: true, notDocumented: true,
      invalidPath: true, rewrittenLink: true, unusedMergeModuleWith: true},
    treatWarningsAsErrors: true,
    titleLink: `${SITE_ROOT}index.html`,
    navigationLinks: {'Guides': `${SITE_ROOT}guides/getting-started.html`,
      'Live demo': `${SITE_ROOT}demo/index.html`},
    favicon: join(DOCS, 'site', 'favicon.svg'),
    hideGenerator: true,
    logLevel: 'Warn',
  });
  const project = await app.convert();
  if (!project || app.logger.hasErrors()) {
    throw new Error('TypeDoc failed to convert the packages (see the messages above)');
  }
  const byEntry = new Map(packages.map((p) => [p.entry, p]));
  for (const module of project.children ?? []) {
    const file = module.sources?.[0]?.fullFileName ?? '';
    const pkg = byEntry.get(file) ?? packages.find((p) => module.name === `${p.dir}/src`);
    if (!pkg) throw new Error(`TypeDoc module ${module.name} matches no workspace package`);
    module.name = pkg.name;
  }
  app.validate(project);
  if (app.logger.hasErrors()) {
    throw new Error('TypeDoc validation failed: every export must be documented, exported ' +
      'and linked correctly (see the messages above)');
  }
  // The renderer drops its router when it is done: keep it to ask for the symbols' URLs.
  let router;
  app.renderer.on(Renderer.EVENT_BEGIN, () => { router = app.renderer.router; });
  await app.generateDocs(project, outDir);
  if (app.logger.hasErrors() || !router) throw new Error('TypeDoc failed to render (see above)');
  relativizeSiteLinks(outDir, '../');

  const entries = [];
  const urls = new Map();
  const visit = (refl, moduleName) => {
    if (refl.kindOf(ReflectionKind.Module)) moduleName = refl.name;
    // Inherited members (e.g. tfjs's Regularizer methods on TV2Regularizer) are left out.
    else if (router.hasUrl(refl) && !refl.kindOf(ReflectionKind.Project) && !refl.inheritedFrom) {
      const url = `api/${router.getFullUrl(refl)}`;
      const parent = refl.parent && !refl.parent.kindOf(ReflectionKind.Module | ReflectionKind.Project) ?
        `${refl.parent.name}.` : '';
      const qualified = `${parent}${refl.name}`;
      const comment = refl.comment ?? refl.signatures?.[0]?.comment;
      const text = comment ? comment.summary.map((part) => part.text).join('').slice(0, 300) : '';
      entries.push({title: qualified, url, kind: ReflectionKind.singularString(refl.kind),
        context: moduleName, text});
      if (!urls.has(qualified)) urls.set(qualified, url);
      urls.set(`${moduleName.replace(/^@deepspline\//, '')}:${qualified}`, url);
    }
    for (const child of refl.children ?? []) visit(child, moduleName);
  };
  visit(project, '');
  return {entries, urls, modules: (project.children ?? []).map((m) => ({name: m.name,
    url: `api/${router.getFullUrl(m)}`}))};
}

/**
 * TypeDoc writes navigation links verbatim on every page; they are written with the
 * SITE_ROOT placeholder and made relative here (api/index.html is one level below the
 * site root, api/functions/x.html two), so that the site works under any base URL.
 */
function relativizeSiteLinks(dir, root) {
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      relativizeSiteLinks(path, `../${root}`);
    } else if (entry.name.endsWith('.html')) {
      const html = readFileSync(path, 'utf8');
      if (html.includes(SITE_ROOT)) writeFileSync(path, html.split(SITE_ROOT).join(root));
    }
  }
}

/** For messages: a path relative to the repository root. */
export const rel = (path) => relative(ROOT, path);
