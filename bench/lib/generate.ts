import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Deterministic PRNG (mulberry32): the same seed gives the same data set. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks 0..n-1 with Zipf popularity (exponent s): a few outlets publish most posts, most publish rarely. */
export function zipf(n: number, s: number, rand: () => number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 1; k <= n; k++) cumulative.push((total += 1 / k ** s));
  return () => {
    const x = rand() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const SYLLABLES = ['zhong', 'guo', 'xin', 'hua', 'jing', 'ji', 'ri', 'bao', 'cai', 'lian', 'she', 'zheng', 'quan', 'shi', 'bao', 'dong', 'fang', 'wang', 'tong', 'xun'];

/** Pinyin-like outlet names, as the reference site's categories are. */
export function outletNames(count: number, rand: () => number): string[] {
  const names = new Set<string>();
  while (names.size < count) {
    const parts = 2 + Math.floor(rand() * 4);
    names.add(Array.from({ length: parts }, () => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]).join(''));
  }
  return [...names];
}

export interface CorpusSample {
  title: string;
  body: string;
}

// Used when the corpus is not beside the checkout: text of the corpus's typical shape (a title of ~20 CJK
// characters, a body of ~560 bytes with a source link), made up here.
function syntheticSamples(): CorpusSample[] {
  const rand = random(42);
  const chars = '人民币美元市场公司股份银行经济政策增长指数投资证券上涨下跌发布报告数据季度企业产业科技能源汽车消费';
  const text = (n: number) => Array.from({ length: n }, () => chars[Math.floor(rand() * chars.length)]).join('');
  return Array.from({ length: 50 }, (_, i) => ({
    title: text(12 + (i % 12)),
    body: `${text(150 + ((i * 37) % 200))}。\n\n<http://finance.example.com/news/${i}.html>`,
  }));
}

/** Titles and bodies of the real posts (../shared/corpus), for realistic sizes and text; made-up ones without it. */
export function corpusSamples(dir: string): CorpusSample[] {
  if (!existsSync(dir)) {
    process.stderr.write(`corpus not found at ${dir}: using synthetic text of the same shape\n`);
    return syntheticSamples();
  }
  return readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}-.*\.md$/.test(f))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .filter((text) => text.startsWith('---'))
    .map((text) => {
      const [, front = '', body = ''] = text.split(/^---\s*$/m);
      return { title: /^title:\s*"?(.*?)"?\s*$/m.exec(front)?.[1] || '无题', body: body.trim() };
    });
}

export interface GeneratedPost {
  id: string;
  title: string;
  content: string;
  date: string;
  categories: string[];
  tags: string[];
}

/**
 * Posts like the reference site's: corpus text, one of `categories` outlets by Zipf popularity, one of a few tags.
 * With `bodyBytes`, bodies of that many bytes (a range, drawn per post), made of corpus text: full-content posts.
 */
export function generatePosts(
  count: number,
  options: { samples: CorpusSample[]; categories: number; tags?: number; seed?: number; start?: Date; prefix?: string; bodyBytes?: [number, number] },
): GeneratedPost[] {
  const rand = random(options.seed ?? 1);
  const outlets = outletNames(options.categories, rand);
  const pickOutlet = zipf(outlets.length, 1.1, rand);
  const tagNames = ['东财滚动新闻', '财经要闻', '公司新闻', '市场动态', '宏观经济', '国际财经', '证券要闻', '产业观察'].slice(0, options.tags ?? 8);
  const start = (options.start ?? new Date('2021-12-08T00:00:00Z')).getTime();
  return Array.from({ length: count }, (_, i) => {
    const sample = options.samples[i % options.samples.length]!;
    return {
      id: `${options.prefix ?? 'gen'}${String(i).padStart(7, '0')}`,
      title: `${sample.title}（${i}）`,
      content: options.bodyBytes ? bodyOf(options.bodyBytes, options.samples, rand) : sample.body,
      date: new Date(start + i * 7_000).toISOString(),
      categories: [outlets[pickOutlet()]!],
      tags: [tagNames[Math.floor(rand() * tagNames.length)]!],
    };
  });
}

/** Writes posts as Jekyll files (YYYY-MM-DD-id.md) with the date in Asia/Shanghai, as the reference site has them. */
export function writeJekyllFiles(posts: GeneratedPost[], dir: string): string[] {
  return posts.map((post) => {
    const local = new Date(Date.parse(post.date) + 8 * 3600_000).toISOString();
    const file = join(dir, `${local.slice(0, 10)}-${post.id}.md`);
    writeFileSync(
      file,
      `---\nlayout: post\ntitle: "${post.title.replace(/"/g, '\\\\"')}"\ndate: ${local.slice(0, 10)} ${local.slice(11, 19)}\ncategories: ${post.categories.join(' ')}\ntags: ${post.tags.join(' ')}\n---\n\n${post.content}\n`,
    );
    return file;
  });
}

/** Paragraphs of corpus text up to a size drawn from `range` (bytes of UTF-8). */
function bodyOf([min, max]: [number, number], samples: CorpusSample[], rand: () => number): string {
  const target = min + Math.floor(rand() * (max - min));
  const paragraphs: string[] = [];
  let bytes = 0;
  while (bytes < target) {
    const text = samples[Math.floor(rand() * samples.length)]!.body;
    paragraphs.push(text);
    bytes += Buffer.byteLength(text) + 2;
  }
  return paragraphs.join('\n\n');
}
