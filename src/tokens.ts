/**
 * Public tokens and identifiers of Small Fry: what another JupyterLab
 * extension may require to build on it.
 */
import type { ServerConnection } from '@jupyterlab/services';
import { Token } from '@lumino/coreutils';

import type { IGatewayConfig, IServerConfig } from './api';
import type { IGatewayClient } from './core/gateway';
import type { BrowserS3Client } from './s3/client';
import type { S3Drive } from './s3/drive';
import type { RootMap } from './s3/paths';

/**
 * The Small Fry core: what every feature needs, fetched or built once.
 *
 * Provided by the `jupyterlab-smallfry:core` plugin. Require it to reach the
 * server's configuration, AWS services through the same-origin gateway, the
 * S3 roots and the S3 drive, e.g.
 *
 * ```ts
 * const plugin: JupyterFrontEndPlugin<void> = {
 *   id: 'my-extension:plugin',
 *   requires: [ISmallFry],
 *   activate: async (app, smallfry: ISmallFry) => {
 *     const drive = await smallfry.drive;       // "S3:<root>/<key>" paths
 *     const { STSClient, GetCallerIdentityCommand } = await import(
 *       '@aws-sdk/client-sts'
 *     );
 *     const sts = await smallfry.createClient('sts', STSClient);
 *     const me = await sts.send(new GetCallerIdentityCommand({}));
 *   }
 * };
 * ```
 *
 * The promises reject when the Small Fry server extension did not answer
 * (e.g. it is not installed on the Jupyter server).
 */
export interface ISmallFry {
  /** The Jupyter server connection every call uses (base URL, token). */
  readonly serverSettings: ServerConnection.ISettings;

  /** The server's configuration (`GET smallfry/config`), fetched once. */
  readonly config: Promise<IServerConfig>;

  /** Settles once the configuration is loaded and the S3 drive exists. */
  readonly ready: Promise<void>;

  /**
   * The S3 roots the S3 browser shows: the pinned ones from the
   * configuration, then the listed buckets once the drive has listed them.
   * The drive's own map, so paths and `s3://` URIs agree everywhere.
   */
  readonly roots: Promise<RootMap>;

  /**
   * The S3 contents drive (named `S3`), already added to the contents
   * manager: open `S3:<root name>/<key>` paths with the document manager.
   */
  readonly drive: Promise<S3Drive>;

  /** The browser's S3 client (the drive's), for S3 calls of your own. */
  readonly s3: Promise<BrowserS3Client>;

  /**
   * Build an AWS SDK v3 client of `service` that goes through the server's
   * AWS gateway: Jupyter auth and XSRF header on every request, no signing
   * in the browser (the server signs with the user's keys), and every
   * failure rejected as an `AwsError` that keeps the gateway's `code` and
   * `message` (`gatewayCode`) or the service's own error code.
   *
   * @param service - which gateway, as named in the configuration
   * @param Client - the SDK client class, e.g. `STSClient`
   * @param config - more SDK configuration (e.g. `maxAttempts`)
   * @returns the client; `destroy()` it when done
   */
  createClient<C extends IGatewayClient>(
    service: keyof IGatewayConfig,
    Client: new (config: any) => C,
    config?: Record<string, unknown>
  ): Promise<C>;
}

/**
 * The Small Fry core token.
 */
export const ISmallFry = new Token<ISmallFry>(
  'jupyterlab-smallfry:ISmallFry',
  'The Small Fry core: server configuration, AWS gateway clients, S3 roots and the S3 drive.'
);

/**
 * Public command ids of Small Fry. Settings (`schema/*.json`) and other
 * extensions refer to them: the strings never change.
 */
export namespace CommandIDs {
  /** Copy the `s3://` URI of the selected S3 items. */
  export const copyS3Uri = 'smallfry:copy-s3-uri';
  /** Copy the selected S3 items into the local file browser's folder. */
  export const copyToLocal = 'smallfry:copy-to-local';
  /** Copy the selected local items into the S3 browser's folder. */
  export const copyToS3 = 'smallfry:copy-to-s3';
  /** Open the AWS credentials details panel (S3 errors offer it). */
  export const showCredentials = 'smallfry:show-credentials';
  /** Get new AWS keys now. */
  export const refreshCredentials = 'smallfry:refresh-credentials';
  /** Copy the non-secret AWS CLI profile snippet. */
  export const copyAwsProfile = 'smallfry:copy-aws-profile';
  /** Open the schedule form on a notebook (`path`) or a job (`jobId`). */
  export const schedule = 'smallfry:schedule';
  /** Show the Jobs panel. */
  export const openJobs = 'smallfry:open-jobs';
  /** List the jobs again. */
  export const refreshJobs = 'smallfry:refresh-jobs';
  /** Show the Data Catalog panel. */
  export const openCatalog = 'smallfry:open-catalog';
  /** Register the S3 folder selected in the S3 browser as a Glue table. */
  export const registerTable = 'smallfry:register-table';
  /**
   * Copy code reading the right-clicked S3 object, catalog table or
   * connection (or args `uri`, `table: "db.table"`, `connection`), in the
   * dialect of the `dialect` setting.
   */
  export const copyCode = 'smallfry:copy-code';
  /** The same code, inserted below the active cell of the current notebook. */
  export const insertCode = 'smallfry:insert-code';
  /**
   * Compare two runs of a job (args `jobId`, `base`, `remote`: run ids, or
   * `remote: "notebook"` for the job's notebook) with nbdime's diff.
   */
  export const compareRuns = 'smallfry:compare-runs';
}
