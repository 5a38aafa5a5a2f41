/**
 * Copying files between the S3 drive and the Jupyter server's own drive.
 *
 * JupyterLab's contents manager refuses cross-drive copies, so this reads
 * from one drive and writes to the other, in 1 MiB base64 chunks on the way
 * in (the S3 drive turns them into a multipart upload; the Jupyter server
 * appends them), never overwriting what already exists.
 */
import type { Contents } from '@jupyterlab/services';

import { joinPath, stripSlashes } from './paths';

/**
 * Bytes per chunk written to the destination (as JupyterLab's uploader).
 */
const CHUNK_BYTES = 1024 * 1024;
/** About the same, in base64 characters: a multiple of 4, so chunks decode alone. */
const CHUNK_CHARS = 4 * Math.floor(CHUNK_BYTES / 3);

/**
 * One file to copy: global source path and global destination path.
 */
export interface ITransferItem {
  /** Global path of the source file. */
  from: string;
  /** Global path of the destination file. */
  to: string;
}

/**
 * What a transfer did.
 */
export interface ITransferReport {
  /** Destination paths written. */
  copied: string[];
  /** Destination paths left alone because something is already there. */
  skipped: string[];
  /** Failures, by source path. */
  failed: { path: string; message: string }[];
}

/**
 * Copy files between drives, one at a time, never overwriting.
 *
 * @param contents - the application's contents manager
 * @param items - the files to copy
 * @param directories - destination folders to create first (global paths)
 * @param onProgress - called after each file
 */
export async function transferFiles(
  contents: Contents.IManager,
  items: ITransferItem[],
  directories: string[],
  onProgress?: (done: number, total: number) => void
): Promise<ITransferReport> {
  const report: ITransferReport = { copied: [], skipped: [], failed: [] };
  for (const dir of directories) {
    try {
      if (!(await exists(contents, dir))) {
        await contents.save(dir, { type: 'directory' });
      }
    } catch (error) {
      report.failed.push({ path: dir, message: messageOf(error) });
    }
  }
  let done = 0;
  for (const item of items) {
    try {
      if (await exists(contents, item.to)) {
        report.skipped.push(item.to);
      } else {
        await copyOne(contents, item);
        report.copied.push(item.to);
      }
    } catch (error) {
      report.failed.push({ path: item.from, message: messageOf(error) });
    }
    done++;
    onProgress?.(done, items.length);
  }
  return report;
}

/**
 * List every file below a folder of a drive, recursively, through the
 * contents manager (for the Jupyter server's drive, which lists folders whole).
 *
 * @returns files as paths relative to `dir`, and sub-folders likewise
 */
export async function walkContents(
  contents: Contents.IManager,
  dir: string
): Promise<{ files: string[]; folders: string[] }> {
  const files: string[] = [];
  const folders: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    const model = await contents.get(joinGlobal(dir, rel), { content: true });
    for (const child of (model.content ?? []) as Contents.IModel[]) {
      const childRel = joinPath(rel, child.name);
      if (child.type === 'directory') {
        folders.push(childRel);
        await visit(childRel);
      } else {
        files.push(childRel);
      }
    }
  };
  await visit('');
  return { files, folders };
}

/**
 * Join a global path (maybe with a "drive:" prefix) and a relative path.
 */
export function joinGlobal(base: string, rel: string): string {
  const colon = base.indexOf(':');
  const slash = base.indexOf('/');
  if (colon !== -1 && (slash === -1 || colon < slash)) {
    const drive = base.slice(0, colon + 1);
    return drive + joinPath(base.slice(colon + 1), rel);
  }
  return joinPath(base, rel);
}

async function copyOne(
  contents: Contents.IManager,
  item: ITransferItem
): Promise<void> {
  // type 'file' + base64: the exact bytes, notebooks included.
  const model = await contents.get(item.from, {
    type: 'file',
    format: 'base64',
    content: true
  });
  const data: string = (model.content ?? '').replace(/\s+/g, '');
  const name = stripSlashes(item.to).split('/').pop() ?? '';
  if (data.length <= CHUNK_CHARS) {
    await contents.save(item.to, {
      type: 'file',
      format: 'base64',
      name,
      content: data
    });
    return;
  }
  for (let offset = 0; offset < data.length; offset += CHUNK_CHARS) {
    const last = offset + CHUNK_CHARS >= data.length;
    await contents.save(item.to, {
      type: 'file',
      format: 'base64',
      name,
      chunk: last ? -1 : offset / CHUNK_CHARS + 1,
      content: data.slice(offset, offset + CHUNK_CHARS)
    });
  }
}

async function exists(
  contents: Contents.IManager,
  path: string
): Promise<boolean> {
  try {
    await contents.get(path, { content: false });
    return true;
  } catch (error) {
    if ((error as any)?.response?.status === 404) {
      return false;
    }
    throw error;
  }
}

function messageOf(error: unknown): string {
  return (error as any)?.message ?? String(error);
}
