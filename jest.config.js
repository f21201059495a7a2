/** @type {import('jest').Config} */
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/test', '<rootDir>/lib'],
  testRegex: '.*\\.(spec|e2e-spec|int-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Names the tests left out for a missing system binary (test/support/system-binary.ts).
  reporters: ['default', '<rootDir>/test/support/not-run-reporter.js'],
  testTimeout: 60000,
};
