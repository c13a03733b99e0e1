/**
 * Boot options, disks and CD-ROM, and serial ports of a VM. Changes go into its library file
 * (they apply at the next start; the engine has no live device hot-plug yet).
 */
import { useState } from 'react';
import type { DiskConfig, DomainConfig, SerialConfig } from '../../../src-engine/api/domain-config';
import { chooseHostFile, hasFileDialogs } from '../../api/host';
import { diskSpec, xlString, type DraftDisk } from '../../lib/xlcfg';
import type { VmRow } from '../../lib/vm-rows';
import { Button } from '../ui/button';
import { CheckField, SelectField, TextField } from '../ui/field';
import { useConfigEdit } from './config-edit';

/** The xl.cfg spec of an existing disk (as written when it still means the same). */
function specOf(d: DiskConfig): string {
  return d.spec ?? diskSpec({ target: d.target ?? '', vdev: d.vdev, format: d.format === 'qcow2' ? 'qcow2' : 'raw', readOnly: d.readOnly, cdrom: d.cdrom });
}

/** A "Browse…" button when the app offers dialogs. */
function Browse({ onPick, title, ext }: { onPick: (p: string) => void; title: string; ext: string[] }) {
  if (!hasFileDialogs()) return null;
  return <Button onClick={async () => { const p = await chooseHostFile({ title, mode: 'open', filters: [{ name: title, extensions: ext }] }); if (p) onPick(p); }}>Browse…</Button>;
}

/** Boot options. */
export function BootTab({ row, config }: { row: VmRow; config: DomainConfig | undefined }) {
  const save = useConfigEdit(row);
  const [f, setF] = useState<{ kernel: string; ramdisk: string; cmdline: string; boot: string; direct: boolean } | undefined>();
  if (!config) return <p className="p-4 text-sm text-slate-500">No configuration to show.</p>;
  const v = f ?? { kernel: config.kernel ?? '', ramdisk: config.ramdisk ?? '', cmdline: config.cmdline ?? '', boot: config.boot, direct: config.kernel !== undefined };
  const set = (p: Partial<typeof v>) => setF({ ...v, ...p });
  const editable = row.library !== undefined;
  return (
    <form
      className="max-w-2xl space-y-3 p-4"
      onSubmit={(e) => {
        e.preventDefault();
        void save(
          v.direct
            ? { kernel: xlString(v.kernel), ramdisk: v.ramdisk ? xlString(v.ramdisk) : undefined, cmdline: v.cmdline ? xlString(v.cmdline) : undefined, boot: undefined }
            : { kernel: undefined, ramdisk: undefined, cmdline: undefined, boot: xlString(v.boot) },
          'the boot options',
        ).then((ok) => ok && setF(undefined));
      }}
    >
      <fieldset disabled={!editable} className="space-y-3">
        <CheckField label="Direct kernel boot (load a kernel file instead of booting a disk or CD-ROM)" checked={v.direct} onChange={(direct) => set({ direct })} />
        {v.direct ? (
          <>
            <div className="flex items-end gap-2">
              <TextField className="flex-1" label="Kernel" value={v.kernel} onChange={(e) => set({ kernel: e.target.value })} hint="A multiboot (v1 or v2) ELF, a PVH kernel, or a Linux bzImage." />
              <Browse title="Kernel" ext={['elf', 'bin', '*']} onPick={(kernel) => set({ kernel })} />
            </div>
            <TextField label="Initial ramdisk / module" value={v.ramdisk} onChange={(e) => set({ ramdisk: e.target.value })} />
            <TextField label="Kernel command line" value={v.cmdline} onChange={(e) => set({ cmdline: e.target.value })} />
          </>
        ) : (
          <SelectField label="Boot order" value={v.boot} onChange={(e) => set({ boot: e.target.value })}>
            <option value="dc">CD-ROM, then disk (dc)</option>
            <option value="cd">Disk, then CD-ROM (cd)</option>
            <option value="d">CD-ROM only (d)</option>
            <option value="c">Disk only (c)</option>
          </SelectField>
        )}
        <p className="text-xs text-slate-500">
          On power off: {config.onPoweroff}; on reboot: {config.onReboot}; on crash: {config.onCrash}. Mode {config.type.toUpperCase()}, TSC {config.tscMode}.
        </p>
        <div className="flex gap-2">
          <Button kind="primary" type="submit" disabled={!f}>Save to config</Button>
          <Button disabled={!f} onClick={() => setF(undefined)}>Revert</Button>
        </div>
      </fieldset>
      {!editable && <p className="text-xs text-slate-500">Started without a library file: nothing to save to.</p>}
    </form>
  );
}

/** Disks and CD-ROM drives. */
export function DisksTab({ row, config }: { row: VmRow; config: DomainConfig | undefined }) {
  const save = useConfigEdit(row);
  const [add, setAdd] = useState<DraftDisk>({ target: '', vdev: 'xvda', format: 'raw', readOnly: false, cdrom: false });
  const [media, setMedia] = useState<Record<number, string>>({});
  if (!config) return <p className="p-4 text-sm text-slate-500">No configuration to show.</p>;
  const specs = config.disks.map(specOf);
  const write = (list: string[], what: string) => save({ disk: list.length === 0 ? undefined : `[ ${list.map(xlString).join(', ')} ]` }, what);
  return (
    <div className="space-y-4 p-4 text-sm">
      <table className="w-full" aria-label="Disks">
        <thead className="text-xs text-slate-500">
          <tr>{['Device', 'Kind', 'Image', 'Format', 'Access', ''].map((h) => <th key={h} scope="col" className="px-2 text-left font-medium">{h}</th>)}</tr>
        </thead>
        <tbody>
          {config.disks.length === 0 && <tr><td colSpan={6} className="px-2 py-3 text-slate-500">No disks.</td></tr>}
          {config.disks.map((d, i) => (
            <tr key={`${d.vdev}-${i}`} className="border-t border-slate-100 align-top">
              <th scope="row" className="px-2 text-left font-mono">{d.vdev}</th>
              <td className="px-2">{d.cdrom ? 'CD-ROM' : 'Disk'}</td>
              <td className="px-2">
                {d.cdrom ? (
                  <div className="flex items-center gap-1">
                    <input aria-label={`Medium in ${d.vdev}`} className="w-72 rounded border border-slate-300 px-1 font-mono text-xs" value={media[i] ?? d.target ?? ''} placeholder="(empty)" onChange={(e) => setMedia({ ...media, [i]: e.target.value })} />
                    <Button disabled={media[i] === undefined} onClick={() => { const s = [...specs]; s[i] = diskSpec({ target: media[i] ?? '', vdev: d.vdev, format: 'raw', readOnly: true, cdrom: true }); void write(s, `the medium of ${d.vdev}`).then(() => setMedia({})); }}>Change</Button>
                    <Button disabled={!d.target} onClick={() => { const s = [...specs]; s[i] = `vdev=${d.vdev}, devtype=cdrom, format=empty`; void write(s, `ejecting ${d.vdev}`); }}>Eject</Button>
                  </div>
                ) : (
                  <code className="break-all text-xs">{d.target}</code>
                )}
              </td>
              <td className="px-2">{d.format}</td>
              <td className="px-2">{d.readOnly ? 'read-only' : 'read-write'}</td>
              <td className="px-2"><Button kind="ghost" aria-label={`Remove ${d.vdev}`} onClick={() => void write(specs.filter((_, j) => j !== i), `removing ${d.vdev}`)}>Remove</Button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {row.library && (
        <fieldset className="flex flex-wrap items-end gap-2 rounded border border-slate-200 p-3">
          <legend className="px-1 text-xs font-medium text-slate-600">Add a disk or CD-ROM</legend>
          <TextField className="min-w-72 flex-1" label="Image file" value={add.target} onChange={(e) => setAdd({ ...add, target: e.target.value })} />
          <Browse title="Disk image" ext={['img', 'raw', 'iso', 'qcow2', '*']} onPick={(target) => setAdd({ ...add, target, cdrom: target.toLowerCase().endsWith('.iso') || add.cdrom })} />
          <TextField label="Device" value={add.vdev} onChange={(e) => setAdd({ ...add, vdev: e.target.value })} className="w-24" />
          <SelectField label="Format" value={add.format} onChange={(e) => setAdd({ ...add, format: e.target.value as DraftDisk['format'] })}>
            <option value="raw">raw</option>
            <option value="qcow2">qcow2</option>
          </SelectField>
          <CheckField label="CD-ROM" checked={add.cdrom} onChange={(cdrom) => setAdd({ ...add, cdrom })} />
          <CheckField label="Read-only" checked={add.readOnly || add.cdrom} disabled={add.cdrom} onChange={(readOnly) => setAdd({ ...add, readOnly })} />
          <Button kind="primary" disabled={add.target.trim() === ''} onClick={() => void write([...specs, diskSpec(add)], `adding ${add.vdev}`).then((ok) => ok && setAdd({ ...add, target: '' }))}>Add</Button>
        </fieldset>
      )}
    </div>
  );
}

function serialText(s: SerialConfig): string {
  return s.kind === 'file' ? `file:${s.path}` : s.kind;
}

/** Serial ports. */
export function SerialTab({ row, config }: { row: VmRow; config: DomainConfig | undefined }) {
  const save = useConfigEdit(row);
  const [edit, setEdit] = useState<string | undefined>();
  if (!config) return <p className="p-4 text-sm text-slate-500">No configuration to show.</p>;
  const cur = config.serial.map(serialText);
  const v = edit ?? cur[0] ?? 'pty';
  return (
    <div className="max-w-2xl space-y-3 p-4 text-sm">
      <table aria-label="Serial ports">
        <thead className="text-xs text-slate-500"><tr><th scope="col" className="px-2 text-left font-medium">Port</th><th scope="col" className="px-2 text-left font-medium">Connected to</th></tr></thead>
        <tbody>
          {cur.length === 0 && <tr><td colSpan={2} className="px-2 text-slate-500">None configured: COM1 still shows in the console.</td></tr>}
          {cur.map((s, i) => <tr key={i}><th scope="row" className="px-2 text-left">COM{i + 1}</th><td className="px-2 font-mono text-xs">{s}</td></tr>)}
        </tbody>
      </table>
      <p className="text-xs text-slate-500">Whatever the setting, the GUI's console shows COM1 and the engine keeps a log of it; "file:PATH" also copies it to that file.</p>
      {row.library && (
        <form className="flex items-end gap-2" onSubmit={(e) => { e.preventDefault(); void save({ serial: `[ ${xlString(v)} ]` }, 'the serial port').then((ok) => ok && setEdit(undefined)); }}>
          <TextField className="flex-1" label="COM1 (pty, none or file:PATH)" value={v} onChange={(e) => setEdit(e.target.value)} />
          <Button kind="primary" type="submit" disabled={edit === undefined}>Save to config</Button>
        </form>
      )}
    </div>
  );
}
