/**
 * The truncation banner in the S3 panel (DOM, no server).
 */
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import { nullTranslator } from '@jupyterlab/translation';

import { ListingBanner } from '../banner';
import type { IListingStatus, S3Drive } from '../drive';

class FakeDrive {
  name = 'S3';
  listingChanged = new Signal<this, IListingStatus>(this);
  statuses = new Map<string, IListingStatus>();
  calls: string[] = [];
  listingStatus(path: string): IListingStatus | undefined {
    return this.statuses.get(path);
  }
  loadMore(path: string): void {
    this.calls.push(`more:${path}`);
  }
  setFilter(path: string, filter: string): void {
    this.calls.push(`filter:${path}:${filter}`);
  }
  list(status: IListingStatus): void {
    this.statuses.set(status.path, status);
    this.listingChanged.emit(status);
  }
}

class FakeModel {
  path = 'S3:bucket/big';
  pathChanged = new Signal<this, unknown>(this);
  refreshes = 0;
  async refresh(): Promise<void> {
    this.refreshes++;
  }
}

async function rendered(): Promise<void> {
  // ReactWidget renders on the next animation frame.
  await new Promise(resolve => requestAnimationFrame(() => resolve(undefined)));
  await new Promise(resolve => setTimeout(resolve, 0));
}

describe('ListingBanner', () => {
  let drive: FakeDrive;
  let model: FakeModel;
  let banner: ListingBanner;

  beforeEach(() => {
    drive = new FakeDrive();
    model = new FakeModel();
    banner = new ListingBanner({
      drive: drive as unknown as S3Drive,
      model: model as any,
      trans: nullTranslator.load('jupyterlab_smallfry')
    });
    Widget.attach(banner, document.body);
  });

  afterEach(() => {
    banner.dispose();
  });

  /** The drive lists a folder (by default: the first page of a big one). */
  async function listed(status: Partial<IListingStatus> = {}): Promise<void> {
    drive.list({
      path: 'bucket/big',
      count: 1000,
      truncated: true,
      filter: '',
      pages: 1,
      partial: false,
      ...status
    });
    await rendered();
  }

  it('stays hidden while the folder is listed whole', async () => {
    await listed({ count: 12, truncated: false });
    expect(banner.isHidden).toBe(true);
  });

  it("stays hidden during a folder's quick first look", async () => {
    await listed({ count: 100, truncated: true, partial: true });
    expect(banner.isHidden).toBe(true);
  });

  it('says plainly that more entries exist and loads more on request', async () => {
    await listed();
    expect(banner.isHidden).toBe(false);
    expect(banner.node.textContent).toContain('Showing the first 1000 entries');
    expect(banner.node.textContent).toContain('This folder has more in S3');
    const button = banner.node.querySelector(
      '.jp-smallfry-ListingBanner-loadMore'
    ) as HTMLButtonElement;
    button.click();
    expect(drive.calls).toEqual(['more:bucket/big']);
    expect(model.refreshes).toBe(1);
  });

  it('filters by name prefix on the server and shows the filter in force', async () => {
    await listed();
    const input = banner.node.querySelector(
      '.jp-smallfry-ListingBanner-filter'
    ) as HTMLInputElement;
    // React listens to native input events.
    const setter = Object.getOwnPropertyDescriptor(
      HTMLInputElement.prototype,
      'value'
    )!.set!;
    setter.call(input, 'k-09');
    input.dispatchEvent(new Event('input', { bubbles: true }));
    (banner.node.querySelector('form') as HTMLFormElement).dispatchEvent(
      new Event('submit', { bubbles: true, cancelable: true })
    );
    expect(drive.calls).toEqual(['filter:bucket/big:k-09']);
    await listed({ count: 100, truncated: false, filter: 'k-09' });
    expect(banner.isHidden).toBe(false);
    expect(banner.node.textContent).toContain(
      'Showing only the 100 entries whose names start with “k-09”'
    );
    (
      banner.node.querySelector(
        '.jp-smallfry-ListingBanner-clear'
      ) as HTMLButtonElement
    ).click();
    expect(drive.calls[drive.calls.length - 1]).toBe('filter:bucket/big:');
  });

  it('ignores listings of other folders', async () => {
    await listed({ path: 'bucket/other' });
    expect(banner.isHidden).toBe(true);
  });
});
