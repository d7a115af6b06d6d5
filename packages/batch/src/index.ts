// Event batches: built by collectors (BatchBuilder), read by engines (batchAccessor).
export { BatchBuilder, MAX_ANCESTORS, type BatchIdentity } from './builder.js';
export { BatchCursor, BatchError, DecodedBatch, batchAccessor } from './accessor.js';
export { decodeEventBatch } from './decode.js';
export type { ContainerInfo, EnrichedEvent, EventArg, FdInfo, GroupInfo, ProcessInfo, UserInfo } from './model.js';
export { auditPartitionKey, fnv1a32, hostPartitionKey, partitionOf, syscallPartitionKey } from './partition.js';
export { batchMsgId, eventId } from './identity.js';
