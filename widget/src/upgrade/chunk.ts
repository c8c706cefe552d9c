/**
 * The on-demand upgrade chunk: what `ui/lazyUpgrade.ts` imports when the dialog first opens.
 * It only ever runs after the entry, and importing the entry says so to esbuild: the code
 * splitting then puts everything a host page loads by default into one chunk, which the
 * loader imports (one file, one gzip stream; see widget/build.mjs).
 */
import '../index';

export { startTrial, Trial, trials } from './trial';
export { Requests } from './Requests';
export { openUpgrade, Upgrade } from './Upgrade';
