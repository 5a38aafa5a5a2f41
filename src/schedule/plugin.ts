/**
 * Scheduling plugins: `jupyterlab-smallfry:schedule` (the schedule form and
 * its command, toolbar button, context menus and palette entry) and
 * `jupyterlab-smallfry:jobs` (the Jobs panel in the left sidebar).
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { openCompare } from '../compare';
import { RootMap } from '../s3/paths';
import { CommandIDs, ISmallFry } from '../tokens';
import { addScheduleCommand } from './commands';
import { JobsModel } from './jobs';
import { S3Locations } from './locations';
import { JobsPanel } from './panel';

/** JupyterLab's file browser command that shows a path in its browser. */
const GO_TO_PATH = 'filebrowser:go-to-path';

/** Loaded once, on first use, by whichever plugin needs it first. */
namespace Shared {
  let locations: Promise<S3Locations> | null = null;

  export function getLocations(smallfry: ISmallFry): Promise<S3Locations> {
    if (!locations) {
      locations = Promise.all([smallfry.roots, smallfry.config])
        .then(
          ([roots, config]) => new S3Locations(roots, config.list_all_buckets)
        )
        .catch(() => new S3Locations(new RootMap([]), false));
    }
    return locations;
  }
}

/**
 * "Schedule this notebook".
 */
export const schedulePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-smallfry:schedule',
  description:
    'Schedule a notebook: parameters, cron schedule with a preview, outputs, retries and notifications.',
  autoStart: true,
  requires: [ISmallFry],
  optional: [IFileBrowserFactory, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    browsers: IFileBrowserFactory | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    addScheduleCommand(app, {
      trans,
      browsers,
      locations: () => Shared.getLocations(smallfry)
    });
    palette?.addItem({
      command: CommandIDs.schedule,
      category: trans.__('Small Fry'),
      args: { palette: true }
    });
  }
};

/**
 * The Jobs panel.
 */
export const jobsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-smallfry:jobs',
  description:
    'The Jobs panel: scheduled notebooks, their run history (progress, failures, lineage), outputs and comparisons; pause, edit, delete, run now, re-run, reproduce.',
  autoStart: true,
  requires: [ISmallFry],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    const model = new JobsModel({
      serverSettings: smallfry.serverSettings
    });
    const panel = new JobsPanel({
      model,
      trans,
      actions: {
        openOutput: async uri => {
          const locations = await Shared.getLocations(smallfry);
          const path = locations.drivePathOf(uri);
          if (!path) {
            return false;
          }
          try {
            await app.commands.execute('docmanager:open', { path });
            return true;
          } catch {
            return false;
          }
        },
        edit: job =>
          void app.commands.execute(CommandIDs.schedule, {
            jobId: job.spec.id
          }),
        openS3: async uri => {
          const locations = await Shared.getLocations(smallfry);
          const path = locations.drivePathOf(uri);
          if (!path) {
            Notification.warning(
              trans.__(
                '%1 is in no bucket the S3 browser shows: ask an administrator to add it to c.SmallFry.roots.',
                uri
              ),
              { autoClose: 6000 }
            );
            return false;
          }
          // JupyterLab's own command: it finds the file browser of the S3
          // drive, goes to the object's folder, selects it and shows it.
          await app.commands.execute(GO_TO_PATH, { path });
          return true;
        },
        compare: request => openCompare(app, smallfry.serverSettings, request)
      }
    });
    app.shell.add(panel, 'left', { rank: 700 });
    restorer?.add(panel, 'smallfry-jobs-panel');

    app.commands.addCommand(CommandIDs.openJobs, {
      label: trans.__('Show Notebook Jobs'),
      execute: () => app.shell.activateById(panel.id)
    });
    app.commands.addCommand(CommandIDs.refreshJobs, {
      label: trans.__('Refresh Notebook Jobs'),
      execute: () => model.refresh().catch(() => undefined)
    });
    palette?.addItem({
      command: CommandIDs.openJobs,
      category: trans.__('Small Fry')
    });
  }
};

export default [schedulePlugin, jobsPlugin];
