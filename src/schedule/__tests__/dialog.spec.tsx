/**
 * The schedule form's After field and notifications in the DOM, driven like
 * a user drives them, against the real Jupyter server the jest global setup
 * starts (its checks, its jobs list, its refusals).
 */
import * as fs from 'fs';
import * as path from 'path';

import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { enter, waitFor } from '../../__tests__/harness/dom';

import { JobsAPI } from '../api';
import { ScheduleDialog } from '../dialog';
import { ScheduleModel } from '../model';
import { parseParametersCell } from '../parameters';
import {
  serverSettings,
  uniqueName as unique
} from '../../__tests__/harness/connection';

const settings = serverSettings();
const trans = nullTranslator.load('jupyterlab_smallfry');
const PARAMETERS = "region = 'EU'";

function writeNotebook(name: string): string {
  fs.writeFileSync(
    path.join(process.env.SMALLFRY_TEST_HOME!, name),
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'python3', display_name: 'Python 3' } },
      cells: [
        {
          id: 'params',
          cell_type: 'code',
          metadata: { tags: ['parameters'] },
          source: PARAMETERS,
          outputs: [],
          execution_count: null
        }
      ]
    })
  );
  return name;
}

describe('schedule form: After and notifications', () => {
  const open: ScheduleDialog[] = [];
  const jobs: string[] = [];

  afterEach(async () => {
    for (const dialog of open.splice(0)) {
      dialog.dispose();
    }
    for (const id of jobs.splice(0).reverse()) {
      await JobsAPI.remove(settings, id).catch(() => undefined);
    }
  });

  function openForm(source: string) {
    const model = new ScheduleModel({
      serverSettings: settings,
      notebook: {
        path: source,
        source,
        kernel: 'python3',
        dirty: false,
        cell: parseParametersCell(PARAMETERS)
      },
      timezone: 'UTC',
      checkDelay: 20,
      trans
    });
    const dialog = new ScheduleDialog({ model, trans });
    Widget.attach(dialog, document.body);
    open.push(dialog);
    const node = dialog.node;
    const find = <E extends Element = HTMLInputElement>(selector: string) =>
      waitFor(() => node.querySelector<E>(selector), selector);
    return { model, dialog, node, find };
  }

  it('schedules a job that runs after another one picked from my jobs', async () => {
    const source = writeNotebook(`${unique('dialog')}.ipynb`);
    const upstream = unique('dialog-up');
    await JobsAPI.create(settings, {
      id: upstream,
      notebook: { source },
      schedule: { type: 'manual' }
    });
    jobs.push(upstream);
    const { node, find, dialog } = openForm(source);
    const id = unique('dialog-down');
    enter(await find('input[name="id"]'), id);
    (await find('input[name="schedule.type"][value="after"]')).click();
    // No cron while it runs after others.
    expect(node.querySelector('input[name="schedule.cron"]')).toBeNull();
    const pick = await find(`input[name="after"][value="${upstream}"]`);
    pick.click();
    await waitFor(
      () =>
        node.querySelector('.jp-smallfry-PreviewDescription')?.textContent ===
        `Runs after ${upstream} succeeds`,
      'the words of the schedule'
    );
    node
      .querySelector<HTMLButtonElement>('.jp-smallfry-ScheduleButton')!
      .click();
    const job = await dialog.done;
    jobs.push(id);
    expect(job?.spec.after).toEqual([upstream]);
    expect(job?.spec.schedule).toEqual({ type: 'manual' });
  });

  it('adds destinations by kind and reference, with no URL field, and shows the server’s problem on its event', async () => {
    const source = writeNotebook(`${unique('dialog')}.ipynb`);
    const { node, find, model } = openForm(source);
    (
      await find<HTMLButtonElement>(
        '.jp-smallfry-Destinations[data-event="on_failure"] .jp-smallfry-AddDestination'
      )
    ).click();
    const kind = await find<HTMLSelectElement>(
      'select[name="notifications.on_failure.0.type"]'
    );
    enter(kind, 'teams');
    const via = await find<HTMLSelectElement>(
      'select[name="notifications.on_failure.0.via"]'
    );
    expect(Array.from(via.options).map(o => o.value)).toEqual([
      'connection',
      'secret'
    ]);
    const target = await find('input[name="notifications.on_failure.0"]');
    expect(target.placeholder).toBe('smallfry_notify_teams');
    // The help says where URLs live instead.
    expect(
      node.querySelector('.jp-smallfry-Notifications')!.textContent
    ).toMatch(/never typed here.*smallfry_notify_.*Secrets Manager/);
    expect(node.querySelector('input[type="url"]')).toBeNull();

    enter(target, 'not a connection id');
    const error = await find(
      '.jp-smallfry-FieldError[data-field="notifications.on_failure"]'
    );
    expect(error.textContent).toMatch(/\S/);
    enter(target, 'smallfry_notify_teams_sales');
    await waitFor(
      () =>
        !node.querySelector(
          '.jp-smallfry-FieldError[data-field="notifications.on_failure"]'
        ),
      'the problem to go'
    );
    expect(model.toSpec().notifications).toEqual({
      on_failure: [{ type: 'teams', connection: 'smallfry_notify_teams_sales' }]
    });

    // Runs that take too long: minutes, sent as seconds.
    (
      await find<HTMLButtonElement>(
        '.jp-smallfry-Destinations[data-event="on_duration_over"] .jp-smallfry-AddDestination'
      )
    ).click();
    enter(
      await find('input[name="notifications.on_duration_over.to.0"]'),
      'oncall@example.com'
    );
    enter(
      await find('input[name="notifications.on_duration_over.seconds"]'),
      '30'
    );
    expect(model.toSpec().notifications!.on_duration_over).toEqual({
      seconds: 1800,
      to: ['oncall@example.com']
    });
    // Remove takes the row away.
    node
      .querySelector<HTMLButtonElement>(
        '.jp-smallfry-Destination[data-event="on_failure"] .jp-smallfry-LinkButton'
      )!
      .click();
    await waitFor(
      () => !node.querySelector('input[name="notifications.on_failure.0"]'),
      'the row to go'
    );
  });
});
