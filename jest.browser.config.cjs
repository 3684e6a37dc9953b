// Browser tests (`npm run test:browser`): jest in Node drives headless Chromium
// (scripts/chromium.mjs, WebGL through SwiftShader); each test bundles its page script with
// esbuild from the TypeScript sources (test-browser/harness.ts). Picks up
// packages/*/test/browser/**/*.test.ts, docs/test/browser/**/*.test.ts and test/browser/**/*.test.ts
// (the script-tag bundles, on the built packages).
const {transform, moduleNameMapper, reporters} = require('./jest.config.cjs');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/packages', '<rootDir>/docs', '<rootDir>/test'],
  testMatch: [
    '<rootDir>/packages/*/test/browser/**/*.test.ts',
    '<rootDir>/docs/test/browser/**/*.test.ts',
    '<rootDir>/test/browser/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // the node suite's: TypeScript by SWC, @deepspline/* mapped to the sources, failures re-printed at the end
  transform,
  moduleNameMapper,
  testTimeout: 180000,
  reporters,
  // One Chromium at a time: the machine has 2 cores.
  maxWorkers: 1,
};
