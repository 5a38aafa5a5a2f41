/**
 * How the S3 drive reports to the user: the hooks it calls (plain
 * interfaces, so the drive runs in Node and tests record what it says), and
 * their implementation with JupyterLab notifications.
 */
import { Notification } from '@jupyterlab/apputils';

/**
 * How a long operation reports its progress to the user.
 */
export interface IProgressReporter {
  /** Update the message and the progress (0..1). */
  update(message: string, progress: number): void;
  /** Finish, successfully or not. */
  done(message: string, ok: boolean): void;
}

/**
 * User feedback hooks of the drive (the plugin wires them to `Notification`).
 */
export interface IS3DriveFeedback {
  /**
   * Show an error the user should act on; `credentials` says the fix is in
   * the user's AWS credentials or role.
   */
  error(message: string, options?: { credentials?: boolean }): void;
  /** Start a long operation with progress. */
  progress(message: string): IProgressReporter;
}

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
