// Tests run on the TypeScript sources (compiled on the fly by SWC); `npm run typecheck`
// type-checks them, and `npm test` builds the packages first so the packaging tests see
// the real dist output.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/examples', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/browser/'],
  transform: {
    '^.+\\.(t|j)sx?$|^.+\\.mjs$': ['@swc/jest', {
      jsc: {parser: {syntax: 'typescript'}, target: 'es2020'},
      module: {type: 'commonjs'},
    }],
  },
  moduleNameMapper: {
    '^@deepspline/([a-z-]+)/internal$': '<rootDir>/packages/$1/src/internal.ts',
    '^@deepspline/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  setupFiles: ['<rootDir>/test/jest.setup.cjs'],
  testTimeout: 120000,
  // Re-print every failing test after the run, however few files ran: CI keeps the end of the
  // output, which is otherwise the console summaries of the passing files.
  reporters: [['default', {summaryThreshold: 0}]],
  maxWorkers: 2,
};
