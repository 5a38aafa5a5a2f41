/**
 * Jest: JupyterLab's preset, TypeScript through ts-jest, and two projects so
 * that the real servers start only when a selected spec needs them.
 *
 * - "servers": specs that reach the S3 server and the Jupyter servers running
 *   the Small Fry gateway. Jest runs a project's global setup only when at
 *   least one of its specs is selected, and then once per run (not per file).
 * - "pure": every other spec; running only these starts no process.
 *
 * A spec belongs to "servers" when it imports the harness modules that reach
 * the servers (`connection`, `servers`, `fixture` under
 * `src/__tests__/harness/`) or reads their `SMALLFRY_TEST_*` variables, so a
 * new server spec needs no entry here. A pure spec that calls one of those
 * by mistake fails with "The jest global setup did not start the servers."
 */
const fs = require('fs');
const path = require('path');

const base = require('@jupyterlab/testing/lib/jest-config')(__dirname);

const HARNESS = path.join('src', '__tests__', 'harness');

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
  'nbdime',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

/** Every spec file under `src/`, as absolute paths. */
function specs(dir = path.join(__dirname, 'src')) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      found.push(...specs(full));
    } else if (
      /\.spec\.tsx?$/.test(entry.name) &&
      full.split(path.sep).includes('__tests__')
    ) {
      found.push(full);
    }
  }
  return found.sort();
}

/** Whether a spec talks to the servers the "servers" global setup starts. */
function needsServers(file) {
  const source = fs.readFileSync(file, 'utf-8');
  return (
    /__tests__\/harness\/(connection|servers|fixture)['"]/.test(source) ||
    /SMALLFRY_TEST_/.test(source)
  );
}

const all = specs();
const serverSpecs = all.filter(needsServers);
const pureSpecs = all.filter(file => !needsServers(file));

// What both projects share; the global setup and teardown are the difference.
const project = {
  ...base,
  automock: false,
  modulePathIgnorePatterns: [
    '<rootDir>/server-ext/',
    '<rootDir>/ui-tests/',
    '<rootDir>/lib/'
  ],
  transform: {
    ...base.transform,
    '^.+\\.tsx?$': ['ts-jest/legacy', { tsconfig: './tsconfig.test.json' }]
  },
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`],
  setupFiles: [`<rootDir>/${HARNESS}/setupFiles.js`]
};
// Global options (set once below), not project options.
delete project.reporters;
delete project.testTimeout;
delete project.coverageReporters;
delete project.coverageDirectory;
delete project.testRegex;

module.exports = {
  reporters: ['default'],
  testTimeout: 120000,
  coverageReporters: base.coverageReporters,
  coverageDirectory: base.coverageDirectory,
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/**/*.d.ts',
    '!src/**/__tests__/**'
  ],
  projects: [
    { ...project, displayName: 'pure', testMatch: pureSpecs },
    {
      ...project,
      displayName: 'servers',
      testMatch: serverSpecs,
      globalSetup: `<rootDir>/${HARNESS}/globalSetup.js`,
      globalTeardown: `<rootDir>/${HARNESS}/globalTeardown.js`
    }
  ]
};
