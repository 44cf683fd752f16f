// parse-srcset (the srcset parser sanitize-html uses) ships no types: what lib/posts/html.ts calls.
declare module 'parse-srcset' {
  interface ImageCandidate {
    url: string;
    /** Width descriptor (`100w`). */
    w?: number;
    /** Height descriptor (`100h`, future-compatible). */
    h?: number;
    /** Pixel density descriptor (`2x`). */
    d?: number;
  }
  export default function parseSrcset(input: string): ImageCandidate[];
}
