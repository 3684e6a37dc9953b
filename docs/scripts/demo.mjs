// Bundles the live demo (docs/demo/main.ts) with esbuild from the workspace packages'
// TypeScript sources, and copies the wasm backend's binaries next to it.
import {copyFileSync, existsSync, mkdirSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import * as esbuild from 'esbuild';
import {fileURLToPath} from 'node:url';

const DOCS = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(DOCS, '..');

const require = createRequire(import.meta.url);

const workspaceSources = {
  name: 'workspace-sources',
  setup(build) {
    // `@deepspline/x` and `@deepspline/x/internal`: both from sources, or the bundle would
    // hold a second copy of a package (its kernels registered twice).
    build.onResolve({filter: /^@deepspline\/[a-z-]+(\/internal)?$/}, (args) => {
      const [dir, file = 'index'] = args.path.slice('@deepspline/'.length).split('/');
      const entry = join(ROOT, 'packages', dir, 'src', `${file}.ts`);
      if (!existsSync(entry)) return {errors: [{text: `${args.path}: ${entry} does not exist`}]};
      return {path: entry};
    });
    // Sources import siblings as './x.js' (TypeScript's ESM convention) while the file is x.ts.
    build.onResolve({filter: /^\.{1,2}\/.*\.js$/}, (args) => {
      const ts = join(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      return existsSync(ts) ? {path: ts} : undefined;
    });
  },
};

/** Writes demo.js (+ .map) and the wasm binaries into `outDemo`. Returns the bundle's size. */
export async function buildDemo(outDemo) {
  mkdirSync(join(outDemo, 'wasm'), {recursive: true});
  const result = await esbuild.build({
    entryPoints: [join(DOCS, 'demo', 'main.ts')],
    outfile: join(outDemo, 'demo.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [workspaceSources],
    define: {'process.env.NODE_ENV': '"production"'},
    metafile: true,
  });
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    copyFileSync(join(wasmDist, f), join(outDemo, 'wasm', f));
  }
  const bytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
  return {bytes};
}
