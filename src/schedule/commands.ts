/**
 * The `smallfry:schedule` command: find the notebook (the right-clicked file
 * in either file browser, else the current notebook), read its parameters
 * cell and open the schedule form; or, with `jobId`, re-open a job.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { IChangedArgs } from '@jupyterlab/coreutils';
import type { ISignal } from '@lumino/signaling';

import { IJob, IJobSpec, JobsAPI } from './api';
import { scheduleIcon } from './icons';
import { S3Locations } from './locations';
import type { INotebookInfo } from './model';
import { findParametersCell, parseParametersCell } from './parameters';
import { CommandIDs } from '../tokens';

/** What the command needs. */
export interface IScheduleCommandOptions {
  trans: TranslationBundle;
  browsers: IFileBrowserFactory | null;
  /** The S3 locations (for the S3 drive's notebooks), once known. */
  locations: () => Promise<S3Locations>;
}

/** The parts of a document widget the command reads. */
interface INotebookWidgetLike {
  context: {
    path: string;
    model: {
      dirty: boolean;
      toJSON(): unknown;
      stateChanged: ISignal<unknown, IChangedArgs<unknown>>;
    };
  };
}

function isNotebookWidget(w: unknown): w is INotebookWidgetLike {
  const path = (w as INotebookWidgetLike | null)?.context?.path;
  return typeof path === 'string' && path.endsWith('.ipynb');
}

function openWidget(
  app: JupyterFrontEnd,
  path: string
): INotebookWidgetLike | null {
  for (const w of app.shell.widgets('main')) {
    if (isNotebookWidget(w) && w.context.path === path) {
      return w;
    }
  }
  return null;
}

/** The notebook the command is about, from a context menu or the current tab. */
function targetPath(
  app: JupyterFrontEnd,
  browsers: IFileBrowserFactory | null
): string | null {
  const item = app.contextMenuHitTest(node =>
    node.classList.contains('jp-DirListing-item')
  );
  if (item && browsers) {
    const browser = browsers.tracker.find(b => b.node.contains(item));
    if (browser) {
      for (const model of browser.selectedItems()) {
        if (model.path.endsWith('.ipynb')) {
          return model.path;
        }
      }
    }
  }
  const current = app.shell.currentWidget;
  return isNotebookWidget(current) ? current.context.path : null;
}

/**
 * Read a notebook: the open editor's state when it is open (so unsaved
 * changes are noticed), else the saved file.
 */
async function readNotebook(
  app: JupyterFrontEnd,
  path: string,
  source: string
): Promise<INotebookInfo> {
  const open = openWidget(app, path);
  let json: any;
  let dirty = false;
  if (open) {
    json = open.context.model.toJSON();
    dirty = open.context.model.dirty;
  } else {
    const model = await app.serviceManager.contents.get(path, {
      content: true,
      type: 'notebook'
    });
    json = model.content;
  }
  const cell = findParametersCell(json ?? {});
  return {
    path,
    source,
    kernel: json?.metadata?.kernelspec?.name ?? null,
    dirty,
    cell: cell === null ? null : parseParametersCell(cell)
  };
}

/**
 * Open the schedule form; settles with the saved job, or `null`.
 */
export async function openScheduleForm(
  app: JupyterFrontEnd,
  options: IScheduleCommandOptions,
  args: { path?: string; jobId?: string }
): Promise<IJob | null> {
  const { trans } = options;
  const settings = app.serviceManager.serverSettings;
  const locations = await options.locations();
  let existing: IJobSpec | null = null;
  let existingEtag: string | undefined;
  let notebook: INotebookInfo | null = null;
  if (args.jobId) {
    const job = await JobsAPI.get(settings, args.jobId);
    existing = job.spec;
    existingEtag = job.etag;
    const source = existing.notebook?.source_path;
    const path = source?.startsWith('s3://')
      ? locations.drivePathOf(source)
      : source;
    if (source && path) {
      // The notebook may be gone or moved; the job is editable without it.
      notebook = await readNotebook(app, path, source).catch(() => null);
    }
  } else {
    const path = args.path ?? targetPath(app, options.browsers);
    if (!path) {
      Notification.warning(
        trans.__('Open a notebook or right-click one to schedule it.')
      );
      return null;
    }
    const source = locations.sourceOf(path);
    if (!source) {
      Notification.error(
        trans.__('%1 is not in an S3 location the server knows.', path)
      );
      return null;
    }
    notebook = await readNotebook(app, path, source);
  }
  const [{ ScheduleDialog }, { browserTimezone, ScheduleModel }] =
    await Promise.all([import('./dialog'), import('./model')]);
  const model = new ScheduleModel({
    serverSettings: settings,
    notebook,
    existing,
    existingEtag,
    timezone: browserTimezone(),
    trans
  });
  // Saving the notebook (or picking its kernel) while the form is open
  // updates the warnings.
  const open = notebook ? openWidget(app, notebook.path) : null;
  const follow = (_: unknown, change: IChangedArgs<unknown>) => {
    if (open && change.name === 'dirty') {
      const json = open.context.model.toJSON() as any;
      model.updateNotebookState({
        dirty: open.context.model.dirty,
        kernel: json?.metadata?.kernelspec?.name ?? null
      });
    }
  };
  open?.context.model.stateChanged.connect(follow);
  const form = new ScheduleDialog({ model, trans });
  form.id = `smallfry-schedule-${Math.random().toString(36).slice(2, 10)}`;
  form.title.label = existing
    ? trans.__('Edit job %1', existing.id)
    : trans.__('Schedule %1', notebook!.path.replace(/^.*\//, ''));
  form.title.icon = scheduleIcon;
  form.title.closable = true;
  app.shell.add(form, 'main');
  app.shell.activateById(form.id);
  const job = await form.done;
  open?.context.model.stateChanged.disconnect(follow);
  if (job) {
    Notification.success(
      existing
        ? trans.__('Saved job %1.', job.spec.id)
        : trans.__('Scheduled %1 as job %2.', notebook!.path, job.spec.id),
      { autoClose: 5000 }
    );
    for (const id of [CommandIDs.refreshJobs, CommandIDs.openJobs]) {
      if (app.commands.hasCommand(id)) {
        await app.commands.execute(id);
      }
    }
  }
  return job;
}

/**
 * Add `smallfry:schedule`.
 */
export function addScheduleCommand(
  app: JupyterFrontEnd,
  options: IScheduleCommandOptions
): void {
  const { trans } = options;
  app.commands.addCommand(CommandIDs.schedule, {
    label: args =>
      args.jobId
        ? trans.__('Edit Job…')
        : args.toolbar
          ? trans.__('Schedule')
          : trans.__('Schedule Notebook…'),
    caption: trans.__(
      'Run this notebook on a schedule or on demand, with parameters'
    ),
    icon: args => (args.toolbar || args.palette ? scheduleIcon : undefined),
    describedBy: {
      args: {
        type: 'object',
        properties: {
          path: { type: 'string', description: 'Notebook path' },
          jobId: { type: 'string', description: 'Job to edit' }
        }
      }
    },
    execute: async args => {
      try {
        return await openScheduleForm(app, options, {
          path: typeof args.path === 'string' ? args.path : undefined,
          jobId: typeof args.jobId === 'string' ? args.jobId : undefined
        });
      } catch (err) {
        Notification.error(
          trans.__(
            'Could not open the schedule form: %1',
            (err as Error).message ?? String(err)
          )
        );
        return null;
      }
    }
  });
}
