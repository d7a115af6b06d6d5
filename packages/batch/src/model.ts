// What a collector knows about an event once the state engine has enriched it: the input of
// BatchBuilder. Process, user, container and fd objects are shared between events (the state
// engine's own table entries), so the builder encodes each once per batch, by identity.

export interface UserInfo {
  readonly uid: number;
  readonly name?: string | undefined;
  readonly homedir?: string | undefined;
  readonly shell?: string | undefined;
}

export interface GroupInfo {
  readonly gid: number;
  readonly name?: string | undefined;
}

export interface ContainerInfo {
  readonly id: string;
  readonly name?: string | undefined;
  readonly type?: string | undefined;
  readonly image?: string | undefined;
  readonly imageRepository?: string | undefined;
  readonly imageTag?: string | undefined;
  readonly imageDigest?: string | undefined;
  readonly imageId?: string | undefined;
  readonly privileged?: boolean | undefined;
  readonly labels?: ReadonlyMap<string, string> | undefined;
  readonly podName?: string | undefined;
  readonly podNamespace?: string | undefined;
  readonly podUid?: string | undefined;
  readonly podLabels?: ReadonlyMap<string, string> | undefined;
  readonly ip?: string | undefined;
}

export interface ProcessInfo {
  /**
   * Bumped by the state engine whenever the object changes (exec, chdir, setuid, ...): a batch
   * encodes the object again when its version moved, so earlier events keep the values they saw.
   */
  readonly version?: number | undefined;
  readonly pid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly vpid?: number | undefined;
  readonly vtid?: number | undefined;
  readonly sid?: number | undefined;
  readonly vpgid?: number | undefined;
  /** proc.name: the thread's command name (comm); undefined for a process known only by its id. */
  readonly name?: string | undefined;
  /** proc.exe: argv[0]. */
  readonly exe?: string | undefined;
  readonly exepath?: string | undefined;
  readonly args?: readonly string[] | undefined;
  readonly cwd?: string | undefined;
  readonly env?: readonly string[] | undefined;
  readonly tty?: number | undefined;
  readonly loginuid?: number | undefined;
  readonly user?: UserInfo | undefined;
  readonly loginUser?: UserInfo | undefined;
  readonly group?: GroupInfo | undefined;
  readonly container?: ContainerInfo | undefined;
  /** The parent, when known (for a thread: the thread that created it). */
  readonly parent?: ProcessInfo | undefined;
  /** For a thread that is not its group's leader: the leader, whose parents are the ancestors. */
  readonly main?: ProcessInfo | undefined;
  readonly exeUpperLayer?: boolean | undefined;
  readonly exeFromMemfd?: boolean | undefined;
  readonly exeWritable?: boolean | undefined;
  readonly exeIno?: number | bigint | undefined;
  readonly capPermitted?: bigint | undefined;
  readonly capEffective?: bigint | undefined;
  readonly capInheritable?: bigint | undefined;
  readonly startTs?: bigint | undefined;
  readonly pidnsInitStartTs?: bigint | undefined;
  readonly comm?: string | undefined;
  readonly fdlimit?: number | undefined;
}

export interface FdInfo {
  /** As ProcessInfo.version. */
  readonly version?: number | undefined;
  readonly num: number;
  /** fd.type: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify, timerfd, netlink, ... */
  readonly type: string;
  /** fd.typechar: f, d, 4, 6, u, p, e, s, l, i, t, n, ... */
  readonly typechar: string;
  readonly name?: string | undefined;
  readonly nameRaw?: string | undefined;
  readonly directory?: string | undefined;
  readonly filename?: string | undefined;
  readonly cip?: string | undefined;
  readonly sip?: string | undefined;
  readonly lip?: string | undefined;
  readonly rip?: string | undefined;
  readonly cport?: number | undefined;
  readonly sport?: number | undefined;
  readonly lport?: number | undefined;
  readonly rport?: number | undefined;
  readonly l4proto?: string | undefined;
  readonly sockfamily?: string | undefined;
  readonly connected?: boolean | undefined;
  readonly isServer?: boolean | undefined;
  readonly dev?: number | undefined;
  readonly ino?: number | bigint | undefined;
  readonly openFlags?: number | undefined;
}

export interface EventArg {
  readonly name: string;
  /** libsinsp's text of the value (`3`, `4097`, `-2`). */
  readonly text: string;
  /** libsinsp's resolved form, when it has one (`<f>/etc/passwd`, `O_RDONLY|O_CLOEXEC`, `ENOENT`). */
  readonly resolved?: string | undefined;
  /** The raw value as text (evt.rawarg.NAME); defaults to `text`. */
  readonly raw?: string | undefined;
}

export interface EnrichedEvent {
  readonly num: number;
  /** ns since the epoch. */
  readonly ts: bigint;
  readonly tid: number;
  readonly cpu?: number | undefined;
  readonly type: string;
  /** evt.dir '>' (enter) when true, '<' (exit) when false. */
  readonly enter: boolean;
  /** evt.rawres, for events with a result. */
  readonly res?: number | undefined;
  readonly args?: readonly EventArg[] | undefined;
  readonly process?: ProcessInfo | undefined;
  readonly fd?: FdInfo | undefined;
  /** Open events: what the open did (evt.is_open_read, ...), decided from its flags and mode. */
  readonly open?: { readonly read: boolean; readonly write: boolean; readonly exec: boolean; readonly create: boolean } | undefined;
  /** The event's JSON payload (k8s_audit). */
  readonly json?: string | undefined;
}
