// Types for the local ESLint rule (layers.js is plain JavaScript, loaded by eslint.config.js as is).
import type { ESLint, Rule } from 'eslint';

export declare const LAYERS: readonly (readonly [name: string, patterns: readonly string[]])[];
export declare const direction: Rule.RuleModule;
declare const plugin: ESLint.Plugin;
export default plugin;
