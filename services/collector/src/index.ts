// Harrier's collector: capture reading, the state engine, capture replay.
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
// The state engine (state/).
export { StateEngine, resolvePath, type EventState, type SeedFd, type SeedThread, type StateStats } from './state/engine.js';
export { DEFAULT_LIMITS, FdEntry, ThreadInfo, containerIdFromCgroup, type FdKind, type StateLimits } from './state/tables.js';
export type { RawEvent } from './state/params.js';
// Capture replay (replay/).
export { ReplayPipeline, type ReplayCounts, type ReplayMatch, type ReplayOptions } from './replay/pipeline.js';
export { replayCapture, seedFromCapture, stateFromCapture, toRawEvent, type CaptureSeedTarget } from './replay/capture.js';
// Live seeding from /proc (live/).
export { readGroup, readPasswd, readSockets, scanProc, type PasswdEntry, type ProcScan, type SocketInfo } from './live/procfs.js';
// Publishing (publish/) and the collector service.
export { EventPublisher, type EventPublisherOptions, type PublisherStats } from './publish/publisher.js';
export { ensureEventsStream, EVENTS_STREAM, EVENTS_SUBJECT_PREFIX, type EventsStreamOptions } from './publish/stream.js';
export { StatsReporter, statsMessage, statsSubject, STATS_SUBJECT_PREFIX, type CollectorStatsMessage } from './publish/stats.js';
export { registerPublisherMetrics } from './publish/metrics.js';
export type { EventSource, SourceOutput } from './source.js';
export { CaptureSource, type CaptureSourceOptions, type CaptureSourceCounters } from './replay/source.js';
export { startCollector, type CollectorHealth, type CollectorService, type SourceState, type StartCollectorOptions } from './service.js';
// Live capture (live/): the eBPF probe's frames, the state engine fed from the kernel.
export { EbpfSource, type EbpfSourceOptions } from './live/source.js';
export { LiveCapture, STATE_SYSCALLS, syscallSet, type LiveCaptureOptions, type LiveCounters, type LiveSink } from './live/capture.js';
export { ProbeProcess, defaultProbeBinary, type ProbeCounters, type ProbeOptions } from './live/probe.js';
export { FrameDecoder, PROBE_SYSCALLS, type ProbeStats } from './live/decode.js';
// Container-runtime metadata (containers/): Docker Engine API (docker, podman), CRI (containerd, CRI-O), the async cache.
export { ContainerRuntimeError, shortContainerId, type ContainerRuntime, type ContainerRuntimeErrorCode, type ContainerRuntimeKind } from './containers/runtime.js';
export { DockerEngineClient, dockerToContainerInfo, type DockerEngineClientOptions } from './containers/docker.js';
export { CriClient, criToContainerInfo, type CriClientOptions } from './containers/cri.js';
export { ContainerMetadataCache, type ContainerCacheCounters, type ContainerMetadataCacheOptions, type RuntimeCounters } from './containers/cache.js';
export { parseImageReference, type ImageParts } from './containers/image.js';
export { containerRefFromCgroup } from './state/tables.js';
export { Enricher, argsNamedBy, type ArgSelection, type ArgsByType } from './replay/enrich.js';
