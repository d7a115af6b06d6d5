export { compileFilter, pathMatch, type CompileOptions, type SharedCompilation, type CompileResult, type CompileIssue, type CompileWarning, type Filter } from './compile.js';
export { eventTypesOf, hasType, isAll, EventTypeError, ALL, NONE, type TypeSet } from './evttypes.js';
export { fieldMapAccessor, fieldKey, parseFieldMapLines, type FieldMapEvent, type EventLineError } from './fieldmap.js';
