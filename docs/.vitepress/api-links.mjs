// The guides link to the API by name: `[text](api:Name)` or `[text](api:Class.member)` (names
// are unique across the packages: test/exports.test.ts). This markdown-it plugin
// turns them into links to the TypeDoc pages (api/names.json, written by
// docs/typedoc/plugin.mjs), so a guide never spells an API page's path; VitePress's
// dead-link check then checks the result. An unknown name fails the build.

/** @param {import('markdown-it').default} md @param {Record<string, string>} names */
export function apiLinks(md, names) {
  md.core.ruler.push('deepspline_api_links', (state) => {
    for (const block of state.tokens) {
      for (const token of block.children ?? []) {
        const href = token.type === 'link_open' ? token.attrGet('href') : null;
        if (!href?.startsWith('api:')) continue;
        const url = names[href.slice('api:'.length)];
        if (!url) {
          throw new Error(`${state.env.relativePath ?? 'markdown'}: ${href} names no exported API ` +
            'symbol (see docs/api/names.json)');
        }
        token.attrSet('href', url);
      }
    }
  });
}
