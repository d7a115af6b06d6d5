// The syscall event model shared by the capture reader, the live collector and the state engine.
// (Exports are added here as the modules land.)
// The libscap event table and PPM_SC syscall names (table.ts).
export {
  EVENT_FLAGS,
  EVENT_TABLE,
  PPM_EVENT_MAX,
  SYSCALL_NAMES,
  eventInfo,
  eventCodes,
  hasLargePayload,
  syscallName,
  syscallId,
} from './table.js';
export type { EventInfo, ParamInfo, EventCategory, EventSource, EventDirection, EventFlagName } from './table.js';
// Name tables and parameter value decoding/rendering (flags.ts, render.ts).
export { FLAG_TABLES, ERRNO_NAMES, SIGNAL_NAMES, SOCKET_FAMILY_NAMES, L4_PROTO_NAMES } from './flags.js';
export type { NameTable } from './flags.js';
export {
  DYN_PARAM_TABLES,
  decodeParam,
  renderParam,
  renderParamResolved,
  renderParamParts,
  renderArgs,
  flagNames,
  formatIpv6,
  formatG,
  bytesToDots,
} from './render.js';
export type {
  ParamType,
  PrintFormat,
  ParamDesc,
  DynAlternatives,
  Int64,
  SockAddr,
  SockTuple,
  FdListEntry,
  IpNet,
  DynValue,
  ParamValue,
  RenderContext,
  RenderedParam,
} from './render.js';
// Capability sets.
export { CAPABILITY_NAMES, capabilitiesText } from './caps.js';
