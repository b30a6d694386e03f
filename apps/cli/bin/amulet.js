#!/usr/bin/env node
// The amulet command. The sources are TypeScript; tsx compiles them as they load, so there is
// no build step between `npm install` and `npx amulet`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
