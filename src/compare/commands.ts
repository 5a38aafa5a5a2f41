/**
 * The "Compare Two Runs" command. The Jobs panel calls it (or `openCompare`)
 * with the runs picked; from the palette, without args, it asks for the job
 * and the two sides (`pick.ts`).
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import type { ICompareRequest } from './api';
import { COMPARE_RUNS, openCompare } from './index';

/** The request in the command's args, when it is complete. */
export function requestOf(args: {
  [key: string]: unknown;
}): ICompareRequest | null {
  const { jobId, base, remote } = args;
  if (
    typeof jobId === 'string' &&
    typeof base === 'string' &&
    typeof remote === 'string' &&
    jobId &&
    base &&
    remote
  ) {
    return { jobId, base, remote };
  }
  return null;
}

/**
 * Add {@link COMPARE_RUNS}: args `{jobId, base, remote}` open that
 * comparison; missing ones are asked for.
 */
export function addCompareCommand(
  app: JupyterFrontEnd,
  options: {
    serverSettings: ServerConnection.ISettings;
    trans: TranslationBundle;
  }
): void {
  const { serverSettings, trans } = options;
  app.commands.addCommand(COMPARE_RUNS, {
    label: trans.__('Compare Two Runs of a Notebook Job'),
    caption: trans.__(
      'Parameters, run.json and the notebooks (cells and outputs) of two runs, side by side'
    ),
    describedBy: {
      args: {
        type: 'object',
        properties: {
          jobId: { type: 'string', description: trans.__('The job id') },
          base: { type: 'string', description: trans.__('A run id') },
          remote: {
            type: 'string',
            description: trans.__(
              'Another run id, or "notebook" for the job\'s notebook'
            )
          }
        }
      }
    },
    execute: async args => {
      const req =
        requestOf(args) ??
        // The questions load only when the command runs without its args.
        (await (
          await import('./pick')
        ).askCompare(
          serverSettings,
          trans,
          typeof args.jobId === 'string' ? args.jobId : undefined
        ));
      if (req) {
        await openCompare(app, serverSettings, req);
      }
    }
  });
}
