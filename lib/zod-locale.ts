// zod's mini build with only its English messages. The classic build is about 450 KB of every Lambda bundle;
// mini is about 16 KB with the same issues (codes, paths, messages). Modules import `* as z from 'zod/mini'`
// directly (a re-exported namespace could not be tree-shaken) and this module once, for its side effect.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
