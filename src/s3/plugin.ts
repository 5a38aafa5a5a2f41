/**
 * The S3 browser plugin, `jupyterlab-smallfry:s3-browser`: the core's S3
 * drive shown in JupyterLab's own file browser in the left sidebar, with its
 * copy commands.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  createToolbarFactory,
  ICommandPalette,
  IToolbarWidgetRegistry,
  Notification,
  setToolbar
} from '@jupyterlab/apputils';
import {
  IDefaultFileBrowser,
  IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Poll } from '@lumino/polling';

import { CommandIDs, ISmallFry } from '../tokens';
import { ListingBanner } from './banner';
import { addS3Commands } from './commands';
import { s3Icon } from './icons';
import { followDriveChanges } from './refresh';

/**
 * Default seconds between refreshes of the open S3 folder; keep in sync with
 * `schema/s3-browser.json`. Every refresh is a billed LIST request.
 */
const DEFAULT_REFRESH_SECONDS = 300;

/**
 * Longest interval JupyterLab's file browser poll allows.
 */
const MAX_REFRESH_SECONDS = 300;

/**
 * The S3 browser: an S3 contents drive shown in JupyterLab's own file browser
 * in the left sidebar.
 */
export const s3BrowserPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-smallfry:s3-browser',
  description:
    'Browse, open, edit and save S3 objects in a sidebar file browser.',
  autoStart: true,
  requires: [ISmallFry, IFileBrowserFactory],
  optional: [
    ISettingRegistry,
    ITranslator,
    ILayoutRestorer,
    IDefaultFileBrowser,
    IToolbarWidgetRegistry,
    ICommandPalette
  ],
  activate: async (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    factory: IFileBrowserFactory,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    defaultBrowser: IDefaultFileBrowser | null,
    toolbarRegistry: IToolbarWidgetRegistry | null,
    palette: ICommandPalette | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');

    let config;
    let drive;
    try {
      [config, drive] = await Promise.all([smallfry.config, smallfry.drive]);
    } catch (error) {
      console.error(
        'Small Fry: the server extension did not answer; the S3 browser is off.',
        error
      );
      Notification.warning(
        trans.__(
          'The S3 browser is off: the Small Fry server extension did not answer (%1). Check that jupyterlab_smallfry is installed and enabled on the Jupyter server, then reload.',
          (error as Error).message ?? String(error)
        ),
        { autoClose: false }
      );
      return;
    }

    let refreshSeconds = config.refresh_interval ?? DEFAULT_REFRESH_SECONDS;
    if (settingRegistry) {
      try {
        const settings = await settingRegistry.load(s3BrowserPlugin.id);
        const user = settings.user['refreshInterval'];
        if (typeof user === 'number') {
          refreshSeconds = user;
        }
      } catch (error) {
        console.warn(
          'Small Fry: could not load the S3 browser settings.',
          error
        );
      }
    }

    const browser = factory.createFileBrowser('smallfry-s3-browser', {
      driveName: drive.name,
      // JupyterLab's browser poll accepts at most 5 minutes, or "never"
      // (refresh only when the user asks or something changes here).
      refreshInterval:
        refreshSeconds > 0
          ? Math.min(refreshSeconds, MAX_REFRESH_SECONDS) * 1000
          : Poll.NEVER
    });
    browser.addClass('jp-smallfry-S3Browser');
    browser.title.icon = s3Icon;
    browser.title.caption = trans.__('S3');
    browser.title.label = '';
    browser.node.setAttribute('aria-label', trans.__('S3 browser'));
    browser.showLastModifiedColumn = true;

    if (toolbarRegistry && settingRegistry) {
      // The stock toolbar of JupyterLab's file browser (new folder, upload,
      // refresh, filter), configurable in the same settings. Built once every
      // plugin is active, so the file browser's own item factories (the
      // uploader) and commands exist.
      void app.restored.then(() => {
        setToolbar(
          browser,
          createToolbarFactory(
            toolbarRegistry,
            settingRegistry,
            'FileBrowser',
            '@jupyterlab/filebrowser-extension:widget',
            translator ?? nullTranslator
          )
        );
      });
    }

    ListingBanner.insertInto(
      browser,
      new ListingBanner({ drive, model: browser.model, trans })
    );

    const following = followDriveChanges(drive, browser.model);
    browser.disposed.connect(() => following.dispose());

    app.shell.add(browser, 'left', { rank: 650 });
    restorer?.add(browser, 'smallfry-s3-browser');

    addS3Commands(app, {
      drive,
      browser,
      localBrowser: defaultBrowser ?? null,
      trans
    });
    if (palette) {
      const category = trans.__('Small Fry');
      palette.addItem({ command: CommandIDs.copyToS3, category });
      palette.addItem({ command: CommandIDs.copyToLocal, category });
    }
  }
};
