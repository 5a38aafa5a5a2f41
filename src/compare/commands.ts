/**
 * The "Compare Two Runs" command. The Jobs panel calls it (or `openCompare`)
 * with the runs picked; from the palette, without args, it asks for the job
 * and the two sides, listing them from the jobs API.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { InputDialog } from '@jupyterlab/apputils';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import { JobsAPI } from '../schedule/api';
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

/** Ask which job and which two sides; `null` when the user cancels. */
async function ask(
  settings: ServerConnection.ISettings,
  trans: TranslationBundle,
  jobId: string | undefined
): Promise<ICompareRequest | null> {
  const { jobs } = await JobsAPI.list(settings);
  if (!jobId) {
    const picked = await InputDialog.getItem({
      title: trans.__('Compare runs of which job?'),
      items: jobs.map(j => j.spec.id)
    });
    if (!picked.button.accept || !picked.value) {
      return null;
    }
    jobId = picked.value;
  }
  const runs = jobs.find(j => j.spec.id === jobId)?.runs ?? [];
  const base = await InputDialog.getItem({
    title: trans.__('Compare which run of %1…', jobId),
    items: runs.map(r => r.run_id)
  });
  if (!base.button.accept || !base.value) {
    return null;
  }
  const notebook = trans.__("…with the job's notebook");
  const remote = await InputDialog.getItem({
    title: trans.__('…with which run?'),
    items: [...runs.map(r => r.run_id).filter(r => r !== base.value), notebook]
  });
  if (!remote.button.accept || !remote.value) {
    return null;
  }
  return {
    jobId,
    base: base.value,
    remote: remote.value === notebook ? 'notebook' : remote.value
  };
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
        (await ask(
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
