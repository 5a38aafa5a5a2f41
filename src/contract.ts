/**
 * What the front end and the server agree on, read from the one contract
 * file in the Python package (`server-ext/jupyterlab_smallfry/contract.json`).
 * Python reads the same file (`jupyterlab_smallfry/contract.py`); nothing here
 * is written twice. The cases both sides run are in `contract_fixtures.json`.
 */
import contract from '../server-ext/jupyterlab_smallfry/contract';

/** The S3 browser's drive name: paths look like `S3:<root>/<key>`. */
export const DRIVE_NAME: string = contract.drive.name;

/** What an S3 location's URI starts with (`s3://`). */
export const URI_SCHEME: string = contract.drive.uri_scheme;

/** Cron presets a spec may use, as the 5-field cron each stands for. */
export const CRON_PRESETS: { readonly [preset: string]: string } =
  contract.cron_presets;

/** Schedules offered as one click in the form: a label and the cron it writes. */
export const SCHEDULE_CHOICES: ReadonlyArray<{ label: string; cron: string }> =
  contract.schedule_choices;

/** Every credential state, in the order the widget documents them. */
export const CREDENTIAL_STATES: ReadonlyArray<string> =
  contract.credential_states;

/** The REST namespace of the server extension, below the base URL. */
export const API_NAMESPACE: string = contract.server_paths.namespace;

/**
 * A route of the server extension below {@link API_NAMESPACE}, e.g.
 * `serverPath('credentials_refresh')` is `credentials/refresh`.
 *
 * @param name - the route's name in the contract's `server_paths`
 */
export function serverPath(name: string): string {
  const path = contract.server_paths[name];
  if (
    name === 'namespace' ||
    name.startsWith('$') ||
    typeof path !== 'string'
  ) {
    throw new Error(`The server has no route named "${name}".`);
  }
  return path;
}

/**
 * What a listed bucket may be called before any suffix: no bucket name holds
 * a space or parentheses, so a suffixed name reads back unambiguously.
 */
export const LISTED_BUCKET_RE = new RegExp(
  contract.roots.listed_bucket_pattern
);

const [SUFFIX_BEFORE, SUFFIX_AFTER] = contract.roots.collision_suffix.split(
  '{n}'
) as [string, string];
const FIRST: number = contract.roots.collision_first;
const SUFFIXED_RE = new RegExp(
  `^([\\s\\S]*)${escapeRegExp(SUFFIX_BEFORE)}([1-9][0-9]*)${escapeRegExp(SUFFIX_AFTER)}$`
);

/**
 * `base`, or `base` with the first collision suffix `taken` does not hold
 * (`logs`, `logs (2)`, `logs (3)`...).
 */
export function freeName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let n = FIRST; taken.has(name); n++) {
    name = `${base}${SUFFIX_BEFORE}${n}${SUFFIX_AFTER}`;
  }
  return name;
}

/** The base of a name that ends with a collision suffix, else `null`. */
export function splitSuffix(name: string): string | null {
  const m = SUFFIXED_RE.exec(name);
  return m && Number(m[2]) >= FIRST ? m[1] : null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export default contract;
