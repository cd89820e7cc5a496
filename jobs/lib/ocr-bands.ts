/**
 * Cutting a long page into two halves between text lines, and joining what tesseract read of
 * each back into one result in the original's coordinates.
 */

/** Greyscale pixels, one byte each (ocr.ts's GreyImage). */
interface Grey {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

interface Boxed {
  readonly bbox: { x0: number; y0: number; x1: number; y1: number };
}

/** What tesseract read of a part (ocr.ts's OcrResult), words in the part's pixels. */
interface Read<W extends Boxed> {
  readonly text: string;
  readonly confidence: number;
  readonly words?: W[];
}

/** Pages with fewer lines or pixels are read whole: cutting them saves less than a worker's overhead. */
const MIN_LINES = 8;
const MIN_PIXELS = 600_000;

export interface PagePart {
  readonly grey: Grey;
  /** Row of the original the part starts at. */
  readonly top: number;
}

/** Two halves cut at the gap between lines nearest the middle, or the whole page. */
export function splitAtGap(grey: Grey, presence: { readonly lines: number; readonly gaps: readonly number[] }): PagePart[] {
  if (presence.lines < MIN_LINES || grey.width * grey.height < MIN_PIXELS) return [{ grey, top: 0 }];
  const middle = grey.height / 2;
  let cut: number | undefined;
  for (const gap of presence.gaps) if (cut === undefined || Math.abs(gap - middle) < Math.abs(cut - middle)) cut = gap;
  // A cut near an edge leaves one half doing nearly all the work.
  if (cut === undefined || cut < grey.height * 0.25 || cut > grey.height * 0.75) return [{ grey, top: 0 }];
  const rows = (from: number, to: number): Grey => ({ data: grey.data.subarray(from * grey.width, to * grey.width), width: grey.width, height: to - from });
  return [
    { grey: rows(0, cut), top: 0 },
    { grey: rows(cut, grey.height), top: cut },
  ];
}

/** One result from the parts' results, in reading order; confidence weighted by words. */
export function joinPages<W extends Boxed>(pages: ReadonlyArray<{ readonly result: Read<W>; readonly top: number }>, maxWords: number): Read<W> {
  const [only] = pages;
  if (pages.length === 1 && only) return only.result;
  const words: W[] = [];
  let weighted = 0;
  let weights = 0;
  for (const { result, top } of pages) {
    for (const w of result.words ?? []) words.push({ ...w, bbox: { x0: w.bbox.x0, x1: w.bbox.x1, y0: w.bbox.y0 + top, y1: w.bbox.y1 + top } });
    const weight = Math.max(1, result.words?.length ?? 0);
    if (result.text !== '') {
      weighted += result.confidence * weight;
      weights += weight;
    }
  }
  return {
    text: pages
      .map((p) => p.result.text)
      .filter((t) => t !== '')
      .join('\n'),
    confidence: weights === 0 ? 0 : Math.round((weighted / weights) * 10) / 10,
    words: words.slice(0, maxWords),
  };
}
