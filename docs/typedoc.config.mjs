// TypeDoc over every published workspace package (its `packages` strategy: one module per package,
// each converted with its own tsconfig), rendered as Markdown into api/ for VitePress.
// TypeDoc's own validation makes these build failures: an undocumented export
// (notDocumented over all five packages), a type a public signature uses that the package
// does not export (notExported), a broken {@link} (invalidLink).
import {readdirSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

// The published packages (packages/testing, the tests' kit, is private).
const packages = readdirSync(new URL('../packages/', import.meta.url), {withFileTypes: true})
  .filter((d) => d.isDirectory())
  .map((d) => ({dir: d.name, ...JSON.parse(readFileSync(new URL(`../packages/${d.name}/package.json`, import.meta.url), 'utf8'))}))
  .filter((p) => !p.private);

const tfjs = 'https://js.tensorflow.org/api/latest/';

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
export default {
  entryPoints: packages.map((p) => `../packages/${p.dir}`),
  entryPointStrategy: 'packages',
  packageOptions: {
    entryPoints: ['src/index.ts'],
    // The package READMEs are written for npm and GitHub (links to folders of the repository).
    readme: 'none',
    excludePrivate: true,
    excludeInternal: true,
    disableGit: true,
    sourceLinkTemplate: 'https://github.com/tfjs-deepspline/tfjs-deepspline/blob/main/{path}#L{line}',
    includeVersion: true,
    // Source paths (and links) relative to the repository root.
    basePath: fileURLToPath(new URL('..', import.meta.url)),
    displayBasePath: fileURLToPath(new URL('..', import.meta.url)),
  },
  plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme', './typedoc/plugin.mjs'],
  theme: 'deepspline',
  out: 'api',
  docsRoot: '.',
  name: 'API reference',
  readme: 'none',
  packagesRequiringDocumentation: packages.map((p) => p.name),
  // Exempt from notDocumented: members that override a TF.js API, documented there
  // (Layer.build/call/getConfig, Callback.onBatchEnd), and the fields of inline return types,
  // which the function's @returns describes.
  intentionallyNotDocumented: [
    ...['SpectralConv2D', 'SpectralDense'].flatMap((layer) =>
      ['build', 'call', 'getConfig'].map((method) => `@deepspline/lipschitz.${layer}.${method}`)),
    ...[['FrobeniusConv2D', ['call', 'getConfig']], ['FrobeniusDense', ['call', 'getConfig']],
      ['PadConv2D', ['build', 'call', 'computeOutputShape', 'getConfig']],
      ['SpectralConv2DTranspose', ['build', 'call', 'getConfig']]].flatMap(([layer, methods]) =>
      methods.map((method) => `@deepspline/lipschitz.${layer}.${method}`)),
    '@deepspline/layers.ConstraintCallback.onBatchEnd',
    '@deepspline/core.splineCurves.__type.x', '@deepspline/core.splineCurves.__type.y',
    '@deepspline/layers.SplineActivation.curves.__type.x', '@deepspline/layers.SplineActivation.curves.__type.y',
    '@deepspline/lipschitz.TV2ProximalOptimizer.getWeights.__type.name',
    '@deepspline/lipschitz.TV2ProximalOptimizer.getWeights.__type.tensor',
  ],
  validation: {notExported: true, notDocumented: true, invalidLink: true, invalidPath: true,
    rewrittenLink: true, unusedMergeModuleWith: true},
  treatWarningsAsErrors: true,
  treatValidationWarningsAsErrors: true,
  // TF.js types link to the TF.js API pages: a class to its entry, anything else to the
  // package's part of the reference.
  externalSymbolLinkMappings: {
    '@tensorflow/tfjs-core': {
      ...Object.fromEntries(['Tensor', 'Variable', 'Scalar', 'Tensor1D', 'Tensor2D', 'Tensor3D',
        'Tensor4D', 'TensorBuffer'].map((name) => [name, `${tfjs}#class:${name}`])),
      Optimizer: `${tfjs}#class:train.Optimizer`,
      '*': `${tfjs}#Tensors`,
    },
    '@tensorflow/tfjs-layers': {
      ...Object.fromEntries(['LayersModel', 'Sequential', 'SymbolicTensor'].map((name) =>
        [name, `${tfjs}#class:${name}`])),
      Layer: `${tfjs}#class:layers.Layer`,
      LayerArgs: `${tfjs}#class:layers.Layer`,
      Callback: `${tfjs}#class:Callback`,
      Regularizer: `${tfjs}#Regularizers`,
      Constraint: `${tfjs}#Constraints`,
      Initializer: `${tfjs}#Initializers`,
      '*': `${tfjs}#Layers-Basic`,
    },
    '@tensorflow/tfjs-backend-webgl': {'*': `${tfjs}#Backends`},
    '@tensorflow/tfjs-backend-wasm': {'*': `${tfjs}#Backends`},
  },
  logLevel: 'Warn',
};
