/**
 * The contract file shared with the server (`contract.json` in the Python
 * package), imported without its `.json` extension like the job spec schema
 * (see `schedule/schema.d.ts`): the builder's webpack bundles it, jest reads
 * it from disk, and TypeScript sees only this declaration.
 */
declare module '*/jupyterlab_smallfry/contract' {
  const contract: {
    drive: { name: string; uri_scheme: string };
    server_paths: { [name: string]: string };
    credential_states: string[];
    cron_presets: { [preset: string]: string };
    schedule_choices: { label: string; cron: string }[];
    [section: string]: unknown;
  };
  export default contract;
}
