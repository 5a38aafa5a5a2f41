/**
 * A drive that records what it tells the user, over any S3 client: the real
 * gateway (see `servers.ts`) or a stub that fails the way S3 does. Reaches no
 * server by itself, so specs using only this run without the servers.
 */
import { BrowserS3Client } from '../../s3/client';
import { IProgressReporter, IS3DriveFeedback, S3Drive } from '../../s3/drive';

/**
 * Records what the drive told the user.
 */
export class RecordingFeedback implements IS3DriveFeedback {
  errors: string[] = [];
  progressMessages: string[] = [];
  finished: { message: string; ok: boolean }[] = [];

  error(message: string): void {
    this.errors.push(message);
  }

  progress(message: string): IProgressReporter {
    this.progressMessages.push(message);
    return {
      update: (m: string) => {
        this.progressMessages.push(m);
      },
      done: (m: string, ok: boolean) => {
        this.finished.push({ message: m, ok });
      }
    };
  }
}

/**
 * A drive over the given S3 client, recording what it tells the user.
 */
export function driveOver(
  client: BrowserS3Client,
  options: Omit<S3Drive.IOptions, 'client' | 'feedback'>
): { drive: S3Drive; feedback: RecordingFeedback } {
  const feedback = new RecordingFeedback();
  return { drive: new S3Drive({ ...options, client, feedback }), feedback };
}
