/**
 * The core plugin, `jupyterlab-smallfry:core`: provides `ISmallFry`, the
 * server configuration, AWS gateway clients, S3 roots and S3 drive that the
 * S3 browser, the credentials widget and scheduling (and other extensions)
 * build on.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { NotificationFeedback } from '../s3/feedback';
import { CommandIDs, ISmallFry } from '../tokens';
import { SmallFry } from './smallfry';

/**
 * Fetches the server configuration once and builds the S3 drive, adding it
 * to the contents manager.
 */
export const corePlugin: JupyterFrontEndPlugin<ISmallFry> = {
  id: 'jupyterlab-smallfry:core',
  description:
    'The Small Fry core: server configuration, AWS gateway clients, S3 roots and the S3 drive, for Small Fry features and other extensions.',
  autoStart: true,
  provides: ISmallFry,
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null
  ): ISmallFry => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    const smallfry = new SmallFry({
      serverSettings: app.serviceManager.serverSettings,
      feedback: new NotificationFeedback({
        label: trans.__('AWS credentials'),
        caption: trans.__(
          'Show your AWS identity, its expiry and how to fix it'
        ),
        callback: () => {
          if (app.commands.hasCommand(CommandIDs.showCredentials)) {
            void app.commands.execute(CommandIDs.showCredentials);
          }
        }
      }),
      translator: translator ?? nullTranslator,
      onDrive: drive => app.serviceManager.contents.addDrive(drive)
    });
    // Build (and register) the drive as soon as the configuration is in, so
    // `S3:` paths open even before anyone asks for the drive.
    void smallfry.ready.catch(() => undefined);
    return smallfry;
  }
};
