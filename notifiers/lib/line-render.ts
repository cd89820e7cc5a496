import type { messagingApi } from '@line/bot-sdk';

import type { Message, MessageItem } from '../../src/notify/notifier.js';

/** LINE's own limits (Messaging API reference), in UTF-16 code units / bytes. */
export const LINE_LIMITS = {
  /** Text message `text`. */
  textChars: 5_000,
  /** Flex message `altText`. */
  altTextChars: 1_500,
  /** JSON of one bubble (`contents`): LINE says 30 KB; we stay under 30,000 bytes to be safe. */
  bubbleBytes: 30_000,
  /** Image and action URLs. */
  urlChars: 2_000,
  uriActionChars: 1_000,
} as const;

/** How many items a bubble lists before "…and N more": a phone screen, not an archive. */
export const MAX_BUBBLE_ITEMS = 10;

const ELLIPSIS = '…';

/** Cut to at most `max` UTF-16 units, never splitting a surrogate pair, marking the cut. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let cut = s.slice(0, max - ELLIPSIS.length);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

function isHttpsUrl(u: string | undefined, max: number): u is string {
  if (u === undefined || u.length > max) return false;
  try {
    return new URL(u).protocol === 'https:';
  } catch {
    return false;
  }
}

/** LINE rejects an empty `text` in a text component, so blanks become a visible dash. */
function nonEmpty(s: string): string {
  return s.trim() === '' ? '-' : s;
}

export function bubbleBytes(bubble: messagingApi.FlexBubble): number {
  return Buffer.byteLength(JSON.stringify(bubble), 'utf8');
}

export function renderAltText(message: Pick<Message, 'title' | 'text'>): string {
  const title = message.title.trim();
  const text = message.text.trim();
  const joined = title && text ? `${title}\n${text}` : title || text || 'Notification';
  return truncate(joined, LINE_LIMITS.altTextChars);
}

function itemComponent(item: MessageItem): messagingApi.FlexBox {
  const contents: messagingApi.FlexComponent[] = [{ type: 'text', text: nonEmpty(truncate(item.title, 120)), size: 'sm', weight: 'bold', wrap: true, flex: 5 }];
  if (item.status) contents.push({ type: 'text', text: truncate(item.status, 24), size: 'xs', color: '#888888', align: 'end', flex: 2 });
  const row: messagingApi.FlexBox = { type: 'box', layout: 'horizontal', contents };
  if (!item.detail) return row;
  return {
    type: 'box',
    layout: 'vertical',
    contents: [row, { type: 'text', text: nonEmpty(truncate(item.detail, 300)), size: 'xs', color: '#aa3333', wrap: true }],
  };
}

interface BubbleBudget {
  readonly textChars: number;
  readonly items: number;
  readonly facts: number;
  readonly factChars: number;
}

function buildBubble(message: Message, budget: BubbleBudget): messagingApi.FlexBubble {
  const body: messagingApi.FlexComponent[] = [{ type: 'text', text: nonEmpty(truncate(message.title, 200)), weight: 'bold', size: 'lg', wrap: true }];
  if (message.text.trim() !== '' && budget.textChars > 0) {
    body.push({ type: 'text', text: truncate(message.text, budget.textChars), size: 'sm', color: '#555555', wrap: true });
  }
  const facts = (message.facts ?? []).slice(0, budget.facts);
  if (facts.length > 0) {
    body.push({
      type: 'box',
      layout: 'vertical',
      spacing: 'sm',
      margin: 'lg',
      contents: facts.map((f): messagingApi.FlexBox => ({
        type: 'box',
        layout: 'baseline',
        spacing: 'sm',
        contents: [
          { type: 'text', text: nonEmpty(truncate(f.label, 40)), size: 'sm', color: '#aaaaaa', flex: 2 },
          { type: 'text', text: nonEmpty(truncate(f.value, budget.factChars)), size: 'sm', wrap: true, flex: 4 },
        ],
      })),
    });
  }
  const items = message.items ?? [];
  const shown = items.slice(0, budget.items);
  if (shown.length > 0) {
    body.push({ type: 'separator', margin: 'lg' });
    body.push({ type: 'box', layout: 'vertical', spacing: 'sm', margin: 'lg', contents: shown.map(itemComponent) });
  }
  if (items.length > shown.length) {
    body.push({ type: 'text', text: `…and ${items.length - shown.length} more`, size: 'xs', color: '#888888', margin: 'md' });
  }

  const bubble: messagingApi.FlexBubble = {
    type: 'bubble',
    body: { type: 'box', layout: 'vertical', spacing: 'md', contents: body },
  };
  if (isHttpsUrl(message.imageUrl, LINE_LIMITS.urlChars)) {
    bubble.hero = { type: 'image', url: message.imageUrl, size: 'full', aspectRatio: '20:13', aspectMode: 'cover' };
  }
  if (isHttpsUrl(message.url, LINE_LIMITS.uriActionChars)) {
    bubble.footer = {
      type: 'box',
      layout: 'vertical',
      contents: [{ type: 'button', style: 'link', height: 'sm', action: { type: 'uri', label: 'View details', uri: message.url } }],
    };
  }
  return bubble;
}

/**
 * Lay out a message as a Flex bubble that fits LINE's 30 KB limit. Shrinks in the order a
 * reader misses least: items beyond the first few, then the body text, then facts.
 */
export function renderFlexBubble(message: Message): messagingApi.FlexBubble {
  let budget: BubbleBudget = { textChars: 2_000, items: MAX_BUBBLE_ITEMS, facts: 12, factChars: 200 };
  for (;;) {
    const bubble = buildBubble(message, budget);
    if (bubbleBytes(bubble) <= LINE_LIMITS.bubbleBytes) return bubble;
    if (budget.items > 3) budget = { ...budget, items: budget.items - 1 };
    else if (budget.textChars > 200) budget = { ...budget, textChars: Math.floor(budget.textChars / 2) };
    else if (budget.factChars > 40) budget = { ...budget, factChars: Math.floor(budget.factChars / 2) };
    else if (budget.facts > 0) budget = { ...budget, facts: budget.facts - 1 };
    else if (budget.items > 0) budget = { ...budget, items: budget.items - 1 };
    else if (budget.textChars > 0) budget = { ...budget, textChars: 0 };
    // Title (≤200 chars) and two URLs (≤2,000 each) alone cannot reach 30 KB.
    else return bubble;
  }
}

export function renderText(message: Pick<Message, 'title' | 'text' | 'url'>): string {
  const parts = [message.title.trim(), message.text.trim()].filter((p) => p !== '');
  let text = parts.join('\n\n') || 'Notification';
  const link = message.url && message.url.length <= LINE_LIMITS.urlChars ? `\n\n${message.url}` : '';
  // The link survives truncation: it is the one part a reader cannot reconstruct.
  text = truncate(text, LINE_LIMITS.textChars - link.length) + link;
  return text;
}

/** True when the message has structure worth a card rather than a plain text. */
export function wantsFlex(message: Message): boolean {
  return (message.items?.length ?? 0) > 0 || (message.facts?.length ?? 0) > 0 || message.imageUrl !== undefined;
}

/** The one LINE message object for a notification: a Flex bubble for structured messages, else text. */
export function renderLineMessage(message: Message): messagingApi.FlexMessage | messagingApi.TextMessage {
  if (!wantsFlex(message)) return { type: 'text', text: renderText(message) };
  return { type: 'flex', altText: renderAltText(message), contents: renderFlexBubble(message) };
}
