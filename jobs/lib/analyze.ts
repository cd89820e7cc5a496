import { raceAbort, throwIfAborted } from '../../src/abort.js';
import { loadCustomModel } from './custom-model.js';
import type { ImageFacts } from './facts.js';
import { computeFacts, decodeWorkingCopy, resizeRgb } from './facts.js';
import type { ImageLimits } from './image.js';
import type { Label } from './nsfw.js';
import { classifyNsfw, loadNsfwModel, NSFW_INPUT_SIZE } from './nsfw.js';
import type { TfBackend } from './tf.js';
import { loadTf } from './tf.js';

export interface AnalyzeOptions extends ImageLimits {
  /** Directory of an extra user model (config.analyzeModelDir); its labels get source 'custom'. */
  readonly modelDir?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface AnalyzeResult extends ImageFacts {
  /** Every label from every model, highest score first. */
  readonly labels: Label[];
  readonly backend: TfBackend;
}

/** Load every model analyze will use, so the first job does not pay for it (and to fail early). */
export async function warmAnalyze(modelDir?: string): Promise<TfBackend> {
  const [{ backend }] = await Promise.all([loadTf(), loadNsfwModel(), modelDir === undefined ? undefined : loadCustomModel(modelDir)]);
  return backend;
}

/** Labels with scores from the content-safety model (and the user's model), plus image facts. */
export async function analyzeImage(bytes: Buffer, options: AnalyzeOptions): Promise<AnalyzeResult> {
  const { signal } = options;
  // Models load while the image decodes; both are needed before any inference.
  const models = Promise.all([loadTf(), loadNsfwModel(), options.modelDir === undefined ? undefined : loadCustomModel(options.modelDir)]);
  models.catch(() => {});
  const { checked, rgb } = await decodeWorkingCopy(bytes, options, signal);
  const facts = await raceAbort(computeFacts(checked, rgb), signal);
  const [{ tf, backend }, nsfw, custom] = await raceAbort(models, signal);
  throwIfAborted(signal);
  const square = await resizeRgb(rgb, NSFW_INPUT_SIZE, NSFW_INPUT_SIZE);
  const labels = await classifyNsfw(nsfw, tf, square);
  throwIfAborted(signal);
  if (custom) labels.push(...(await custom.predict(rgb)));
  throwIfAborted(signal);
  labels.sort((a, b) => b.score - a.score);
  return { ...facts, labels, backend };
}
