// The Electron IPC contract (src-main/ipc-contract.ts): main validates every payload with these.
import { describe, expect, it } from 'vitest';
import { checkChooseFile, checkDomainName, checkSaveText, isEngineProcessState, isMenuCommand } from '../../../src-main/ipc-contract';

describe('IPC payload validation', () => {
  it('accepts well-formed dialog requests and copies only known fields', () => {
    const r = checkChooseFile({ title: 'Kernel', mode: 'open', filters: [{ name: 'ELF', extensions: ['elf', '*'] }], extra: 'dropped' });
    expect(r).toEqual({ title: 'Kernel', mode: 'open', filters: [{ name: 'ELF', extensions: ['elf', '*'] }], defaultPath: undefined });
  });
  it('refuses malformed ones with a reason', () => {
    expect(() => checkChooseFile(null)).toThrow('needs an object');
    expect(() => checkChooseFile({ title: 'x', mode: 'delete', filters: [] })).toThrow('mode');
    expect(() => checkChooseFile({ title: 'x', mode: 'open', filters: [{ name: 'n', extensions: ['../x'] }] })).toThrow('extensions');
    expect(() => checkSaveText({ defaultName: '../../.bashrc', text: 'x' })).toThrow('without folders');
    expect(() => checkSaveText({ defaultName: 'log.txt', text: 42 })).toThrow('text');
    expect(checkSaveText({ defaultName: 'log.txt', text: 'hi' })).toEqual({ defaultName: 'log.txt', text: 'hi' });
    expect(() => checkDomainName('a/b')).toThrow('no slashes');
    expect(() => checkDomainName('')).toThrow();
    expect(checkDomainName('demo-1')).toBe('demo-1');
  });
  it('checks what main pushes to the renderer', () => {
    expect(isMenuCommand('new-vm')).toBe(true);
    expect(isMenuCommand('rm -rf')).toBe(false);
    expect(isEngineProcessState({ state: 'exited', message: 'code 1', code: 1, generation: 2 })).toBe(true);
    expect(isEngineProcessState({ state: 'weird', message: '', generation: 1 })).toBe(false);
  });
});
