import type { Tensor3D } from '@tensorflow/tfjs';
import type { NSFWJS } from 'nsfwjs/core';

import { ErrorCodes, NightshiftError } from '../../src/errors.js';
import type { RgbImage } from './facts.js';
import type { Tf } from './tf.js';
import { loadTf } from './tf.js';

export interface Label {
  readonly label: string;
  /** 0..1 */
  readonly score: number;
  /** Which model said it: the bundled content-safety model or the user's. */
  readonly source: 'nsfw' | 'custom';
}

/** Side of the square input MobileNetV2 expects, px. */
export const NSFW_INPUT_SIZE = 224;

let loading: Promise<NSFWJS> | undefined;

async function init(): Promise<NSFWJS> {
  const { tf } = await loadTf();
  const [{ NSFWJS }, { MobileNetV2Model }] = await Promise.all([import('nsfwjs/core'), import('nsfwjs/models/mobilenet_v2')]);
  // nsfwjs's own load() by model name logs to the console; building the handler here from the
  // package's bundled topology and weights keeps it quiet and never touches a network.
  const modelJson = (await MobileNetV2Model.modelJson()).default;
  const weightSpecs = (modelJson.weightsManifest ?? []).flatMap((group) => group.weights);
  const shards = await Promise.all(MobileNetV2Model.weightBundles.map(async (bundle) => Buffer.from((await bundle()).default, 'base64')));
  const weights = Buffer.concat(shards);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  const handler = tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData });
  const model = new NSFWJS(handler, { size: NSFW_INPUT_SIZE });
  await model.load();
  return model;
}

/** The bundled MobileNetV2 content-safety model, loaded once per process. */
export function loadNsfwModel(): Promise<NSFWJS> {
  loading ??= init().catch((err: unknown) => {
    loading = undefined;
    throw new NightshiftError(ErrorCodes.MODEL_LOAD_FAILED, `could not load the bundled nsfwjs MobileNetV2 model (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  });
  return loading;
}

export function rgbTensor(tf: Tf, rgb: RgbImage): Tensor3D {
  return tf.tensor3d(new Int32Array(rgb.data), [rgb.height, rgb.width, 3], 'int32');
}

/** Drawing / Hentai / Neutral / Porn / Sexy scores for a 224×224 RGB image, highest first. */
export async function classifyNsfw(model: NSFWJS, tf: Tf, rgb: RgbImage): Promise<Label[]> {
  const input = rgbTensor(tf, rgb);
  try {
    const predictions = await model.classify(input, 5);
    return predictions
      .map((p) => ({ label: p.className, score: Math.round(p.probability * 10_000) / 10_000, source: 'nsfw' as const }))
      .sort((a, b) => b.score - a.score);
  } finally {
    input.dispose();
  }
}
