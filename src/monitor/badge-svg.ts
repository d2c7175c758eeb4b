/**
 * Flat badges in the shields.io style: a grey label on the left, a coloured value on the right, each
 * as wide as its text in Verdana 11px plus 5px a side. The widths come from a per-character table,
 * as shields.io and badgen measure them, so a badge is laid out alike wherever it is made; each text
 * also carries its `textLength`, so a viewer without Verdana squeezes its fallback font to fit.
 */

/** What a badge says, and the colour of its value (a `#rgb` or `#rrggbb`). */
export interface BadgeFace {
  readonly label: string;
  readonly value: string;
  readonly color: string;
}

/** The label side's colour. */
export const LABEL_COLOR = '#555';

/**
 * Verdana's advance widths at 11px, in pixels, for the printable ASCII characters (space, code 32,
 * to tilde, 126).
 */
// prettier-ignore
const VERDANA_11: readonly number[] = [
  3.9, 4.3, 5, 9, 7, 12, 8, 3, 5, 5, 7, 9, 4, 5, 4, 5, // space ! " # $ % & ' ( ) * + , - . /
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 5, 5, 9, 9, 9, 6, // 0-9 : ; < = > ?
  11, 7.5, 7.5, 7.7, 8.5, 7, 6.3, 8.5, 8.3, 4.6, 5, 7.6, 6.1, 9.3, 8.2, 8.7, // @ A-O
  6.6, 8.7, 7.6, 7.5, 6.8, 8.1, 7.5, 11, 7.5, 6.8, 7.5, 5, 5, 5, 9, 7, // P-Z [ \ ] ^ _
  7, 6.6, 6.9, 5.7, 6.9, 6.6, 3.9, 6.9, 7, 3, 3.8, 6.5, 3, 11, 7, 6.7, // ` a-o
  6.9, 6.9, 4.7, 5.7, 4.3, 7, 6.5, 9, 6.5, 6.5, 5.8, 7, 5, 7, 9, // p-z { | } ~
];
/** Characters outside the table count as wide as "@", the widest ASCII glyph but two. */
const FALLBACK_WIDTH = 11;

/** The width of `text` in Verdana 11px, in pixels. */
export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += VERDANA_11[char.codePointAt(0)! - 32] ?? FALLBACK_WIDTH;
  return width;
}

/** A side's text width rounded up to an odd number of pixels, so the centred text sits on the pixel grid. */
function sideTextWidth(text: string): number {
  const width = Math.ceil(textWidth(text));
  return width % 2 === 0 ? width + 1 : width;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** `text` safe inside an XML element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const PADDING = 5;

/** The badge as an SVG document. */
export function badgeSvg(face: BadgeFace): string {
  const labelText = sideTextWidth(face.label);
  const valueText = sideTextWidth(face.value);
  const left = labelText + 2 * PADDING;
  const right = valueText + 2 * PADDING;
  const width = left + right;
  const label = escapeXml(face.label);
  const value = escapeXml(face.value);
  const color = escapeXml(face.color);
  const title = `${label}: ${value}`;
  // Text is drawn at ten times the size and scaled down, which keeps sub-pixel positions exact.
  const text = (content: string, centre: number, length: number) =>
    `<text aria-hidden="true" x="${centre * 10}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="${length * 10}">${content}</text>` +
    `<text x="${centre * 10}" y="140" transform="scale(.1)" fill="#fff" textLength="${length * 10}">${content}</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${title}">` +
    `<title>${title}</title>` +
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>` +
    `<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)"><rect width="${left}" height="20" fill="${LABEL_COLOR}"/><rect x="${left}" width="${right}" height="20" fill="${color}"/><rect width="${width}" height="20" fill="url(#s)"/></g>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">` +
    text(label, left / 2, labelText) +
    text(value, left + right / 2, valueText) +
    `</g></svg>`
  );
}
