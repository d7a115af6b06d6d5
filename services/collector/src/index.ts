// Harrier's collector. (Exports are added here as the modules land.)
// .scap capture reading (scap/).
export { readScap, readScapFile, blockTypeName } from './scap/reader.js';
export type { ScapCapture, ScapEvent, ScapHeader, ScapOption, ScapReadOptions, ScapStats } from './scap/reader.js';
export { ScapError } from './scap/errors.js';
export type { ScapErrorCode, ScapErrorFields } from './scap/errors.js';
export { SCAP_FD_KINDS } from './scap/tables.js';
export type {
  ScapFdKind,
  ScapFd,
  ScapGroup,
  ScapInterfaces,
  ScapIpv4Interface,
  ScapIpv6Interface,
  ScapMachineInfo,
  ScapProcess,
  ScapUser,
} from './scap/tables.js';
