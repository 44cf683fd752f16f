import { describe, expect, it } from 'vitest';
import { sanitizeContent } from '../../lib/posts/html.js';

const BASE = 'https://news.example.com/2021/12/08/post.html';
/** The value of `attr` on the first `tag` of `html`, as a reader's parser reads it (entities decoded). */
const attribute = (html: string, tag: string, attr: string) => new RegExp(`<${tag}\\b[^>]*\\s${attr}="([^"]*)"`).exec(html)?.[1]?.replaceAll('&amp;', '&');

describe('sanitizeContent: every URL a reader loads is absolute', () => {
  it('makes each srcset candidate absolute and keeps its descriptor', () => {
    const html = sanitizeContent('<img src="a.png" srcset="a-1x.png 1x, /img/a-2x.png 2x, //cdn.example.com/a-3x.png 3x" alt="a">', BASE);
    expect(attribute(html, 'img', 'src')).toBe('https://news.example.com/2021/12/08/a.png');
    expect(attribute(html, 'img', 'srcset')).toBe('https://news.example.com/2021/12/08/a-1x.png 1x, https://news.example.com/img/a-2x.png 2x, https://cdn.example.com/a-3x.png 3x');
  });

  it('does so in a picture\'s sources, with width descriptors', () => {
    const html = sanitizeContent('<picture><source srcset="../wide.webp 1200w, narrow.webp 600w" type="image/webp"><img src="x.png" alt="x"></picture>', BASE);
    expect(attribute(html, 'source', 'srcset')).toBe('https://news.example.com/2021/12/wide.webp 1200w, https://news.example.com/2021/12/08/narrow.webp 600w');
  });

  it('leaves out the srcset candidates with a scheme that is not http(s), and the others stay', () => {
    const html = sanitizeContent('<img src="a.png" srcset="javascript:alert(1) 1x, ok.png 2x" alt="a">', BASE);
    expect(attribute(html, 'img', 'srcset')).toBe('https://news.example.com/2021/12/08/ok.png 2x');
  });

  it("makes a video's poster absolute, and drops a poster whose scheme is not http(s)", () => {
    expect(attribute(sanitizeContent('<video src="v.mp4" poster="/posters/v.jpg" controls></video>', BASE), 'video', 'poster')).toBe('https://news.example.com/posters/v.jpg');
    const html = sanitizeContent('<video src="v.mp4" poster="data:image/png;base64,AAAA" controls></video>', BASE);
    expect(html).toContain('<video src="https://news.example.com/2021/12/08/v.mp4"');
    expect(html).not.toContain('poster');
  });

  it('keeps absolute URLs as they are', () => {
    const html = sanitizeContent('<img src="https://img.example.org/a.png?x=1&amp;y=2" srcset="https://img.example.org/a@2x.png 2x" alt="a">', BASE);
    expect(attribute(html, 'img', 'src')).toBe('https://img.example.org/a.png?x=1&y=2');
    expect(attribute(html, 'img', 'srcset')).toBe('https://img.example.org/a@2x.png 2x');
  });
});
