/**
 * The GRUB ISO wizard: the multiboot loader with its arguments and the modules with theirs
 * (`multiboot /boot/ldhermit.elf -uart=io:0x3f8`, `module /boot/hermit_application`), the menu and
 * console, a grub.cfg preview the user may edit, then a build that runs as an engine task with
 * progress, and finally "Create a VM from it".
 */
import { useEffect, useState } from 'react';
import { chooseHostFile, hasFileDialogs } from '../../api/host';
import { isIsoPreview, isIsoReport, SERIAL_SPEEDS, type IsoBuildReport, type IsoWizardPreview, type IsoWizardRequest } from '../../api/iso-types';
import { ApiCallError } from '../../api/client';
import { rememberIso } from '../../lib/recent-isos';
import { messageOf, useEngine, useStore } from '../../state/use-engine';
import { Button } from '../ui/button';
import { Dialog } from '../ui/dialog';
import { NumberField, SelectField, TextArea, TextField } from '../ui/field';
import { WizardFrame } from './steps';

const STEPS = ['Loader and modules', 'Menu and console', 'grub.cfg', 'Build'] as const;

/** The wizard's form. */
export interface IsoForm {
  kernel: string;
  kernelArgs: string;
  modules: { path: string; args: string }[];
  protocol: 'auto' | '1' | '2';
  title: string;
  timeoutSeconds: number;
  console: 'serial' | 'vga';
  port: number;
  speed: number;
  output: string;
}

/** A fresh form. */
export function emptyIsoForm(): IsoForm {
  return { kernel: '', kernelArgs: '', modules: [], protocol: 'auto', title: '', timeoutSeconds: 0, console: 'serial', port: 1, speed: 115200, output: '' };
}

/** The API request of a form (grubCfg when the user edited it). */
export function isoRequest(f: IsoForm, grubCfg?: string): IsoWizardRequest {
  const base = f.kernel.trim().split('/').pop() ?? 'kernel';
  return {
    kernel: f.kernel.trim(),
    kernelArgs: f.kernelArgs,
    modules: f.modules.filter((m) => m.path.trim() !== '').map((m) => ({ path: m.path.trim(), args: m.args })),
    title: f.title.trim() || base,
    timeoutSeconds: f.timeoutSeconds,
    console: f.console === 'vga' ? { kind: 'vga' } : { kind: 'serial', port: f.port, speed: f.speed },
    ...(f.protocol === 'auto' ? {} : { protocol: f.protocol === '1' ? 1 : 2 }),
    ...(grubCfg !== undefined ? { grubCfg } : {}),
    output: f.output.trim(),
  };
}

/** Problems that stop a step. */
export function isoProblems(f: IsoForm, step: number): string[] {
  const p: string[] = [];
  if (step === 0 && f.kernel.trim() === '') p.push('Loader: give the path of the multiboot loader or kernel (e.g. ldhermit.elf).');
  if (step === 1 && !(f.timeoutSeconds >= 0 && f.timeoutSeconds <= 86400)) p.push('Timeout: 0 to 86400 seconds.');
  if (step === 3 && !/\.iso$/i.test(f.output.trim())) p.push('Output: a file name ending in .iso.');
  return p;
}

function Browse({ title, ext, onPick, mode = 'open' }: { title: string; ext: string[]; onPick: (p: string) => void; mode?: 'open' | 'save' }) {
  if (!hasFileDialogs()) return null;
  return <Button onClick={async () => { const p = await chooseHostFile({ title, mode, filters: [{ name: title, extensions: ext }] }); if (p) onPick(p); }}>Browse…</Button>;
}

/** The wizard. `onBuilt` (from the New VM wizard) takes the ISO instead of opening New VM. */
export function IsoWizard({ onClose, onBuilt, onCreateVm }: { onClose: () => void; onBuilt?: (r: IsoBuildReport) => void; onCreateVm?: (r: IsoBuildReport) => void }) {
  const store = useStore();
  const snap = useEngine();
  const [step, setStep] = useState(0);
  const [f, setF] = useState<IsoForm>(emptyIsoForm);
  const [preview, setPreview] = useState<IsoWizardPreview>();
  const [edited, setEdited] = useState<string | undefined>();
  const [note, setNote] = useState('');
  const [taskId, setTaskId] = useState<string>();
  const [report, setReport] = useState<IsoBuildReport>();
  const set = (p: Partial<IsoForm>) => setF({ ...f, ...p });

  useEffect(() => {
    if (step !== 2) return;
    let alive = true;
    setNote('Generating grub.cfg…');
    store.client.call('iso.preview', { input: isoRequest({ ...f, output: f.output || 'preview.iso' }) }).then(
      (r) => {
        if (!alive) return;
        if (!isIsoPreview(r)) return setNote('The engine answered the preview in an unexpected form.');
        setPreview(r);
        setNote('');
      },
      (e: unknown) => {
        if (!alive) return;
        setPreview(undefined);
        setNote(e instanceof ApiCallError && e.code === 'api.not-implemented' ? 'This engine cannot preview or build ISOs yet (iso.preview / iso.build); `domus mkiso` builds the same ISO on the command line.' : messageOf(e));
      },
    );
    return () => {
      alive = false;
    };
    // The preview depends on everything the first two steps collect.
  }, [step, f, store]);

  const task = taskId ? snap.tasks.find((t) => t.taskId === taskId) : undefined;
  useEffect(() => {
    if (!task?.done || report) return;
    if (task.error) return;
    if (isIsoReport(task.result)) {
      setReport(task.result);
      rememberIso({ path: task.result.output, bytes: task.result.bytes, builtAt: Date.now() });
    }
  }, [task, report]);

  const build = async () => {
    setReport(undefined);
    setTaskId(undefined);
    setNote('');
    try {
      const r = await store.client.call('iso.build', { input: isoRequest(f, edited) });
      setTaskId(r.taskId);
    } catch (e) {
      setNote(messageOf(e));
    }
  };

  const problems = [...isoProblems(f, step), ...(step === 3 && !report ? ['Build the ISO first.'] : [])];
  const base = f.kernel.trim().split('/').pop()?.replace(/\.[^.]*$/, '') ?? '';
  return (
    <Dialog title="Build a GRUB ISO" onClose={onClose} wide>
      <WizardFrame
        steps={STEPS}
        current={step}
        problems={step === 2 && !preview ? [note || 'Waiting for the preview…'] : problems}
        onBack={() => setStep(step - 1)}
        onNext={() => {
          if (step === 2 && f.output === '') set({ output: `${base || 'image'}.iso` });
          setStep(step + 1);
        }}
        finishLabel={onBuilt ? 'Use this ISO' : 'Create a VM from it'}
        onFinish={() => {
          if (!report) return;
          // The parent replaces this dialog with the next one (or closes it).
          if (onBuilt) onBuilt(report);
          else if (onCreateVm) onCreateVm(report);
          else onClose();
        }}
      >
        {step === 0 && (
          <>
            <div className="flex items-end gap-2">
              <TextField className="flex-1" label="Loader or kernel (multiboot)" value={f.kernel} onChange={(e) => set({ kernel: e.target.value })} hint="e.g. /home/me/hermit/ldhermit.elf" />
              <Browse title="Loader" ext={['elf', 'bin', '*']} onPick={(kernel) => set({ kernel })} />
            </div>
            <TextField label="Loader arguments (command line)" value={f.kernelArgs} onChange={(e) => set({ kernelArgs: e.target.value })} hint="e.g. -uart=io:0x3f8" />
            {f.modules.map((m, i) => (
              <fieldset key={i} className="flex items-end gap-2 rounded border border-slate-200 p-2">
                <legend className="px-1 text-xs text-slate-600">Module {i + 1}</legend>
                <TextField className="flex-1" label={`Module ${i + 1} file`} value={m.path} onChange={(e) => set({ modules: f.modules.map((x, j) => (j === i ? { ...x, path: e.target.value } : x)) })} />
                <Browse title={`Module ${i + 1}`} ext={['*']} onPick={(path) => set({ modules: f.modules.map((x, j) => (j === i ? { ...x, path } : x)) })} />
                <TextField className="flex-1" label={`Module ${i + 1} arguments`} value={m.args} onChange={(e) => set({ modules: f.modules.map((x, j) => (j === i ? { ...x, args: e.target.value } : x)) })} />
                <Button kind="ghost" aria-label={`Remove module ${i + 1}`} onClick={() => set({ modules: f.modules.filter((_, j) => j !== i) })}>Remove</Button>
              </fieldset>
            ))}
            <Button onClick={() => set({ modules: [...f.modules, { path: '', args: '' }] })}>Add module</Button>
            <SelectField label="Multiboot protocol" value={f.protocol} onChange={(e) => set({ protocol: e.target.value as IsoForm['protocol'] })} className="w-64">
              <option value="auto">Detect from the loader</option>
              <option value="1">Multiboot 1 (multiboot / module)</option>
              <option value="2">Multiboot 2 (multiboot2 / module2)</option>
            </SelectField>
          </>
        )}
        {step === 1 && (
          <div className="grid max-w-xl grid-cols-2 gap-3">
            <TextField className="col-span-2" label="Menu entry title" value={f.title} placeholder={base} onChange={(e) => set({ title: e.target.value })} />
            <NumberField label="Timeout (seconds)" value={f.timeoutSeconds} min={0} max={86400} onValue={(timeoutSeconds) => set({ timeoutSeconds })} hint="0 boots at once" />
            <SelectField label="GRUB console" value={f.console} onChange={(e) => set({ console: e.target.value as IsoForm['console'] })}>
              <option value="serial">Serial port</option>
              <option value="vga">VGA text screen</option>
            </SelectField>
            {f.console === 'serial' && (
              <>
                <SelectField label="Serial port" value={f.port} onChange={(e) => set({ port: Number(e.target.value) })}>
                  {[1, 2, 3, 4].map((p) => <option key={p} value={p}>COM{p}</option>)}
                </SelectField>
                <SelectField label="Speed (baud)" value={f.speed} onChange={(e) => set({ speed: Number(e.target.value) })}>
                  {SERIAL_SPEEDS.map((s) => <option key={s} value={s}>{s}</option>)}
                </SelectField>
              </>
            )}
          </div>
        )}
        {step === 2 && (
          <>
            {preview && (
              <>
                <TextArea label="grub.cfg (edit it if you need to)" rows={14} value={edited ?? preview.grubCfg} onChange={(e) => setEdited(e.target.value)} />
                <div className="flex items-center gap-2 text-xs text-slate-600">
                  <Button disabled={edited === undefined} onClick={() => setEdited(undefined)}>Reset to generated</Button>
                  Multiboot {preview.protocol}; files on the ISO: {[preview.kernelPath, ...preview.modulePaths].join(', ')}
                </div>
                {preview.warnings.length > 0 && <ul className="list-disc pl-5 text-xs text-amber-800">{preview.warnings.map((w) => <li key={w}>{w}</li>)}</ul>}
              </>
            )}
            {!preview && <p role="status" className="text-sm text-slate-600">{note}</p>}
          </>
        )}
        {step === 3 && (
          <>
            <div className="flex items-end gap-2">
              <TextField className="flex-1" label="Output ISO file" value={f.output} onChange={(e) => set({ output: e.target.value })} hint="A path on the engine's host." />
              <Browse title="Output ISO" ext={['iso']} mode="save" onPick={(output) => set({ output })} />
            </div>
            <Button kind="primary" disabled={isoProblems(f, 3).length > 0 || (task !== undefined && !task.done)} onClick={() => void build()}>Build ISO</Button>
            {task && (
              <div className="space-y-1">
                <progress max={1} value={task.progress} aria-label="Build progress" className="w-full" />
                <p role="status" className={`text-sm ${task.error ? 'text-rose-700' : 'text-slate-600'}`}>{task.error ?? task.message}</p>
              </div>
            )}
            {report && (
              <div role="status" className="rounded border border-emerald-300 bg-emerald-50 p-2 text-sm text-emerald-900">
                Built <code>{report.output}</code>: {(report.bytes / 2 ** 20).toFixed(2)} MiB in {(report.elapsedMs / 1000).toFixed(1)} s with GRUB {report.grubVersion}.
                {report.warnings.length > 0 && <ul className="list-disc pl-5 text-xs">{report.warnings.map((w) => <li key={w}>{w}</li>)}</ul>}
              </div>
            )}
            {note && <p role="alert" className="text-sm text-rose-700">{note}</p>}
          </>
        )}
      </WizardFrame>
    </Dialog>
  );
}
