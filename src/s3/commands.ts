/**
 * Commands of the S3 browser: copy `s3://` URIs, copy S3 ⇄ local.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Notification } from '@jupyterlab/apputils';
import type { FileBrowser } from '@jupyterlab/filebrowser';
import type { Contents } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import {
  copyIcon,
  downloadIcon,
  fileUploadIcon
} from '@jupyterlab/ui-components';

import { CommandIDs } from '../tokens';
import type { S3Drive } from './drive';
import { NotificationFeedback } from './feedback';
import {
  ITransferItem,
  ITransferReport,
  joinGlobal,
  transferFiles,
  walkContents
} from './transfer';

/**
 * What the commands act on.
 */
export interface IS3CommandsOptions {
  /** The S3 drive. */
  drive: S3Drive;
  /** The S3 file browser. */
  browser: FileBrowser;
  /** The default (local) file browser, when there is one. */
  localBrowser: FileBrowser | null;
  /** Translation bundle. */
  trans: TranslationBundle;
}

/**
 * Register the S3 browser commands.
 */
export function addS3Commands(
  app: JupyterFrontEnd,
  options: IS3CommandsOptions
): void {
  const { drive, browser, localBrowser, trans } = options;
  const contents = app.serviceManager.contents;
  const prefix = `${drive.name}:`;
  const toLocal = (path: string): string =>
    path.startsWith(prefix) ? path.slice(prefix.length) : path;

  app.commands.addCommand(CommandIDs.copyS3Uri, {
    label: trans.__('Copy S3 URI'),
    caption: trans.__('Copy the s3:// URI of the selected items'),
    icon: copyIcon,
    describedBy: { args: { type: 'object', properties: {} } },
    execute: async () => {
      const items = Array.from(browser.selectedItems());
      const uris =
        items.length > 0
          ? items.map(item =>
              drive.s3Uri(toLocal(item.path), item.type === 'directory')
            )
          : [drive.s3Uri(toLocal(browser.model.path), true)];
      Clipboard.copyToSystem(uris.join('\n'));
      Notification.info(
        uris.length === 1
          ? trans.__('Copied %1', uris[0])
          : trans.__('Copied %1 S3 URIs', uris.length),
        { autoClose: 3000 }
      );
    }
  });

  app.commands.addCommand(CommandIDs.copyToLocal, {
    label: trans.__('Copy to Local Folder'),
    caption: trans.__(
      'Copy the selected S3 items into the folder open in the local file browser'
    ),
    icon: downloadIcon,
    describedBy: { args: { type: 'object', properties: {} } },
    isEnabled: () => localBrowser !== null,
    execute: async () => {
      if (!localBrowser) {
        return;
      }
      const targetDir = localBrowser.model.path;
      const items = Array.from(browser.selectedItems());
      const plan = await planTransfer(items, targetDir, async item => {
        const tree = await drive.walk(toLocal(item.path));
        return tree;
      });
      await runTransfer(contents, plan, trans, {
        title: trans._n(
          'Copying %1 file from S3 to "%2"…',
          'Copying %1 files from S3 to "%2"…',
          plan.items.length,
          targetDir || '/'
        ),
        done: n =>
          trans._n(
            'Copied %1 file from S3 to "%2".',
            'Copied %1 files from S3 to "%2".',
            n,
            targetDir || '/'
          )
      });
    }
  });

  app.commands.addCommand(CommandIDs.copyToS3, {
    label: trans.__('Copy to S3 Folder'),
    caption: trans.__(
      'Copy the selected local items into the folder open in the S3 browser'
    ),
    icon: fileUploadIcon,
    describedBy: { args: { type: 'object', properties: {} } },
    isEnabled: () =>
      localBrowser !== null && toLocal(browser.model.path) !== '',
    execute: async () => {
      if (!localBrowser) {
        return;
      }
      const targetDir = browser.model.path;
      if (toLocal(targetDir) === '') {
        Notification.warning(
          trans.__(
            'Open a bucket or folder in the S3 browser first: files are copied there.'
          ),
          { autoClose: 5000 }
        );
        return;
      }
      const items = Array.from(localBrowser.selectedItems());
      const plan = await planTransfer(items, targetDir, item =>
        walkContents(contents, item.path)
      );
      await runTransfer(contents, plan, trans, {
        title: trans._n(
          'Copying %1 file to "%2"…',
          'Copying %1 files to "%2"…',
          plan.items.length,
          drive.s3Uri(toLocal(targetDir), true)
        ),
        done: n =>
          trans._n(
            'Copied %1 file to "%2".',
            'Copied %1 files to "%2".',
            n,
            drive.s3Uri(toLocal(targetDir), true)
          )
      });
    }
  });
}

/**
 * The files and folders to copy for a selection.
 */
interface IPlan {
  items: ITransferItem[];
  directories: string[];
}

async function planTransfer(
  selection: Contents.IModel[],
  targetDir: string,
  walk: (
    item: Contents.IModel
  ) => Promise<{ files: string[]; folders: string[] }>
): Promise<IPlan> {
  const plan: IPlan = { items: [], directories: [] };
  for (const item of selection) {
    const target = joinGlobal(targetDir, item.name);
    if (item.type === 'directory') {
      const tree = await walk(item);
      plan.directories.push(target);
      for (const folder of tree.folders) {
        plan.directories.push(joinGlobal(target, folder));
      }
      for (const file of tree.files) {
        plan.items.push({
          from: joinGlobal(item.path, file),
          to: joinGlobal(target, file)
        });
      }
    } else {
      plan.items.push({ from: item.path, to: target });
    }
  }
  return plan;
}

async function runTransfer(
  contents: Contents.IManager,
  plan: IPlan,
  trans: TranslationBundle,
  messages: { title: string; done: (copied: number) => string }
): Promise<ITransferReport> {
  const progress =
    plan.items.length > 1
      ? new NotificationFeedback().progress(messages.title)
      : null;
  const report = await transferFiles(
    contents,
    plan.items,
    plan.directories,
    (done, total) =>
      progress?.update(
        trans.__('Copied %1 of %2 files', done, total),
        done / total
      )
  );
  const lines: string[] = [];
  if (report.skipped.length > 0) {
    lines.push(
      trans.__(
        '%1 already existed and were left alone: %2',
        report.skipped.length,
        report.skipped.slice(0, 5).join(', ')
      )
    );
  }
  for (const failure of report.failed.slice(0, 10)) {
    lines.push(`${failure.path}: ${failure.message}`);
  }
  const ok = report.failed.length === 0;
  const summary = [messages.done(report.copied.length), ...lines].join('\n');
  if (progress) {
    progress.done(summary, ok);
  } else if (ok) {
    Notification.success(summary, { autoClose: 5000 });
  } else {
    Notification.error(summary, { autoClose: false });
  }
  return report;
}
