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
            f['ret'] = struct.unpack_from('<q', data, o + 72)[0]
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

os.unlink(target)
print(f'{len(failures)} failed' if failures else 'all probe tests passed')
sys.exit(1 if failures else 0)
