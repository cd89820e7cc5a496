import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { io, Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { ErrorCodes, NightshiftError } from '../../src/errors.js';
import type { RgbImage } from './facts.js';
import { resizeRgb } from './facts.js';
import type { Label } from './nsfw.js';
import type { Tf } from './tf.js';
import { loadTf } from './tf.js';

/**
 * A user's image classifier from ANALYZE_MODEL_DIR:
 * - `model.json` (tfjs layers or graph model) and its weight files beside it;
 * - `labels.txt` (one label per line, in output order) or `labels.json` (an array of strings,
 *   or `{ "labels": [...] }`).
 * Input: one NHWC RGB image at the model's input size, scaled to 0..1. Output: one score per label.
 */
export interface CustomModel {
  readonly dir: string;
  readonly labels: readonly string[];
  readonly inputWidth: number;
  readonly inputHeight: number;
  predict(rgb: RgbImage, topK?: number): Promise<Label[]>;
}

function loadFailed(dir: string, why: string, cause?: unknown): NightshiftError {
  return new NightshiftError(ErrorCodes.MODEL_LOAD_FAILED, `custom model in ${dir} (ANALYZE_MODEL_DIR) cannot be used: ${why}`, { cause });
}

async function readLabels(dir: string): Promise<string[]> {
  try {
    const text = await readFile(join(dir, 'labels.json'), 'utf8');
    const parsed: unknown = JSON.parse(text);
    const list = Array.isArray(parsed) ? parsed : (parsed as { labels?: unknown }).labels;
    if (!Array.isArray(list) || !list.every((l) => typeof l === 'string'))
      throw loadFailed(dir, 'labels.json must be an array of strings or { "labels": [...] }');
    return list;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err instanceof NightshiftError ? err : loadFailed(dir, 'labels.json is not valid JSON', err);
  }
  try {
    return (await readFile(join(dir, 'labels.txt'), 'utf8'))
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
  } catch (err) {
    throw loadFailed(dir, 'neither labels.json nor labels.txt is readable', err);
  }
}

/** An IOHandler reading model.json and its weight shards from a local directory. */
function dirHandler(dir: string): io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as io.ModelJSON;
      const manifest = json.weightsManifest ?? [];
      const shards = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))));
      const weights = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: manifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        ...(json.signature === undefined ? {} : { signature: json.signature }),
        ...(json.userDefinedMetadata === undefined ? {} : { userDefinedMetadata: json.userDefinedMetadata }),
      };
    },
  };
}

/** Write model artifacts as model.json + weights.bin, the layout loadCustomModel reads. */
export async function writeModelDir(dir: string, artifacts: io.ModelArtifacts): Promise<void> {
  await mkdir(dir, { recursive: true });
  const data = artifacts.weightData;
  const buffers = data === undefined ? [] : Array.isArray(data) ? data : [data];
  const bin = Buffer.concat(buffers.map((b) => Buffer.from(b)));
  await writeFile(join(dir, 'weights.bin'), bin);
  const modelJson: io.ModelJSON = {
    modelTopology: artifacts.modelTopology ?? {},
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? 'nightshift',
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
  };
  await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
}

async function init(dir: string): Promise<CustomModel> {
  const { tf } = await loadTf();
  const labels = await readLabels(dir);
  let model: LayersModel | GraphModel;
  try {
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { format?: string };
    model = json.format === 'graph-model' ? await tf.loadGraphModel(dirHandler(dir)) : await tf.loadLayersModel(dirHandler(dir));
  } catch (err) {
    throw loadFailed(dir, `model.json did not load (${err instanceof Error ? err.message : String(err)})`, err);
  }
  const shape = model.inputs[0]?.shape ?? [];
  const inputHeight = shape[1] ?? 224;
  const inputWidth = shape[2] ?? 224;
  if (shape.length !== 4 || shape[3] !== 3) throw loadFailed(dir, `input shape is [${shape.join(', ')}], expected [batch, height, width, 3]`);
  const outputSize = scores(tf, model, tf.zeros([1, inputHeight, inputWidth, 3])).length;
  if (outputSize !== labels.length) throw loadFailed(dir, `the model gives ${outputSize} scores but there are ${labels.length} labels`);

  return {
    dir,
    labels,
    inputWidth,
    inputHeight,
    async predict(rgb, topK = 5) {
      const sized = rgb.width === inputWidth && rgb.height === inputHeight ? rgb : await resizeRgb(rgb, inputWidth, inputHeight);
      const input = tf.tidy(() => tf.div(tf.tensor4d(new Float32Array(sized.data), [1, inputHeight, inputWidth, 3]), 255));
      const out = scores(tf, model, input);
      return [...out]
        .map((score, i) => ({ label: labels[i] ?? String(i), score: Math.round(score * 10_000) / 10_000, source: 'custom' as const }))
        .sort((a, b) => b.score - a.score)
        .slice(0, topK);
    },
  };
}

/** Run the model on one input (disposed here) and read back its first output's scores. */
function scores(tf: Tf, model: LayersModel | GraphModel, input: Tensor): Float32Array {
  try {
    const out = tf.tidy(() => {
      const result = model.predict(input);
      const first = Array.isArray(result) ? result[0] : result;
      if (!first || !('dataSync' in first)) throw new Error('model produced no tensor');
      return tf.reshape(first as Tensor, [-1]);
    });
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return data;
  } finally {
    input.dispose();
  }
}

const loaded = new Map<string, Promise<CustomModel>>();

/** The model in dir, loaded once per process (a failed load is retried on the next call). */
export function loadCustomModel(dir: string): Promise<CustomModel> {
  let p = loaded.get(dir);
  if (!p) {
    p = init(dir);
    p.catch(() => loaded.delete(dir));
    loaded.set(dir, p);
  }
  return p;
}
