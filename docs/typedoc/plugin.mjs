// What TypeDoc and typedoc-plugin-markdown do not do out of the box, and the site needs:
// - a factory's `args` interface is listed inline under the parameter (name, type, default,
//   description), as the TF.js API pages do for `tf.layers.dense(args)`;
// - the API index gives each package's one-line purpose (its package.json `description`);
// - `api/names.json` maps symbol names to their pages, for the guides' `[text](api:Name)`
//   links (docs/.vitepress/api-links.mjs).
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {ReferenceType, ReflectionKind, Renderer} from 'typedoc';
import {MarkdownPageEvent, MarkdownTheme, MarkdownThemeContext} from 'typedoc-plugin-markdown';

const cell = (text) => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim();

/** The fields of `parameter`'s interface type as a Markdown table, or '' if it has none. */
function argsTable(context, parameter) {
  const target = parameter.type instanceof ReferenceType ? parameter.type.reflection : undefined;
  if (!target?.kindOf(ReflectionKind.Interface) || !target.children?.length) return '';
  // Its own fields first, then those inherited (e.g. from tfjs's LayerArgs).
  const fields = context.helpers.getFlattenedDeclarations(target.children);
  const ordered = [...fields.filter((f) => !f.inheritedFrom), ...fields.filter((f) => f.inheritedFrom)];
  const rows = ordered.map((field) => {
    const name = `\`${field.name}${field.flags.isOptional ? '?' : ''}\``;
    const type = context.partials.someType(context.helpers.getDeclarationType(field));
    const fallback = context.helpers.getPropertyDefaultValue(field) ?? '';
    const doc = field.comment ? context.partials.comment(field.comment, {isTableColumn: true}) : '';
    return `| ${name} | ${cell(type)} | ${cell(fallback)} | ${cell(doc)} |`;
  });
  return [`Fields of \`${target.name}\`:`, '',
  '| Field | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

class DeepsplineContext extends MarkdownThemeContext {
  constructor(...args) {
    super(...args);
    const parametersList = this.partials.parametersList;
    this.partials = {...this.partials,
      parametersList: (model, options) => model.map((parameter) =>
        [parametersList([parameter], options), argsTable(this, parameter)].filter(Boolean).join('\n\n'))
        .join('\n\n')};
  }
}

class DeepsplineTheme extends MarkdownTheme {
  getRenderContext(page) {
    return new DeepsplineContext(this, page, this.application.options);
  }
}

/** `[@deepspline/core](...)` lines of the index page, with the package's description. */
function describePackages(contents, packagesDir) {
  return contents.replace(/^- \[(@deepspline\/([\w-]+))([^\]]*)\]\(([^)]+)\)$/gm, (line, name, dir, version, url) => {
    const {description} = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
    if (!description) throw new Error(`packages/${dir}/package.json has no description`);
    return `- [${name}${version}](${url}): ${description}`;
  });
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.renderer.defineTheme('deepspline', DeepsplineTheme);
  const packagesDir = join(import.meta.dirname, '..', '..', 'packages');
  app.renderer.on(MarkdownPageEvent.END, (page) => {
    if (page.url === 'index.md') page.contents = describePackages(page.contents, packagesDir);
  });
  // After the vitepress theme's own END handler has slugified the anchors: the same here.
  app.renderer.on(Renderer.EVENT_END, (event) => {
    const router = app.renderer.router;
    const names = {};
    const add = (key, url) => { if (!(key in names)) names[key] = url; };
    const visit = (refl, pkg) => {
      if (refl.kindOf(ReflectionKind.Module)) pkg = refl.name.replace(/^@deepspline\//, '');
      else if (!refl.kindOf(ReflectionKind.Project) && router.hasUrl(refl) && !refl.inheritedFrom) {
        const [file, anchor] = router.getFullUrl(refl).split('#');
        const url = `/api/${file}${anchor ? `#${slugify(anchor)}` : ''}`;
        const owner = refl.parent?.kindOf(ReflectionKind.ClassOrInterface) ? `${refl.parent.name}.` : '';
        add(`${pkg}:${owner}${refl.name}`, url);
        add(`${owner}${refl.name}`, url);
      }
      for (const child of refl.children ?? []) visit(child, pkg);
    };
    visit(event.project, '');
    writeFileSync(join(event.outputDirectory, 'names.json'), JSON.stringify(names, null, 1));
  });
}

// typedoc-vitepress-theme's anchor slugger (not exported by the package), so that
// names.json's anchors are the ones its pages have.
const slugify = (s) => s.normalize('NFKD').replace(/[\u0300-\u036F]/g, '')
  .replace(/[\u0000-\u001f]/g, '').replace(/[\s~`!@#$%^&*()\-_+=[\]{}|\\;:"'“”‘’<>,.?/]+/g, '-')
  .replace(/-{2,}/g, '-').replace(/^-+|-+$/g, '').replace(/^(\d)/, '_$1').toLowerCase();
