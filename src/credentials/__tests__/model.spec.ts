/**
 * @jest-environment node
 */
/**
 * The credentials model through its signals. The REST calls are replaced by
 * an in-memory fake (the model takes its API as an option), so that states
 * the test server cannot produce on demand (expiring, expired, needs-login)
 * and the clock are under the test's control; `server.spec.ts` checks the
 * real endpoints.
 */
import { nullTranslator } from '@jupyterlab/translation';

import type { ICredentialsAPI, ICredentialStatus } from '../api';
import {
  CredentialsModel,
  displayName,
  EXPIRING_SECONDS,
  formatCountdown
} from '../model';

const trans = nullTranslator.load('jupyterlab_smallfry');
const T0 = Date.parse('2026-11-24T12:00:00Z');

function status(over: Partial<ICredentialStatus> = {}): ICredentialStatus {
  return {
    mode: 'web-identity',
    state: 'ok',
    identity: {
      arn: 'arn:aws:sts::123456789012:assumed-role/analyst/alice',
      account: '123456789012',
      role: 'analyst',
      session_name: 'alice',
      source_identity: 'alice'
    },
    expiration: new Date(T0 + 52 * 60 * 1000).toISOString(),
    expires_in: 52 * 60,
    refresh_margin: 1200,
    last_refresh: new Date(T0 - 8 * 60 * 1000).toISOString(),
    role: 'arn:aws:iam::123456789012:role/analyst',
    roles: [
      'arn:aws:iam::123456789012:role/analyst',
      'arn:aws:iam::123456789012:role/admin'
    ],
    token: {},
    warnings: [],
    error: null,
    login_url: '',
    profile: null,
    ...over
  };
}

class FakeAPI implements ICredentialsAPI {
  next: ICredentialStatus = status();
  fail: Error | null = null;
  calls: string[] = [];
  status(): Promise<ICredentialStatus> {
    return this._answer('status');
  }
  refresh(): Promise<ICredentialStatus> {
    return this._answer('refresh');
  }
  chooseRole(arn: string): Promise<ICredentialStatus> {
    return this._answer(`role ${arn}`);
  }
  private async _answer(call: string): Promise<ICredentialStatus> {
    this.calls.push(call);
    if (this.fail) {
      throw this.fail;
    }
    return this.next;
  }
}

describe('CredentialsModel', () => {
  let api: FakeAPI;
  let now: number;
  let model: CredentialsModel;

  beforeEach(() => {
    api = new FakeAPI();
    now = T0;
    model = new CredentialsModel({
      api,
      autoPoll: false,
      standby: 'never',
      now: () => now,
      trans,
      hubPrefix: ''
    });
  });

  afterEach(() => {
    model.dispose();
  });

  function states(): CredentialState[] {
    const seen: CredentialState[] = [];
    model.changed.connect(() => seen.push(model.state));
    return seen;
  }
  type CredentialState = CredentialsModel['state'];

  it('shows who and how long once the server answers', async () => {
    expect(model.state).toBe('refreshing');
    const seen = states();
    await model.update();
    expect(seen).toEqual(['ok']);
    expect(model.countdown).toBe('52 min');
    expect(displayName(model.identity!)).toBe('alice');
  });

  it('turns ok into expiring below ten minutes, and expired at the end', async () => {
    api.next = status({
      expiration: new Date(T0 + EXPIRING_SECONDS * 1000 + 1000).toISOString()
    });
    await model.update();
    expect(model.state).toBe('ok');
    now += 2000;
    expect(model.state).toBe('expiring');
    expect(model.countdown).toBe('9 min');
    now += EXPIRING_SECONDS * 1000;
    expect(model.state).toBe('expired');
    expect(model.countdown).toBe('expired');
  });

  it('takes the server states as they are', async () => {
    for (const state of [
      'needs-login',
      'error',
      'not-configured',
      'expired',
      'refreshing'
    ] as const) {
      api.next = status({ state, expiration: null });
      await model.update();
      expect(model.state).toBe(state);
    }
  });

  it('says refreshing while a refresh runs, then the new status', async () => {
    await model.update();
    const seen = states();
    api.next = status({
      expiration: new Date(T0 + 60 * 60 * 1000).toISOString()
    });
    await model.refresh();
    expect(api.calls).toEqual(['status', 'refresh']);
    expect(seen[0]).toBe('refreshing');
    expect(seen[seen.length - 1]).toBe('ok');
    expect(model.countdown).toBe('1 h 00 min');
  });

  it('switches roles through the API', async () => {
    await model.chooseRole('arn:aws:iam::123456789012:role/admin');
    expect(api.calls).toEqual(['role arn:aws:iam::123456789012:role/admin']);
    expect(model.busy).toBe(false);
  });

  it('shows an error when the server cannot be reached', async () => {
    api.fail = new Error('Server gone');
    await expect(model.refresh()).rejects.toThrow('Server gone');
    expect(model.state).toBe('error');
    expect(model.requestError).toBe('Server gone');
    api.fail = null;
    await model.update();
    expect(model.state).toBe('ok');
  });

  it('links to the Hub login page', async () => {
    expect(model.loginUrl).toBe('/hub/login');
    api.next = status({
      state: 'needs-login',
      login_url: '/hub/login?next=%2Fuser%2Falice%2F'
    });
    await model.update();
    expect(model.loginUrl).toBe('/hub/login?next=%2Fuser%2Falice%2F');
    const hub = new CredentialsModel({
      api,
      autoPoll: false,
      hubPrefix: '/jhub/hub/'
    });
    expect(hub.loginUrl).toBe('/jhub/hub/login');
    hub.dispose();
  });

  it('ticks every second in the last two minutes', async () => {
    // Fake timers only around the countdown: the status comes through
    // refresh(), which needs no timer (unlike the poll).
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'queueMicrotask'] });
    const live = new CredentialsModel({
      api,
      autoPoll: false,
      standby: 'never',
      now: () => Date.now(),
      trans
    });
    try {
      api.next = status({
        expiration: new Date(T0 + 90 * 1000).toISOString()
      });
      await live.refresh();
      let ticks = 0;
      live.ticked.connect(() => ticks++);
      expect(live.countdown).toBe('90 s');
      jest.advanceTimersByTime(3000);
      expect(ticks).toBe(3);
      expect(live.countdown).toBe('87 s');
      expect(live.state).toBe('expiring');
    } finally {
      live.dispose();
      jest.useRealTimers();
    }
  });

  it('ticks once a minute while plenty of time is left', async () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'queueMicrotask'] });
    const live = new CredentialsModel({
      api,
      autoPoll: false,
      standby: 'never',
      now: () => Date.now(),
      trans
    });
    try {
      await live.refresh();
      let ticks = 0;
      live.ticked.connect(() => ticks++);
      jest.advanceTimersByTime(59 * 1000);
      expect(ticks).toBe(0);
      jest.advanceTimersByTime(1000);
      expect(ticks).toBe(1);
      expect(live.countdown).toBe('51 min');
    } finally {
      live.dispose();
      jest.useRealTimers();
    }
  });

  it('checks the identity live when asked', async () => {
    const checked = new CredentialsModel({
      api,
      autoPoll: false,
      checkIdentity: async () => ({
        arn: 'arn:aws:sts::123456789012:assumed-role/analyst/alice',
        account: '123456789012',
        userId: 'AROAEXAMPLE:alice'
      })
    });
    await checked.checkIdentity();
    expect(checked.identityCheck.identity?.account).toBe('123456789012');
    expect(checked.identityCheck.pending).toBe(false);
    checked.dispose();
  });
});

describe('formatCountdown', () => {
  it('reads like the status bar', () => {
    expect(formatCountdown(3 * 3600 + 5 * 60, trans)).toBe('3 h 05 min');
    expect(formatCountdown(52 * 60 + 30, trans)).toBe('52 min');
    expect(formatCountdown(119, trans)).toBe('119 s');
    expect(formatCountdown(0, trans)).toBe('expired');
  });
});
