/**
 * The New VM wizard: Source (direct kernel, an ISO, or a GRUB ISO built on the spot) -> CPU &
 * Memory -> Storage -> Console & Scheduling -> Summary (the xl.cfg, editable: "customize before
 * saving") -> saved in the library, and started at once if asked.
 */
import { useState } from 'react';
import { chooseHostFile, hasFileDialogs } from '../../api/host';
import { loadRecentIsos } from '../../lib/recent-isos';
import { draftDisks, draftProblems, draftToXlCfg, emptyDraft, type DraftDisk, type VmDraft } from '../../lib/xlcfg';
import { messageOf, useEngine, useStore } from '../../state/use-engine';
import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { CheckField, NumberField, SelectField, TextArea, TextField } from '../ui/field';
import { IsoWizard } from './iso-wizard';
import { WizardFrame } from './steps';

const STEPS = ['Source', 'CPU & Memory', 'Storage', 'Console & Scheduling', 'Summary'] as const;
const STEP_KEYS = ['source', 'cpu', 'storage', 'console', 'all'] as const;

/** A path field with Browse… in the app. */
function PathField({ label, value, onChange, hint, ext }: { label: string; value: string; onChange: (v: string) => void; hint?: string; ext: string[] }) {
  return (
    <div className="flex items-end gap-2">
      <TextField className="flex-1" label={label} value={value} onChange={(e) => onChange(e.target.value)} hint={hint} />
      {hasFileDialogs() && <Button onClick={async () => { const p = await chooseHostFile({ title: label, mode: 'open', filters: [{ name: label, extensions: ext }] }); if (p) onChange(p); }}>Browse…</Button>}
    </div>
  );
}

/** The wizard; `initial` pre-fills it (e.g. from the ISO wizard). */
export function NewVmWizard({ initial, onClose, onCreated }: { initial?: Partial<VmDraft>; onClose: () => void; onCreated: (name: string) => void }) {
  const store = useStore();
  const snap = useEngine();
  const [step, setStep] = useState(0);
  const [d, setD] = useState<VmDraft>({ ...emptyDraft(), ...initial });
  const [text, setText] = useState<string | undefined>();
  const [startNow, setStartNow] = useState(true);
  const [isoWizard, setIsoWizard] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const set = (p: Partial<VmDraft>) => {
    setD({ ...d, ...p });
    setText(undefined);
  };
  const nameTaken = snap.library.some((l) => l.name === d.name) || snap.domains.some((x) => x.name === d.name);
  const problems = [...draftProblems(d, STEP_KEYS[step]), ...(step === 0 && nameTaken ? [`A VM named "${d.name}" exists already.`] : [])];
  let generated = '';
  try {
    generated = draftToXlCfg(d);
  } catch (e) {
    if (step === STEPS.length - 1) problems.push(messageOf(e));
  }
  const recent = loadRecentIsos();
  const nr = snap.host?.nrPcpus ?? 1;

  const finish = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await store.client.call('library.save', { name: d.name, text: text ?? generated });
      await store.refreshLibrary();
      if (startNow) await store.client.call('domain.create', { library: d.name });
      store.notify('info', startNow ? `${d.name} was created and started.` : `${d.name} was saved in the library.`);
      onCreated(d.name);
      onClose();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const setDisk = (i: number, p: Partial<DraftDisk>) => set({ disks: d.disks.map((x, j) => (j === i ? { ...x, ...p } : x)) });
  return (
    <Dialog title="New virtual machine" onClose={onClose} wide>
      <WizardFrame steps={STEPS} current={step} problems={problems} onBack={() => setStep(step - 1)} onNext={() => setStep(step + 1)} finishLabel="Finish" onFinish={() => void finish()} busy={busy}>
        {step === 0 && (
          <>
            <div className="flex gap-3">
              <TextField className="flex-1" label="Name" value={d.name} onChange={(e) => set({ name: e.target.value })} />
              <SelectField label="Guest type" value={d.type} onChange={(e) => set({ type: e.target.value as VmDraft['type'] })}>
                <option value="hvm">HVM (emulated PC)</option>
                <option value="pvh">PVH (paravirtualized, no emulated devices)</option>
              </SelectField>
            </div>
            <fieldset className="space-y-1">
              <legend className="text-xs font-medium text-slate-600">Boot from</legend>
              {([['kernel', 'Direct kernel boot (a multiboot or PVH kernel file)'], ['iso', 'An ISO image (CD-ROM)'], ['grub-iso', 'A GRUB ISO built with the wizard']] as const).map(([k, label]) => (
                <label key={k} className="flex items-center gap-2 text-sm"><input type="radio" name="vm-source" checked={d.source === k} onChange={() => set({ source: k })} />{label}</label>
              ))}
            </fieldset>
            {d.source === 'kernel' && (
              <>
                <PathField label="Kernel" value={d.kernel} onChange={(kernel) => set({ kernel })} ext={['elf', 'bin', '*']} hint="Path on the engine's host, e.g. /home/me/hermit/ldhermit.elf" />
                <PathField label="Initial ramdisk (optional)" value={d.ramdisk} onChange={(ramdisk) => set({ ramdisk })} ext={['*']} />
                <TextField label="Kernel command line" value={d.cmdline} onChange={(e) => set({ cmdline: e.target.value })} />
              </>
            )}
            {d.source !== 'kernel' && (
              <>
                <PathField label="ISO image" value={d.iso} onChange={(iso) => set({ iso })} ext={['iso']} />
                {recent.length > 0 && (
                  <SelectField label="Recently built ISOs" value="" onChange={(e) => e.target.value && set({ iso: e.target.value, source: 'grub-iso' })}>
                    <option value="">Choose…</option>
                    {recent.map((r) => <option key={r.path} value={r.path}>{r.path}</option>)}
                  </SelectField>
                )}
                {d.source === 'grub-iso' && <Button onClick={() => setIsoWizard(true)}>Build a GRUB ISO…</Button>}
                <p className="text-xs text-slate-500">The ISO is attached as CD-ROM hdc and the VM boots from it (boot = "d").</p>
              </>
            )}
          </>
        )}
        {step === 1 && (
          <div className="grid max-w-xl grid-cols-2 gap-3">
            <NumberField label="vCPUs" value={d.vcpus} min={1} max={128} onValue={(vcpus) => set({ vcpus, maxvcpus: Math.max(vcpus, d.maxvcpus === d.vcpus ? vcpus : d.maxvcpus) })} hint={`This host has ${nr} pCPUs.`} />
            <NumberField label="Maximum vCPUs" value={d.maxvcpus} min={d.vcpus} max={128} onValue={(maxvcpus) => set({ maxvcpus })} />
            <NumberField label="Memory (MiB)" value={d.memoryMiB} min={2} onValue={(memoryMiB) => set({ memoryMiB, maxmemMiB: Math.max(memoryMiB, d.maxmemMiB === d.memoryMiB ? memoryMiB : d.maxmemMiB) })} hint={snap.host ? `${snap.host.freeMemoryMiB} MiB free in the engine.` : undefined} />
            <NumberField label="Maximum memory (MiB)" value={d.maxmemMiB} min={d.memoryMiB} onValue={(maxmemMiB) => set({ maxmemMiB })} hint="Above the memory at start, the guest starts ballooned." />
            {d.vcpus > nr && <p className="col-span-2 text-xs text-amber-700">More vCPUs than pCPUs: they will share.</p>}
          </div>
        )}
        {step === 2 && (
          <>
            <p className="text-sm text-slate-600">{draftDisks(d).length === 0 ? 'No disks: the guest runs from its kernel alone.' : `${draftDisks(d).length} device(s).`}{d.source !== 'kernel' && d.iso ? ` The ISO ${d.iso} is CD-ROM hdc.` : ''}</p>
            {d.disks.map((x, i) => (
              <fieldset key={i} className="flex flex-wrap items-end gap-2 rounded border border-slate-200 p-2">
                <legend className="px-1 text-xs text-slate-600">Disk {i + 1}</legend>
                <TextField className="min-w-64 flex-1" label={`Image of disk ${i + 1}`} value={x.target} onChange={(e) => setDisk(i, { target: e.target.value })} />
                <TextField className="w-24" label={`Device of disk ${i + 1}`} value={x.vdev} onChange={(e) => setDisk(i, { vdev: e.target.value })} />
                <SelectField label={`Format of disk ${i + 1}`} value={x.format} onChange={(e) => setDisk(i, { format: e.target.value as DraftDisk['format'] })}><option value="raw">raw</option><option value="qcow2">qcow2</option></SelectField>
                <CheckField label="CD-ROM" checked={x.cdrom} onChange={(cdrom) => setDisk(i, { cdrom })} />
                <CheckField label="Read-only" checked={x.readOnly} onChange={(readOnly) => setDisk(i, { readOnly })} />
                <Button kind="ghost" aria-label={`Remove disk ${i + 1}`} onClick={() => set({ disks: d.disks.filter((_, j) => j !== i) })}>Remove</Button>
              </fieldset>
            ))}
            <Button onClick={() => set({ disks: [...d.disks, { target: '', vdev: `xvd${String.fromCharCode(97 + d.disks.length)}`, format: 'raw', readOnly: false, cdrom: false }] })}>Add disk</Button>
          </>
        )}
        {step === 3 && (
          <div className="grid max-w-2xl grid-cols-2 gap-3">
            <SelectField label="Serial console (COM1)" value={d.serial} onChange={(e) => set({ serial: e.target.value as VmDraft['serial'] })}>
              <option value="pty">Console in Domus (pty)</option>
              <option value="file">Console in Domus and a log file</option>
              <option value="none">None</option>
            </SelectField>
            {d.serial === 'file' ? <TextField label="Serial log file" value={d.serialFile} onChange={(e) => set({ serialFile: e.target.value })} /> : <span />}
            <SelectField label="CPU pool" value={d.pool} onChange={(e) => set({ pool: e.target.value })}>
              {(snap.pools.length ? snap.pools : [{ name: 'Pool-0', scheduler: 'credit2' }]).map((p) => <option key={p.name} value={p.name}>{p.name} ({p.scheduler})</option>)}
            </SelectField>
            <TextField label="Pin vCPUs to pCPUs (CPU list, empty = all)" value={d.cpus} onChange={(e) => set({ cpus: e.target.value })} hint="e.g. 0-1,3" />
            <NumberField label="Weight (credit, credit2)" value={d.weight} min={1} max={65535} onValue={(weight) => set({ weight })} hint="256 is normal; 512 gets twice the share." />
            <NumberField label="Cap (% of one pCPU, 0 = none)" value={d.cap} min={0} max={65535} onValue={(cap) => set({ cap })} />
            <NumberField label="RTDS period (µs, 0 = default)" value={d.rtdsPeriodUs} min={0} onValue={(rtdsPeriodUs) => set({ rtdsPeriodUs })} />
            <SelectField label="When it crashes" value={d.onCrash} onChange={(e) => set({ onCrash: e.target.value as VmDraft['onCrash'] })}>
              <option value="preserve">Keep it for inspection</option>
              <option value="destroy">Destroy it</option>
              <option value="restart">Restart it</option>
            </SelectField>
          </div>
        )}
        {step === 4 && (
          <>
            <TextArea label="xl.cfg (you may customize it before saving)" rows={14} value={text ?? generated} onChange={(e) => setText(e.target.value)} />
            {text !== undefined && <Button onClick={() => setText(undefined)}>Reset to the generated text</Button>}
            <CheckField label="Start the VM now" checked={startNow} onChange={setStartNow} />
            {error && <p role="alert" className="whitespace-pre-wrap rounded border border-rose-300 bg-rose-50 p-2 font-mono text-xs text-rose-800">{error}</p>}
          </>
        )}
      </WizardFrame>
      {isoWizard && (
        <IsoWizard
          onClose={() => setIsoWizard(false)}
          onBuilt={(r) => {
            set({ iso: r.output, source: 'grub-iso' });
            setIsoWizard(false);
          }}
        />
      )}
    </Dialog>
  );
}
