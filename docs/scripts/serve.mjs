#!/usr/bin/env node
// Serves the built site (docs/dist) on localhost: `node docs/scripts/serve.mjs [--port N]
// [--dir DIR]` (or PORT=N). Static files only, with the MIME types the site needs
// (application/wasm lets the wasm backend compile streaming). Used by the browser tests too.
import {createReadStream, existsSync, statSync} from 'node:fs';
import {createServer} from 'node:http';
import {extname, join, normalize, resolve, sep} from 'node:path';
import {pathToFileURL} from 'node:url';
import {DEFAULT_OUT} from './paths.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.wasm': 'application/wasm',
  '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

/**
 * Starts a static server for `dir` on `port` (0 = any free port) of 127.0.0.1.
 * Resolves to {server, url}.
 */
export function serve({dir = DEFAULT_OUT, port = 8080, host = '127.0.0.1'} = {}) {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`serve: ${root}/index.html does not exist; build the site first (npm run docs)`);
  }
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404, {'content-type': 'text/plain; charset=utf-8'}).end(`not found: ${path}`);
      return;
    }
    // Revalidate every time (a rebuilt site shows at once) but answer 304 when unchanged.
    const modified = statSync(file).mtime.toUTCString();
    if (req.headers['if-modified-since'] === modified) {
      res.writeHead(304, {'last-modified': modified, 'cache-control': 'no-cache'}).end();
      return;
    }
    res.writeHead(200, {'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache', 'last-modified': modified});
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolvePromise({server, url: `http://${host}:${address.port}/`});
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const option = (name) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(option('port') ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port must be an integer in 0..65535, got ${option('port') ?? process.env.PORT}`);
    process.exit(1);
  }
  try {
    const {url} = await serve({dir: option('dir') ? resolve(option('dir')) : DEFAULT_OUT, port});
    console.log(`Serving the docs site at ${url} (Ctrl+C to stop)`);
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
