import { random } from '../../bench/lib/generate.js';
import type { ListedFeed } from '../../lib/pages/directory.js';

const SYLLABLES = ['zhong', 'guo', 'xin', 'hua', 'jing', 'ji', 'ri', 'bao', 'cai', 'lian', 'she', 'zheng', 'quan', 'shi', 'dong', 'fang', 'wang', 'tong', 'xun', 'an', 'mei', 'ke', 'yin', 'hang', 'pu', 'nan', 'ou'];
const HAN = '人民币美元市场公司股份银行经济政策增长指数投资证券上涨下跌发布报告数据季度企业产业科技能源汽车消费东财滚动新闻离岸升值央行国债基金期货黄金原油外汇楼市房地产电商芯片医药农业保险信托债券';

/**
 * A large site's feeds, shaped like the reference site's: categories named in pinyin (some in mixed case, some
 * with spaces and parentheses, which get hashed path segments), tags in Chinese, each with a post count and the
 * date of its newest post.
 */
export function manyFeeds(count: number, seed = 5000): ListedFeed[] {
  const rand = random(seed);
  const pick = <T>(list: readonly T[] | string) => list[Math.floor(rand() * list.length)]!;
  const names = new Set<string>();
  const feeds: ListedFeed[] = [];
  const day = Date.UTC(2022, 4, 26);
  while (feeds.length < count) {
    const category = feeds.length % 5 < 2;
    let name: string;
    if (category) {
      name = Array.from({ length: 2 + Math.floor(rand() * 4) }, () => pick(SYLLABLES)).join('');
      if (rand() < 0.1) name = `${name[0]!.toUpperCase()}${name.slice(1)}`;
      if (rand() < 0.05) name = `${name} (${pick(['China', 'HK', '北京'])})`;
    } else {
      name = Array.from({ length: 2 + Math.floor(rand() * 5) }, () => pick(HAN)).join('');
    }
    const id = `${category ? 'c' : 't'}:${name}`;
    if (names.has(id)) continue;
    names.add(id);
    const newest = new Date(day - Math.floor(rand() * 400 * 86_400_000)).toISOString();
    feeds.push({ feedId: id, count: 1 + Math.floor(rand() ** 3 * 5000), newest });
  }
  return feeds;
}
