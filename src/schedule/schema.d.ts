/**
 * The job spec JSON Schema, imported from the server extension without its
 * `.json` extension: the builder's webpack resolves `.json` itself and
 * bundles the one schema file, while TypeScript (whose `rootDir` is `src/`)
 * sees only this declaration. Jest reads the same file from disk.
 */
declare module '*/jobs/jobspec.schema' {
  const schema: Record<string, unknown>;
  export default schema;
}
