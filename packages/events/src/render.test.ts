import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeParam,
  formatG,
  formatIpv6,
  renderArgs,
  renderParam,
  renderParamResolved,
} from './render.js';
import type { ParamDesc, RenderContext } from './render.js';

// Expected strings come from `sysdig -r <corpus capture> -p '%evt.args'` (sysdig 0.29.3) unless a
// comment says otherwise; the bytes are built here in .scap's little-endian layout.

const u8 = (...v: number[]) => Uint8Array.from(v);
function le(bits: 16 | 32 | 64, v: number | bigint): Uint8Array {
  const b = new Uint8Array(bits / 8);
  const dv = new DataView(b.buffer);
  if (bits === 16) dv.setUint16(0, Number(v) & 0xffff, true);
  else if (bits === 32) dv.setUint32(0, Number(BigInt.asUintN(32, BigInt(v))), true);
  else dv.setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
  return b;
}
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const str = (s: string) => new TextEncoder().encode(s);
const d = (type: ParamDesc['type'], format: ParamDesc['format'] = 'dec', info?: string): ParamDesc =>
  info === undefined ? { type, format } : { type, format, info };

test('flags32: value(names) in evt.args, names alone in evt.arg', () => {
  const flags = d('flags32', 'hex', 'file_flags');
  assert.equal(renderParam(flags, le(32, 4097)), '4097(O_RDONLY|O_CLOEXEC)');
  assert.equal(renderParamResolved(flags, le(32, 4097)), 'O_RDONLY|O_CLOEXEC');
  assert.equal(renderParam(flags, le(32, 262)), '262(O_TRUNC|O_CREAT|O_WRONLY)');
  assert.equal(renderParam(d('flags32', 'hex', 'prot_flags'), le(32, 0)), '0(PROT_NONE)');
  assert.equal(renderParam(d('flags32', 'hex', 'mmap_flags'), le(32, 10)), '10(MAP_PRIVATE|MAP_ANONYMOUS)');
  assert.equal(renderParam(d('flags32', 'hex', 'access_flags'), le(32, 0)), '0(F_OK)');
  assert.equal(renderParam(d('flags32', 'hex', 'access_flags'), le(32, 4)), '4(R_OK)');
  assert.equal(
    renderParam(d('flags32', 'hex', 'clone_flags'), le(32, 25165824)),
    '25165824(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID)',
  );
  // No name matches: the number alone, in both forms; flags always print in decimal.
  assert.equal(renderParam(d('flags32', 'hex', 'mmap_flags'), le(32, 0)), '0');
  assert.equal(renderParamResolved(d('flags32', 'hex'), le(32, 0x10)), '16');
  assert.equal(decodeParam(flags, le(32, 4097)), 4097);
});

test('flags8/flags16 read their own width', () => {
  assert.equal(renderParam(d('flags16', 'hex', 'futex_operations'), le(16, 129)), '129(FUTEX_PRIVATE_FLAG|FUTEX_WAKE)');
  assert.equal(renderParam(d('flags16', 'hex', 'futex_operations'), le(16, 0)), '0(FUTEX_WAIT)');
  assert.equal(renderParam(d('flags8', 'hex', 'semop_flags'), u8(3)), '3(IPC_NOWAIT|SEM_UNDO)');
  assert.equal(decodeParam(d('flags16'), le(16, 0xffff)), 0xffff);
});

test('enumflags: exact names', () => {
  assert.equal(renderParam(d('enumflags16', 'dec', 'ptrace_requests'), le(16, 16)), '16(PTRACE_GETSIGINFO)');
  assert.equal(renderParam(d('enumflags16', 'dec', 'ptrace_requests'), le(16, 11)), '11(PTRACE_ATTACH)');
  assert.equal(renderParamResolved(d('enumflags16', 'dec', 'ptrace_requests'), le(16, 11)), 'PTRACE_ATTACH');
  assert.equal(renderParam(d('enumflags8', 'dec', 'fcntl_commands'), u8(2)), '2(F_GETFD)');
  assert.equal(renderParam(d('enumflags8', 'dec', 'fcntl_commands'), u8(5)), '5(F_SETFL)');
  assert.equal(renderParam(d('enumflags8', 'dec', 'rlimit_resources'), u8(3)), '3(RLIMIT_STACK)');
  assert.equal(renderParam(d('enumflags32', 'dec', 'socket_families'), le(32, 2)), '2(AF_INET)');
  assert.equal(renderParam(d('enumflags32', 'dec', 'socket_families'), le(32, 10)), '10(AF_INET6)');
  assert.equal(renderParam(d('enumflags32', 'dec', 'socket_families'), le(32, 1)), '1(AF_LOCAL)');
  assert.equal(renderParam(d('enumflags8', 'hex', 'shutdown_how'), u8(1)), '1(SHUT_WR)');
});

test('mode: printf format plus mode bit names', () => {
  // open's mode is a plain uint32 in octal: `mode=0666`, `mode=0`.
  assert.equal(renderParam(d('uint32', 'oct'), le(32, 0o666)), '0666');
  assert.equal(renderParam(d('uint32', 'oct'), le(32, 0)), '0');
  assert.equal(renderParam(d('uint32', 'oct'), le(32, 1)), '01');
  // PT_MODE (chmod & co., from the libs sources): octal value, then the chmod_mode names.
  assert.equal(
    renderParam(d('mode', 'oct', 'chmod_mode'), le(32, 0o755)),
    '0755(S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR)',
  );
  assert.equal(renderParam(d('mode', 'oct', 'mknod_mode'), le(32, 0o100644)), '0100644(S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR|S_IFREG)');
  assert.equal(renderParam(d('mode', 'oct', 'chmod_mode'), le(32, 0)), '0');
});

test('errno: negative resolves to the name, success is the plain number', () => {
  const res = d('errno');
  assert.equal(renderParam(res, le(64, -2)), '-2(ENOENT)');
  assert.equal(renderParamResolved(res, le(64, -2)), 'ENOENT');
  assert.equal(renderParam(res, le(64, -115)), '-115(EINPROGRESS)');
  assert.equal(renderParam(res, le(64, 0)), '0');
  assert.equal(renderParam(res, le(64, 832)), '832');
  assert.equal(renderParam(res, le(64, -9999)), '-9999');
  assert.equal(decodeParam(res, le(64, -2)), -2);
  // mmap's res is errno in hex: `res=7FAD48782000` (rawarg 140382221901824).
  assert.equal(renderParam(d('errno', 'hex'), le(64, 140382221901824n)), '7FAD48782000');
  assert.equal(renderParam(d('errno', 'hex'), le(64, -12)), 'FFFFFFFFFFFFFFF4(ENOMEM)');
});

test('integers follow the print format', () => {
  assert.equal(renderParam(d('uint64', 'hex'), le(64, 0x926000)), '926000'); // brk res
  assert.equal(renderParam(d('uint64', 'hex'), le(64, 0x7fa6955af740n)), '7FA6955AF740'); // futex addr
  assert.equal(renderParam(d('uint64', 'hex'), le(64, 0x5401)), '5401'); // ioctl request
  assert.equal(renderParam(d('uint32', 'hex'), le(32, 0x2d)), '2D'); // open dev
  assert.equal(renderParam(d('uint64'), le(64, 2147483647)), '2147483647'); // futex val
  assert.equal(renderParam(d('int64'), le(64, -1)), '-1'); // getrlimit max
  assert.equal(renderParam(d('int64'), le(64, 8388608)), '8388608');
  assert.equal(renderParam(d('uint8'), u8(0)), '0'); // accept queuepct
  assert.equal(renderParam(d('int8'), u8(0xff)), '-1');
  assert.equal(renderParam(d('int16'), le(16, 0xfffe)), '-2');
  assert.equal(renderParam(d('int32', 'hex'), le(32, -1)), 'FFFFFFFF');
  assert.equal(renderParam(d('uint16'), le(16, 65535)), '65535');
  // libsinsp prints uint32/uint64 through PRId32/PRId64: the high bit shows as a sign.
  assert.equal(renderParam(d('uint32'), le(32, 0xffffffff)), '-1');
  assert.equal(renderParam(d('uint64'), le(64, 0xffffffffffffffffn)), '-1');
  assert.equal(renderParam(d('uint64', '10_padded_dec'), le(64, 42)), '000000042');
  assert.equal(renderParam(d('int64', 'oct'), le(64, 8)), '010');
  assert.equal(decodeParam(d('uint64'), le(64, 0xffffffffffffffffn)), 0xffffffffffffffffn);
  assert.equal(decodeParam(d('int64'), le(64, -5)), -5);
  assert.equal(decodeParam(d('uint32'), le(32, 0xffffffff)), 0xffffffff);
  assert.equal(renderParam(d('uint32'), 7), '7');
});

test('fd: number, state-supplied name, AT_FDCWD, errno', () => {
  const fd = d('fd');
  const ctx: RenderContext = { fdName: (n) => (n === 3 ? '<f>/etc/ld.so.cache' : n === 4 ? '<p>' : undefined) };
  assert.equal(renderParam(fd, le(64, 3), ctx), '3(<f>/etc/ld.so.cache)');
  assert.equal(renderParamResolved(fd, le(64, 3), ctx), '<f>/etc/ld.so.cache');
  assert.equal(renderParam(fd, le(64, 4), ctx), '4(<p>)');
  assert.equal(renderParam(fd, le(64, 1), ctx), '1');
  assert.equal(renderParam(fd, le(64, 1)), '1');
  assert.equal(renderParam(fd, le(64, 4294967295)), '4294967295'); // an old driver's mmap fd
  assert.equal(renderParam(fd, le(64, -100)), '-100(AT_FDCWD)');
  assert.equal(renderParam(fd, le(64, -2)), '-2(ENOENT)');
});

test('pid, uid, gid take names from the context', () => {
  assert.equal(renderParam(d('pid'), le(64, 20072), { comm: () => 'cat' }), '20072(cat)');
  assert.equal(renderParam(d('pid'), le(64, 0)), '0');
  assert.equal(renderParam(d('uid'), le(32, 0), { userName: (u) => (u === 0 ? 'root' : undefined) }), '0(root)');
  assert.equal(renderParamResolved(d('uid'), le(32, 0), { userName: () => 'root' }), 'root');
  assert.equal(renderParam(d('gid'), le(32, 0), { groupName: () => 'root' }), '0(root)');
  // From the libs sources: an unknown user is <NA>, uid -1 is <NONE>.
  assert.equal(renderParam(d('uid'), le(32, 1000)), '1000(<NA>)');
  assert.equal(renderParam(d('gid'), le(32, 0xffffffff)), '-1(<NONE>)');
});

test('sigtype, sigset, syscallid', () => {
  assert.equal(renderParam(d('sigtype'), u8(29)), '29(SIGIO)');
  assert.equal(renderParam(d('sigtype'), u8(17)), '17(SIGCHLD)');
  assert.equal(renderParam(d('sigtype'), u8(0)), '0');
  assert.equal(renderParamResolved(d('sigtype'), u8(14)), 'SIGALRM');
  // sigset bit n is signal n+1, names separated by spaces.
  assert.equal(renderParam(d('sigset'), le(32, (1 << 1) | (1 << 8) | (1 << 16))), 'SIGINT SIGKILL SIGCHLD');
  assert.equal(renderParam(d('sigset'), le(32, 0)), '');
  assert.equal(renderParam(d('syscallid'), le(16, 5), { syscallName: () => 'fstat' }), '5(fstat)');
  assert.equal(renderParam(d('syscallid'), le(16, 5)), '5');
});

test('reltime and abstime', () => {
  assert.equal(renderParam(d('reltime'), le(64, 1000000000)), '1000000000(1s)');
  assert.equal(renderParam(d('reltime'), le(64, 0)), '0(0s)');
  assert.equal(renderParam(d('reltime'), le(64, 1500000000)), '1500000000(1.5s)');
  assert.equal(renderParam(d('reltime'), le(64, 123456789)), '123456789(0.123457s)');
  assert.equal(renderParam(d('reltime'), le(64, 1)), '1(1e-09s)');
  assert.equal(renderParam(d('reltime'), le(64, 0xffffffffffffffffn)), 'none');
  // From the libs sources: 8 of the 9 nanosecond digits survive and the zone is cut off.
  assert.equal(
    renderParam(d('abstime'), le(64, 1700000000123456789n), { timeZone: 'utc' }),
    '2023-11-14 22:13:20.12345678',
  );
  assert.equal(formatG(100000), '100000');
  assert.equal(formatG(1234567), '1.23457e+06');
});

test('charbuf and fspath', () => {
  assert.equal(decodeParam(d('charbuf'), str('cat\0garbage')), 'cat');
  assert.equal(renderParam(d('charbuf'), str('cat\0')), 'cat');
  assert.equal(renderParam(d('fspath'), str('/etc/ld.so.cache\0')), '/etc/ld.so.cache');
  assert.equal(renderParam(d('fspath'), str('a\x01b\0')), 'ab');
  const ctx: RenderContext = { resolvePath: (p) => `/home/u/${p}` };
  assert.equal(renderParam(d('fsrelpath', 'na'), str('x.txt\0'), ctx), 'x.txt(/home/u/x.txt)');
  assert.equal(renderParam(d('fspath'), str('/abs\0'), ctx), '/abs');
  assert.equal(renderParam(d('fspath'), str('<NA>\0'), ctx), '<NA>');
});

test('bytebuf: printable kept, the rest dots; optional truncation', () => {
  const elf = cat(u8(0x7f), str('ELF'), u8(2, 1, 1, 0));
  assert.equal(renderParam(d('bytebuf', 'na'), elf), '.ELF....');
  // execve args: NUL-separated, the trailing NUL included.
  assert.equal(renderParam(d('bytebuf', 'na'), str('/dev/null\0')), '/dev/null.');
  assert.equal(renderParam(d('bytebuf', 'na'), str('-6\0http://www.google.com\0')), '-6.http://www.google.com.');
  assert.equal(renderParam(d('bytebuf', 'na'), str('abcdefghij'), { maxBufLen: 8 }), 'abcde...');
  assert.deepEqual(decodeParam(d('bytebuf', 'na'), elf), elf);
});

test('empty params render NULL', () => {
  assert.equal(renderParam(d('socktuple', 'na'), new Uint8Array(0)), 'NULL');
  assert.equal(decodeParam(d('socktuple', 'na'), new Uint8Array(0)), null);
  assert.equal(renderParam(d('errno'), null), 'NULL');
});

const v4 = (a: number, b: number, c: number, e: number) => u8(a, b, c, e);
const v6 = (s: string) => {
  // only the forms used below: full groups with an optional single '::'
  const [head = '', tail] = s.split('::');
  const hw = head ? head.split(':') : [];
  const tw = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = [...hw, ...Array<string>(8 - hw.length - tw.length).fill('0'), ...tw];
  return Uint8Array.from(words.flatMap((w) => [parseInt(w, 16) >> 8, parseInt(w, 16) & 0xff]));
};

test('socktuple: IPv4, IPv6, IPv4-mapped, unix', () => {
  const t = d('socktuple', 'na');
  const ipv4 = cat(u8(2), v4(127, 0, 0, 1), le(16, 47192), v4(127, 0, 0, 1), le(16, 80));
  assert.equal(renderParam(t, ipv4), '127.0.0.1:47192->127.0.0.1:80');
  assert.deepEqual(decodeParam(t, ipv4), { family: 'ipv4', src: '127.0.0.1', sport: 47192, dst: '127.0.0.1', dport: 80 });
  assert.equal(renderParam(t, cat(u8(2), v4(0, 0, 0, 0), le(16, 1), v4(128, 32, 41, 1), le(16, 0))), '0.0.0.0:1->128.32.41.1:0');
  const ipv6 = cat(u8(10), v6('2001:4860:4860::8888'), le(16, 53), v6('2600:1f18:262c:6542:9aa6:df7a:9a47:d29e'), le(16, 40251));
  assert.equal(renderParam(t, ipv6), '2001:4860:4860::8888:53->2600:1f18:262c:6542:9aa6:df7a:9a47:d29e:40251');
  assert.equal(renderParam(t, cat(u8(10), v6('::'), le(16, 0), v6('::1'), le(16, 2345))), ':::0->::1:2345');
  assert.equal(renderParam(t, cat(u8(10), v6('::1'), le(16, 38255), v6('::1'), le(16, 2345))), '::1:38255->::1:2345');
  // Both ends IPv4-mapped: printed as an IPv4 tuple (libs sources).
  const mapped = cat(u8(10), v6('::ffff:0a00:0001'), le(16, 1000), v6('::ffff:0a00:0002'), le(16, 80));
  assert.equal(renderParam(t, mapped), '10.0.0.1:1000->10.0.0.2:80');
  const unix = cat(u8(1), le(64, 0), le(64, 0xffff88003c420800n), str('/var/run/nscd/socket\0'));
  assert.equal(renderParam(t, unix), '0->ffff88003c420800 /var/run/nscd/socket');
  assert.equal(renderParam(t, cat(u8(2), u8(1, 2, 3))), 'INVALID IPv4');
  assert.equal(renderParam(t, u8(16, 0, 0)), 'family 16');
});

test('sockaddr: IPv4, IPv6 (no brackets), unix', () => {
  const a = d('sockaddr', 'na');
  assert.equal(renderParam(a, cat(u8(10), v6('2001:db8::3'), le(16, 1234))), '2001:db8::3:1234');
  assert.equal(renderParam(a, cat(u8(2), v4(10, 1, 2, 3), le(16, 8080))), '10.1.2.3:8080');
  assert.equal(renderParam(a, cat(u8(1), str('/run/x.sock\0'))), '/run/x.sock');
  assert.deepEqual(decodeParam(a, cat(u8(1), str('/run/x.sock\0'))), { family: 'unix', path: '/run/x.sock' });
  assert.equal(renderParam(a, u8(17, 0)), 'family 17');
});

test('formatIpv6 matches inet_ntop', () => {
  assert.equal(formatIpv6(v6('::')), '::');
  assert.equal(formatIpv6(v6('::1')), '::1');
  assert.equal(formatIpv6(v6('2607:f8b0:4004:802::2004')), '2607:f8b0:4004:802::2004');
  assert.equal(formatIpv6(v6('::ffff:7f00:1')), '::ffff:127.0.0.1');
  assert.equal(formatIpv6(v6('1:0:0:2:0:0:0:3')), '1:0:0:2::3');
  assert.equal(formatIpv6(v6('1:0:2:3:4:5:6:7')), '1:0:2:3:4:5:6:7');
  assert.equal(formatIpv6(v6('1::')), '1::');
});

test('fdlist: fd:<typechar><hex events>', () => {
  const list = cat(le(16, 2), le(64, 4), le(16, 1), le(64, 7), le(16, 0));
  const types: RenderContext = { fdTypeChar: (fd) => (fd === 4 ? 'e' : fd === 7 ? 'i' : undefined) };
  assert.equal(renderParam(d('fdlist'), list, types), '4:e1 7:i0');
  assert.equal(renderParam(d('fdlist'), cat(le(16, 1), le(64, 4), le(16, 4)), { fdTypeChar: () => '6' }), '4:64');
  assert.equal(renderParam(d('fdlist'), cat(le(16, 1), le(64, 4), le(16, 0x183)), { fdTypeChar: () => '6' }), '4:6183');
  // Unknown fd type: libsinsp's '?'.
  assert.equal(renderParam(d('fdlist'), cat(le(16, 1), le(64, 5), le(16, 1))), '5:?1');
  assert.equal(renderParam(d('fdlist'), le(16, 0)), '');
  assert.deepEqual(decodeParam(d('fdlist'), list), [{ fd: 4, events: 1 }, { fd: 7, events: 0 }]);
});

test('charbufarray and charbuf_pair_array', () => {
  assert.deepEqual(decodeParam(d('charbufarray', 'na'), str('a\0b\0c\0')), ['a', 'b', 'c']);
  assert.equal(renderParam(d('charbufarray', 'na'), str('a\0b\0c\0')), 'a.b.c');
  assert.equal(renderParam(d('charbuf_pair_array', 'na'), str('k1\0v1\0k2\0v2\0')), 'k1:v1,k2:v2');
});

test('dyn: first byte selects the alternative, outer format applies', () => {
  // setsockopt val: sockopt_dynamic_param (index 2 = uint32, 1 = errno, 4 = timeval as reltime).
  const val: ParamDesc = { type: 'dyn', format: 'dec', info: 'sockopt_dynamic_param' };
  assert.equal(renderParam(val, cat(u8(2), le(32, 1))), '1');
  assert.equal(renderParam(val, cat(u8(1), le(64, -22))), '-22(EINVAL)');
  assert.equal(renderParam(val, cat(u8(4), le(64, 2000000000))), '2000000000(2s)');
  assert.equal(renderParam(val, cat(u8(0), str('xy'))), 'xy');
  assert.equal(renderParam(val, cat(u8(9), le(32, 1))), 'INVALID DYNAMIC PARAMETER');
  assert.deepEqual(decodeParam(val, cat(u8(2), le(32, 7))), { index: 2, desc: { type: 'uint32', format: 'dec' }, value: 7 });
  // ptrace addr is hex: its uint64 alternative prints in hex.
  const addr: ParamDesc = { type: 'dyn', format: 'hex', info: 'ptrace_dynamic_param' };
  assert.equal(renderParam(addr, cat(u8(0), le(64, 0x7ffd081c5e10n))), '7FFD081C5E10');
  assert.equal(renderParam(addr, cat(u8(1), u8(9))), '9(SIGKILL)');
  // Alternatives can be passed in directly.
  const alts = [{ type: 'pid', format: 'dec' }] as const;
  assert.equal(renderParam({ type: 'dyn', format: 'dec' }, cat(u8(0), le(64, 12)), {}, alts), '12');
});

test('filter-field types (no libsinsp event param uses them)', () => {
  assert.equal(renderParam(d('port'), le(16, 8080)), '8080');
  assert.equal(renderParam(d('l4proto'), u8(2)), 'tcp');
  assert.equal(renderParam(d('sockfamily'), u8(10)), 'AF_INET6');
  assert.equal(renderParam(d('bool'), le(32, 1)), 'true');
  assert.equal(renderParam(d('bool'), le(32, 0)), 'false');
  assert.equal(renderParam(d('ipv4addr'), v4(192, 168, 0, 1)), '192.168.0.1');
  assert.equal(renderParam(d('ipv6addr'), v6('2001:db8::1')), '2001:db8::1');
  assert.equal(renderParam(d('ipaddr'), v4(10, 0, 0, 1)), '10.0.0.1');
  assert.equal(renderParam(d('ipv4net'), cat(v4(10, 0, 0, 0), v4(255, 255, 0, 0))), '10.0.0.0/16');
  assert.equal(renderParam(d('ipnet'), cat(v6('2001:db8::'), v6('ffff:ffff:ffff::'))), '2001:db8::/48');
  const dbl = new Uint8Array(8);
  new DataView(dbl.buffer).setFloat64(0, 1.5, true);
  assert.equal(decodeParam(d('double'), dbl), 1.5);
  assert.equal(renderParam(d('double'), dbl), '1.5');
});

test('renderArgs joins name=value with libsinsp trailing spaces', () => {
  const ctx: RenderContext = { fdName: () => '<f>/etc/ld.so.cache' };
  const out = renderArgs(
    [
      { name: 'fd', desc: d('fd'), bytes: le(64, 3) },
      { name: 'name', desc: d('fspath', 'na'), bytes: str('/etc/ld.so.cache\0') },
      { name: 'flags', desc: d('flags32', 'hex', 'file_flags'), bytes: le(32, 4097) },
      { name: 'mode', desc: d('uint32', 'oct'), bytes: le(32, 0) },
    ],
    ctx,
  );
  assert.equal(out, 'fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) mode=0 ');
});

test('short fixed-size payloads are rejected', () => {
  assert.throws(() => decodeParam(d('int64'), u8(1, 2)), RangeError);
  assert.throws(() => decodeParam(d('fdlist'), cat(le(16, 2), le(64, 1))), RangeError);
});
