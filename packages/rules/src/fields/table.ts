// The field table: every field Harrier's conditions and outputs may name, with libsinsp's type.
// One line per field: `name TYPE [flags] | description`. Flags: `arg` (argument required),
// `arg?` (optional), `idx` / `key` (argument kind), `list` (several values), `print` (outputs
// only), `dep` (deprecated). Kept as text because hundreds of object literals hide the data.

export interface FieldClassSpec {
  readonly name: string;
  readonly sources: readonly string[];
  readonly desc: string;
  readonly lines: string;
}

export const FIELD_CLASSES: readonly FieldClassSpec[] = [
  {
    name: 'evt',
    sources: ['syscall'],
    desc: 'Generic event fields: type, direction, arguments, result, timing.',
    lines: `
evt.num UINT64 | Event number, counting from 1 in the capture or live stream.
evt.time CHARBUF | Event time as text, hour to nanosecond.
evt.time.s CHARBUF | Event time as text, hour to second.
evt.time.iso8601 CHARBUF | Event time in ISO 8601 with nanoseconds.
evt.datetime CHARBUF | Event date and time as text.
evt.datetime.s CHARBUF | Event date and time as text, to the second.
evt.rawtime ABSTIME | Event time in nanoseconds since the epoch.
evt.rawtime.s ABSTIME | Whole seconds part of the event time.
evt.rawtime.ns ABSTIME | Nanoseconds part of the event time.
evt.reltime RELTIME | Time since the capture started, in nanoseconds.
evt.reltime.s RELTIME | Seconds part of the time since the capture started.
evt.reltime.ns RELTIME | Nanoseconds part of the time since the capture started.
evt.pluginname CHARBUF | Name of the plugin that produced the event.
evt.plugininfo CHARBUF | Summary the producing plugin gives of the event.
evt.hostname CHARBUF | Host name of the machine the event came from.
evt.latency RELTIME | Time between the enter and exit events of the syscall, in nanoseconds.
evt.latency.s RELTIME | Seconds part of the syscall latency.
evt.latency.ns RELTIME | Nanoseconds part of the syscall latency.
evt.deltatime RELTIME | Time since the previous event, in nanoseconds.
evt.dir CHARBUF | Event direction: > for enter events, < for exit events.
evt.type CHARBUF | Event type name, for syscalls the syscall's name (open, execve, ...).
evt.type.is UINT32 arg key | 1 when the event type equals the argument, else 0.
syscall.type CHARBUF | Syscall name, or empty for events that are not syscalls.
evt.category CHARBUF | Event category (file, net, process, ...).
evt.cpu INT16 | CPU the event happened on.
evt.args CHARBUF | All event arguments rendered as text.
evt.arg CHARBUF arg index_or_key | One event argument, by name (evt.arg.fd) or position (evt.arg[0]), rendered as text.
evt.rawarg DYNAMIC arg index_or_key | One event argument, by name or position, as its raw value.
evt.info CHARBUF | Event arguments as text, or the plugin's summary.
evt.buffer BYTEBUF | The data buffer of a read or write event.
evt.buflen UINT64 | Length of the data buffer of the event.
evt.res CHARBUF | Result as text: SUCCESS, or the error name such as ENOENT.
evt.rawres INT64 | Result as a number: a return value or a negative errno.
evt.failed BOOL | True when the event returned an error.
evt.is_io BOOL | True for events that read or write data.
evt.is_io_read BOOL | True for events that read data.
evt.is_io_write BOOL | True for events that write data.
evt.io_dir CHARBUF | Direction of an I/O event: r or w.
evt.is_wait BOOL | True for events that make the thread wait.
evt.wait_latency RELTIME | Time a waiting event waited, in nanoseconds.
evt.is_syslog BOOL | True for writes to /dev/log.
evt.count UINT32 | 1 for every event; used to count.
evt.count.error UINT32 | 1 for events that returned an error.
evt.count.error.file UINT32 | 1 for file events that returned an error.
evt.count.error.net UINT32 | 1 for network events that returned an error.
evt.count.error.memory UINT32 | 1 for memory events that returned an error.
evt.count.error.other UINT32 | 1 for other events that returned an error.
evt.count.exit UINT32 | 1 for exit events.
evt.count.procinfo UINT32 | 1 for process information events.
evt.count.threadinfo UINT32 | 1 for thread information events.
evt.around UINT64 arg idx filter | Events around the given timestamp (capture navigation only).
evt.abspath CHARBUF | Absolute path an event names, resolved against its directory descriptor.
evt.abspath.src CHARBUF | Absolute source path of rename and link events.
evt.abspath.dst CHARBUF | Absolute destination path of rename and link events.
evt.is_open_read BOOL | True for open events that open for reading.
evt.is_open_write BOOL | True for open events that open for writing.
evt.is_open_exec BOOL | True for open and creat events that create an executable file.
evt.is_open_create BOOL | True for open events that created the file.
evt.source CHARBUF | Event source: syscall, k8s_audit, or a plugin's source.
evt.asynctype CHARBUF | Type name of an asynchronous event.
evt.buflen.in UINT64 | Length of the data read by the event.
evt.buflen.out UINT64 | Length of the data written by the event.
evt.buflen.file UINT64 | Bytes of file data transferred by the event.
evt.buflen.file.in UINT64 | Bytes of file data read by the event.
evt.buflen.file.out UINT64 | Bytes of file data written by the event.
evt.buflen.net UINT64 | Bytes of network data transferred by the event.
evt.buflen.net.in UINT64 | Bytes of network data received by the event.
evt.buflen.net.out UINT64 | Bytes of network data sent by the event.
`,
  },
  {
    name: 'process',
    sources: ['syscall'],
    desc: 'The process and thread that produced the event, its parent and ancestors.',
    lines: `
proc.exe CHARBUF | First command-line argument (argv[0]) as the process started it.
proc.pexe CHARBUF | argv[0] of the parent process.
proc.aexe CHARBUF arg? idx | argv[0] of an ancestor: [1] is the parent; without index, any ancestor.
proc.exepath CHARBUF | Full path of the executable file.
proc.pexepath CHARBUF | Full path of the parent's executable file.
proc.aexepath CHARBUF arg? idx | Full path of an ancestor's executable: [1] is the parent; without index, any ancestor.
proc.name CHARBUF | Name of the executable (comm, up to 16 characters in the kernel).
proc.pname CHARBUF | Name of the parent process.
proc.aname CHARBUF arg? idx | Name of an ancestor: [1] is the parent; without index, any ancestor.
proc.args CHARBUF | Command-line arguments after the program name, space-separated.
proc.cmdline CHARBUF | Program name and arguments, space-separated.
proc.pcmdline CHARBUF | Command line of the parent.
proc.acmdline CHARBUF arg? idx | Command line of an ancestor: [1] is the parent; without index, any ancestor.
proc.cmdnargs UINT64 | Number of command-line arguments.
proc.cmdlenargs UINT64 | Total length of the command-line arguments.
proc.exeline CHARBUF | argv[0] followed by the arguments.
proc.env CHARBUF arg? key | Environment of the process, or the value of one variable.
proc.aenv CHARBUF arg? index_or_key | Environment variable looked up in the process's ancestors.
proc.cwd CHARBUF | Current working directory.
proc.loginshellid INT64 | Pid of the oldest shell among the process's ancestors.
proc.tty UINT32 | Controlling terminal number, 0 when there is none.
proc.pid INT64 | Process id.
proc.ppid INT64 | Parent process id.
proc.apid INT64 arg? idx | Pid of an ancestor: [1] is the parent; without index, any ancestor.
proc.vpid INT64 | Process id as seen from its own pid namespace.
proc.pvpid INT64 | Parent process id as seen from its pid namespace.
proc.sid INT64 | Session id.
proc.sname CHARBUF | Name of the session leader.
proc.sid.exe CHARBUF | argv[0] of the session leader.
proc.sid.exepath CHARBUF | Executable path of the session leader.
proc.vpgid INT64 | Process group id as seen from the pid namespace.
proc.vpgid.name CHARBUF | Name of the process group leader (pid namespace view).
proc.vpgid.exe CHARBUF | argv[0] of the process group leader (pid namespace view).
proc.vpgid.exepath CHARBUF | Executable path of the process group leader (pid namespace view).
proc.pgid INT64 | Process group id.
proc.pgid.name CHARBUF | Name of the process group leader.
proc.pgid.exe CHARBUF | argv[0] of the process group leader.
proc.pgid.exepath CHARBUF | Executable path of the process group leader.
proc.duration RELTIME | Nanoseconds since the process started.
proc.ppid.duration RELTIME | Nanoseconds since the parent started.
proc.pid.ts RELTIME | Start time of the process, in nanoseconds since the epoch.
proc.ppid.ts RELTIME | Start time of the parent, in nanoseconds since the epoch.
proc.is_exe_writable BOOL | True when the executable is writable by the process's user.
proc.is_exe_upper_layer BOOL | True when the executable lives in an overlay filesystem's upper layer.
proc.is_exe_lower_layer BOOL | True when the executable lives in an overlay filesystem's lower layer.
proc.is_exe_from_memfd BOOL | True when the executable is an anonymous memory file (memfd).
proc.is_sid_leader BOOL | True when the process leads its session.
proc.is_vpgid_leader BOOL | True when the process leads its process group (pid namespace view).
proc.is_pgid_leader BOOL | True when the process leads its process group.
proc.exe_ino INT64 | Inode number of the executable.
proc.exe_ino.ctime ABSTIME | Last status change time of the executable's inode.
proc.exe_ino.mtime ABSTIME | Last modification time of the executable's inode.
proc.exe_ino.ctime_duration_proc_start ABSTIME | Time between the executable's last status change and the process start.
proc.exe_ino.ctime_duration_pidns_start ABSTIME | Time between the pid namespace start and the executable's last status change.
proc.pidns_init_start_ts UINT64 | Start time of the pid namespace's init process.
thread.cap_permitted CHARBUF | Permitted capabilities, as names.
thread.cap_inheritable CHARBUF | Inheritable capabilities, as names.
thread.cap_effective CHARBUF | Effective capabilities, as names.
proc.fdopencount UINT64 | Number of file descriptors open in the process.
proc.fdlimit INT64 | Maximum number of file descriptors the process may open.
proc.fdusage DOUBLE | Share of the descriptor limit in use, in percent.
proc.vmsize UINT64 | Virtual memory size, in KiB.
proc.vmrss UINT64 | Resident memory, in KiB.
proc.vmswap UINT64 | Swapped-out memory, in KiB.
thread.pfmajor UINT64 | Major page faults since the thread started.
thread.pfminor UINT64 | Minor page faults since the thread started.
thread.tid INT64 | Thread id.
thread.ismain BOOL | True for the main thread of a process.
thread.vtid INT64 | Thread id as seen from its pid namespace.
thread.exectime RELTIME | CPU time the thread spent in its last scheduling slice.
thread.totexectime RELTIME | Total CPU time of the thread.
thread.cgroups CHARBUF | All cgroups of the thread.
thread.cgroup CHARBUF arg key | The thread's cgroup for one subsystem, e.g. thread.cgroup.cpuacct.
proc.nthreads UINT64 | Number of live threads in the process.
proc.nchilds UINT64 | Number of live child threads, not counting the main one.
thread.cpu DOUBLE | CPU use of the thread since the previous event, in percent.
thread.cpu.user DOUBLE | User CPU use of the thread since the previous event.
thread.cpu.system DOUBLE | System CPU use of the thread since the previous event.
thread.vmsize UINT64 | Virtual memory size of the main thread, in KiB.
thread.vmrss UINT64 | Resident memory of the main thread, in KiB.
proc.stdin.type CHARBUF | Type of the descriptor on standard input.
proc.stdout.type CHARBUF | Type of the descriptor on standard output.
proc.stderr.type CHARBUF | Type of the descriptor on standard error.
proc.stdin.name CHARBUF | Name of the descriptor on standard input.
proc.stdout.name CHARBUF | Name of the descriptor on standard output.
proc.stderr.name CHARBUF | Name of the descriptor on standard error.
`,
  },
  {
    name: 'fd',
    sources: ['syscall'],
    desc: 'The file descriptor the event acts on: files, sockets, pipes.',
    lines: `
fd.num INT64 | Descriptor number.
fd.type CHARBUF | Descriptor type: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify, ...
fd.typechar CHARBUF | One-letter descriptor type: f, 4, 6, u, p, e, s, l, i, b, o, m, ...
fd.name CHARBUF | Full name: path for files, connection tuple for sockets.
fd.directory CHARBUF | Folder of a file descriptor's path.
fd.filename CHARBUF | Base name of a file descriptor's path.
fd.ip IPADDR filter | Matches either end's IP address of a socket.
fd.cip IPADDR | Client IP address.
fd.sip IPADDR | Server IP address.
fd.lip IPADDR | Local IP address.
fd.rip IPADDR | Remote IP address.
fd.port PORT filter | Matches either end's port of a socket.
fd.cport PORT | Client port.
fd.sport PORT | Server port.
fd.lport PORT | Local port.
fd.rport PORT | Remote port.
fd.l4proto CHARBUF | Layer-4 protocol: tcp, udp, icmp or raw.
fd.sockfamily CHARBUF | Socket family: ip or unix.
fd.is_server BOOL | True when the process is the server end of the connection.
fd.uid CHARBUF | Unique id of the descriptor (process id and fd number).
fd.containername CHARBUF | Container id and descriptor name.
fd.containerdirectory CHARBUF | Container id and folder name.
fd.proto PORT filter | Matches either end's protocol name.
fd.cproto CHARBUF | Client protocol name (from the port).
fd.sproto CHARBUF | Server protocol name (from the port).
fd.lproto CHARBUF | Local protocol name.
fd.rproto CHARBUF | Remote protocol name.
fd.net IPNET filter | Matches either end's IP network.
fd.cnet IPNET filter | Matches the client's IP network.
fd.snet IPNET filter | Matches the server's IP network.
fd.lnet IPNET filter | Matches the local IP network.
fd.rnet IPNET filter | Matches the remote IP network.
fd.connected BOOL | True when the socket is connected.
fd.name_changed BOOL | True when the event changed the descriptor's name (connect, accept, ...).
fd.cip.name CHARBUF | Domain name of the client IP address.
fd.sip.name CHARBUF | Domain name of the server IP address.
fd.lip.name CHARBUF | Domain name of the local IP address.
fd.rip.name CHARBUF | Domain name of the remote IP address.
fd.dev INT32 | Device number of the file's filesystem.
fd.dev.major INT32 | Major device number.
fd.dev.minor INT32 | Minor device number.
fd.ino INT64 | Inode number of the file.
fd.nameraw CHARBUF | Name of the descriptor as the syscall passed it, unresolved.
fd.is_upper_layer BOOL | True when the file is in an overlay filesystem's upper layer.
fd.is_lower_layer BOOL | True when the file is in an overlay filesystem's lower layer.
fd.types CHARBUF arg? idx list | Types of the process's open descriptors, each once; with an index, of that descriptor.
`,
  },
  {
    name: 'fdlist',
    sources: ['syscall'],
    desc: 'The descriptors of poll-style events, which act on several at once.',
    lines: `
fdlist.nums CHARBUF list | Descriptor numbers of a poll event.
fdlist.names CHARBUF list | Descriptor names of a poll event.
fdlist.cips CHARBUF list | Client IP addresses of a poll event.
fdlist.sips CHARBUF list | Server IP addresses of a poll event.
fdlist.cports CHARBUF list | Client ports of a poll event.
fdlist.sports CHARBUF list | Server ports of a poll event.
`,
  },
  {
    name: 'fs.path',
    sources: ['syscall'],
    desc: 'Paths named by filesystem syscalls, whether or not a descriptor is involved.',
    lines: `
fs.path.name CHARBUF | Path the event names (file created, removed, renamed...).
fs.path.nameraw CHARBUF | Path as the syscall passed it.
fs.path.source CHARBUF | Source path of rename and link events.
fs.path.sourceraw CHARBUF | Source path as passed.
fs.path.target CHARBUF | Target path of rename and link events.
fs.path.targetraw CHARBUF | Target path as passed.
`,
  },
  {
    name: 'user',
    sources: ['syscall'],
    desc: 'The user the process runs as.',
    lines: `
user.uid UINT32 | User id.
user.name CHARBUF | User name.
user.homedir CHARBUF | Home folder of the user.
user.shell CHARBUF | Login shell of the user.
user.loginuid INT64 | Audit user id (the user who logged in), -1 when unset.
user.loginname CHARBUF | Name of the user who logged in.
`,
  },
  {
    name: 'group',
    sources: ['syscall'],
    desc: 'The group the process runs as.',
    lines: `
group.gid UINT32 | Group id.
group.name CHARBUF | Group name.
`,
  },
  {
    name: 'container',
    sources: ['syscall'],
    desc: 'The container the process runs in (container plugin fields).',
    lines: `
container.id CHARBUF | Short (12-character) container id, or host outside containers.
container.full_id CHARBUF | Full container id.
container.name CHARBUF | Container name, or host.
container.image CHARBUF | Image name as the container was started with it.
container.image.id CHARBUF | Image id.
container.type CHARBUF | Container runtime: docker, podman, containerd, cri-o, ...
container.privileged BOOL | True when the container runs privileged.
container.mounts CHARBUF | All mounts, as source:dest:mode:rdrw:propagation items.
container.mount CHARBUF arg index_or_key | One mount, by index or destination.
container.mount.source CHARBUF arg index_or_key | Source of a mount, by index or destination.
container.mount.dest CHARBUF arg index_or_key | Destination of a mount, by index or source.
container.mount.mode CHARBUF arg index_or_key | Mode of a mount.
container.mount.rdwr CHARBUF arg index_or_key | Read-write flag of a mount.
container.mount.propagation CHARBUF arg index_or_key | Propagation of a mount.
container.image.repository CHARBUF | Image repository, e.g. docker.io/library/nginx.
container.image.tag CHARBUF | Image tag.
container.image.digest CHARBUF | Image digest.
container.healthcheck CHARBUF | Health check command.
container.liveness_probe CHARBUF | Liveness probe command.
container.readiness_probe CHARBUF | Readiness probe command.
container.start_ts ABSTIME | Container start time, in nanoseconds since the epoch.
container.duration RELTIME | Nanoseconds since the container started.
container.ip CHARBUF | Container's IP address.
container.cni.json CHARBUF | CNI result of the container, as JSON.
container.host_pid BOOL | True when the container shares the host's pid namespace.
container.host_network BOOL | True when the container shares the host's network namespace.
container.host_ipc BOOL | True when the container shares the host's IPC namespace.
container.label CHARBUF arg key | One container label.
container.labels CHARBUF | All container labels as key:value pairs.
`,
  },
  {
    name: 'k8s',
    sources: ['syscall'],
    desc: 'Kubernetes pod and namespace of the container (from the container runtime).',
    lines: `
k8s.pod.name CHARBUF | Pod name.
k8s.pod.id CHARBUF dep | Pod UID (old name of k8s.pod.uid).
k8s.pod.uid CHARBUF | Pod UID.
k8s.pod.sandbox_id CHARBUF | Short id of the pod sandbox.
k8s.pod.full_sandbox_id CHARBUF | Full id of the pod sandbox.
k8s.pod.label CHARBUF arg key | One pod label.
k8s.pod.labels CHARBUF | All pod labels.
k8s.pod.ip CHARBUF | Pod IP address.
k8s.pod.cni.json CHARBUF | CNI result of the pod, as JSON.
k8s.ns.name CHARBUF | Namespace name.
k8s.pod.namespace CHARBUF | Namespace name (same as k8s.ns.name).
`,
  },
  {
    name: 'ka',
    sources: ['k8s_audit'],
    desc: 'Kubernetes audit event fields (k8saudit plugin fields).',
    lines: `
ka.auditid CHARBUF | Audit event id.
ka.stage CHARBUF | Request stage (ResponseComplete, ...).
ka.auth.decision CHARBUF | Authorization decision: allow or forbid.
ka.auth.reason CHARBUF | Why the request was authorized.
ka.auth.openshift.decision CHARBUF | OpenShift authorization decision.
ka.auth.openshift.username CHARBUF | OpenShift user name.
ka.user.name CHARBUF | User who made the request.
ka.user.groups CHARBUF list | Groups of the user who made the request.
ka.impuser.name CHARBUF | Impersonated user.
ka.verb CHARBUF | Action: create, update, patch, delete, get, list, watch, ...
ka.uri CHARBUF | Request URI.
ka.uri.param CHARBUF arg key | One query parameter of the request URI.
ka.target.name CHARBUF | Name of the target object.
ka.target.namespace CHARBUF | Namespace of the target object.
ka.target.resource CHARBUF | Resource type of the target object.
ka.target.subresource CHARBUF | Subresource of the target object.
ka.target.pod.name CHARBUF | Pod name of the target object.
ka.req.binding.subjects CHARBUF list | Subjects of a role binding.
ka.req.binding.role CHARBUF | Role of a role binding.
ka.req.binding.subject.has_name CHARBUF arg key dep | Whether a binding's subjects include the name (deprecated).
ka.req.configmap.name CHARBUF | Name of the ConfigMap.
ka.req.configmap.obj CHARBUF | Full ConfigMap object, as JSON.
ka.req.pod.containers.image CHARBUF arg? idx list | Container images of the pod.
ka.req.container.image CHARBUF dep | Image of the pod's first container (deprecated).
ka.req.pod.containers.image.repository CHARBUF arg? idx list | Repositories of the pod's container images.
ka.req.container.image.repository CHARBUF dep | Repository of the first container's image (deprecated).
ka.req.pod.host_ipc CHARBUF | hostIPC of the pod.
ka.req.pod.host_network CHARBUF | hostNetwork of the pod.
ka.req.container.host_network CHARBUF dep | hostNetwork of the pod (deprecated).
ka.req.pod.host_pid CHARBUF | hostPID of the pod.
ka.req.pod.containers.host_port CHARBUF arg? idx list | hostPort values of the pod's containers.
ka.req.pod.containers.privileged CHARBUF arg? idx list | privileged flags of the pod's containers.
ka.req.container.privileged CHARBUF dep | Whether any container is privileged (deprecated).
ka.req.pod.containers.allow_privilege_escalation CHARBUF arg? idx list | allowPrivilegeEscalation of the containers.
ka.req.pod.containers.read_only_fs CHARBUF arg? idx list | readOnlyRootFilesystem of the containers.
ka.req.pod.run_as_user INT64 | Pod-level runAsUser.
ka.req.pod.containers.run_as_user INT64 arg? idx list | runAsUser of the containers.
ka.req.pod.containers.eff_run_as_user INT64 arg? idx list | Effective runAsUser of the containers.
ka.req.pod.run_as_group INT64 | Pod-level runAsGroup.
ka.req.pod.containers.run_as_group INT64 arg? idx list | runAsGroup of the containers.
ka.req.pod.containers.eff_run_as_group INT64 arg? idx list | Effective runAsGroup of the containers.
ka.req.pod.containers.proc_mount CHARBUF arg? idx list | procMount of the containers.
ka.req.role.rules CHARBUF list | Rules of a role.
ka.req.role.rules.apiGroups CHARBUF arg? idx list | apiGroups of a role's rules.
ka.req.role.rules.nonResourceURLs CHARBUF arg? idx list | nonResourceURLs of a role's rules.
ka.req.role.rules.verbs CHARBUF arg? idx list | Verbs of a role's rules.
ka.req.role.rules.resources CHARBUF arg? idx list | Resources of a role's rules.
ka.req.pod.fs_group INT64 | Pod fsGroup.
ka.req.pod.supplemental_groups INT64 list | Pod supplementalGroups.
ka.req.pod.containers.add_capabilities CHARBUF arg? idx list | Added capabilities of the containers.
ka.req.service.type CHARBUF | Service type.
ka.req.service.ports CHARBUF list | Service ports.
ka.req.pod.volumes.hostpath CHARBUF arg? idx list | hostPath volumes of the pod.
ka.req.volume.hostpath CHARBUF arg key dep | Whether the pod mounts the host path (deprecated).
ka.req.pod.volumes.flexvolume_driver CHARBUF arg? idx list | flexVolume drivers of the pod.
ka.req.pod.volumes.volume_type CHARBUF arg? idx list | Volume types of the pod.
ka.resp.name CHARBUF | Name of the object in the response.
ka.response.code CHARBUF | HTTP status code of the response.
ka.response.reason CHARBUF | Reason text of the response.
ka.useragent CHARBUF | User agent of the client.
ka.sourceips CHARBUF arg? idx list | Source IP addresses of the request.
ka.cluster.name CHARBUF | Cluster name, as configured.
ka.req.pod.ephemeralContainers.image CHARBUF arg? idx list | Images of the pod's ephemeral containers.
ka.req.pod.ephemeralContainers.privileged CHARBUF arg? idx list | privileged flags of the ephemeral containers.
ka.req.pod.initContainers.image CHARBUF arg? idx list | Images of the pod's init containers.
ka.req.pod.initContainers.privileged CHARBUF arg? idx list | privileged flags of the init containers.
`,
  },
  {
    name: 'json',
    sources: ['k8s_audit', 'json'],
    desc: 'Values read from a JSON event by JSON pointer (json plugin fields).',
    lines: `
json.value CHARBUF arg key | Value at a JSON pointer, e.g. json.value[/user/username].
json.obj CHARBUF | The whole event as JSON.
json.rawtime ABSTIME | Event time in nanoseconds.
jevt.value CHARBUF arg key | Old name of json.value.
jevt.obj CHARBUF | Old name of json.obj.
jevt.rawtime ABSTIME | Old name of json.rawtime.
`,
  },
];
