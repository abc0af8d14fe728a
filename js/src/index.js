// The action's entry point (bundled into dist/index.js); run() reports its own errors.
import { run } from './main.js';

await run();
