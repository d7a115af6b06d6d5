export { Ruleset, RulesetError, substringSelector, type CompiledRule, type RuleSelector, type RulesetOptions } from './ruleset.js';
export { RuleSelection, DEFAULT_RULESET, nameMatches, type NameMatch } from './selection.js';
export { outputWithExtras, extraFieldsFor, inScope, type ExtraOutputFormat, type ExtraOutputField, type ExtraOutputScope } from './extra.js';
export { describeAll, describeOne, listRules, type DescribeOptions, type RuleSummary } from './describe.js';
