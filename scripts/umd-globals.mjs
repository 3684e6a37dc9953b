// The globals of the script-tag bundles, as tfjs's own bundles define them: tf.min.js (or
// tf-core.min.js + tf-layers.min.js + tf-backend-webgl.min.js) is `tf`, tf-backend-wasm.min.js
// extends it as `tf.wasm`, and each of our bundles extends it as `tf.deepspline.<name>` (a
// package's `/internal` subpath, for the other bundles, as `tf.deepspline.<name>.internal`).
// Imports of these packages in a bundle resolve to the global at load time, so no bundle
// embeds tfjs or another of our packages (one copy of every registry on a page).

/** The global of each external package, as a property path from `globalThis`. */
const TFJS_GLOBALS = {
  '@tensorflow/tfjs-core': 'tf',
  '@tensorflow/tfjs-layers': 'tf',
  '@tensorflow/tfjs-backend-cpu': 'tf',
  '@tensorflow/tfjs-backend-webgl': 'tf',
  '@tensorflow/tfjs-backend-webgpu': 'tf',
  '@tensorflow/tfjs-backend-wasm': 'tf.wasm',
};

/**
 * A member each tfjs global has once its script ran. Our bundles start with `var tf = tf || {}`
 * (to hang `tf.deepspline.<name>` on it), so a bundle loaded before tf.min.js finds an empty
 * `tf`: the check looks for this member, not only for the object.
 */
const TFJS_MEMBERS = {
  '@tensorflow/tfjs-core': 'registerKernel',
  '@tensorflow/tfjs-layers': 'layers',
  '@tensorflow/tfjs-backend-cpu': 'registerKernel',
  '@tensorflow/tfjs-backend-webgl': 'registerKernel',
  '@tensorflow/tfjs-backend-webgpu': 'registerKernel',
  '@tensorflow/tfjs-backend-wasm': 'setWasmPaths',
};

/** `@deepspline/core` -> `tf.deepspline.core`: the global a package's bundle defines. */
export function umdGlobalName(packageName) {
  const m = /^@deepspline\/([a-z]+)$/.exec(packageName);
  if (m == null) throw new Error(`umdGlobalName: expected @deepspline/<lowercase name>, got ${packageName}`);
  return `tf.deepspline.${m[1]}`;
}

/** The global of an imported package, or null when it is not one the bundles may import. */
export function umdGlobalOf(specifier) {
  if (specifier in TFJS_GLOBALS) return TFJS_GLOBALS[specifier];
  const m = /^(@deepspline\/[a-z]+)(\/internal)?$/.exec(specifier);
  return m == null ? null : umdGlobalName(m[1]) + (m[2] ? '.internal' : '');
}

/** The script that provides a global, named in the error a page gets when it is missing. */
function scriptOf(specifier) {
  if (specifier.startsWith('@deepspline/')) return `deepspline-${specifier.split('/')[1]}.min.js`;
  if (specifier === '@tensorflow/tfjs-backend-wasm') return 'tf-backend-wasm.min.js';
  return specifier === '@tensorflow/tfjs-backend-webgpu' ? 'tf-backend-webgpu.min.js' : 'tf.min.js';
}

/**
 * esbuild plugin: tfjs and @deepspline/* imports become their globals; any other package
 * import is an error (a bundle must not embed a dependency silently).
 * @type {import('esbuild').Plugin}
 */
export const umdExternals = {
  name: 'umd-externals',
  setup(b) {
    b.onResolve({filter: /^[^./]/}, (args) => {
      const global = umdGlobalOf(args.path);
      if (global == null) {
        return {errors: [{text: `${args.path}: not a tfjs or @deepspline package; the script-tag ` +
          'bundle has no global for it (add it to scripts/umd-globals.mjs or bundle it deliberately)'}]};
      }
      return {path: args.path, namespace: 'umd-global', pluginData: {global}};
    });
    b.onLoad({filter: /.*/, namespace: 'umd-global'}, (args) => {
      const {global} = args.pluginData;
      const parts = global.split('.');
      // globalThis.tf && globalThis.tf.wasm: undefined rather than a TypeError when tf is absent
      const lookup = parts.map((_, i) => `globalThis.${parts.slice(0, i + 1).join('.')}`).join(' && ');
      const member = TFJS_MEMBERS[args.path];
      const missing = member == null ? 'g == null' : `g == null || g.${member} == null`;
      const what = member == null ? `the global ${global} is missing` : `the global ${global} has no ${member}`;
      return {
        contents: `var g = ${lookup};\n` +
          `if (${missing}) throw new Error(${JSON.stringify(`${args.path}: ${what}; ` +
            `load ${scriptOf(args.path)} with a <script> tag before this one`)});\n` +
          'module.exports = g;\n',
        loader: 'js',
      };
    });
  },
};
