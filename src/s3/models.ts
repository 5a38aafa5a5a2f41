/**
 * Building JupyterLab contents models from S3 objects, and the byte/string
 * conversions they need.
 */
import type { Contents } from '@jupyterlab/services';

/**
 * The mimetype JupyterLab expects for notebooks.
 */
export const NOTEBOOK_MIMETYPE = 'application/x-ipynb+json';

const MIMETYPES: { [ext: string]: string } = {
  '.bmp': 'image/bmp',
  '.csv': 'text/csv',
  '.gif': 'image/gif',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.ipynb': NOTEBOOK_MIMETYPE,
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.py': 'text/x-python',
  '.svg': 'image/svg+xml',
  '.tsv': 'text/tab-separated-values',
  '.txt': 'text/plain',
  '.webp': 'image/webp',
  '.xml': 'application/xml',
  '.yaml': 'application/x-yaml',
  '.yml': 'application/x-yaml'
};

/**
 * The lower-cased extension of a file name, with its dot ("" when none).
 *
 * A name that starts with its only dot (".env") has no extension.
 */
export function extname(name: string): string {
  const i = name.lastIndexOf('.');
  return i <= 0 ? '' : name.slice(i).toLowerCase();
}

/**
 * Guess a mimetype from a file name.
 *
 * @param name - the file name
 * @param format - the format the content is in, for the fallback
 */
export function guessMimetype(
  name: string,
  format: Contents.FileFormat
): string {
  return (
    MIMETYPES[extname(name)] ??
    (format === 'base64' ? 'application/octet-stream' : 'text/plain')
  );
}

/**
 * The contents type of an object: notebooks by extension, files otherwise.
 * Extension-less names (`_SUCCESS`, `part-00000`) are files.
 */
export function fileType(name: string): 'notebook' | 'file' {
  return extname(name) === '.ipynb' ? 'notebook' : 'file';
}

/**
 * Encode bytes as base64, in slices so large inputs do not overflow the stack.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const SLICE = 0x8000;
  for (let i = 0; i < bytes.length; i += SLICE) {
    parts.push(
      String.fromCharCode.apply(
        null,
        bytes.subarray(i, i + SLICE) as unknown as number[]
      )
    );
  }
  return btoa(parts.join(''));
}

/**
 * Decode base64 into bytes (whitespace and newlines are ignored).
 */
export function base64ToBytes(b64: string): Uint8Array {
  // Chromium 140+ decodes natively, ~4x faster than atob and a loop.
  const native = (Uint8Array as any).fromBase64;
  if (typeof native === 'function') {
    return native.call(Uint8Array, b64.replace(/\s+/g, ''));
  }
  const binary = atob(b64.replace(/\s+/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

/**
 * Decode UTF-8, or return `null` when the bytes are not valid UTF-8.
 *
 * A byte-order mark is kept so that saving writes the same bytes back.
 */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(
      bytes
    );
  } catch {
    return null;
  }
}

/**
 * Encode a string as UTF-8.
 */
export function encodeUtf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Serialise a notebook the way Jupyter server does (one-space indent).
 */
export function serializeNotebook(content: unknown): string {
  return JSON.stringify(content, null, 1) + '\n';
}

/**
 * Fields shared by every model built here.
 */
export interface IModelBase {
  /** Drive-local path. */
  path: string;
  /** Last segment of the path. */
  name: string;
}

/**
 * A directory model (folder, root or the drive's top level).
 */
export function directoryModel(
  base: IModelBase,
  content: Contents.IModel[] | null,
  writable = true
): Contents.IModel {
  return {
    name: base.name,
    path: base.path,
    type: 'directory',
    writable,
    // Folders in S3 are prefixes: they have no time of their own.
    created: '',
    last_modified: '',
    mimetype: '',
    content,
    format: content ? 'json' : null,
    size: undefined
  };
}

/**
 * A file or notebook model.
 */
export function fileModel(
  base: IModelBase,
  info: { size: number; lastModified: Date; etag: string },
  content: unknown = null,
  format: Contents.FileFormat = null,
  mimetype?: string
): Contents.IModel {
  const type = fileType(base.name);
  const modified = info.lastModified.toISOString();
  return {
    name: base.name,
    path: base.path,
    type,
    writable: true,
    created: modified,
    last_modified: modified,
    mimetype:
      mimetype ??
      (type === 'notebook'
        ? NOTEBOOK_MIMETYPE
        : guessMimetype(base.name, format)),
    content,
    format,
    size: info.size,
    hash: info.etag,
    hash_algorithm: 'etag'
  };
}

/**
 * The bytes to store for a model being saved (whole, or one upload chunk).
 */
export function modelBytes(options: Partial<Contents.IModel>): Uint8Array {
  const content = options.content;
  if (options.format === 'base64') {
    return base64ToBytes(typeof content === 'string' ? content : '');
  }
  if (
    options.format === 'json' ||
    options.type === 'notebook' ||
    (content !== null && typeof content === 'object')
  ) {
    return encodeUtf8(serializeNotebook(content));
  }
  return encodeUtf8(typeof content === 'string' ? content : '');
}

/**
 * The Content-Type to store with a file saved from a model.
 */
export function contentTypeFor(
  name: string,
  options: Partial<Contents.IModel>
): string {
  if (options.type === 'notebook' || extname(name) === '.ipynb') {
    return NOTEBOOK_MIMETYPE;
  }
  return guessMimetype(name, options.format ?? 'text');
}
