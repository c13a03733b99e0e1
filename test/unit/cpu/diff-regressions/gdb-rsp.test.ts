/**
 * The GDB remote-protocol client of the differential harness (test/diff/gdb-rsp.ts), against a
 * scripted stub on a loopback socket: framing, checksums, acknowledgements, retransmission,
 * escapes and run-length encoding, pipelining, error replies and timeouts.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePacketBody, framePacket, GdbRspClient, GdbRspError, parseStopReply, rspChecksum } from '../../../diff/gdb-rsp';

/** A tiny stub: answers each packet with reply(packet) (undefined = stay silent). */
async function fakeStub(reply: (packet: string, raw: (s: string) => void) => string | undefined): Promise<{ port: number; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        while (buf[0] === '+' || buf[0] === '-') buf = buf.slice(1);
        const end = buf.indexOf('#');
        if (buf[0] !== '$' || end < 0 || buf.length < end + 3) return;
        const body = buf.slice(1, end);
        buf = buf.slice(end + 3);
        seen.push(body);
        sock.write('+');
        const r = reply(body, (s) => sock.write(s, 'latin1'));
        if (r !== undefined) sock.write(framePacket(r), 'latin1');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { port, seen, close: () => { sockets.forEach((s) => s.destroy()); server.close(); } };
}

const supported = (p: string): string | undefined => (p.startsWith('qSupported') ? 'PacketSize=1000;qXfer:features:read+' : undefined);

describe('RSP packet encoding', () => {
  it('checksums and frames like the GDB manual example', () => {
    expect(rspChecksum('OK')).toBe('9a');
    expect(framePacket('g')).toBe('$g#67');
    expect(framePacket('a#b$c}d*')).toBe('$a}\x03b}\x04c}]d}\x0a#' + rspChecksum('a}\x03b}\x04c}]d}\x0a'));
  });
  it('undoes escapes and run-length encoding', () => {
    expect(decodePacketBody('0* ')).toBe('0'.repeat(4)); // ' ' = 32 -> 3 more
    expect(decodePacketBody('a}\x03b')).toBe('a#b');
    expect(decodePacketBody('plain')).toBe('plain');
  });
  it('parses stop replies', () => {
    expect(parseStopReply('T05thread:p01.01;swbreak:;')).toMatchObject({ kind: 'T', signal: 5, info: { thread: 'p01.01', swbreak: '' } });
    expect(parseStopReply('W00')).toMatchObject({ kind: 'W', signal: 0 });
    expect(() => parseStopReply('OK')).toThrow(GdbRspError);
  });
});

describe('RSP client', () => {
  let stub: Awaited<ReturnType<typeof fakeStub>> | undefined;
  afterEach(() => stub?.close());

  it('pipelines requests and matches replies in order', async () => {
    stub = await fakeStub((p) => supported(p) ?? (p === 'g' ? '00112233' : p.startsWith('m') ? `${p.slice(1, 3)}ff` : 'OK'));
    const c = await GdbRspClient.connect('127.0.0.1', stub.port);
    expect(c.features['qXfer:features:read']).toBe(true);
    expect(await c.pipeline(['g', 'm10,2', 'm20,2'])).toEqual(['00112233', '10ff', '20ff']);
    expect(Array.from(await c.readRegisters())).toEqual([0x00, 0x11, 0x22, 0x33]);
    c.close();
  });

  it('splits memory writes into packets that fit and reassembles reads', async () => {
    stub = await fakeStub((p) => supported(p) ?? (p.startsWith('m') ? '5a'.repeat(parseInt(p.split(',')[1], 16)) : 'OK'));
    const c = await GdbRspClient.connect('127.0.0.1', stub.port);
    await c.writeMemory(0x1000, new Uint8Array(3000).fill(7));
    const writes = stub.seen.filter((p) => p.startsWith('M'));
    expect(writes.map((p) => p.split(':')[0])).toEqual(['M1000,400', 'M1400,400', 'M1800,3b8']);
    const read = await c.readMemory(0x2000, 2500);
    expect(read.length).toBe(2500);
    expect(read.every((b) => b === 0x5a)).toBe(true);
    c.close();
  });

  it('retransmits after a negative acknowledgement', async () => {
    let nacked = false;
    stub = await fakeStub((p, raw) => {
      if (supported(p)) return supported(p);
      if (!nacked) {
        nacked = true;
        raw('-');
        return undefined;
      }
      return 'OK';
    });
    const c = await GdbRspClient.connect('127.0.0.1', stub.port);
    expect(await c.request('Z0,100,1')).toBe('OK');
    expect(stub.seen.filter((p) => p === 'Z0,100,1')).toHaveLength(2);
    c.close();
  });

  it('turns Exx replies, unsupported packets and silence into errors that name the packet', async () => {
    stub = await fakeStub((p) => supported(p) ?? (p === 'k' ? undefined : p === 'vMustReplyEmpty' ? '' : p === 'slow' ? undefined : 'E14'));
    const c = await GdbRspClient.connect('127.0.0.1', stub.port, { timeoutMs: 200 });
    await expect(c.command('M7000,1:00')).rejects.toThrow(/refused "M7000,1:00" with E14/);
    await expect(c.command('vMustReplyEmpty')).rejects.toThrow(/does not support/);
    await expect(c.request('slow')).rejects.toThrow(/did not answer "slow" within 200 ms/);
    c.close();
    await expect(c.request('g')).rejects.toThrow(/closed/);
  });

  it('refuses a port nobody listens on, with the address in the message', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    await expect(GdbRspClient.connect('127.0.0.1', port)).rejects.toThrow(`127.0.0.1:${port}`);
  });
});
