// What TypeDoc and typedoc-plugin-markdown do not do out of the box, and the site needs:
// - a factory's `args` interface is listed inline under the parameter (name, type, default,
//   description), as the TF.js API pages do for `tf.layers.dense(args)`;
// - the API index gives each package's one-line purpose (its package.json `description`);
// - `api/names.json` maps symbol names to their pages, for the guides' `[text](api:Name)`
//   links (docs/.vitepress/api-links.mjs);
// - a class page lists only its own members (and its overrides): the members it inherits
//   from a TF.js class (`_refCount`, `setFastWeightInitDuringBuild`, ... on a Layer) are
//   left to the TF.js API page the "Extends" section links to;
// - every function page shows its runnable example from examples/<package>.md (run by
//   test/snippets.test.ts), in place of the source's @example fragment; a function without
//   one fails the build.
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {apiExamples} from './examples.mjs';
import {Converter, ReferenceType, ReflectionKind, Renderer} from 'typedoc';
import {MarkdownPageEvent, MarkdownTheme, MarkdownThemeContext} from 'typedoc-plugin-markdown';

const oneLine = (text) => text.replace(/\r?\n/g, ' ').trim();

/**
 * A field's default as inline Markdown: TypeDoc renders a bare `@defaultValue 15` as a fenced
 * ```ts block, which on one line would read "```ts 15 ```" (and show a stray "ts").
 */
function inlineDefault(markdown) {
  const fenced = /^```\w*\s*\n([\s\S]*?)\n?```$/.exec(markdown.trim());
  return fenced ? `\`${oneLine(fenced[1])}\`` : oneLine(markdown);
}

/**
 * The fields of `parameter`'s interface type as Markdown lists (its own fields, then the
 * inherited ones), each with its type, default and description; '' if it is no interface.
 */
function argsFields(context, parameter) {
  const target = parameter.type instanceof ReferenceType ? parameter.type.reflection : undefined;
  if (!target?.kindOf(ReflectionKind.Interface) || !target.children?.length) return '';
  const item = (field) => {
    const type = context.partials.someType(context.helpers.getDeclarationType(field));
    const fallback = context.helpers.getPropertyDefaultValue(field);
    const doc = field.comment ? oneLine(context.partials.comment(field.comment, {isTableColumn: true})) : '';
    return `- \`${field.name}${field.flags.isOptional ? '?' : ''}\`: ${oneLine(type)}` +
      `${fallback ? `, default ${inlineDefault(fallback)}` : ''}${doc ? `<br>${doc}` : ''}`;
  };
  // In source order, as the interface declares them (TypeDoc sorts members by name).
  const line = (f) => f.sources?.[0]?.line ?? 0;
  const fields = context.helpers.getFlattenedDeclarations(target.children).sort((a, b) => line(a) - line(b));
  const own = fields.filter((f) => !f.inheritedFrom);
  const inherited = fields.filter((f) => f.inheritedFrom);
  const parents = (target.extendedTypes ?? []).map((t) => context.partials.someType(t)).join(', ');
  return [`Fields of \`${target.name}\`:`, own.map(item).join('\n'),
    ...(inherited.length ? [`Inherited from ${parents}:`, inherited.map(item).join('\n')] : [])].join('\n\n');
}

class DeepsplineContext extends MarkdownThemeContext {
  constructor(...args) {
    super(...args);
    const parametersList = this.partials.parametersList;
    this.partials = {...this.partials,
      parametersList: (model, options) => model.map((parameter) =>
        [parametersList([parameter], options), argsFields(this, parameter)].filter(Boolean).join('\n\n'))
        .join('\n\n')};
  }
}

class DeepsplineTheme extends MarkdownTheme {
  getRenderContext(page) {
    return new DeepsplineContext(this, page, this.application.options);
  }
}

/** The index page's package lines (`- [@deepspline/core - v0.1.0](...)`) with their description. */
function describePackages(contents, descriptions) {
  return contents.replace(/^- \[(@[\w-]+\/[\w-]+)([^\]]*)\]\(([^)]+)\)$/gm, (line, name, version, url) => {
    const description = descriptions.get(name);
    if (!description) throw new Error(`package ${name} has no package.json description`);
    return `- [${name}${version}](${url}): ${description}`;
  });
}

/** A function page with its runnable example as the `## Example` section. */
function withExample(page, examples) {
  const fn = page.model;
  let module = fn.parent;
  while (module != null && !module.kindOf(ReflectionKind.Module)) module = module.parent;
  const key = fn.parent?.kindOf(ReflectionKind.Namespace) ? `${fn.parent.name}.${fn.name}` : fn.name;
  // packages without an examples file (the docs tests' small packages) keep their pages as they are
  if (examples[module?.name] == null) return page.contents;
  const code = examples[module.name].get(key);
  if (code == null) {
    throw new Error(`${module.name} ${key} has no example: add one to docs/typedoc/examples/` +
      `${module.name.split('/')[1]}.md`);
  }
  const section = `## Example\n\n\`\`\`js\n${code}\`\`\`\n`;
  return /\n## Example\n/.test(page.contents)
    ? page.contents.replace(/\n## Example\n[\s\S]*?(?=\n## |$)/, () => `\n${section}`)
    : `${page.contents.trimEnd()}\n\n${section}`;
}

/**
 * A class page that extends a TF.js class says, under "Extends", that the inherited members
 * are documented there (they are not listed here).
 */
function withInheritedNote(page) {
  const base = page.model.extendedTypes?.find((t) => t instanceof ReferenceType && t.reflection == null);
  if (base == null) return page.contents;
  return page.contents.replace(/(## Extends\n\n- (\[`[^`]+`\]\([^)]+\))[^\n]*\n)/, (section, _all, link) =>
    `${section}\nIts own members and overrides are listed below; the members it inherits from ${link} ` +
    '(`apply`, `getWeights`, `dispose`, ...) are documented on that TF.js page.\n');
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.renderer.defineTheme('deepspline', DeepsplineTheme);
  // TypeDoc converts each package with its own options, whose packageDir is the package's.
  const descriptions = new Map();
  app.converter.on(Converter.EVENT_BEGIN, () => {
    const dir = app.options.packageDir;
    if (!dir) return;
    const {name, description} = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    descriptions.set(name, description);
  });
  // Members a class inherits from a class outside our packages (TF.js's Layer, Callback,
  // Regularizer) without overriding them: documented by TF.js, not here.
  // (On the merged project, before rendering: the packages are converted one by one.)
  app.renderer.on(Renderer.EVENT_BEGIN, (event) => {
    for (const cls of event.project.getReflectionsByKind(ReflectionKind.Class)) {
      for (const member of [...(cls.children ?? [])]) {
        const from = member.inheritedFrom;
        // (a ReferenceType of TypeDoc's: `type`, as the merged project's may be another copy's class)
        if (from?.type === 'reference' && from.reflection == null && !member.overwrites) {
          event.project.removeReflection(member);
        }
      }
      // the page lists the members by group (Properties, Methods, ...)
      const kept = new Set(cls.children ?? []);
      for (const group of cls.groups ?? []) group.children = group.children.filter((c) => kept.has(c));
      cls.groups = cls.groups?.filter((g) => g.children.length > 0);
    }
  });
  const examples = apiExamples(fileURLToPath(new URL('examples/', import.meta.url)));
  app.renderer.on(MarkdownPageEvent.END, (page) => {
    if (page.url === 'index.md') page.contents = describePackages(page.contents, descriptions);
    if (page.model?.kindOf?.(ReflectionKind.Function)) page.contents = withExample(page, examples);
    if (page.model?.kindOf?.(ReflectionKind.Class)) page.contents = withInheritedNote(page);
  });
  // Once every page is rendered the router knows every symbol's URL; the anchors are
  // slugified as typedoc-vitepress-theme does in the pages' own links.
  app.renderer.on(Renderer.EVENT_END, (event) => {
    const router = app.renderer.router;
    const names = {};
    const add = (key, url) => { if (!(key in names)) names[key] = url; };
    // Unqualified names are unique across the packages (test/exports.test.ts).
    const visit = (refl) => {
      if (!refl.kindOf(ReflectionKind.Project) && !refl.kindOf(ReflectionKind.Module) && router.hasUrl(refl) && !refl.inheritedFrom) {
        const [file, anchor] = router.getFullUrl(refl).split('#');
        const url = `/api/${file}${anchor ? `#${slugify(anchor)}` : ''}`;
        const owner = refl.parent?.kindOf(ReflectionKind.ClassOrInterface) ? `${refl.parent.name}.` : '';
        add(`${owner}${refl.name}`, url);
      }
      for (const child of refl.children ?? []) visit(child);
    };
    visit(event.project);
    writeFileSync(join(event.outputDirectory, 'names.json'), JSON.stringify(names, null, 1));
  });
}

// typedoc-vitepress-theme's anchor slugger (not exported by the package), so that
// names.json's anchors are the ones its pages have.
const slugify = (s) => s.normalize('NFKD').replace(/[\u0300-\u036F]/g, '')
  .replace(/[\u0000-\u001f]/g, '').replace(/[\s~`!@#$%^&*()\-_+=[\]{}|\\;:"'“”‘’<>,.?/]+/g, '-')
  .replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '').replace(/^(\d)/, '_$1').toLowerCase();
