import MarkdownIt from 'markdown-it';

/** Link targets an update may carry: the web and mail, nothing that runs or reads local files. */
const SAFE_LINK = /^(https?:|mailto:)/i;

// html: false shows raw HTML as text; links are checked by `validateLink`, and a link that fails is
// left as the text it was written as. Images would load third-party content on a public page, so
// they are off.
const md = new MarkdownIt('default', { html: false, linkify: false, typographer: false }).disable('image');
md.validateLink = (url) => SAFE_LINK.test(url.trim());
const defaultLinkOpen =
  md.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  // A link out of a public page tells the other site nothing of it, and cannot script it.
  tokens[idx]!.attrSet('rel', 'nofollow noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/**
 * An incident update's Markdown as HTML that is safe to put on a public page: every HTML tag in the
 * source is escaped, links go only to http(s) and mailto, and there are no images.
 */
export function renderMarkdown(source: string): string {
  return md.render(source);
}
