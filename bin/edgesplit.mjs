#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so the checkout, the tests and the
// container image all execute the same files with no separate build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../services/cli/main.ts');
await main(process.argv.slice(2));
