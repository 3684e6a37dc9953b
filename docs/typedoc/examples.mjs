// The API pages' examples: docs/typedoc/examples/<package>.md holds one runnable ```js program
// per exported function under a `## name` heading (`## losses.hkr` for a namespace member).
// The TypeDoc plugin shows each on its function's page; test/snippets.test.ts runs them all and
// fails when an exported function has none.
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';

/** `{'@deepspline/core': Map(name -> code), ...}` from the examples folder `dir`. */
export function apiExamples(dir) {
  const out = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
    const examples = new Map();
    const text = readFileSync(join(dir, file), 'utf8');
    for (const [, name, body] of text.matchAll(/^## (\S+)\n([\s\S]*?)(?=^## |(?![\s\S]))/gm)) {
      const code = /```js\n([\s\S]*?)```/.exec(body)?.[1];
      if (code == null) throw new Error(`${file}: ## ${name} has no \`\`\`js block`);
      if (examples.has(name)) throw new Error(`${file}: two examples of ${name}`);
      examples.set(name, code);
    }
    out[`@deepspline/${file.replace(/\.md$/, '')}`] = examples;
  }
  return out;
}
