// The API reference: TypeDoc over every workspace package's src/index.ts, as one project
// with one module per package (named after the package). Fails on any TypeDoc warning:
// an undocumented export, a documented symbol that references an unexported one, a broken
// {@link}. Returns the search entries of every symbol and a name -> URL map for the guides.
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import {Application, ReflectionKind, Renderer, makeRecursiveVisitor} from 'typedoc';
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
    alwaysCreateEntryPointModule: true,
    tsconfig,
    readme: join(DOCS, 'guides', 'api-readme.md'),
    excludePrivate: true,
    excludeInternal: true,
    disableSources: true,
    // notDocumented and notExported are checked below (TypeDoc's checks skip every
    // workspace package but the project's own, see undocumented and unexportedReferences).
    validation: {notExported: true, invalidLink: true, notDocumented: false,
      invalidPath: true, rewrittenLink: true, unusedMergeModuleWith: true},
    treatWarningsAsErrors: true,
    titleLink: `${SITE_ROOT}index.html`,
    navigationLinks: {'Guides': `${SITE_ROOT}guides/getting-started.html`,
      'Live demo': `${SITE_ROOT}demo/index.html`},
    favicon: join(DOCS, 'site', 'favicon.svg'),
    hideGenerator: true,
    logLevel: 'Warn',
  });
  // TypeDoc reports validation problems as warnings; treatWarningsAsErrors only makes its CLI
  // fail, so both counts are checked after each phase.
  const failed = () => app.logger.hasErrors() || app.logger.hasWarnings();
  const project = await app.convert();
  if (!project || failed()) {
    throw new Error('TypeDoc failed to convert the packages (see the messages above)');
  }
  const byEntry = new Map(packages.map((p) => [p.entry, p]));
  for (const module of project.children ?? []) {
    const file = module.sources?.[0]?.fullFileName ?? '';
    // TypeDoc names a module after the entry's path relative to the common base folder.
    const pkg = byEntry.get(file) ?? packages.find((p) => module.name === `${p.dir}/src`) ??
      (packages.length === 1 ? packages[0] : undefined);
    if (!pkg) throw new Error(`TypeDoc module ${module.name} matches no workspace package`);
    module.name = pkg.name;
  }
  app.validate(project);
  const names = new Set(packages.map((p) => p.name));
  for (const message of undocumented(project)) app.logger.error(message);
  const {errors, warnings} = unexportedReferences(project, names);
  for (const message of errors) app.logger.error(message);
  for (const message of warnings) console.warn(`docs: note: ${message}`);
  if (failed()) {
    throw new Error('TypeDoc validation failed: every export must be documented, exported ' +
      'and linked correctly (see the messages above)');
  }
  // The renderer drops its router when it is done: keep it to ask for the symbols' URLs.
  let router;
  app.renderer.on(Renderer.EVENT_BEGIN, () => { router = app.renderer.router; });
  await app.generateDocs(project, outDir);
  if (failed() || !router) {
    throw new Error('TypeDoc failed to render the API reference, e.g. a broken {@link} (see above)');
  }
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
      urls.set(qualified, url);
    }
    for (const child of refl.children ?? []) visit(child, moduleName);
  };
  visit(project, '');
  return {entries, urls, modules: (project.children ?? []).map((m) => ({name: m.name,
    url: `api/${router.getFullUrl(m)}`}))};
}

const REQUIRED_DOCS = ReflectionKind.Class | ReflectionKind.Interface | ReflectionKind.Function |
  ReflectionKind.Variable | ReflectionKind.TypeAlias | ReflectionKind.Enum | ReflectionKind.EnumMember |
  ReflectionKind.Property | ReflectionKind.Method | ReflectionKind.Accessor;

const hasText = (comment) => comment != null &&
  (comment.summary.some((part) => part.text.trim() !== '') || comment.blockTags.length > 0);

/**
 * Every exported symbol, and every member of an exported class or interface, must have a
 * doc comment. Exempt: members of inline object types (their owner's comment describes
 * them), inherited members, and members that override or implement an API declared
 * elsewhere (e.g. tfjs's `Callback.onBatchEnd`, `GPGPUProgram.userCode`): their
 * documentation is the overridden declaration's.
 */
function undocumented(project) {
  const problems = [];
  for (const refl of Object.values(project.reflections)) {
    if (!refl.kindOf(REQUIRED_DOCS) || refl.inheritedFrom || refl.overwrites || refl.implementationOf) continue;
    if (refl.parent?.kindOf(ReflectionKind.TypeLiteral) || refl.name.startsWith('__')) continue;
    const comments = [refl.comment, ...(refl.signatures ?? []).map((sig) => sig.comment),
      refl.getSignature?.comment, refl.setSignature?.comment];
    if (!comments.some(hasText)) {
      problems.push(`${refl.getFriendlyFullName()} (${ReflectionKind.singularString(refl.kind)}) ` +
        'does not have any documentation');
    }
  }
  return problems;
}

/**
 * TypeDoc's `notExported` validation skips types declared in a package other than the
 * project's (it takes them for dependencies), which here is every workspace package: this
 * finds every reference to a type of a workspace package that the documentation does not
 * include, i.e. that the package's index.ts does not export. In a signature or property type
 * that is an error (users need to name it); as the base class of an exported class it is
 * reported as a note (users never need to name a base to use the API).
 */
function unexportedReferences(project, packageNames) {
  const errors = new Map();
  const warnings = new Map();
  for (const owner of Object.values(project.reflections)) {
    const visitor = (into) => makeRecursiveVisitor({
      reference(type) {
        if (type.reflection || type.externalUrl || !packageNames.has(type.package)) return;
        const key = `${type.package}:${type.qualifiedName}`;
        if (!into.has(key)) {
          into.set(key, `${type.qualifiedName} (declared in ${type.package}) is referenced by ` +
            `${owner.getFriendlyFullName()} but not exported from the package's index.ts`);
        }
      },
    });
    const used = [owner.type, owner.defaultValueType,
      ...(owner.kindOf(ReflectionKind.TypeParameter) ? [owner.default] : [])].filter(Boolean);
    for (const type of used) type.visit?.(visitor(errors));
    for (const type of [owner.extendedTypes, owner.implementedTypes].flat().filter(Boolean)) {
      type.visit?.(visitor(warnings));
    }
  }
  for (const key of errors.keys()) warnings.delete(key);
  return {errors: [...errors.values()], warnings: [...warnings.values()]};
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
