import { readFileSync } from 'node:fs';

/** nightshift's version, from package.json (two levels above the built dist/src/). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
