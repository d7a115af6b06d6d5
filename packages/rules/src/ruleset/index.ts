export { Ruleset, substringSelector, type CompiledRule, type RuleSelector, type RulesetOptions } from './ruleset.js';
