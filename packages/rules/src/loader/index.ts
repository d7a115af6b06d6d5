export { loadRules, ENGINE_VERSION, PROVIDED_PLUGINS, PROVIDED_SOURCES, type RulesSource, type LoadedRule, type LoadResult, type LoadOptions } from './load.js';
export { readRulesPaths, type ReadPathsResult } from './files.js';
export { describeRule } from './describe.js';
