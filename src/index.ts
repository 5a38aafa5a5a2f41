/**
 * Small Fry front end: the list of plugins, nothing else.
 *
 * `jupyterlab-smallfry:core` provides `ISmallFry` (see `tokens.ts`), which the
 * features require and other extensions may require too.
 */
import { catalogPlugin } from './catalog/plugin';
import { comparePlugin } from './compare/plugin';
import { corePlugin } from './core/plugin';
import { credentialsPlugin } from './credentials/plugin';
import { previewPlugin } from './preview/plugin';
import { s3BrowserPlugin } from './s3/plugin';
import { jobsPlugin, schedulePlugin } from './schedule/plugin';
import { snippetsPlugin } from './snippets/plugin';

export * from './tokens';
export { AwsError } from './core/gateway';

export default [
  corePlugin,
  s3BrowserPlugin,
  schedulePlugin,
  jobsPlugin,
  comparePlugin,
  catalogPlugin,
  credentialsPlugin,
  previewPlugin,
  snippetsPlugin
];
