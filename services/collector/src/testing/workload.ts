// Test support: the commands the live acceptance tests run (issue list: sensitive read, shell,
// symlink, setuid bit, TCP connect, unshare, /dev/shm and memfd executions), as one bash script for
// the host and one busybox sh script for the test containers.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function acceptanceScript(dir: string, port: number, shm: string): string {
  return [
    `echo $$ > ${dir}/pid`,
    'cat /etc/shadow > /dev/null',
    "sh -c 'echo hi > /dev/null'",
    `ln -s /etc/shadow ${dir}/shadow-link`,
    `touch ${dir}/suid && chmod 4755 ${dir}/suid`,
    `exec 3<>/dev/tcp/127.0.0.1/${port}; exec 3>&-`,
    'unshare -n true',
    `cp /bin/true ${shm} && ${shm}`,
    `python3 -c "import os; fd=os.memfd_create('harrier', 0); os.write(fd, open('/bin/true','rb').read()); os.execv('/proc/self/fd/%d' % fd, ['memfd-true'])"`,
  ].join('\n');
}

/**
 * The same commands for a busybox container run with `--network host` (the listener is the host's),
 * a /dev/shm that allows execution, and `dir` mounted at /harrier holding memfd-exec (buildMemfdExec).
 * Files are written under /dev/shm, writable by any user. Without CAP_SYS_ADMIN, `unshare -n` fails
 * with EPERM: the attempt is still an event.
 */
export function containerAcceptanceScript(port: number): string {
  return [
    'cat /etc/shadow > /dev/null',
    "sh -c 'echo hi > /dev/null'",
    'ln -s /etc/shadow /dev/shm/shadow-link',
    'touch /dev/shm/suid && chmod 4755 /dev/shm/suid',
    `nc -w 2 127.0.0.1 ${port} < /dev/null`,
    'unshare -n true',
    'cp /bin/busybox /dev/shm/true && /dev/shm/true',
    '/harrier/memfd-exec /bin/busybox true',
    // The container's metadata arrives asynchronously: later events carry it.
    'sleep 2',
    'cat /etc/hostname > /dev/null',
  ].join('\n');
}

/** Builds memfd-exec.c, statically linked so it runs in the busybox containers, into dir. */
export function buildMemfdExec(dir: string): string {
  const out = join(dir, 'memfd-exec');
  execFileSync('cc', ['-static', '-O2', '-o', out, fileURLToPath(new URL('./memfd-exec.c', import.meta.url))], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}
