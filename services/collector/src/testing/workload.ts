// Test support: the commands the live acceptance tests run (issue list: sensitive read, shell,
// symlink, setuid bit, TCP connect, unshare, /dev/shm and memfd executions), as one bash script.

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
