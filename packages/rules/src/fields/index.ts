export { resolveField, fieldInfo, listFieldClasses, type FieldClass, type FieldLookup } from './registry.js';
export { isKnownEventType, eventTypeInfo, allEventTypes, type EventTypeInfo } from './events.js';
export type { FieldInfo, FieldType, ArgForm, ArgKind } from './types.js';
