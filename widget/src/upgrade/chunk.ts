/** Entry of the on-demand upgrade chunk (`/widget/upgrade.js`): hands its exports back to the loader. */
import type { Handoff } from '../ui/lazyUpgrade';
import { startTrial } from './trial';
import { Requests } from './Requests';
import { openUpgrade, Upgrade } from './Upgrade';

(document.currentScript as HTMLScriptElement & { ladder: Handoff }).ladder.done({ Upgrade, Requests, openUpgrade, startTrial });
