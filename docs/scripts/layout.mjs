// The page template shared by the home page, the guides and the demo: header with the site
// search, sidebar with the guide list, main content. `root` is the relative path from the
// page to the site root ('' or '../'), so the site works from any base URL and from disk.

/** The guides in reading order: file name in docs/guides (without .md) and sidebar label. */
export const GUIDES = [
  ['getting-started', 'Getting started'],
  ['concepts', 'Concepts'],
  ['lipschitz-control', 'Lipschitz control'],
  ['certified-robustness', 'Certified robustness'],
  ['backends-and-performance', 'Backends and performance'],
  ['reproducing-the-paper', 'Reproducing the paper'],
  ['coming-from-pytorch', 'Coming from PyTorch'],
];

export function escapeHtml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * A full HTML page.
 * @param {{title: string, body: string, root: string, current?: string, toc?: {level: number,
 *   text: string, id: string}[], head?: string, scripts?: string[], wide?: boolean}} page
 */
export function layout({title, body, root, current, toc = [], head = '', scripts = [], wide}) {
  const guideLinks = GUIDES.map(([slug, label]) => {
    const cls = current === slug ? ' class="current"' : '';
    return `<li><a${cls} href="${root}guides/${slug}.html">${escapeHtml(label)}</a></li>`;
  }).join('\n        ');
  const tocItems = toc.filter((h) => h.level === 2)
    .map((h) => `<li><a href="#${h.id}">${escapeHtml(h.text)}</a></li>`).join('\n        ');
  const tocHtml = tocItems ? `<nav class="toc" aria-label="On this page"><h2>On this page</h2>
      <ul>
        ${tocItems}
      </ul></nav>` : '';
  const scriptTags = [`${root}assets/search.js`, ...scripts]
    .map((src) => `<script type="module" src="${src}"></script>`).join('\n  ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · tfjs-deepspline</title>
  <link rel="icon" href="${root}assets/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="${root}assets/katex/katex.min.css">
  <link rel="stylesheet" href="${root}assets/site.css">
  ${head}
</head>
<body data-root="${root}">
  <header class="site-header">
    <a class="brand" href="${root}index.html">tfjs-deepspline</a>
    <nav class="top-nav" aria-label="Site">
      <a href="${root}guides/getting-started.html"${current && current !== 'demo' && current !== 'home' ? ' class="current"' : ''}>Guides</a>
      <a href="${root}api/index.html">API reference</a>
      <a href="${root}demo/index.html"${current === 'demo' ? ' class="current"' : ''}>Live demo</a>
    </nav>
    <div class="site-search" role="search">
      <input id="site-search" type="search" placeholder="Search guides and API…" aria-label="Search the site" autocomplete="off">
      <ol id="site-search-results" class="search-results" hidden></ol>
    </div>
  </header>
  <div class="page${wide ? ' wide' : ''}">
    <nav class="sidebar" aria-label="Guides">
      <h2>Guides</h2>
      <ul>
        ${guideLinks}
      </ul>
      <h2>Reference</h2>
      <ul>
        <li><a href="${root}api/index.html">API reference</a></li>
        <li><a href="${root}demo/index.html">Live demo</a></li>
      </ul>
    </nav>
    <main id="content">
${body}
    </main>
    ${tocHtml}
  </div>
  ${scriptTags}
</body>
</html>
`;
}
