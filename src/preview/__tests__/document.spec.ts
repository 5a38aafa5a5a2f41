/**
 * @jest-environment node
 */
/**
 * Opening a table preview never downloads the object: JupyterLab's real
 * document context, on the real S3 drive and gateway, asks S3 only for the
 * object's metadata; the rows come from the preview endpoint, which reads
 * the first MiB. Checked against a text document of the same object, which
 * does download it (so the check can fail).
 */
import './nodeGlobals';

import { Context, TextModelFactory } from '@jupyterlab/docregistry';
import {
  ContentsManager,
  KernelManager,
  KernelSpecManager,
  ServiceManager,
  SessionManager
} from '@jupyterlab/services';

import { useBucket } from '../../__tests__/harness/fixture';
import {
  BUCKET,
  makeDrive,
  ROOT,
  serverSettings,
  uniqueFolder
} from '../../__tests__/harness/servers';
import { RootMap } from '../../s3/paths';
import { fetchPreview } from '../api';
import { PreviewModelFactory } from '../factory';
import { PreviewModel } from '../model';
import { previewSource } from '../source';

/** A CSV of about 3 MiB: far more than the preview reads. */
function bigCsv(): string {
  const lines = ['id,name,amount'];
  for (let i = 0; i < 100_000; i++) {
    lines.push(`${i},customer number ${i},${(i * 1.25).toFixed(2)}`);
  }
  return lines.join('\n') + '\n';
}

describe('the table preview document', () => {
  const direct = useBucket();
  const folder = uniqueFolder('preview-doc');
  let made: Awaited<ReturnType<typeof makeDrive>>;
  let manager: ServiceManager.IManager;
  const disposables: { ready: Promise<void>; dispose(): void }[] = [];

  beforeAll(async () => {
    made = await makeDrive();
    const settings = serverSettings();
    const contents = new ContentsManager({ serverSettings: settings });
    contents.addDrive(made.drive);
    const kernelManager = new KernelManager({ serverSettings: settings });
    const sessions = new SessionManager({
      serverSettings: settings,
      kernelManager
    });
    const kernelspecs = new KernelSpecManager({ serverSettings: settings });
    disposables.push(kernelManager, sessions, kernelspecs);
    manager = {
      contents,
      sessions,
      kernelspecs,
      serverSettings: settings,
      ready: Promise.resolve()
    } as unknown as ServiceManager.IManager;
  });

  afterAll(async () => {
    // Disposing a manager before its first poll is in rejects its `ready`.
    await Promise.all(disposables.map(d => d.ready));
    disposables.forEach(d => d.dispose());
    made?.drive.dispose();
  });

  async function open(
    path: string,
    factory: PreviewModelFactory | TextModelFactory
  ): Promise<void> {
    const context = new Context({
      manager,
      factory,
      path,
      kernelPreference: { shouldStart: false, canStart: false }
    });
    try {
      await context.initialize(false);
      await context.ready;
      // The context looks for a kernel session after it is ready: let it
      // finish before the managers go away.
      await context.sessionContext.ready;
    } finally {
      context.dispose();
    }
  }

  it('asks S3 for the metadata only, and previews the first MiB', async () => {
    const csv = bigCsv();
    await direct.bucket.put(`${folder}/big.csv`, csv);
    const path = `S3:${ROOT}/${folder}/big.csv`;
    const { client } = made.drive;
    const gets = jest.spyOn(client, 'get');
    const heads = jest.spyOn(client, 'head');

    await open(path, new PreviewModelFactory());
    expect(gets).not.toHaveBeenCalled();
    expect(heads).toHaveBeenCalledTimes(1);

    const roots = new RootMap(made.config.roots);
    const source = previewSource(path, roots, made.config.list_all_buckets);
    expect(source).toEqual({ uri: `s3://${BUCKET}/${folder}/big.csv` });
    const model = new PreviewModel(
      source,
      s => fetchPreview(s, serverSettings()),
      path
    );
    await model.load();
    expect(model.error).toBe('');
    const preview = model.preview!;
    expect(preview.size).toBe(csv.length);
    expect(preview.bytes_read).toBe(1024 * 1024);
    expect(preview.rows.length).toBe(1000);
    expect(preview.rows[1]).toEqual([1, 'customer number 1', 1.25]);

    // The same object as a text document: the whole object comes down.
    await open(path, new TextModelFactory());
    expect(gets).toHaveBeenCalledTimes(1);
    gets.mockRestore();
    heads.mockRestore();
  });
});
