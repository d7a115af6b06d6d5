#!/usr/bin/env python3
"""The probe's runtime tests (root): loads it, runs real commands, reads its frames (FORMAT.md)."""
import os, struct, subprocess, sys, tempfile, threading, time

PROBE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'build', 'harrier-probe')
failures = []

def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures.append(what)

def frames(data):
    out, o = [], 0
    while o + 8 <= len(data):
        ln, kind, nr = struct.unpack_from('<IHH', data, o)
        if ln < 8 or o + ln > len(data):
            break
        f = {'kind': kind, 'nr': nr, 'raw': data[o:o + ln]}
        if kind in (1, 2):
            (f['tid'], f['pid'], f['ppid'], f['uid']) = struct.unpack_from('<IIII', data, o + 16)
            (f['vtid'], f['vpid'], f['flags']) = struct.unpack_from('<III', data, o + 60)
            f['ret'] = struct.unpack_from('<q', data, o + 72)[0]
            f['args'] = struct.unpack_from('<6Q', data, o + 80)
            f['comm'] = data[o + 128:o + 144].split(b'\0')[0].decode()
            items, p = {}, o + 144
            while p + 4 <= o + ln:
                tag, il = struct.unpack_from('<HH', data, p)
                items.setdefault(tag, data[p + 4:p + 4 + il])
                p += 4 + il
            f['items'] = items
        out.append(f)
        o += ln
    return out, o == len(data)

def run_probe(args, workload, commands=()):
    """Runs the probe around `workload`. No fixed sleeps: stats frames come only at start (after
    attaching), on the `stats` command and at exit, so each one seen is a point the probe reached;
    every command is followed by `stats`, and the workload starts once that frame is out."""
    p = subprocess.Popen([PROBE, '--stats-ms', '3600000'] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    buf = bytearray()

    def pump():
        while True:
            b = p.stdout.read1(65536)
            if not b:
                return
            buf.extend(b)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()

    def wait_stats(n, what):
        deadline = time.time() + 30
        while time.time() < deadline:
            if sum(1 for f in frames(bytes(buf))[0] if f['kind'] == 3) >= n:
                return
            if p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f'the probe did not reach {what}: {p.stderr.read().decode() if p.poll() is not None else "still running"}')

    wait_stats(1, 'its first stats frame (attached)')
    for i, c in enumerate(commands):
        p.stdin.write((c + '\nstats\n').encode()); p.stdin.flush()
        wait_stats(2 + i, f'the stats frame after "{c}"')
    workload()
    # The workload's events are in the rings once it returned; the probe drains them on exit.
    p.terminate()
    reader.join(timeout=10)
    err = p.stderr.read().decode()
    p.wait(timeout=10)
    return p.returncode, bytes(buf), err

with tempfile.NamedTemporaryFile(prefix='harrier-probe-test-', delete=False) as t:
    t.write(b'x')
    target = t.name

def cat():
    subprocess.run(['cat', target], stdout=subprocess.DEVNULL, check=True)

# --list and --check
names = subprocess.run([PROBE, '--list'], capture_output=True, text=True).stdout.split()
check('openat' in names and 'execve' in names and len(names) >= 60, f'--list names the traced syscalls ({len(names)})')
r = subprocess.run([PROBE, '--check'], capture_output=True, text=True)
check(r.returncode == 0, f'--check loads the eBPF program: {r.stdout.strip() or r.stderr.strip()}')

# Bad usage is refused with a message
r = subprocess.run([PROBE, '--exclude-pid', '1'], capture_output=True, text=True)
check(r.returncode == 2 and 'above 1' in r.stderr, 'excluding init is refused')
r = subprocess.run([PROBE, '--syscalls', 'openat,nosuchcall'], capture_output=True, text=True)
check(r.returncode == 2 and 'nosuchcall' in r.stderr, 'an unknown syscall name is refused')

# A real open and exec are seen with their arguments
rc, out, err = run_probe(['--syscalls', 'openat,execve'], cat)
fs, whole = frames(out)
check(rc == 0 and 'detached' in err, f'SIGTERM: exit 0 and detached (rc {rc})')
check(whole, 'the stream is whole frames')
check(fs and fs[0]['kind'] == 4, 'the first frame is hello')
check(fs and fs[-1]['kind'] == 3, 'the last frame is stats')
opens = [f for f in fs if f['kind'] == 1 and f['nr'] == 257 and f['items'].get(2, b'').rstrip(b'\0') == target.encode()]
check(len(opens) == 1 and opens[0]['comm'] == 'cat' and opens[0]['ret'] >= 0 and 12 in opens[0]['items'], 'openat of the file by cat, with its result and file item')
execs = [f for f in fs if f['kind'] == 1 and f['nr'] == 59 and f['items'].get(21, b'') == b'cat\0' + target.encode() + b'\0']
check(len(execs) == 1 and execs[0]['ret'] == 0, 'execve of cat with its argv')
if execs:
    exe = execs[0]['items'].get(23, b'').split(b'\0')
    check(exe[0] == b'cat' and b'bin' in exe, f'execve carries the exe path components {exe[:3]}')
    check(20 in execs[0]['items'] and 24 in execs[0]['items'], 'execve carries exec info and cwd')
exits = [f for f in fs if f['kind'] == 2 and execs and f['tid'] == execs[0]['tid']]
check(len(exits) == 1, 'the process exit of cat')
stats = [f for f in fs if f['kind'] == 3]
seen, sent, dropped = struct.unpack_from('<QQQ', stats[-1]['raw'], 16) if stats else (0, 0, 0)
check(sent > 0 and dropped == 0 and seen >= sent, f'stats: seen {seen}, sent {sent}, dropped {dropped}')
other = [f for f in fs if f['kind'] == 1 and f['nr'] not in (257, 59)]
check(not other, 'only the asked syscalls are sent')

def refused(args):
    """The probe's exit code and stderr for bad options; one that starts tracing instead is stopped."""
    try:
        r = subprocess.run([PROBE, '--check'] + args, capture_output=True, text=True, timeout=10)
        return r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        return None, ''
rc, err = refused(['--exclude-pid', '4194304'])
check(rc == 2 and '4194304' in err, f'an --exclude-pid beyond the kernel\'s pid limit is refused (rc {rc})')
rc, err = refused([a for pid in range(1000, 1064) for a in ('--exclude-pid', str(pid))])
check(rc == 2 and 'at most 63' in err, f'more --exclude-pid options than the probe holds are refused (rc {rc})')

# Exclusion: a process given with --exclude-pid and its children are never seen
shell = subprocess.Popen(['sh', '-c', 'read x; cat "$1"', 'sh', target], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
def go():
    shell.stdin.write(b'go\n'); shell.stdin.flush(); shell.wait()
rc, out, err = run_probe(['--syscalls', 'openat,execve', '--exclude-pid', str(shell.pid)], go)
fs, _ = frames(out)
mine = [f for f in fs if f['kind'] == 1 and f['items'].get(2, b'').rstrip(b'\0') == target.encode()]
check(not mine, 'an excluded process tree sends nothing')
ex = struct.unpack_from('<Q', [f for f in fs if f['kind'] == 3][-1]['raw'], 40)[0]
check(ex > 0, f'excluded events are counted ({ex})')
# Processes in the exclusion set: the probe and the waiting shell at start; the probe alone at the end (an exit clears its bit).
pids = [struct.unpack_from('<Q', f['raw'], 64)[0] for f in fs if f['kind'] == 3]
check(len(pids) >= 2 and pids[0] == 2 and pids[-1] == 1, f'the excluded process count follows starts and exits ({pids})')

# The syscall set changes without a restart
rc, out, err = run_probe(['--syscalls', 'execve'], cat, commands=['syscalls openat'])
fs, _ = frames(out)
check(any(f['kind'] == 1 and f['nr'] == 257 for f in fs) and not any(f['kind'] == 1 and f['nr'] == 59 for f in fs), 'the syscalls command replaces the set')

# The per-CPU rings: opens from two CPUs, several laps of 1 MiB rings, come out whole, in
# timestamp order, and every event the kernel side sent is in the stream.
N = 20000
cpus = sorted(os.sched_getaffinity(0))[:2]
OPENER = 'import os, sys\nos.sched_setaffinity(0, {int(sys.argv[2])})\nfor _ in range(int(sys.argv[3])): os.close(os.open(sys.argv[1], os.O_RDONLY))'
def openers():
    ps = [subprocess.Popen([sys.executable, '-c', OPENER, target, str(c), str(N)]) for c in cpus]
    for q in ps:
        q.wait()
rc, out, err = run_probe(['--syscalls', 'openat', '--ringbuf-mb', '1'], openers)
fs, whole = frames(out)
events = [f for f in fs if f['kind'] in (1, 2)]
ts = [struct.unpack_from('<Q', f['raw'], 8)[0] for f in events]
mine = sum(1 for f in events if f['nr'] == 257 and f['items'].get(2, b'').rstrip(b'\0') == target.encode())
seen, sent, dropped = struct.unpack_from('<QQQ', [f for f in fs if f['kind'] == 3][-1]['raw'], 16)
check(whole and rc == 0 and len(out) > 2 * (len(cpus) << 20), f'{len(events)} frames ({len(out) >> 20} MiB, laps of the 1 MiB rings) on CPUs {cpus}: whole')
check(all(a <= b for a, b in zip(ts, ts[1:])), 'frames from all CPUs come out in timestamp order')
check(mine <= len(cpus) * N and mine + dropped >= len(cpus) * N, f'each open is in the stream or counted as dropped ({mine} of {len(cpus) * N}, {dropped} dropped)')
check(len(events) == sent and seen == sent + dropped, f'every event sent reaches stdout ({len(events)} frames, seen {seen}, sent {sent}, dropped {dropped})')

def unread(args):
    """Runs the probe around openers() with nobody reading its stdout until it is told to stop."""
    p = subprocess.Popen([PROBE, '--syscalls', 'openat', '--ringbuf-mb', '1', '--stats-ms', '3600000'] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(20):
        if b'tracing' in p.stderr.readline() or p.poll() is not None:
            break
    openers()
    p.terminate()
    out, err = p.communicate(timeout=30)
    return p, out

# A reader that stops reading: the pipe, the output queue (1 MiB here), then the rings fill; the
# kernel side counts each drop and the stream stays whole.
p, out = unread(['--buffer-mb', '1'])
fs, whole = frames(out)
events = [f for f in fs if f['kind'] in (1, 2)]
seen, sent, dropped = struct.unpack_from('<QQQ', [f for f in fs if f['kind'] == 3][-1]['raw'], 16)
check(whole and p.returncode == 0, 'a blocked reader: the stream stays whole')
check(dropped > 0 and seen == sent + dropped and len(events) == sent, f'a blocked reader: drops are counted ({dropped} dropped, {sent} sent, {len(events)} frames)')

# The same stalled reader with the default 32 MiB output queue: the loader keeps emptying the
# 1 MiB rings into it, so the burst (about 8 MiB of frames) is held whole, nothing dropped, in order.
p, out = unread([])
fs, whole = frames(out)
events = [f for f in fs if f['kind'] in (1, 2)]
ts = [struct.unpack_from('<Q', f['raw'], 8)[0] for f in events]
mine = sum(1 for f in events if f['nr'] == 257 and f['items'].get(2, b'').rstrip(b'\0') == target.encode())
seen, sent, dropped = struct.unpack_from('<QQQ', [f for f in fs if f['kind'] == 3][-1]['raw'], 16)
check(whole and p.returncode == 0 and dropped == 0 and mine == len(cpus) * N, f'a stalled reader, 32 MiB output queue: the burst is held whole ({mine} of {len(cpus) * N} opens, {len(out) >> 20} MiB, {dropped} dropped)')
check(all(a <= b for a, b in zip(ts, ts[1:])) and len(events) == sent and seen == sent, f'... in timestamp order, every event sent reaches stdout ({len(events)} frames, seen {seen}, sent {sent})')
r = subprocess.run([PROBE, '--buffer-mb', '0'], capture_output=True, text=True)
check(r.returncode == 2 and '--buffer-mb' in r.stderr, 'a bad --buffer-mb is refused')

# fd arguments are ints: a register with its upper half set still names the fd the kernel used;
# fcntl carries the file only for the commands that return an fd.
import ctypes, fcntl, socket
libc = ctypes.CDLL(None, use_errno=True)
def fd_calls():
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
    cli = socket.socket()
    sa = bytes([2, 0]) + srv.getsockname()[1].to_bytes(2, 'big') + bytes([127, 0, 0, 1]) + bytes(8)
    r = libc.syscall(42, ctypes.c_long((1 << 32) | cli.fileno()), ctypes.c_char_p(sa), ctypes.c_long(16))
    check(r == 0, f'connect with the fd in the low half of the register succeeds ({ctypes.get_errno()})')
    fcntl.fcntl(cli.fileno(), fcntl.F_GETFL)
    os.close(fcntl.fcntl(cli.fileno(), fcntl.F_DUPFD, 100))
    cli.close(); srv.close()
rc, out, err = run_probe(['--syscalls', 'connect,fcntl'], fd_calls)
fs, _ = frames(out)
me = os.getpid()
conns = [f for f in fs if f['kind'] == 1 and f['nr'] == 42 and f['pid'] == me]
check(len(conns) == 1 and 11 in conns[0]['items'], f'that connect carries its socket tuple (items {sorted(conns[0]["items"]) if conns else None})')
fcs = [f for f in fs if f['kind'] == 1 and f['nr'] == 72 and f['pid'] == me]
getfl = [f for f in fcs if struct.unpack_from('<Q', f['raw'], 88)[0] == fcntl.F_GETFL]
dupfd = [f for f in fcs if struct.unpack_from('<Q', f['raw'], 88)[0] == fcntl.F_DUPFD]
check(len(getfl) == 1 and 12 not in getfl[0]['items'] and len(dupfd) == 1 and 12 in dupfd[0]['items'] and dupfd[0]['ret'] >= 100,
      'fcntl F_DUPFD carries the new fd\'s file, F_GETFL none')

# send/recv calls carry the first bytes of their data (item 28), at most the snaplen (default 80):
# sendto and recvfrom from their buffer, sendmsg and recvmsg gathered from the iovecs.
PAYLOAD = bytes(range(256))[:200]
def data_calls():
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('127.0.0.1', 0))
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(('127.0.0.1', 0))
    b.sendto(PAYLOAD, a.getsockname())
    a.recvfrom(4096)
    b.sendmsg([PAYLOAD[:20], PAYLOAD[20:]], [], 0, a.getsockname())
    a.recvmsg(4096)
    a.close(); b.close()
def data_frames(args):
    rc, out, err = run_probe(['--syscalls', 'sendto,recvfrom,sendmsg,recvmsg'] + args, data_calls)
    fs = [f for f in frames(out)[0] if f['kind'] == 1 and f['pid'] == os.getpid()]
    return {nr: [f for f in fs if f['nr'] == nr] for nr in (44, 45, 46, 47)}
got = data_frames([])
for nr, what in ((44, 'sendto'), (45, 'recvfrom'), (46, 'sendmsg (two iovecs)'), (47, 'recvmsg')):
    fs = got[nr]
    check(len(fs) == 1 and fs[0]['ret'] == 200 and fs[0]['items'].get(28) == PAYLOAD[:80], f'{what} carries the first 80 bytes of its data (ret and data length: {[(f["ret"], len(f["items"].get(28, b""))) for f in fs]})')
got = data_frames(['--snaplen', '300'])
check(all(len(got[nr]) == 1 and got[nr][0]['items'].get(28) == PAYLOAD for nr in (44, 45, 46, 47)), '--snaplen 300: all 200 bytes')
got = data_frames(['--snaplen', '0'])
check(all(len(got[nr]) == 1 and 28 not in got[nr][0]['items'] for nr in (44, 45, 46, 47)), '--snaplen 0: no data item')
r = subprocess.run([PROBE, '--snaplen', '4096', '--check'], capture_output=True, text=True)
check(r.returncode == 2 and '--snaplen' in r.stderr, 'a --snaplen over 4095 is refused')

# A closed stdout ends the probe cleanly
p = subprocess.Popen([PROBE, '--syscalls', 'openat'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
for _ in range(20):  # up to the "tracing ..." line: attached
    if b'tracing' in p.stderr.readline() or p.poll() is not None:
        break
p.stdout.close()
for _ in range(20):
    cat()
try:
    rc = p.wait(timeout=5)
    check(rc == 0, f'a closed output ends the probe (rc {rc})')
except subprocess.TimeoutExpired:
    p.kill()
    check(False, 'a closed output ends the probe')

def items_of(f, tag):
    return f['items'].get(tag, b'')

def cstr(b):
    return b.split(b'\0')[0]

# ia32 syscalls (int 0x80 from a 64-bit process): reported as the x86_64 call, with the i386
# argument registers, flagged (header flags bit 0). Each untranslated number would name another call.
IA32 = os.path.join(os.path.dirname(PROBE), 'ia32_test')
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(('127.0.0.1', 0))
port = udp.getsockname()[1]
rc, out, err = run_probe(['--syscalls', 'all', '--no-procexit'], lambda: subprocess.run([IA32, target, str(port)], check=True))
udp.close()
ia = [f for f in frames(out)[0] if f['kind'] == 1 and f['comm'] == 'ia32_test']
compat = [f for f in ia if f['flags'] & 1]
def one(nr, what, cond):
    fs = [f for f in compat if f['nr'] == nr]
    ok = len(fs) == 1 and cond(fs[0])
    check(ok, f'ia32 {what} (frames: {[(f["ret"], [hex(a) for a in f["args"][:3]], sorted(f["items"])) for f in fs]})')
    return fs[0] if fs else None
M1 = 0xffffffff
op = one(2, 'open: as open, its path and file', lambda f: cstr(items_of(f, 1)) == target.encode() and f['ret'] >= 0 and 12 in f['items'])
fd = op['ret'] if op else -1
one(32, 'dup: as dup with its fd and the new file', lambda f: f['args'][0] == fd and f['ret'] > fd and 12 in f['items'])
closes = sorted(f['args'][0] for f in compat if f['nr'] == 3)
check(len(closes) == 2 and fd not in closes, f'ia32 close is close; ia32 read (3, x86_64 close) is not traced (closes of {closes}, opened {fd})')
one(72, 'fcntl64 F_DUPFD: as fcntl, with the new fd\'s file', lambda f: f['args'][1] == 0 and f['args'][2] == 100 and f['ret'] == 100 and 12 in f['items'])
one(94, 'lchown with 16-bit ids: as lchown, uid and gid -1 as 32-bit -1', lambda f: f['args'][1:3] == (M1, M1) and cstr(items_of(f, 1)) == target.encode() and f['ret'] == 0)
one(92, 'chown32: as chown', lambda f: f['args'][1:3] == (M1, M1) and f['ret'] == 0)
one(117, 'setresuid with 16-bit ids: as setresuid with -1s', lambda f: f['args'][:3] == (M1, M1, M1) and f['ret'] == 0)
one(166, 'umount: as umount2 with flags 0', lambda f: cstr(items_of(f, 1)) == b'/nonexistent-harrier-ia32' and f['args'][1] == 0 and f['ret'] == -2)
sock = one(41, 'socketcall SYS_SOCKET: as socket', lambda f: f['args'][:3] == (2, 2, 0) and f['ret'] >= 0 and 11 in f['items'])
sfd = sock['ret'] if sock else -1
def sin_port(b):
    return struct.unpack_from('>H', b, 2)[0] if len(b) >= 4 else None
one(42, 'socketcall SYS_CONNECT: as connect, with the address and tuple', lambda f: f['args'][0] == sfd and f['args'][2] == 16 and sin_port(items_of(f, 10)) == port and 11 in f['items'])
one(44, 'socketcall SYS_SEND: as sendto without an address', lambda f: f['args'][0] == sfd and f['args'][2] == 1 and f['args'][4:] == (0, 0) and f['ret'] == 1)
one(46, 'socketcall SYS_SENDMSG: as sendmsg, the address read from the compat msghdr', lambda f: f['args'][0] == sfd and sin_port(items_of(f, 10)) == port + 1)
one(59, 'failed execve: as execve with its path', lambda f: f['ret'] == -2 and cstr(items_of(f, 1)) == b'/nonexistent-harrier-ia32')
check(len(compat) == 14, f'ia32: only the traced calls are sent ({sorted(f["nr"] for f in compat)})')
check(any(f['nr'] == 59 and f['ret'] == 0 and not f['flags'] for f in ia), 'the 64-bit exec of the ia32 test is not flagged')

# execveat: a successful one returns as execve (the kernel sets orig_ax so); it is reported as
# execveat and follows execveat's place in the set.
VIA_FD = "import os; fd = os.open('/bin/true', os.O_RDONLY); os.execve(fd, ['true', 'viaexecveat'], {})"
run_via_fd = lambda: subprocess.run([sys.executable, '-c', VIA_FD], check=True)
for sel in ('execveat', 'execve'):
    rc, out, err = run_probe(['--syscalls', sel, '--no-procexit'], run_via_fd)
    fs = [f for f in frames(out)[0] if f['kind'] == 1]
    via = [f for f in fs if items_of(f, 21) == b'true\0viaexecveat\0']
    py = [f for f in fs if f['ret'] == 0 and f['comm'] == os.path.basename(sys.executable)[:15]]
    if sel == 'execveat':
        check(len(via) == 1 and via[0]['nr'] == 322 and not py, f'an execveat by fd is reported as execveat ({[(f["nr"], f["comm"]) for f in fs]})')
    else:
        check(not via and len(py) >= 1 and all(f['nr'] == 59 for f in py), f'with only execve traced, the execveat is not sent ({[(f["nr"], f["comm"]) for f in fs]})')

# Exclusion that outlives its process: `exclude PID` of a process that is gone must not hide the
# next process to get that pid (forced with ns_last_pid).
dead = subprocess.Popen(['true']); dead.wait()
reused = []
def reuse_pid():
    for _ in range(20):
        with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
            f.write(str(dead.pid - 1))
        c = subprocess.Popen(['cat', target], stdout=subprocess.DEVNULL)
        c.wait()
        if c.pid == dead.pid:
            reused.append(c.pid)
            return
rc, out, err = run_probe(['--syscalls', 'openat', '--no-procexit'], reuse_pid, commands=[f'exclude {dead.pid}'])
fs = frames(out)[0]
seen_reuse = [f for f in fs if f['kind'] == 1 and f['pid'] == dead.pid and cstr(items_of(f, 2)) == target.encode()]
check(reused and len(seen_reuse) == 1, f'a process that reuses the pid of an excluded process that is gone is traced (reused {reused}, frames {len(seen_reuse)})')
pids = [struct.unpack_from('<Q', f['raw'], 64)[0] for f in fs if f['kind'] == 3]
check(pids and max(pids) == 1, f'a gone process is not counted as excluded ({pids})')

# Exclusion of a multi-threaded process whose leader thread ends first: its other threads stay excluded.
THREADS = r"""
import ctypes, os, sys, threading
sys.stdin.readline()
me = os.getpid()
def leader_gone():
    with open(f'/proc/{me}/task/{me}/stat') as f:
        return f.read().rsplit(')', 1)[1].split()[0] in 'ZX'
def opener():
    while not leader_gone():
        pass
    for _ in range(20):
        os.close(os.open(sys.argv[1], os.O_RDONLY))
ts = [threading.Thread(target=opener) for _ in range(4)]
for t in ts:
    t.start()
ctypes.CDLL(None).syscall(60, 0)  # exit: this thread only
"""
mt = subprocess.Popen([sys.executable, '-c', THREADS, target], stdin=subprocess.PIPE)
def mt_go():
    mt.stdin.write(b'go\n'); mt.stdin.flush(); mt.wait()
rc, out, err = run_probe(['--syscalls', 'openat', '--exclude-pid', str(mt.pid)], mt_go)
leak = [(f['kind'], f['tid']) for f in frames(out)[0] if f['kind'] in (1, 2) and f['pid'] == mt.pid]
check(mt.returncode == 0 and not leak, f'the threads of an excluded process stay excluded after its leader exits (rc {mt.returncode}, {len(leak)} frames leaked)')

# Ids in nested pid namespaces: ten deep, cat is pid 1 of its own namespace.
rc, out, err = run_probe(['--syscalls', 'openat,execve', '--no-procexit'], lambda: subprocess.run(['unshare', '-pf'] * 10 + ['cat', target], stdout=subprocess.DEVNULL, check=True))
deep = [f for f in frames(out)[0] if f['kind'] == 1 and f['nr'] == 257 and f['comm'] == 'cat' and cstr(items_of(f, 2)) == target.encode()]
check(len(deep) == 1 and (deep[0]['vtid'], deep[0]['vpid']) == (1, 1) and deep[0]['tid'] != 1, f'vtid and vpid ten pid namespaces deep ({[(f["tid"], f["vtid"], f["vpid"]) for f in deep]})')

# The exec item: exe ctime (bit 31 of i_ctime_nsec is a flag since 6.13, set once ctime is
# queried), memory counters, the pid namespace init's start.
X_PIDNS, X_VM = 48, 68
tmpd = tempfile.mkdtemp(prefix='harrier-probe-test-')
mytrue = os.path.join(tmpd, 'mytrue')
subprocess.run(['cp', '/bin/true', mytrue], check=True)
st = os.stat(mytrue)  # queries ctime
t0 = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
def execs():
    subprocess.run([mytrue], check=True)
    subprocess.run(['unshare', '-pf', mytrue], check=True)
rc, out, err = run_probe(['--syscalls', 'execve', '--no-procexit'], execs)
ex = [f for f in frames(out)[0] if f['kind'] == 1 and f['comm'] == 'mytrue' and 20 in f['items']]
hz = os.sysconf('SC_CLK_TCK')
with open('/proc/1/stat') as f:
    init_start = int(f.read().rsplit(')', 1)[1].split()[19]) * (10**9 // hz)
if len(ex) == 2:
    x = ex[0]['items'][20]
    ino, ctime, mtime = struct.unpack_from('<QQQ', x, 24)
    check((ino, ctime, mtime) == (st.st_ino, st.st_ctime_ns, st.st_mtime_ns), f'exe inode, ctime and mtime are stat\'s ({ctime - st.st_ctime_ns} ns off)')
    host, nested = (struct.unpack_from('<Q', e['items'][20], X_PIDNS)[0] for e in ex)
    ts1 = struct.unpack_from('<Q', ex[1]['raw'], 8)[0]
    check(abs(host - init_start) < 10**9 // hz, f'pidns_init_start on the host is init\'s start ({host} ns, /proc/1/stat {init_start})')
    check(t0 < nested < ts1, f'pidns_init_start in a new pid namespace is its init\'s start ({nested}, between {t0} and {ts1})')
else:
    check(False, f'two execs of mytrue with exec items ({len(ex)})')
os.unlink(mytrue); os.rmdir(tmpd)

BIG = r"""
import os
b = b'\1' * (64 << 20)
status = open('/proc/self/status').read()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print(' '.join(l.split()[1] for l in status.splitlines() if l.split(':')[0] in ('VmRSS', 'VmSwap')))
"""
big = []
rc, out, err = run_probe(['--syscalls', 'clone,fork,clone3', '--no-procexit'], lambda: big.append(subprocess.run([sys.executable, '-c', BIG], capture_output=True, text=True, check=True).stdout.split()))
forks = [f for f in frames(out)[0] if f['kind'] == 1 and f['ret'] > 0 and 20 in f['items'] and f['comm'] == os.path.basename(sys.executable)[:15] and f['pid'] != os.getpid()]
if forks and big:
    rss, swap = struct.unpack_from('<II', forks[0]['items'][20], X_VM + 4)
    want_rss, want_swap = int(big[0][0]), int(big[0][1])
    check(rss >= 64 << 10 and abs(rss - want_rss) < 8 << 10 and swap == want_swap, f'vm_rss and vm_swap of a 64 MiB process ({rss} and {swap} KiB; /proc says {want_rss} and {want_swap})')
else:
    check(False, f'the fork of the 64 MiB process ({len(forks)} frames)')

# Startup: SIGTERM while the program loads still ends cleanly (signals are blocked from the start).
def blocked(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            return any(l.startswith('SigBlk:') and int(l.split()[1], 16) & 0x4002 == 0x4002 for l in f)
    except OSError:
        return False
def links(pid):
    n = 0
    for fd in os.listdir(f'/proc/{pid}/fd'):
        try:
            n += os.readlink(f'/proc/{pid}/fd/{fd}') == 'anon_inode:bpf_link'
        except OSError:
            pass
    return n
p = subprocess.Popen([PROBE, '--syscalls', 'openat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
deadline = time.time() + 10
while not blocked(p.pid) and p.poll() is None and time.time() < deadline:
    time.sleep(0.0005)
attached_then = links(p.pid) if p.poll() is None else -1
p.terminate()
out, err = p.communicate(timeout=30)
fs, whole = frames(out)
check(attached_then == 0 and p.returncode == 0 and whole and fs and fs[0]['kind'] == 4 and fs[-1]['kind'] == 3 and b'detached' in err,
      f'SIGTERM while loading: a clean exit (links attached when signalled {attached_then}, rc {p.returncode}, {len(fs)} frames)')

# A failure after stdout was made non-blocking still gives stdout its mode back (the rings'
# mapping made to fail with an address-space limit).
import resource
def vm_peak():
    q = subprocess.Popen([PROBE, '--syscalls', 'openat', '--ringbuf-mb', '1', '--buffer-mb', '1'], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(20):
        if b'tracing' in q.stderr.readline() or q.poll() is not None:
            break
    with open(f'/proc/{q.pid}/status') as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith('VmPeak:'))
    q.terminate(); q.communicate(timeout=30)
    return kb << 10
limit = vm_peak() + (32 << 20)
with tempfile.TemporaryFile() as outf:
    r = subprocess.run([PROBE, '--syscalls', 'openat', '--ringbuf-mb', '64', '--buffer-mb', '1'], stdout=outf, stderr=subprocess.PIPE, text=True,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    nonblock = fcntl.fcntl(outf.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK
check(r.returncode == 1 and 'mapping the rings' in r.stderr and not nonblock, f'a failed start gives stdout its mode back (rc {r.returncode}, O_NONBLOCK left {bool(nonblock)}: {r.stderr.strip()[-80:]})')


# Paths the probe walks (executable, working directory, cgroups) and cannot walk whole end with an
# empty component: a reader must not take the leaf-side part it got for the whole path.
def nested(top, name, levels):
    """Makes `levels` nested directories `name` under `top`; returns an fd of the deepest and the depth's path."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(levels):
        os.mkdir(name, dir_fd=fd)
        nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    return fd
def put_true(dirfd):
    with open('/bin/true', 'rb') as src:
        body = src.read()
    out = os.open('true', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755, dir_fd=dirfd)
    os.write(out, body)
    os.close(out)
def cut(item):
    return item.endswith(b'\0\0') or item == b'\0'
def run_true_in(dirfd, env):
    subprocess.run(['./true', 'harrier-deep'], env=env, pass_fds=[dirfd], preexec_fn=lambda: os.fchdir(dirfd), check=True)
deep_top = tempfile.mkdtemp(prefix='harrier-probe-test-')
try:
    # 60 short components: past the component limit (48); 48 exactly: whole.
    many = nested(deep_top, 'd', 60)
    put_true(many)
    os.mkdir(os.path.join(deep_top, 'x'))
    edge_levels = 48 - len(deep_top.strip('/').split('/')) - 2
    edge = nested(os.path.join(deep_top, 'x'), 'e', edge_levels)
    put_true(edge)
    edge_path = '/'.join([deep_top, 'x'] + ['e'] * edge_levels + ['true'])
    # 40 components of 250 bytes after 8 KiB of arguments and environment: past the frame's room.
    os.mkdir(os.path.join(deep_top, 'w'))
    wide = nested(os.path.join(deep_top, 'w'), 'n' * 250, 40)
    put_true(wide)
    def deep_execs():
        subprocess.run(['true', 'harrier-shallow'], check=True)
        run_true_in(many, {})
        subprocess.run(['./true', 'harrier-edge'], pass_fds=[edge], preexec_fn=lambda: os.fchdir(edge), check=True)
        subprocess.run(['./true', 'harrier-wide', 'a' * 4000], env={'PAD': 'b' * 4000}, pass_fds=[wide], preexec_fn=lambda: os.fchdir(wide), check=True)
    rc, out, err = run_probe(['--syscalls', 'execve', '--no-procexit'], deep_execs)
    ex = {cstr(items_of(f, 21).split(b'\0', 1)[1]): f for f in frames(out)[0] if f['kind'] == 1 and f['nr'] == 59 and f['ret'] == 0 and items_of(f, 21).startswith(b'./true\0')}
    d = ex.get(b'harrier-deep')
    check(d is not None and items_of(d, 23).startswith(b'true\0d\0d\0') and cut(items_of(d, 23)), f'an executable 61 components deep: leaf first, marked cut ({items_of(d, 23)[-12:] if d else None})')
    check(d is not None and items_of(d, 24).startswith(b'd\0d\0') and cut(items_of(d, 24)), f'a working directory 60 components deep: marked cut ({items_of(d, 24)[-12:] if d else None})')
    w = ex.get(b'harrier-wide')
    check(w is not None and items_of(w, 23).startswith(b'true\0nnn') and cut(items_of(w, 23)), f'an executable path longer than the frame has room for: marked cut ({len(items_of(w, 23)) if w else None} bytes)')
    check(w is not None and (24 not in w['items'] or cut(items_of(w, 24))), 'its working directory is marked cut or absent')
    e = ex.get(b'harrier-edge')
    got = b'/' + b'/'.join(reversed(items_of(e, 23).split(b'\0')[:-1])) if e else None
    check(e is not None and not cut(items_of(e, 23)) and got == edge_path.encode(), f'an executable exactly 48 components deep is whole ({got})')
    whole = [f for f in frames(out)[0] if f['kind'] == 1 and f['nr'] == 59 and items_of(f, 21) == b'true\0harrier-shallow\0']
    check(len(whole) == 1 and b'bin' in items_of(whole[0], 23) and not cut(items_of(whole[0], 23)) and not cut(items_of(whole[0], 24)), f'whole paths carry no mark ({[(items_of(f, 23), items_of(f, 24)) for f in whole]})')
    os.close(many); os.close(wide); os.close(edge)
finally:
    subprocess.run(['rm', '-rf', deep_top], check=True)

# The same for a cgroup (v2) 30 levels deep.
CG2 = '/sys/fs/cgroup/unified' if os.path.exists('/sys/fs/cgroup/unified/cgroup.procs') else '/sys/fs/cgroup'
cg_top = os.path.join(CG2, f'harrier-probe-test-{os.getpid()}')
os.mkdir(cg_top)
try:
    leaf = os.path.join(cg_top, *(['c'] * 30))
    os.makedirs(leaf)
    def in_deep_cgroup():
        def enter():
            with open(os.path.join(leaf, 'cgroup.procs'), 'w') as f:
                f.write('0')
        subprocess.run(['true', 'harrier-cgroup'], preexec_fn=enter, check=True)
    rc, out, err = run_probe(['--syscalls', 'execve', '--no-procexit'], in_deep_cgroup)
    cg = [f for f in frames(out)[0] if f['kind'] == 1 and f['nr'] == 59 and items_of(f, 21) == b'true\0harrier-cgroup\0']
    check(len(cg) == 1 and items_of(cg[0], 26).startswith(b'c\0c\0') and cut(items_of(cg[0], 26)), f'a cgroup 31 levels deep: marked cut ({items_of(cg[0], 26)[-12:] if cg else None})')
finally:
    for dirpath, _, _ in sorted(os.walk(cg_top), key=lambda x: -len(x[0])):
        os.rmdir(dirpath)


# accept and accept4 carry the listening socket's queue (item 29: connections waiting, the most it
# holds), read after the call took its connection, as libscap's queuelen and queuemax.
def listen_queue(port):
    """The accept queue of the listening socket on 127.0.0.1:port, from /proc/net/tcp."""
    with open('/proc/net/tcp') as f:
        for line in f.readlines()[1:]:
            col = line.split()
            if col[1] == f'0100007F:{port:04X}' and col[3] == '0A':
                return int(col[4].split(':')[1], 16)
    return None
queue_seen = []
def accepts():
    srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(5)
    port = srv.getsockname()[1]
    clients = [socket.create_connection(('127.0.0.1', port)) for _ in range(3)]
    deadline = time.time() + 10
    while listen_queue(port) != 3 and time.time() < deadline:
        time.sleep(0.01)
    queue_seen.append(listen_queue(port))
    conn, _ = srv.accept()  # accept4
    fd = libc.syscall(43, srv.fileno(), None, None)  # accept
    os.close(fd); conn.close()
    bad = libc.syscall(43, 1 << 20, None, None)  # EBADF
    queue_seen.append(bad)
    for c in clients:
        c.close()
    srv.close()
rc, out, err = run_probe(['--syscalls', 'accept,accept4', '--no-procexit'], accepts)
acc = [f for f in frames(out)[0] if f['kind'] == 1 and f['pid'] == os.getpid() and f['nr'] in (43, 288)]
def backlog(f):
    b = items_of(f, 29)
    return struct.unpack('<II', b) if len(b) == 8 else None
got = [(f['nr'], f['ret'] >= 0, backlog(f)) for f in acc]
check(queue_seen[:1] == [3] and got == [(288, True, (2, 5)), (43, True, (1, 5)), (43, False, None)],
      f'accept4 and accept carry the queue left and its limit, a failed accept none (queue before {queue_seen[:1]}: {got})')


# prctl: the name a PR_SET_NAME gave (item 2) and the one a PR_GET_NAME got, the int a
# PR_GET_CHILD_SUBREAPER wrote (item 13), as libscap's arg2_str and arg2_int.
PRCTL = r"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print(os.getpid(), flush=True)
libc.prctl(15, b'harrier-nm', 0, 0, 0)
buf = ctypes.create_string_buffer(16)
libc.prctl(16, buf, 0, 0, 0)
libc.prctl(36, 1, 0, 0, 0)
v = ctypes.c_int(-7)
libc.prctl(37, ctypes.byref(v), 0, 0, 0)
libc.prctl(4, 1, 0, 0, 0)
"""
prctl_pid = []
rc, out, err = run_probe(['--syscalls', 'prctl', '--no-procexit'], lambda: prctl_pid.append(int(subprocess.run([sys.executable, '-c', PRCTL], capture_output=True, text=True, check=True).stdout)))
pr = [f for f in frames(out)[0] if f['kind'] == 1 and f['nr'] == 157 and prctl_pid and f['pid'] == prctl_pid[0]]
by_opt = {f['args'][0]: f for f in pr if f['ret'] == 0}
def prctl_item(opt, tag):
    return items_of(by_opt[opt], tag) if opt in by_opt else None
check(prctl_item(15, 2) == b'harrier-nm\0', f'PR_SET_NAME carries the name it set ({prctl_item(15, 2)})')
check(prctl_item(16, 2) == b'harrier-nm\0', f'PR_GET_NAME carries the name it got ({prctl_item(16, 2)})')
check(prctl_item(37, 13) == struct.pack('<i', 1), f'PR_GET_CHILD_SUBREAPER carries the int it wrote ({prctl_item(37, 13)})')
check(4 in by_opt and not by_opt[4]['items'] and 36 in by_opt and not by_opt[36]['items'], 'other options carry no item (arg2 is the register)')


# A process exit carries the reaper that takes the exiting thread's children (args[0]), as the
# kernel picks it and libscap reports it: 0 without children; another live thread of the group;
# the nearest child-subreaper ancestor; the pid namespace's init.
REAPER = r"""
import ctypes, os, sys, threading
libc = ctypes.CDLL(None)
def name(n):
    libc.prctl(15, n.encode(), 0, 0, 0)
if sys.argv[1] == 'sub':
    libc.prctl(36, 1, 0, 0, 0)
name('hrr-p1')
r, w = os.pipe()
done_r, done_w = os.pipe()
def waiter(n):
    name(n)
    os.close(w)
    os.read(r, 1)
    os._exit(0)
if os.fork() == 0:
    name('hrr-p2')
    p2a = os.fork()
    if p2a == 0:
        name('hrr-p2a')
        if os.fork() == 0:
            waiter('hrr-p3')
        os._exit(0)
    os.close(w)
    os.waitpid(p2a, 0)
    os.write(done_w, b'x')
    os.read(r, 1)
    os._exit(0)
os.read(done_r, 1)
def thread():
    name('hrr-t')
    if os.fork() == 0:
        waiter('hrr-c')
t = threading.Thread(target=thread)
t.start(); t.join()
os.close(w)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
"""
for mode, cmd in (('sub', [sys.executable, '-c', REAPER, 'sub']), ('init', ['unshare', '-pf', sys.executable, '-c', REAPER, 'init'])):
    rc, out, err = run_probe(['--syscalls', 'execve'], lambda: subprocess.run(cmd, check=True))
    ex = {f['comm']: f for f in frames(out)[0] if f['kind'] == 2 and f['comm'].startswith('hrr-')}
    reaper = {c: struct.unpack_from('<q', f['raw'], 80)[0] for c, f in ex.items()}
    p1 = ex['hrr-p1']['tid'] if 'hrr-p1' in ex else None
    check(set(ex) == {'hrr-p1', 'hrr-p2', 'hrr-p2a', 'hrr-p3', 'hrr-t', 'hrr-c'}, f'{mode}: every exit seen ({sorted(ex)})')
    check(p1 is not None and reaper.get('hrr-p2a') == p1 and ex['hrr-p2a']['ppid'] != p1,
          f'{mode}: an orphan goes to the {"subreaper" if mode == "sub" else "pid namespace init"} above its dead parent, not to the parent\'s parent ({reaper.get("hrr-p2a")}, {mode} {p1})')
    check(p1 is not None and reaper.get('hrr-t') == p1, f'{mode}: a thread\'s children go to a live thread of its process ({reaper.get("hrr-t")}, {p1})')
    check(all(reaper.get(c) == 0 for c in ('hrr-p2', 'hrr-p3', 'hrr-c')), f'{mode}: an exit without children has reaper 0 ({[reaper.get(c) for c in ("hrr-p2", "hrr-p3", "hrr-c")]})')


os.unlink(target)
print(f'{len(failures)} failed' if failures else 'all probe tests passed')
sys.exit(1 if failures else 0)
