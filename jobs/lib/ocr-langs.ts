import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { ErrorCodes, NightshiftError } from '../../src/errors.js';

/**
 * Where Debian's `tesseract-ocr-<lang>` packages put their data (tessdata_fast for eng): the
 * image's OCR_LANG_DIR (docker/Dockerfile).
 */
export const DEBIAN_TESSDATA_DIR = '/usr/share/tesseract-ocr/5/tessdata';

export interface LangSource {
  /** Directory tesseract.js reads `<lang>.traineddata[.gz]` from: a local path, never a URL. */
  readonly langPath: string;
  /** Whether the files there carry the .gz suffix. */
  readonly gzip: boolean;
  /** Removes a staging directory, when one was made. */
  cleanup(): Promise<void>;
}

/**
 * English as shipped by @tesseract.js-data/eng. The package's index exposes `langPath` (the
 * 4.0.0 data, which carries the legacy engine too); the `_best_int` sibling is the LSTM-only
 * data tesseract.js itself fetches for LSTM-only workers: a quarter of the size, so workers start faster.
 */
export function bundledEngDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require('@tesseract.js-data/eng') as { langPath: string };
  const bestInt = `${pkg.langPath}_best_int`;
  return existsSync(join(bestInt, 'eng.traineddata.gz')) ? bestInt : pkg.langPath;
}

function find(dir: string, lang: string): { path: string; gz: boolean } | undefined {
  for (const gz of [true, false]) {
    const path = join(dir, `${lang}.traineddata${gz ? '.gz' : ''}`);
    if (existsSync(path)) return { path, gz };
  }
  return undefined;
}

/**
 * Where every language's data is. tesseract.js takes one directory for all languages, so when
 * they live in different places (eng in the package, the rest in OCR_LANG_DIR) a temporary
 * directory of symlinks joins them.
 */
export async function resolveLangs(langs: readonly string[], langDir: string | undefined): Promise<LangSource> {
  const engDir = bundledEngDir();
  const files = langs.map((lang) => {
    const found = (langDir === undefined ? undefined : find(langDir, lang)) ?? (lang === 'eng' ? find(engDir, 'eng') : undefined);
    if (!found) {
      throw new NightshiftError(
        ErrorCodes.MODEL_LOAD_FAILED,
        `no OCR data for language "${lang}": put ${lang}.traineddata(.gz) in OCR_LANG_DIR${langDir === undefined ? ' (unset)' : ` (${langDir})`} or remove it from OCR_LANGS`,
      );
    }
    return { lang, ...found };
  });
  const dirs = new Set(files.map((f) => dirname(f.path)));
  const gzs = new Set(files.map((f) => f.gz));
  const [onlyDir] = dirs;
  const [onlyGz] = gzs;
  if (dirs.size === 1 && gzs.size === 1 && onlyDir !== undefined && onlyGz !== undefined) {
    return { langPath: onlyDir, gzip: onlyGz, cleanup: async () => {} };
  }
  const staging = await mkdtemp(join(tmpdir(), 'nightshift-ocr-'));
  // Uniform names without .gz: the worker gunzips by the magic bytes, not by the name.
  await Promise.all(files.map((f) => symlink(f.path, join(staging, `${f.lang}.traineddata`))));
  return { langPath: staging, gzip: false, cleanup: () => rm(staging, { recursive: true, force: true }) };
}
