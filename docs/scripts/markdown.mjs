// Markdown -> HTML for the guides: markdown-it with server-side KaTeX for `$...$` (inline)
// and `$$ ... $$` (display, on lines of their own), heading anchors, and a table of contents.
import MarkdownIt from 'markdown-it';
import katex from 'katex';

/** A URL-safe id for a heading text, as GitHub makes them. */
export function slugify(text) {
  return text.toLowerCase().trim().replace(/<[^>]*>/g, '').replace(/[^\w\s-]/g, '')
    .replace(/\s+/g, '-');
}

function renderMath(tex, displayMode, where) {
  try {
    return katex.renderToString(tex, {displayMode, throwOnError: true, output: 'html'});
  } catch (err) {
    throw new Error(`KaTeX failed in ${where} on ${JSON.stringify(tex)}: ${err.message}`);
  }
}

function mathPlugin(md) {
  // Inline `$...$`: not `$$`, not followed by a space after the opening `$` or preceded by
  // one before the closing `$`, so that "costs $5 and $6" stays text.
  md.inline.ruler.after('escape', 'math_inline', (state, silent) => {
    const src = state.src;
    const start = state.pos;
    if (src[start] !== '$' || src[start + 1] === '$' || /\s/.test(src[start + 1] ?? ' ')) {
      return false;
    }
    let end = start + 1;
    while (end < state.posMax) {
      if (src[end] === '\\') { end += 2; continue; }
      if (src[end] === '$') break;
      end++;
    }
    if (end >= state.posMax || /\s/.test(src[end - 1])) return false;
    if (!silent) {
      const token = state.push('math_inline', 'math', 0);
      token.content = src.slice(start + 1, end);
    }
    state.pos = end + 1;
    return true;
  });
  md.block.ruler.before('fence', 'math_block', (state, startLine, endLine, silent) => {
    const lineText = (n) => state.src.slice(state.bMarks[n] + state.tShift[n], state.eMarks[n]);
    if (!lineText(startLine).startsWith('$$')) return false;
    const first = lineText(startLine).slice(2);
    let content;
    let next = startLine;
    if (first.trim().endsWith('$$') && first.trim().length > 2) {
      content = first.trim().slice(0, -2);
    } else {
      const lines = [first];
      for (next = startLine + 1; next < endLine; next++) {
        const text = lineText(next);
        if (text.trim().endsWith('$$')) { lines.push(text.trim().slice(0, -2)); break; }
        lines.push(text);
      }
      if (next >= endLine) return false;
      content = lines.join('\n');
    }
    if (silent) return true;
    const token = state.push('math_block', 'math', 0);
    token.block = true;
    token.content = content;
    token.map = [startLine, next + 1];
    state.line = next + 1;
    return true;
  });
  md.renderer.rules.math_inline = (tokens, i, options, env) =>
    renderMath(tokens[i].content, false, env.source ?? 'markdown');
  md.renderer.rules.math_block = (tokens, i, options, env) =>
    `<div class="math-display">${renderMath(tokens[i].content, true, env.source ?? 'markdown')}</div>\n`;
}

function headingPlugin(md) {
  md.core.ruler.push('heading_ids', (state) => {
    const used = new Set();
    const tokens = state.tokens;
    state.env.headings = [];
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i].type !== 'heading_open') continue;
      const inline = tokens[i + 1];
      const text = inline.children.filter((t) => t.type === 'text' || t.type === 'code_inline')
        .map((t) => t.content).join('');
      let id = slugify(text) || 'section';
      for (let n = 2; used.has(id); n++) id = `${slugify(text)}-${n}`;
      used.add(id);
      tokens[i].attrSet('id', id);
      state.env.headings.push({level: Number(tokens[i].tag.slice(1)), text, id});
    }
  });
}

const md = new MarkdownIt({html: true, linkify: false, typographer: false});
md.use(mathPlugin);
md.use(headingPlugin);

/**
 * Renders Markdown to HTML. Returns the HTML, the headings (level, text, id) and the first
 * `#` heading as the title.
 */
export function renderMarkdown(source, where) {
  const env = {source: where};
  const html = md.render(source, env);
  const title = env.headings.find((h) => h.level === 1)?.text ?? where;
  return {html, headings: env.headings, title};
}

/** Inline Markdown (no paragraph) to HTML, e.g. for table cells built from data. */
export function renderInline(source) {
  return md.renderInline(source, {source: 'inline'});
}
