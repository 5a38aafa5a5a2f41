/**
 * Jest: JupyterLab's preset, TypeScript through ts-jest, and a global setup
 * that starts a real S3 server (moto) behind a real Jupyter server running
 * the Small Fry gateway, for the S3 drive specs.
 */
const base = require('@jupyterlab/testing/lib/jest-config')(__dirname);

const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@marijn',
  '@microsoft',
  'color',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

module.exports = {
  ...base,
  automock: false,
  reporters: ['default'],
  modulePathIgnorePatterns: [
    '<rootDir>/server-ext/',
    '<rootDir>/ui-tests/',
    '<rootDir>/lib/'
  ],
  transform: {
    ...base.transform,
    '^.+\\.tsx?$': ['ts-jest/legacy', { tsconfig: './tsconfig.test.json' }]
  },
  testRegex: 'src/.*/__tests__/.*\\.spec\\.tsx?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`],
  setupFiles: ['<rootDir>/src/__tests__/harness/setupFiles.js'],
  globalSetup: '<rootDir>/src/__tests__/harness/globalSetup.js',
  globalTeardown: '<rootDir>/src/__tests__/harness/globalTeardown.js',
  testTimeout: 120000,
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/**/*.d.ts',
    '!src/**/__tests__/**'
  ]
};
