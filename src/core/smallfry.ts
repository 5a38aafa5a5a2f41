/**
 * The Small Fry core behind the `ISmallFry` token: the server configuration
 * fetched once, the gateway client factory, and the S3 drive built once from
 * them, so no feature fetches `smallfry/config` or builds a transport of its
 * own. No DOM: it runs in Node for tests.
 */
import type { ServerConnection } from '@jupyterlab/services';
import type { ITranslator } from '@jupyterlab/translation';

import { getConfig, IGatewayConfig, IServerConfig } from '../api';
import { DRIVE_NAME } from '../contract';
import { BrowserS3Client } from '../s3/client';
import { IS3DriveFeedback, S3Drive } from '../s3/drive';
import type { RootMap } from '../s3/paths';
import type { ISmallFry } from '../tokens';
import { createGatewayClient, IGatewayClient } from './gateway';

/**
 * Entries the S3 browser lists first when it goes into a folder, before the
 * whole page: more than a screenful, far fewer than the 1,000 rows
 * JupyterLab takes ~0.3 s to paint.
 */
const FIRST_LOOK_SIZE = 100;

/**
 * The implementation of {@link ISmallFry}.
 */
export class SmallFry implements ISmallFry {
  /**
   * Start fetching the configuration; the drive is built on first use.
   *
   * @param options - the server connection, and how the drive reports
   */
  constructor(options: SmallFry.IOptions) {
    this.serverSettings = options.serverSettings;
    this._options = options;
    this.config = getConfig(this.serverSettings);
    // Nobody may be listening yet; the rejection is each user's to handle.
    this.config.catch(() => undefined);
  }

  readonly serverSettings: ServerConnection.ISettings;
  readonly config: Promise<IServerConfig>;

  get ready(): Promise<void> {
    return this.drive.then(() => undefined);
  }

  get drive(): Promise<S3Drive> {
    if (!this._drive) {
      this._drive = this.config.then(config => this._createDrive(config));
      this._drive.catch(() => undefined);
    }
    return this._drive;
  }

  get roots(): Promise<RootMap> {
    return this.drive.then(drive => drive.roots);
  }

  get s3(): Promise<BrowserS3Client> {
    return this.drive.then(drive => drive.client);
  }

  async createClient<C extends IGatewayClient>(
    service: keyof IGatewayConfig,
    Client: new (config: any) => C,
    config?: Record<string, unknown>
  ): Promise<C> {
    const server = await this.config;
    const gatewayPath = server.gateway?.[service];
    if (!gatewayPath) {
      throw new Error(`The server has no AWS gateway for ${service}.`);
    }
    return createGatewayClient(Client, {
      serverSettings: this.serverSettings,
      gatewayPath,
      region: server.region,
      config
    });
  }

  private _createDrive(config: IServerConfig): S3Drive {
    const client = new BrowserS3Client({
      serverSettings: this.serverSettings,
      gatewayPath: config.gateway.s3,
      region: config.region
    });
    const drive = new S3Drive({
      name: DRIVE_NAME,
      client,
      roots: config.roots,
      listAllBuckets: config.list_all_buckets,
      pageSize: config.page_size,
      firstLookSize: FIRST_LOOK_SIZE,
      feedback: this._options.feedback,
      translator: this._options.translator
    });
    this._options.onDrive?.(drive);
    return drive;
  }

  private _options: SmallFry.IOptions;
  private _drive: Promise<S3Drive> | null = null;
}

/**
 * A namespace for SmallFry statics.
 */
export namespace SmallFry {
  /**
   * Options to create the core.
   */
  export interface IOptions {
    /** The Jupyter server connection. */
    serverSettings: ServerConnection.ISettings;
    /** Where the drive reports errors and progress. */
    feedback?: IS3DriveFeedback;
    /** Translator for the drive's messages. */
    translator?: ITranslator;
    /** Called once with the drive when it is built (to register it). */
    onDrive?: (drive: S3Drive) => void;
  }
}
