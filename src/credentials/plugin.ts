/**
 * The credentials plugin: status bar item, details panel and commands.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs, ISmallFry } from '../tokens';
import { CredentialsAPI } from './api';
import { addCredentialCommands } from './commands';
import { CredentialsModel, DEFAULT_POLL_SECONDS } from './model';
import { CredentialsPanel } from './panel';
import { getCallerIdentity } from './sts';
import { CredentialsStatus } from './widget';

const PLUGIN_ID = 'jupyterlab-smallfry:credentials';

/**
 * Shows who the user is on AWS and for how long, in the status bar and in a
 * details panel.
 */
export const credentialsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Show who you are on AWS and for how long, with a details panel to refresh, switch roles and fix problems.',
  autoStart: true,
  requires: [ISmallFry],
  optional: [IStatusBar, ICommandPalette, ISettingRegistry, ITranslator],
  activate: async (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    statusBar: IStatusBar | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    const serverSettings = smallfry.serverSettings;

    let settings: ISettingRegistry.ISettings | null = null;
    if (settingRegistry) {
      try {
        settings = await settingRegistry.load(PLUGIN_ID);
      } catch (error) {
        console.warn(
          'Small Fry: could not load the credentials settings.',
          error
        );
      }
    }
    const pollSeconds = (): number => {
      const value = settings?.composite['pollInterval'];
      return typeof value === 'number' && value > 0
        ? value
        : DEFAULT_POLL_SECONDS;
    };

    const model = new CredentialsModel({
      api: new CredentialsAPI(serverSettings),
      pollSeconds: pollSeconds(),
      trans,
      checkIdentity: () => getCallerIdentity(smallfry)
    });
    settings?.changed.connect(() => model.setPollSeconds(pollSeconds()));

    let panel: MainAreaWidget<CredentialsPanel> | null = null;
    const openPanel = (): void => {
      if (!panel || panel.isDisposed) {
        const content = new CredentialsPanel({ model, trans });
        panel = new MainAreaWidget({ content });
        panel.id = 'smallfry-credentials';
        panel.title.label = trans.__('AWS Credentials');
        panel.title.caption = trans.__('Your AWS identity and credentials');
        panel.title.closable = true;
      }
      if (!panel.isAttached) {
        app.shell.add(panel, 'main');
      }
      app.shell.activateById(panel.id);
    };

    addCredentialCommands(app, { model, openPanel, trans });
    if (palette) {
      const category = trans.__('Small Fry');
      for (const command of [
        CommandIDs.showCredentials,
        CommandIDs.refreshCredentials,
        CommandIDs.copyAwsProfile
      ]) {
        palette.addItem({ command, category });
      }
    }

    if (statusBar) {
      const item = new CredentialsStatus({ model, trans, onOpen: openPanel });
      statusBar.registerStatusItem(PLUGIN_ID, {
        item,
        align: 'left',
        rank: 900,
        isActive: () => true
      });
    }
  }
};

export default credentialsPlugin;
