/**
 * Compare two runs of a job, or a run and the job's notebook: the
 * parameters, the two `run.json` and nbdime's diff of cells and outputs,
 * side by side in a main-area tab.
 *
 * This module is small on purpose and is what the rest of the extension
 * imports: the view, nbdime and nbdime's styles are loaded with `import()`
 * the first time a comparison opens, so JupyterLab's startup does not carry
 * them.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ServerConnection } from '@jupyterlab/services';

import { CommandIDs } from '../tokens';
import { fetchCompare, type ICompareRequest } from './api';

export type { ICompareAnswer, ICompareRequest } from './api';

/**
 * The command comparing two runs, args `{jobId, base, remote}` (`remote` a
 * run id or `"notebook"`); without them it asks which. (`CommandIDs.compareRuns`.)
 */
export const COMPARE_RUNS = CommandIDs.compareRuns;

/** The tab's id: one tab per pair, so asking again shows the open one. */
export function compareViewId(req: ICompareRequest): string {
  return `smallfry-compare:${req.jobId}:${req.base}:${req.remote}`;
}

/**
 * Open the comparison of `req.base` with `req.remote` in the main area, or
 * show it when it is open already. Resolves once it is drawn; when the
 * server refuses (a run that does not exist, a run of another job), the tab
 * says why instead and the promise still resolves.
 *
 * @param app - the application (its shell; JupyterLab's rendermime and
 *   editor services are taken from its plugins)
 * @param settings - the server connection settings
 */
export async function openCompare(
  app: JupyterFrontEnd,
  settings: ServerConnection.ISettings,
  req: ICompareRequest
): Promise<void> {
  const id = compareViewId(req);
  for (const open of app.shell.widgets('main')) {
    if (open.id === id) {
      app.shell.activateById(id);
      return;
    }
  }
  const [view, answer] = await Promise.all([
    import('./view'),
    // Started at once, so the server works while nbdime loads.
    fetchCompare(settings, req).then(
      answer => ({ answer, error: null }),
      (error: unknown) => ({ answer: null, error })
    )
  ]);
  await view.showCompare(app, req, answer);
}
