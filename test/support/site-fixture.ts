import type { SiteConfig } from '../../lib/config.js';
import type { Post } from '../../lib/posts/post.js';

/** The reference site's settings, fresh for each test. */
export const testSite = (): SiteConfig => ({
  title: '金融消息',
  description: 'Chinese financial news',
  url: 'https://finews.example.com',
  feedsUrl: 'https://feeds.finews.example.com',
  hubUrl: 'https://api.finews.example.com/hub',
  language: 'zh-CN',
  feedItems: 50,
  timeZone: 'Asia/Shanghai',
  author: '金融消息编辑部',
  icon: 'https://finews.example.com/icon.png',
  copyright: '© 2021 金融消息',
});

/** A post of the reference site's shape, with a pinned date. */
export const testPost = (id: string, date: string, extra: Partial<Post> = {}): Post => ({
  id,
  title: `标题 ${id}`,
  content: `<p>正文 ${id}</p>`,
  summary: `摘要 ${id}`,
  date,
  updated: date,
  categories: ['emnews'],
  tags: ['东财滚动新闻'],
  authors: [],
  contentHash: id,
  version: 1,
  ...extra,
});
