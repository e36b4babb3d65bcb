#!/usr/bin/env node
/**
 * The `oaas` command (package `bin`): `oaas serve <module>` and
 * `oaas pkg <module>`. See docs/package.md.
 */
import { runCli } from './cli/main.js';

const code = await runCli(process.argv.slice(2));
// Exit explicitly: the imported services module may hold timers or connections open, and `pkg` is done.
process.exit(code);
