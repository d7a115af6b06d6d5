// The syscall event model shared by the capture reader, the live collector and the state engine.
// (Exports are added here as the modules land.)
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
