/**
 * Content type from the bytes, never from the name or the declared type: an upload called
 * `cat.png` that is really a PDF is a PDF. `sniffType` is synchronous and knows the formats the
 * pipeline acts on; `detectType` asks file-type first for the long tail and agrees with
 * `sniffType` on everything `sniffType` knows.
 */

export type SniffKind = 'image' | 'pdf' | 'text' | 'other';

export interface Sniffed {
  /** Best MIME type; 'application/octet-stream' when unknown, 'application/x-empty' for no bytes. */
  readonly mime: string;
  readonly kind: SniffKind;
  /** Usual file extension without the dot, when the type has one. */
  readonly ext?: string;
}

/** How many leading bytes the sniffers look at; pass at least this much when you can. */
export const SNIFF_BYTES = 4100;

const EMPTY: Sniffed = { mime: 'application/x-empty', kind: 'other' };
const UNKNOWN: Sniffed = { mime: 'application/octet-stream', kind: 'other' };

/** What sharp (libvips as bundled) decodes. SVG and HEIC are left out on purpose: no HEVC decoder, and SVG is text we do not rasterise. */
const PROCESSABLE = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/tiff', 'image/avif']);

export function isProcessableImage(mime: string): boolean {
  return PROCESSABLE.has(mime.toLowerCase().split(';', 1)[0]?.trim() ?? '');
}

function startsWith(head: Uint8Array, bytes: readonly number[], offset = 0): boolean {
  if (head.length < offset + bytes.length) return false;
  return bytes.every((b, i) => head[offset + i] === b);
}

function ascii(head: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...head.subarray(start, Math.min(end, head.length)));
}

function kindOf(mime: string): SniffKind {
  if (mime === 'application/pdf') return 'pdf';
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('text/')) return 'text';
  return 'other';
}

const ISO_BRANDS: Record<string, Sniffed> = {
  avif: { mime: 'image/avif', kind: 'image', ext: 'avif' },
  avis: { mime: 'image/avif', kind: 'image', ext: 'avif' },
  heic: { mime: 'image/heic', kind: 'image', ext: 'heic' },
  heix: { mime: 'image/heic', kind: 'image', ext: 'heic' },
  mif1: { mime: 'image/heif', kind: 'image', ext: 'heif' },
  qt: { mime: 'video/quicktime', kind: 'other', ext: 'mov' },
};

function sniffBinary(head: Uint8Array): Sniffed | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { mime: 'image/jpeg', kind: 'image', ext: 'jpg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mime: 'image/png', kind: 'image', ext: 'png' };
  const six = ascii(head, 0, 6);
  if (six === 'GIF87a' || six === 'GIF89a') return { mime: 'image/gif', kind: 'image', ext: 'gif' };
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { mime: 'image/webp', kind: 'image', ext: 'webp' };
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) return { mime: 'image/tiff', kind: 'image', ext: 'tif' };
  if (ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12).trim();
    return ISO_BRANDS[brand] ?? { mime: 'video/mp4', kind: 'other', ext: 'mp4' };
  }
  if (startsWith(head, [0x42, 0x4d]) && head.length >= 14) return { mime: 'image/bmp', kind: 'image', ext: 'bmp' };
  if (ascii(head, 0, 5) === '%PDF-') return { mime: 'application/pdf', kind: 'pdf', ext: 'pdf' };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return { mime: 'application/zip', kind: 'other', ext: 'zip' };
  if (startsWith(head, [0x1f, 0x8b])) return { mime: 'application/gzip', kind: 'other', ext: 'gz' };
  return undefined;
}

/** Drop a multi-byte UTF-8 sequence cut off by the end of the head. */
function trimPartialUtf8(head: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, head.length); back++) {
    const b = head[head.length - back] ?? 0;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? head.subarray(0, head.length - back) : head;
  }
  return head;
}

/**
 * Plain text: a BOM, or valid UTF-8 with no NUL and almost no control characters. Latin-1
 * text with stray high bytes fails the UTF-8 check on purpose: we cannot tell it from binary.
 */
function looksLikeText(head: Uint8Array): boolean {
  if (startsWith(head, [0xef, 0xbb, 0xbf]) || startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) return true;
  let control = 0;
  for (const b of head) {
    if (b === 0) return false;
    // tab, LF, FF, CR and ESC appear in real text files
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d && b !== 0x1b) control++;
  }
  if (control > head.length / 100) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(trimPartialUtf8(head));
    return true;
  } catch {
    return false;
  }
}

function sniffText(head: Uint8Array): Sniffed | undefined {
  if (!looksLikeText(head)) return undefined;
  const start = new TextDecoder().decode(head.subarray(0, 512)).trimStart().toLowerCase();
  if (start.startsWith('<svg') || (start.startsWith('<?xml') && start.includes('<svg'))) return { mime: 'image/svg+xml', kind: 'image', ext: 'svg' };
  return { mime: 'text/plain', kind: 'text', ext: 'txt' };
}

/** Type of a file from its first bytes (pass at least SNIFF_BYTES when the file is that long). */
export function sniffType(head: Buffer | Uint8Array): Sniffed {
  if (head.length === 0) return EMPTY;
  return sniffBinary(head) ?? sniffText(head) ?? UNKNOWN;
}

/**
 * Like sniffType, with file-type's long list of signatures for what sniffType calls
 * 'application/octet-stream'. file-type is loaded on first use.
 */
export async function detectType(head: Buffer | Uint8Array): Promise<Sniffed> {
  const quick = sniffType(head);
  if (quick !== UNKNOWN) return quick;
  const { fileTypeFromBuffer } = await import('file-type');
  const found = await fileTypeFromBuffer(head);
  if (!found) return UNKNOWN;
  return { mime: found.mime, kind: kindOf(found.mime), ext: found.ext };
}
