/**
 * Drive feedback shown with JupyterLab notifications.
 */
import { Notification } from '@jupyterlab/apputils';

import type { IProgressReporter, IS3DriveFeedback } from './drive';

/**
 * Report drive errors and long operations as JupyterLab notifications.
 */
export class NotificationFeedback implements IS3DriveFeedback {
  /**
   * @param credentialsAction - a button offered on errors whose fix is in the
   * user's AWS credentials (the credentials panel), if that panel exists.
   */
  constructor(private readonly _credentialsAction?: Notification.IAction) {}

  /**
   * Show an error the user must act on; it stays until dismissed.
   */
  error(message: string, options: { credentials?: boolean } = {}): void {
    const actions =
      options.credentials && this._credentialsAction
        ? [this._credentialsAction]
        : [];
    Notification.error(message, { autoClose: false, actions });
  }

  /**
   * Show an in-progress notification with a progress bar.
   */
  progress(message: string): IProgressReporter {
    const id = Notification.emit(message, 'in-progress', {
      autoClose: false,
      progress: 0
    });
    return {
      update: (text: string, progress: number) => {
        Notification.update({ id, message: text, progress });
      },
      done: (text: string, ok: boolean) => {
        Notification.update({
          id,
          message: text,
          type: ok ? 'success' : 'error',
          progress: 1,
          autoClose: ok ? 5000 : false
        });
      }
    };
  }
}
