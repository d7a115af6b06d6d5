export {
  loadRules,
  checkPluginRequirements,
  ENGINE_VERSION,
  PROVIDED_PLUGINS,
  PROVIDED_SOURCES,
  type RulesSource,
  type LoadedRule,
  type LoadResult,
  type LoadOptions,
  type RequiredPlugin,
} from './load.js';
export { readRulesPaths, type ReadPathsResult } from './files.js';
export { describeRule } from './describe.js';
