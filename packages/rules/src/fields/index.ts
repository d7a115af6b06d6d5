// The field registry and the event-type table: what conditions and outputs may name.

export { resolveField, fieldInfo, listFieldClasses, type FieldClass, type FieldLookup } from './registry.js';
export { isKnownEventType, isKnownEventArg, eventTypeInfo, allEventTypes, type EventTypeInfo, type EventCategory } from './events.js';
export type { FieldInfo, FieldType, ArgForm, ArgKind } from './types.js';
