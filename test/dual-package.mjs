// Loads every package named on the command line with both `import` and `require` in one Node
// process (half of them import first, half require first) and exits 1 unless there is one
// copy of each: the same export objects either way, no "already registered" warning from
// tfjs, and the kernel and layer-class registries holding the very objects both loaders see.
// test/pack.test.ts runs it from a project that has the packed tarballs installed.
//
//   node dual-package.mjs @deepspline/core @deepspline/core/internal @deepspline/layers ...
import {createRequire} from 'node:module';

const require = createRequire(`${process.cwd()}/`);
const names = process.argv.slice(2);
const problems = [];
const warnings = [];
for (const level of ['warn', 'error']) {
  console[level] = (...args) => warnings.push(args.map(String).join(' '));
}

const loaded = {};
const imported = {};
for (const [i, name] of names.entries()) {
  const order = i % 2 ? ['require', 'import'] : ['import', 'require'];
  const got = {};
  for (const how of order) got[how] = how === 'import' ? await import(name) : require(name);
  loaded[name] = got.require;
  imported[name] = got.import;
  const keys = Object.keys(got.require);
  if (keys.length === 0) problems.push(`${name}: require() returned no exports`);
  if (got.import.default !== got.require) problems.push(`${name}: import's default is not require()'s exports`);
  for (const key of keys) {
    if (got.import[key] !== got.require[key]) problems.push(`${name}: export ${key} differs between import and require`);
  }
  const missing = Object.keys(got.import).filter((k) => k !== 'default' && k !== '__esModule' && !keys.includes(k));
  if (missing.length) problems.push(`${name}: only import sees ${missing.join(', ')}`);
}

const tf = require('@tensorflow/tfjs-core');
const core = loaded['@deepspline/core'];
const internal = loaded['@deepspline/core/internal'];
if (core && internal) {
  const kernel = tf.getKernel(core.LinearSpline, 'cpu');
  if (kernel?.kernelFunc !== internal.linearSplineCpuConfig.kernelFunc) {
    problems.push('the cpu LinearSpline kernel in the registry is not the one @deepspline/core/internal exports');
  }
}
const layers = loaded['@deepspline/layers'];
if (core && layers) {
  // an error thrown by layers' ES module build is an instance of core's CommonJS classes
  let error = null;
  try { imported['@deepspline/layers'].splineActivation({size: 2}); } catch (e) { error = e; }
  if (!(error instanceof core.ArgumentError && error instanceof core.DeepSplineError)) {
    problems.push(`the error of splineActivation({size: 2}) (imported) is not core's ArgumentError: ${error}`);
  }
}
if (layers) {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layers.SplineActivation.className];
  if (entry?.[0] !== layers.SplineActivation) {
    problems.push('the registered SplineActivation class is not the one @deepspline/layers exports');
  }
}
problems.push(...warnings.map((w) => `console: ${w}`));
process.stdout.write(JSON.stringify({packages: names, problems}) + '\n');
process.exit(problems.length ? 1 : 0);
