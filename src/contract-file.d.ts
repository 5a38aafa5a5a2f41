/**
 * The contract file shared with the server (`contract.json` in the Python
 * package), imported without its `.json` extension: the builder's webpack
 * resolves `.json` itself and bundles the file, jest reads it from disk, and
 * TypeScript (whose `rootDir` is `src/`) sees only this declaration.
 */
declare module '*/jupyterlab_smallfry/contract' {
  const contract: {
    drive: { name: string; uri_scheme: string };
    roots: {
      collision_suffix: string;
      collision_first: number;
      listed_bucket_pattern: string;
    };
    server_paths: { namespace: string; [name: string]: string };
    credential_states: string[];
    cron_presets: { [preset: string]: string };
    schedule_choices: { label: string; cron: string }[];
    [section: string]: unknown;
  };
  export default contract;
}

/**
 * The cases both test suites run (`contract_fixtures.json`), for the specs.
 */
declare module '*/jupyterlab_smallfry/contract_fixtures' {
  const fixtures: {
    drive_roots: {
      title: string;
      roots: unknown[];
      list_all_buckets: boolean;
      listed_buckets: string[];
      pinned: { bucket: string; prefix: string; name: string }[];
      names: string[];
      uris: { [path: string]: string | null };
    }[];
    [section: string]: unknown;
  };
  export default fixtures;
}
