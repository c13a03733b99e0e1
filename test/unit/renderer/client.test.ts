import { describe, expect, it, vi } from 'vitest';
import { ApiCallError, checkServerMessage, EngineClient } from '../../../src-renderer/api/client';
import { FakeEngine } from './fake-engine';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the renderer engine client', () => {
  it('matches replies to requests by id, out of order', async () => {
    const slow = new Promise((r) => setTimeout(() => r('slow'), 20));
    const fake = new FakeEngine({ 'host.info': () => slow, 'domain.list': () => [{ domid: 1 }] });
    const c = new EngineClient(fake.connector, { autoReconnect: false });
    c.connect();
    await tick();
    const a = c.call('host.info', {});
    const b = c.call('domain.list', {});
    expect(await b).toEqual([{ domid: 1 }]);
    expect(await a).toBe('slow');
    expect(fake.requests.map((r) => r.id)).toEqual([1, 2]);
  });

  it("rejects with the engine's code and message", async () => {
    const fake = new FakeEngine({ 'domain.pause': () => { throw { code: 'domain.not-found', message: "Domain 'x' does not exist." }; } });
    const c = new EngineClient(fake.connector, { autoReconnect: false });
    c.connect();
    await tick();
    const e = await c.call('domain.pause', { domain: 'x' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiCallError);
    expect(e).toMatchObject({ code: 'domain.not-found', message: "Domain 'x' does not exist." });
  });

  it('refuses calls while offline and fails pending ones when the carrier drops', async () => {
    const fake = new FakeEngine({ 'host.info': () => new Promise(() => undefined) });
    const c = new EngineClient(fake.connector, { autoReconnect: false });
    await expect(c.call('host.info', {})).rejects.toMatchObject({ code: 'client.offline' });
    c.connect();
    await tick();
    const p = c.call('host.info', {});
    fake.drop('engine exited');
    await expect(p).rejects.toMatchObject({ code: 'client.lost' });
    expect(c.state).toMatchObject({ kind: 'lost', reason: 'engine exited', retryAt: undefined });
  });

  it('delivers events to listeners and drops malformed messages', async () => {
    const fake = new FakeEngine({});
    const c = new EngineClient(fake.connector, { autoReconnect: false });
    const seen: unknown[] = [];
    const off = c.on('log', (e) => seen.push(e.message));
    c.connect();
    await tick();
    fake.emit('log', { time: 1, level: 'info', source: 's', message: 'one' });
    fake.sink?.message({ event: 'nonsense', data: {} });
    fake.sink?.message({ event: 'log', data: 'not an object' });
    fake.sink?.message(null);
    fake.sink?.message({ id: 'x', result: 1 });
    off();
    fake.emit('log', { time: 2, level: 'info', source: 's', message: 'two' });
    expect(seen).toEqual(['one']);
    expect(checkServerMessage({ id: 3, error: { code: 'c' } })).toBeUndefined();
    expect(checkServerMessage({ id: 3, error: { code: 'c', message: 'm' } })).toEqual({ kind: 'error', id: 3, error: { code: 'c', message: 'm', subject: undefined } });
  });

  it('reconnects with back-off and replays its subscriptions', async () => {
    vi.useFakeTimers();
    try {
      const fake = new FakeEngine({ 'events.subscribe': () => null });
      const c = new EngineClient(fake.connector, { autoReconnect: true });
      const opened = vi.fn();
      c.onOpen(opened);
      c.connect();
      await vi.advanceTimersByTimeAsync(0);
      await c.subscribe(['stats', 'console']);
      fake.drop('network');
      expect(c.state.kind).toBe('lost');
      fake.refuseNext = 'still down';
      await vi.advanceTimersByTimeAsync(500);
      expect(fake.connects).toBe(2);
      expect(c.state.kind).toBe('lost');
      await vi.advanceTimersByTimeAsync(1000);
      expect(fake.connects).toBe(3);
      expect(c.state.kind).toBe('open');
      expect(opened).toHaveBeenCalledTimes(2);
      expect(fake.calls('events.subscribe').at(-1)).toEqual({ events: ['stats', 'console'] });
      c.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
