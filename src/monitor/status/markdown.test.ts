import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMarkdown } from './markdown.ts';

test('Markdown renders its usual subset: emphasis, lists, code and links', () => {
  assert.equal(
    renderMarkdown('**Fixed** the _cache_.\n\n- one\n- `two`\n\n[notes](https://example.com/x)'),
    '<p><strong>Fixed</strong> the <em>cache</em>.</p>\n<ul>\n<li>one</li>\n<li><code>two</code></li>\n</ul>\n' +
      '<p><a href="https://example.com/x" rel="nofollow noopener noreferrer">notes</a></p>\n',
  );
  assert.match(renderMarkdown('[mail](mailto:ops@example.com)'), /href="mailto:ops@example.com"/);
});

test('raw HTML is shown as text, never as markup', () => {
  const html = renderMarkdown('<script>alert(1)</script> <img src=x onerror=alert(1)> <b>b</b>');
  assert.ok(!/<script|<img|<b>/.test(html), html);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('links other than http(s) and mailto stay text, and images do not load', () => {
  for (const href of [
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'data:text/html,x',
    'vbscript:x',
    'file:///etc/passwd',
  ]) {
    const html = renderMarkdown(`[click](${href})`);
    assert.ok(!html.includes('<a'), `${href}: ${html}`);
  }
  assert.ok(!renderMarkdown('![x](https://tracker.example/p.gif)').includes('<img'));
  // An autolink to a script is not a link either.
  assert.ok(!renderMarkdown('<javascript:alert(1)>').includes('<a'));
  // Quotes in an allowed URL cannot break out of the attribute.
  assert.ok(!renderMarkdown('[x](https://e.com/"onmouseover="alert(1))').includes('" onmouseover'));
});
