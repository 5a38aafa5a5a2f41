/**
 * The questions of the compare command run without args (from the palette):
 * which job, which run, and which run or the job's notebook to compare it
 * with, listed from the jobs API. Loaded only when asked.
 */
import { InputDialog } from '@jupyterlab/apputils';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

import { JobsAPI } from '../schedule/api';
import type { ICompareRequest } from './api';

/** Ask which job and which two sides; `null` when the user cancels. */
export async function askCompare(
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
