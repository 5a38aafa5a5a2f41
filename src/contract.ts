/**
 * What the front end and the server agree on, read from the one contract
 * file in the Python package (`server-ext/jupyterlab_smallfry/contract.json`).
 * Python reads the same file (`jupyterlab_smallfry/contract.py`); nothing here
 * is written twice.
 */
import contract from '../server-ext/jupyterlab_smallfry/contract';

/** The S3 browser's drive name: paths look like `S3:<root>/<key>`. */
export const DRIVE_NAME: string = contract.drive.name;

/** Cron presets a spec may use, as the 5-field cron each stands for. */
export const CRON_PRESETS: { readonly [preset: string]: string } =
  contract.cron_presets;

/** Schedules offered as one click in the form: a label and the cron it writes. */
export const SCHEDULE_CHOICES: ReadonlyArray<{ label: string; cron: string }> =
  contract.schedule_choices;

export default contract;
