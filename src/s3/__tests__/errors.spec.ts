/**
 * Which S3 failures send the user to the credentials panel, and the
 * notification that offers it.
 */
import { Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';

import { AwsError } from '../client';
import { explainFailure } from '../errors';
import { NotificationFeedback } from '../feedback';

const trans = nullTranslator.load('jupyterlab_smallfry');

function explain(error: AwsError) {
  return explainFailure(error, 'open', 'data/a.csv', 'bucket', trans);
}

describe('explainFailure', () => {
  it.each([
    ['AccessDenied', 403],
    ['ExpiredToken', 400],
    ['InvalidAccessKeyId', 403]
  ])('points %s at the credentials panel', (code, status) => {
    const explained = explain(new AwsError(code, code, status));
    expect(explained).toMatchObject({ notify: true, credentials: true });
  });

  it('names the list of S3 locations when the top level fails', () => {
    const explained = explainFailure(
      new AwsError('GatewayError', 'no keys', 403, true, 'no-credentials'),
      'open',
      '',
      '',
      trans
    );
    expect(explained.message).toMatch(
      /^Could not open the list of S3 locations:/
    );
  });

  it('points a gateway without usable keys at the credentials panel', () => {
    const explained = explain(
      new AwsError('GatewayError', 'no keys', 403, true, 'no-credentials')
    );
    expect(explained.credentials).toBe(true);
    expect(explained.message).toContain('no usable AWS credentials');
  });

  it.each([
    ['a missing bucket', new AwsError('NoSuchBucket', 'gone', 404)],
    [
      'an unreachable endpoint',
      new AwsError('GatewayError', 'down', 502, true, 'EndpointUnreachable')
    ],
    [
      'a refused Jupyter login',
      new AwsError('GatewayError', 'XSRF', 403, true)
    ],
    ['a lost connection', new AwsError('NetworkError', 'offline')]
  ])('does not blame credentials for %s', (_, error) => {
    expect(explain(error).credentials).toBe(false);
  });
});

describe('NotificationFeedback', () => {
  afterEach(() => {
    Notification.manager.dismiss();
  });

  it('offers the credentials panel only on credential errors', () => {
    let opened = 0;
    const feedback = new NotificationFeedback({
      label: 'AWS credentials',
      callback: () => {
        opened += 1;
      }
    });
    feedback.error('denied', { credentials: true });
    feedback.error('bucket missing');
    const shown = Notification.manager.notifications;
    const denied = shown.find(n => n.message === 'denied')!;
    const missing = shown.find(n => n.message === 'bucket missing')!;
    expect(missing.options.actions ?? []).toEqual([]);
    const [action] = denied.options.actions ?? [];
    expect(action.label).toBe('AWS credentials');
    action.callback(new MouseEvent('click'));
    expect(opened).toBe(1);
  });
});
