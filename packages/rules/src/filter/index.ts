export { parseCondition, MAX_DEPTH, TRANSFORMERS, type ParseResult, type ConditionSyntaxError } from './parser.js';
export { conditionToString } from './serialize.js';
export { escapeString, unescapeString, UnescapeError } from './escape.js';
