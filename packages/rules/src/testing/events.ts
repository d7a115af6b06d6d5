// Synthetic syscall events for benchmarks, as field-map records with realistic values, in a fixed
// mix: 40% open/openat, 20% execve, 15% connect/accept, 10% clone/fork, 15% other types rules
// name. A deterministic PRNG keeps runs comparable. `suspiciousRate` of events are made to look
// like attacks (sensitive file reads, shells in containers); the benchmark reports the match rate.

import type { FieldValue } from '../accessor.js';

type Ev = Record<string, FieldValue>;

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Proc {
  name: string;
  exepath: string;
  args: string;
  pname: string;
  pcmdline: string;
  anc: string[];
  user: string;
  uid: number;
  container: string;
  image: string;
  tty: number;
  pid: number;
}

const CONTAINERS: [string, string][] = [
  ['host', ''],
  ['3ad7b26ded6d', 'docker.io/library/nginx'],
  ['9f1c2e7a4b10', 'registry.example.com/payments/api'],
  ['51c0ffee2a3b', 'docker.io/library/redis'],
  ['7e57ab1e0c0d', 'quay.io/prometheus/node-exporter'],
];

const PROGRAMS: [string, string, string][] = [
  ['nginx', '/usr/sbin/nginx', '-g daemon off;'],
  ['node', '/usr/local/bin/node', 'server.js'],
  ['java', '/usr/lib/jvm/java-17/bin/java', '-jar app.jar'],
  ['python3', '/usr/bin/python3', 'worker.py --queue default'],
  ['redis-server', '/usr/local/bin/redis-server', '*:6379'],
  ['postgres', '/usr/lib/postgresql/15/bin/postgres', '-D /var/lib/postgresql/data'],
  ['systemd-journal', '/usr/lib/systemd/systemd-journald', ''],
  ['node_exporter', '/bin/node_exporter', '--path.rootfs=/host'],
  ['ls', '/usr/bin/ls', '-la /srv'],
  ['grep', '/usr/bin/grep', '-r TODO src'],
  ['git', '/usr/bin/git', 'status'],
  ['curl', '/usr/bin/curl', '-s http://10.0.0.9/health'],
];

const FILES = [
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/srv/www/index.html',
  '/var/lib/app/data.db',
  '/proc/self/status',
  '/tmp/upload-1234.part',
  '/usr/share/zoneinfo/UTC',
  '/var/log/nginx/access.log',
  '/home/app/.cache/pip/http/abc',
  '/srv/app/config.json',
];
/** Files read but never written by the benign workload. */
const READ_ONLY = ['/etc/resolv.conf', '/etc/hosts', '/etc/ld.so.cache'];

const OTHER_TYPES = ['unlinkat', 'renameat2', 'mkdirat', 'chmod', 'fchmod', 'dup2', 'socket', 'ptrace', 'symlinkat', 'bind', 'listen', 'mmap', 'sendto', 'recvfrom'];

export interface GenOptions {
  readonly count: number;
  readonly suspiciousRate: number;
  readonly seed?: number;
}

export function generateEvents(opts: GenOptions): Ev[] {
  const rnd = prng(opts.seed ?? 42);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const procs: Proc[] = [];
  for (let i = 0; i < 200; i++) {
    const [name, exepath, args] = pick(PROGRAMS);
    const [container, image] = pick(CONTAINERS);
    procs.push({
      name,
      exepath,
      args,
      pname: container === 'host' ? 'systemd' : 'containerd-shim',
      pcmdline: container === 'host' ? 'systemd --user' : 'containerd-shim -namespace k8s.io',
      anc: container === 'host' ? ['systemd', 'systemd'] : ['containerd-shim', 'systemd', 'systemd'],
      user: container === 'host' ? 'app' : 'www-data',
      uid: container === 'host' ? 1001 : 33,
      container,
      image,
      tty: 0,
      pid: 1000 + i,
    });
  }
  const events: Ev[] = [];
  for (let n = 0; n < opts.count; n++) {
    const p = pick(procs);
    const e: Ev = {
      'evt.num': n + 1,
      'proc.name': p.name,
      'proc.exepath': p.exepath,
      'proc.exe': p.exepath,
      'proc.args': p.args,
      'proc.cmdline': p.args ? `${p.name} ${p.args}` : p.name,
      'proc.pname': p.pname,
      'proc.pcmdline': p.pcmdline,
      'proc.pexe': `/usr/bin/${p.pname}`,
      'proc.aname[2]': p.anc[1] ?? '',
      'proc.aname[3]': p.anc[2] ?? '',
      'proc.pid': p.pid,
      'proc.vpid': p.pid,
      'proc.tty': p.tty,
      'proc.cwd': '/srv/',
      'user.name': p.user,
      'user.uid': p.uid,
      'user.loginuid': -1,
      'container.id': p.container,
      'container.image.repository': p.image,
      'container.privileged': false,
      'evt.dir': '<',
    };
    const r = rnd();
    const suspicious = rnd() < opts.suspiciousRate;
    if (r < 0.4) {
      const write = !suspicious && rnd() < 0.25;
      const file = suspicious ? '/etc/shadow' : write ? pick(FILES) : pick([...FILES, ...READ_ONLY]);
      Object.assign(e, {
        'evt.type': rnd() < 0.8 ? 'openat' : 'open',
        'evt.rawres': 3,
        'evt.res': 'SUCCESS',
        'fd.num': 3,
        'fd.typechar': 'f',
        'fd.type': 'file',
        'fd.name': file,
        'fd.directory': file.slice(0, file.lastIndexOf('/')) || '/',
        'fd.filename': file.slice(file.lastIndexOf('/') + 1),
        'evt.arg.flags': write ? 'O_WRONLY|O_CREAT|O_APPEND' : 'O_RDONLY|O_CLOEXEC',
        'evt.is_open_read': !write,
        'evt.is_open_write': write,
        'evt.is_open_exec': false,
      });
      if (suspicious) Object.assign(e, { 'proc.name': 'cat', 'proc.cmdline': 'cat /etc/shadow', 'proc.exepath': '/usr/bin/cat' });
    } else if (r < 0.6) {
      const [name, exepath, args] = suspicious ? ['bash', '/usr/bin/bash', '-i'] : pick(PROGRAMS);
      Object.assign(e, {
        'evt.type': 'execve',
        'evt.rawres': 0,
        'evt.res': 'SUCCESS',
        'proc.name': name,
        'proc.exepath': exepath,
        'proc.exe': exepath,
        'proc.args': args,
        'proc.cmdline': args ? `${name} ${args}` : name,
        // Benign programs are started by a build tool, not by a web server or a database.
        'proc.pname': 'make',
        'proc.pcmdline': 'make -j2 test',
        'proc.tty': suspicious ? 34816 : 0,
        'proc.is_exe_upper_layer': false,
        'proc.is_exe_from_memfd': false,
      });
    } else if (r < 0.75) {
      const connect = rnd() < 0.7;
      const [name, exepath, args] = pick(PROGRAMS.filter((x) => ['node', 'java', 'python3', 'curl', 'nginx'].includes(x[0])));
      Object.assign(e, {
        'proc.name': name,
        'proc.exepath': exepath,
        'proc.cmdline': `${name} ${args}`,
        'evt.type': connect ? 'connect' : 'accept4',
        'evt.rawres': connect ? 0 : 5,
        'evt.res': 'SUCCESS',
        'fd.num': connect ? 4 : 5,
        'fd.typechar': '4',
        'fd.type': 'ipv4',
        'fd.l4proto': 'tcp',
        'fd.sockfamily': 'ip',
        'fd.name': '10.0.0.5:51234->10.0.0.9:443',
        'fd.sip': '10.0.0.9',
        'fd.cip': '10.0.0.5',
        'fd.rip': connect ? '10.0.0.9' : '10.0.0.5',
        'fd.lip': connect ? '10.0.0.5' : '10.0.0.9',
        'fd.sport': 443,
        'fd.cport': 51234,
        'fd.rport': connect ? 443 : 51234,
        'fd.lport': connect ? 51234 : 443,
        'fd.connected': true,
      });
    } else if (r < 0.85) {
      Object.assign(e, { 'evt.type': rnd() < 0.8 ? 'clone' : 'fork', 'evt.rawres': 0, 'evt.res': 'SUCCESS', 'evt.arg.flags': 'CLONE_VM|CLONE_FS|CLONE_FILES' });
    } else {
      const t = pick(OTHER_TYPES);
      Object.assign(e, {
        'evt.type': t,
        'evt.rawres': 0,
        'evt.res': 'SUCCESS',
        'evt.arg.path': '/tmp/upload-1234.part',
        'evt.arg.name': '/tmp/upload-1234.part',
        'evt.arg.oldpath': '/tmp/a',
        'evt.arg.newpath': '/tmp/b',
        'evt.arg.mode': '0644',
        'evt.arg.uid': 1001,
        'evt.arg.request': 'PTRACE_PEEKDATA',
        'evt.arg.domain': 'AF_INET',
        'fd.num': 6,
        'fd.typechar': 'f',
        'fd.name': '/tmp/upload-1234.part',
        'fd.directory': '/tmp',
      });
    }
    events.push(e);
  }
  return events;
}
