import type { ESLint } from 'eslint';

/** The layers of src/, bottom to top. */
export declare const FLOORS: readonly (readonly string[])[];
declare const plugin: ESLint.Plugin;
export default plugin;
