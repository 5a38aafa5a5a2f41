/**
 * Commands of the credentials widget. `smallfry:show-credentials` is public:
 * other parts (e.g. S3 error notifications) call it to send the user to the
 * details panel.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';

import { CommandIDs } from '../tokens';
import type { CredentialsModel } from './model';

/**
 * Add the credentials commands.
 *
 * @param app - the application
 * @param options - the model, how to open the panel, translations
 */
export function addCredentialCommands(
  app: JupyterFrontEnd,
  options: {
    model: CredentialsModel;
    openPanel: () => void;
    trans: TranslationBundle;
  }
): void {
  const { model, openPanel, trans } = options;
  app.commands.addCommand(CommandIDs.showCredentials, {
    label: trans.__('Show AWS Credentials'),
    caption: trans.__(
      'Who you are on AWS, for how long, and how to fix problems'
    ),
    execute: () => openPanel()
  });
  app.commands.addCommand(CommandIDs.refreshCredentials, {
    label: trans.__('Refresh AWS Credentials'),
    caption: trans.__('Get new short-lived AWS keys now'),
    isEnabled: () => !model.busy,
    execute: async () => {
      try {
        await model.refresh();
      } catch (error) {
        Notification.error(
          trans.__(
            'Refreshing the AWS credentials failed: %1',
            (error as Error).message ?? String(error)
          )
        );
      }
    }
  });
  app.commands.addCommand(CommandIDs.copyAwsProfile, {
    label: trans.__('Copy AWS CLI Profile'),
    caption: trans.__(
      'Copy a profile for ~/.aws/config whose credential_process asks this server (no secrets)'
    ),
    isEnabled: () => !!model.status?.profile,
    execute: () => {
      const profile = model.status?.profile;
      if (profile) {
        Clipboard.copyToSystem(profile.snippet);
      }
    }
  });
  model.changed.connect(() => app.commands.notifyCommandChanged());
}
