/**
 * The status bar item and the details panel in the DOM. The REST calls are
 * an in-memory fake passed to the model (no server), so every state can be
 * shown; `server.spec.ts` checks the real endpoints.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type {
  CredentialState,
  ICredentialsAPI,
  ICredentialStatus
} from '../api';
import { CredentialsModel } from '../model';
import { CredentialsPanel } from '../panel';
import { CredentialsStatus } from '../widget';

const trans = nullTranslator.load('jupyterlab_smallfry');
const ANALYST = 'arn:aws:iam::123456789012:role/analyst';
const ADMIN = 'arn:aws:iam::123456789012:role/admin';

function status(over: Partial<ICredentialStatus> = {}): ICredentialStatus {
  return {
    mode: 'web-identity',
    state: 'ok',
    identity: {
      arn: 'arn:aws:sts::123456789012:assumed-role/analyst/alice',
      account: '123456789012',
      role: 'analyst',
      session_name: 'alice',
      source_identity: ''
    },
    // 30 s of slack so the minute shown does not drop while the test runs.
    expiration: new Date(Date.now() + 52 * 60 * 1000 + 30000).toISOString(),
    expires_in: 52 * 60,
    refresh_margin: 1200,
    last_refresh: new Date().toISOString(),
    role: ANALYST,
    roles: [ANALYST, ADMIN],
    token: {},
    warnings: [],
    error: null,
    login_url: '',
    profile: {
      name: 'smallfry',
      applied: true,
      chosen_by_user: '',
      snippet:
        '[profile smallfry]\ncredential_process = python -m jupyterlab_smallfry.credential_process\n'
    },
    ...over
  };
}

class FakeAPI implements ICredentialsAPI {
  next = status();
  calls: string[] = [];
  async status(): Promise<ICredentialStatus> {
    this.calls.push('status');
    return this.next;
  }
  async refresh(): Promise<ICredentialStatus> {
    this.calls.push('refresh');
    return this.next;
  }
  async chooseRole(arn: string): Promise<ICredentialStatus> {
    this.calls.push(`role ${arn}`);
    return this.next;
  }
}

async function rendered(): Promise<void> {
  // ReactWidget renders on the next animation frame.
  await new Promise(resolve => requestAnimationFrame(() => resolve(undefined)));
  await new Promise(resolve => setTimeout(resolve, 0));
}

describe('credentials views', () => {
  let api: FakeAPI;
  let model: CredentialsModel;
  let opened: number;
  let item: CredentialsStatus;

  beforeEach(() => {
    api = new FakeAPI();
    model = new CredentialsModel({
      api,
      autoPoll: false,
      standby: 'never',
      trans,
      hubPrefix: '/hub/',
      checkIdentity: async () => ({
        arn: 'arn:aws:sts::123456789012:assumed-role/analyst/alice',
        account: '123456789012',
        userId: 'AROAEXAMPLE:alice'
      })
    });
    opened = 0;
    item = new CredentialsStatus({
      model,
      trans,
      onOpen: () => opened++
    });
    Widget.attach(item, document.body);
  });

  afterEach(() => {
    item.dispose();
    model.dispose();
  });

  it('says who and how long in the status bar, coloured by state', async () => {
    await model.update();
    await rendered();
    expect(item.node.classList).toContain('jp-smallfry-CredStatus');
    expect(item.node.classList).toContain('jp-smallfry-CredStatus-ok');
    expect(item.node.textContent).toBe(
      'AWS: alice @ 123456789012 (analyst) · 52 min'
    );
    item.node.click();
    expect(opened).toBe(1);
  });

  it('shows one state class at a time, and a login link when needed', async () => {
    const shown: CredentialState[] = ['not-configured', 'error', 'needs-login'];
    for (const state of shown) {
      api.next = status({ state, expiration: null, identity: null });
      await model.update();
      await rendered();
      const classes = Array.from(item.node.classList).filter(c =>
        c.startsWith('jp-smallfry-CredStatus-')
      );
      expect(classes).toEqual([`jp-smallfry-CredStatus-${state}`]);
    }
    const login = item.node.querySelector<HTMLAnchorElement>(
      '[data-smallfry-action="login"]'
    );
    expect(login?.getAttribute('href')).toBe('/hub/login');
  });

  it('turns amber below ten minutes', async () => {
    api.next = status({
      expiration: new Date(Date.now() + 5 * 60 * 1000 + 30000).toISOString()
    });
    await model.update();
    await rendered();
    expect(item.node.classList).toContain('jp-smallfry-CredStatus-expiring');
    expect(item.node.textContent).toContain('5 min');
  });

  it('details the identity, the error with its fix, and acts', async () => {
    api.next = status({
      state: 'expiring',
      error: {
        code: 'IDPCommunicationError',
        message: 'AWS could not reach your identity provider.',
        hint: 'Usually temporary.',
        detail: { iss: 'https://idp.example.com' }
      },
      warnings: [{ code: 'static-env-keys', message: 'Static keys are set.' }]
    });
    const panel = new CredentialsPanel({ model, trans });
    Widget.attach(panel, document.body);
    try {
      await model.update();
      await model.checkIdentity();
      await rendered();
      const node = panel.node;
      expect(node.classList).toContain('jp-smallfry-CredPanel');
      const text = node.textContent!;
      expect(text).toContain(
        'arn:aws:sts::123456789012:assumed-role/analyst/alice'
      );
      expect(text).toContain('AWS could not reach your identity provider.');
      expect(text).toContain('Usually temporary.');
      expect(text).toContain('https://idp.example.com');
      expect(text).toContain('Static keys are set.');
      expect(text).toContain('AWS STS confirms');

      node
        .querySelector<HTMLButtonElement>('[data-smallfry-action="refresh"]')!
        .click();
      await rendered();
      expect(api.calls).toContain('refresh');

      const select = node.querySelector<HTMLSelectElement>(
        '[data-smallfry-action="choose-role"]'
      )!;
      expect(Array.from(select.options).map(o => o.value)).toEqual([
        ANALYST,
        ADMIN
      ]);
      expect(
        node.querySelector('[data-smallfry-action="copy-profile"]')
      ).not.toBeNull();
    } finally {
      panel.dispose();
    }
  });

  it('says keys never expire only when there are keys', async () => {
    const panel = new CredentialsPanel({ model, trans });
    Widget.attach(panel, document.body);
    const expires = (): string | null => {
      const row = Array.from(panel.node.querySelectorAll('tr')).find(
        tr => tr.querySelector('th')?.textContent === 'Expires'
      );
      return row?.querySelector('td')?.textContent ?? null;
    };
    try {
      api.next = status({ mode: 'ambient', expiration: null, identity: null });
      await model.update();
      await rendered();
      expect(expires()).toBe('never (long-term keys)');

      api.next = status({
        state: 'needs-login',
        expiration: null,
        identity: null,
        error: {
          code: 'hub-refused',
          message: "The Hub no longer accepts this server's token.",
          hint: 'Log in to JupyterHub again.',
          detail: {}
        }
      });
      await model.update();
      await rendered();
      expect(panel.node.textContent).toContain('Log in to JupyterHub again');
      expect(expires()).toBeNull();
    } finally {
      panel.dispose();
    }
  });

  it('offers no role switch when only one role is allowed', async () => {
    api.next = status({ roles: [ANALYST] });
    const panel = new CredentialsPanel({ model, trans });
    Widget.attach(panel, document.body);
    try {
      await model.update();
      await rendered();
      expect(
        panel.node.querySelector('[data-smallfry-action="choose-role"]')
      ).toBeNull();
    } finally {
      panel.dispose();
    }
  });
});
