import { feedsOf, feedUrl, FORMAT_NAMES } from '../../lib/feeds/feed-ref.js';

export interface BenchPost {
  title: string;
  content: string;
  categories: string[];
  tags: string[];
  date?: string;
}

async function visible(fileUrl: string, marker: string, deadline: number): Promise<number> {
  for (;;) {
    const body = await (await fetch(fileUrl)).text();
    if (body.includes(marker)) return performance.now();
    if (Date.now() > deadline) throw new Error(`${fileUrl} did not show ${marker}`);
    // A short pause: readers spinning flat out would take the CPU from what they measure.
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * POSTs a post and polls all three formats of every feed it touches over HTTP, as a reader would, until each
 * shows it. Returns the API's answer time and the time from the answer until the last file showed the post.
 */
export async function publishAndWatch(url: string, key: string, feedsUrl: string, post: BenchPost): Promise<{ answerMs: number; visibleMs: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/posts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(post),
  });
  const answered = performance.now();
  if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  await response.body?.cancel();
  const files = feedsOf(post).flatMap((ref) => FORMAT_NAMES.map((f) => feedUrl(ref, f, feedsUrl).replace(feedsUrl, url)));
  const seen = await Promise.all(files.map((f) => visible(f, post.title, Date.now() + 30_000)));
  return { answerMs: answered - started, visibleMs: Math.max(...seen) - answered };
}
