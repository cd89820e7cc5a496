import type { io, Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

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

/** The model's outputs in order (nsfwjs's NSFW_CLASSES). */
const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;

/** The bundled content-safety classifier: a layers model taking [1, 224, 224, 3] floats in 0..1. */
export interface NsfwModel {
  readonly model: LayersModel;
}

let loading: Promise<NsfwModel> | undefined;

async function init(): Promise<NsfwModel> {
  const { tf } = await loadTf();
  // Only the model data comes from nsfwjs: its NSFWJS class imports the @tensorflow/tfjs umbrella
  // (which nightshift does not install) and its load() by model name logs to the console. Built
  // from the package's bundled topology and weights, the model never touches a network.
  const { MobileNetV2Model } = await import('nsfwjs/models/mobilenet_v2');
  const modelJson = (await MobileNetV2Model.modelJson()).default as io.ModelJSON;
  const weightSpecs = (modelJson.weightsManifest ?? []).flatMap((group) => group.weights);
  const shards = await Promise.all(MobileNetV2Model.weightBundles.map(async (bundle) => Buffer.from((await bundle()).default, 'base64')));
  const weights = Buffer.concat(shards);
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
  const handler = tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData });
  const model = await tf.loadLayersModel(handler);
  // One prediction on zeros compiles the kernels now rather than on the first upload (as nsfwjs's load() does).
  tf.tidy(() => model.predict(tf.zeros([1, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, 3])));
  return { model };
}

/** The bundled MobileNetV2 content-safety model, loaded once per process. */
export function loadNsfwModel(): Promise<NsfwModel> {
  loading ??= init().catch((err: unknown) => {
    loading = undefined;
    throw new NightshiftError(
      ErrorCodes.MODEL_LOAD_FAILED,
      `could not load the bundled nsfwjs MobileNetV2 model (${err instanceof Error ? err.message : String(err)})`,
      { cause: err },
    );
  });
  return loading;
}

export function rgbTensor(tf: Tf, rgb: RgbImage): Tensor3D {
  return tf.tensor3d(new Int32Array(rgb.data), [rgb.height, rgb.width, 3], 'int32');
}

/**
 * Drawing / Hentai / Neutral / Porn / Sexy scores for an RGB image, highest first. The image is
 * scaled to 0..1 and resized to 224×224 (bilinear, corners aligned) the way nsfwjs's classify() does.
 */
export async function classifyNsfw(nsfw: NsfwModel, tf: Tf, rgb: RgbImage): Promise<Label[]> {
  const scores = tf.tidy(() => {
    const input = tf.div<Tensor3D>(tf.cast(rgbTensor(tf, rgb), 'float32'), 255);
    const sized =
      rgb.width === NSFW_INPUT_SIZE && rgb.height === NSFW_INPUT_SIZE ? input : tf.image.resizeBilinear(input, [NSFW_INPUT_SIZE, NSFW_INPUT_SIZE], true);
    return nsfw.model.predict(tf.reshape(sized, [1, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE, 3])) as Tensor;
  });
  try {
    const values = await scores.data();
    return NSFW_CLASSES.map((label, i) => ({ label, score: Math.round((values[i] ?? 0) * 10_000) / 10_000, source: 'nsfw' as const })).sort(
      (a, b) => b.score - a.score,
    );
  } finally {
    scores.dispose();
  }
}
