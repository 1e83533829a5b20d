import { describe, expect, it } from 'vitest';
import { createGatewayReadiness, type GatewayView } from '../../src/discord/gateway-readiness.ts';

/** The decision itself, for the states the emulator tests do not reach (a shard process gone, one shard of two down). */
describe('gateway readiness', () => {
  const watching = (view: GatewayView) => {
    const readiness = createGatewayReadiness();
    readiness.expect();
    readiness.watch(() => view);
    return readiness.check();
  };

  it('leaves Discord out until a connection is expected', () => {
    expect(createGatewayReadiness().check()).toBeUndefined();
  });

  it('is starting while nothing is watched or no shard was ever READY', () => {
    const readiness = createGatewayReadiness();
    readiness.expect();
    expect(readiness.check()).toEqual({ ready: false, state: 'starting', reason: "discord: waiting for the gateway's READY (not connected yet)" });
    expect(watching({ everReady: false, shards: [{ id: 0, ready: false, state: 'identifying' }] })).toEqual({
      ready: false,
      state: 'starting',
      reason: "discord: waiting for the gateway's READY (shard 0: identifying)",
    });
  });

  it('is ready while at least one shard is', () => {
    expect(watching({ everReady: true, shards: [{ id: 0, ready: false, state: 'process exited' }, { id: 1, ready: true, state: 'ready' }] })).toEqual({ ready: true });
  });

  it('names every shard when all are down', () => {
    expect(watching({ everReady: true, shards: [{ id: 0, ready: false, state: 'process exited' }, { id: 1, ready: false, state: 'reconnecting' }] })).toEqual({
      ready: false,
      state: 'disconnected',
      reason: 'discord: every gateway shard is disconnected (shard 0: process exited, shard 1: reconnecting)',
    });
  });
});
