// The EVENTS stream's contract lives in the kit, shared with the engines that read it.
export { ensureEventsStream, EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type EventsStreamOptions } from '@harrier/kit';
