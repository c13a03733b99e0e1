/**
 * The 8042 keyboard controller of the PC/AT (data port 0x60, status/command port 0x64) with a PS/2
 * keyboard attached and an empty auxiliary (mouse) port.
 *
 * References:
 * - IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary Device Controller":
 *   status register bits, command byte, controller commands 0x20/0x60 (RAM), 0xA7-0xAE, 0xC0,
 *   0xD0-0xD4, 0xF0-0xFF (pulse output port; 0xFE pulses the reset line), output port bits (bit 0
 *   reset, bit 1 A20, bits 4/5 output buffer full); a command to an absent auxiliary device ends
 *   with the time-out bit and 0xFE.
 * - IBM "Keyboard Technical Reference" (101/102-key): keyboard commands 0xED LEDs, 0xEE echo,
 *   0xF0 scancode set, 0xF2 identify (0xAB 0x83), 0xF3 typematic, 0xF4/0xF5/0xF6, 0xFE resend,
 *   0xFF reset (0xFA then BAT result 0xAA); 0xFE answers an invalid command.
 * - QEMU hw/input/pckbd.c and ps2.c for what guests rely on: self-test 0xAA -> 0x55 sets the system
 *   flag, 0xAB -> 0x00, writing the command byte sets translation, writing a byte to the keyboard
 *   re-enables the keyboard interface, the identify answer is 0xAB 0x41 with translation on.
 *
 * Controller commands complete at once (IBF never reads 1).
 */
import type { IoSize, IrqLine, Persistent, PortDevice } from './device';
import { unconnectedIrq } from './device';
import { set1ToSet2 } from './ps2-scancodes';
import { requireSaved, requireStateVersion } from './save-state';

// ---- Ports and registers -------------------------------------------------------------------------

/** Port offsets: 0x60 data (offset 0), 0x64 status/command (offset 4; the chip decodes A2). */
const OFFSET_COMMAND = 4;

/** Status register bits. */
const STATUS_OBF = 0x01; // output buffer full
const STATUS_SYS = 0x04; // system flag: self-test passed
const STATUS_CMD = 0x08; // last write was to 0x64
const STATUS_UNLOCKED = 0x10; // keyboard not inhibited by the key lock
const STATUS_AUX_OBF = 0x20; // the output buffer holds auxiliary data
const STATUS_TIMEOUT = 0x40; // general time-out

/** Command byte bits. */
const CB_KBD_INT = 0x01; // IRQ1 on keyboard data
const CB_AUX_INT = 0x02; // IRQ12 on auxiliary data
const CB_SYS = 0x04; // system flag
const CB_KBD_DISABLED = 0x10;
const CB_AUX_DISABLED = 0x20;
const CB_TRANSLATE = 0x40; // translate keyboard set 2 to set 1
/** Command byte after a controller reset (QEMU): keyboard and auxiliary interrupts on. */
const CB_RESET = CB_KBD_INT | CB_AUX_INT;
/** Command byte a PC BIOS leaves (SeaBIOS): keyboard IRQ, translation, auxiliary disabled, system flag. */
export const I8042_BIOS_COMMAND_BYTE = CB_KBD_INT | CB_SYS | CB_AUX_DISABLED | CB_TRANSLATE;

/** Output port bits. */
const OUT_RESET = 0x01; // 0 holds the CPU in reset
const OUT_A20 = 0x02;
const OUT_KBD_OBF = 0x10;
const OUT_AUX_OBF = 0x20;
/** Clock and data lines of both devices idle high (bits 2, 3, 6, 7), as QEMU reports. */
const OUT_LINES_IDLE = 0xcc;
const OUT_RESET_VALUE = OUT_RESET | OUT_A20 | OUT_LINES_IDLE;
/** Input port as QEMU reports it: bit 7 keyboard not inhibited. */
const INPUT_PORT_VALUE = 0x80;

/** Controller commands. */
const CMD_READ_RAM = 0x20; // 0x20-0x3F read internal RAM byte (0x20 = command byte)
const CMD_WRITE_RAM = 0x60; // 0x60-0x7F write internal RAM byte
const CMD_RAM_LAST_OFFSET = 0x1f;
const CMD_AUX_DISABLE = 0xa7;
const CMD_AUX_ENABLE = 0xa8;
const CMD_AUX_TEST = 0xa9;
const CMD_SELF_TEST = 0xaa;
const CMD_KBD_TEST = 0xab;
const CMD_KBD_DISABLE = 0xad;
const CMD_KBD_ENABLE = 0xae;
const CMD_READ_INPUT_PORT = 0xc0;
const CMD_READ_OUTPUT_PORT = 0xd0;
const CMD_WRITE_OUTPUT_PORT = 0xd1;
const CMD_WRITE_KBD_BUFFER = 0xd2;
const CMD_WRITE_AUX_BUFFER = 0xd3;
const CMD_WRITE_AUX = 0xd4;
const CMD_A20_OFF = 0xdd;
const CMD_A20_ON = 0xdf;
const CMD_READ_TEST_INPUTS = 0xe0;
const CMD_PULSE_FIRST = 0xf0; // 0xF0-0xFF: pulse output port bits 3-0 where the command bit is 0
/** Answers. */
const SELF_TEST_OK = 0x55;
const INTERFACE_TEST_OK = 0x00;

/** Keyboard commands and answers. */
const KBD_SET_LEDS = 0xed;
const KBD_ECHO = 0xee;
const KBD_SCANCODE_SET = 0xf0;
const KBD_IDENTIFY = 0xf2;
const KBD_TYPEMATIC = 0xf3;
const KBD_ENABLE = 0xf4;
const KBD_DISABLE = 0xf5;
const KBD_DEFAULTS = 0xf6;
const KBD_SET3_FIRST = 0xf7; // 0xF7-0xFD: set 3 key attributes (acknowledged, ignored)
const KBD_SET3_LAST = 0xfd;
const KBD_RESEND = 0xfe;
const KBD_RESET = 0xff;
const KBD_ACK = 0xfa;
/** Set LEDs argument: bit 0 Scroll, 1 Num, 2 Caps Lock. */
const KBD_LED_MASK = 0x07;
/** Typematic argument: bits 6-5 delay, 4-0 rate. */
const KBD_TYPEMATIC_MASK = 0x7f;
const KBD_BAT_OK = 0xaa;
const KBD_ID_FIRST = 0xab;
/** Second identify byte of an MF2 keyboard, untranslated and translated. */
const KBD_ID_MF2 = 0x83;
const KBD_ID_MF2_TRANSLATED = 0x41;
/** Answer to the scancode-set query for set n, as set 1 codes (what translation makes of 1, 2, 3). */
const SCANCODE_SET_REPLY = [0, 0x43, 0x41, 0x3f] as const;
const SCANCODE_SET_DEFAULT = 2;
/** What an absent auxiliary device "answers" (with STATUS_TIMEOUT). */
const AUX_NO_DEVICE = 0xfe;
/** Bytes a device queue holds before it drops input. */
const DEVICE_QUEUE_LIMIT = 256;
/** Size of the controller's internal RAM reachable by 0x20-0x3F / 0x60-0x7F. */
const CONTROLLER_RAM_SIZE = 32;

/** Who filled the output buffer. */
type Source = 'controller' | 'keyboard' | 'aux';

// ---- State ---------------------------------------------------------------------------------------

/** Saved state of the PS/2 keyboard. */
export interface Ps2KeyboardState {
  scanning: boolean;
  scancodeSet: number;
  leds: number;
  typematic: number;
  /** Keyboard command waiting for its argument byte, or 0. */
  pendingCommand: number;
  lastSent: number;
  queue: number[];
}

/** Saved state of the 8042 and its keyboard. */
export interface I8042State {
  version: 1;
  ram: number[];
  outputPort: number;
  systemFlag: boolean;
  lastWasCommand: boolean;
  timeout: boolean;
  /** Controller command waiting for its data byte, or 0. */
  pendingCommand: number;
  output: { value: number; source: Source } | null;
  lastRead: number;
  /** Bytes the controller itself puts in the output buffer (answers, 0xD2/0xD3 writes). */
  controllerQueue: { value: number; source: Source }[];
  keyboard: Ps2KeyboardState;
}

/** Options of the keyboard controller. */
export interface I8042Config {
  /** ISA IRQ1 (keyboard). */
  irq1?: IrqLine;
  /** ISA IRQ12 (auxiliary device). */
  irq12?: IrqLine;
  /** The output port's A20 gate changed. */
  onA20Change?: (enabled: boolean) => void;
  /** The guest pulsed the reset line (command 0xFE, or output port bit 0 written 0). */
  onReset?: () => void;
}

function freshKeyboard(): Ps2KeyboardState {
  return { scanning: true, scancodeSet: SCANCODE_SET_DEFAULT, leds: 0, typematic: 0, pendingCommand: 0, lastSent: 0, queue: [] };
}

// ---- The device ----------------------------------------------------------------------------------

/** The 8042 keyboard controller and PS/2 keyboard. Place it at 0x60 (1 port) and 0x64 (1 port). */
export class I8042 implements PortDevice, Persistent<I8042State> {
  readonly name = 'i8042';
  private readonly irq1: IrqLine;
  private readonly irq12: IrqLine;
  private readonly onA20Change: (enabled: boolean) => void;
  private readonly onReset: () => void;

  private ram: number[] = new Array<number>(CONTROLLER_RAM_SIZE).fill(0);
  private outputPort = OUT_RESET_VALUE;
  private systemFlag = false;
  private lastWasCommand = true;
  private timeout = false;
  private pendingCommand = 0;
  private output: { value: number; source: Source } | null = null;
  private lastRead = 0;
  private controllerQueue: { value: number; source: Source }[] = [];
  private kbd: Ps2KeyboardState = freshKeyboard();
  private irq1Level = false;
  private irq12Level = false;

  constructor(config: I8042Config = {}) {
    this.irq1 = config.irq1 ?? unconnectedIrq;
    this.irq12 = config.irq12 ?? unconnectedIrq;
    this.onA20Change = config.onA20Change ?? (() => {});
    this.onReset = config.onReset ?? (() => {});
    this.reset();
  }

  // ---- Predicates ----

  private get commandByte(): number {
    return this.ram[0];
  }

  private set commandByte(value: number) {
    this.ram[0] = value & 0xff;
  }

  private translating(): boolean {
    return (this.commandByte & CB_TRANSLATE) !== 0;
  }

  /** The output port's A20 gate. */
  a20(): boolean {
    return (this.outputPort & OUT_A20) !== 0;
  }

  /** The keyboard LEDs last set by the guest (bit 0 Scroll, 1 Num, 2 Caps Lock). */
  leds(): number {
    return this.kbd.leds;
  }

  private status(): number {
    return (
      (this.output ? STATUS_OBF : 0) |
      (this.systemFlag ? STATUS_SYS : 0) |
      (this.lastWasCommand ? STATUS_CMD : 0) |
      STATUS_UNLOCKED |
      (this.output?.source === 'aux' ? STATUS_AUX_OBF : 0) |
      (this.timeout ? STATUS_TIMEOUT : 0)
    );
  }

  // ---- Host side ----

  /**
   * Key presses from the host console, as scancode set 1 bytes (e.g. 0x1E 0x9E for "a" down and
   * up). They reach the guest as set 1 with translation on, else in the keyboard's set.
   */
  injectScancodes(set1: readonly number[]): void {
    if (!this.kbd.scanning) return;
    const bytes = this.translating() || this.kbd.scancodeSet === 1 ? set1 : set1ToSet2(set1);
    for (const b of bytes) this.keyboardSend(b);
    this.refill();
  }

  // ---- Port access ----

  ioRead(port: number): number {
    if ((port & OFFSET_COMMAND) === OFFSET_COMMAND) return this.status();
    if (this.output) {
      this.lastRead = this.output.value;
      this.output = null;
      this.timeout = false;
      this.updateIrqs(); // OBF falls, and with it the IRQ, before the next byte moves in
      this.refill();
    }
    return this.lastRead; // an empty buffer reads its last byte again
  }

  ioWrite(port: number, _size: IoSize, value: number): void {
    value &= 0xff;
    if ((port & OFFSET_COMMAND) === OFFSET_COMMAND) {
      this.lastWasCommand = true;
      this.controllerCommand(value);
    } else {
      this.lastWasCommand = false;
      this.dataWrite(value);
    }
    this.refill();
  }

  /** Controller reset: command byte, output port (A20 on) and keyboard to power-on values. */
  reset(): void {
    this.ram = new Array<number>(CONTROLLER_RAM_SIZE).fill(0);
    this.commandByte = CB_RESET;
    this.outputPort = OUT_RESET_VALUE;
    this.systemFlag = false;
    this.lastWasCommand = true;
    this.timeout = false;
    this.pendingCommand = 0;
    this.output = null;
    this.controllerQueue = [];
    this.kbd = freshKeyboard();
    this.refill();
  }

  /** The state a PC BIOS leaves: self-test passed, keyboard reset, BIOS command byte (translation on). */
  setBiosDefaults(): void {
    this.systemFlag = true;
    this.commandByte = I8042_BIOS_COMMAND_BYTE;
    this.kbd = freshKeyboard();
    this.refill();
  }

  saveState(): I8042State {
    return {
      version: 1, ram: [...this.ram], outputPort: this.outputPort, systemFlag: this.systemFlag,
      lastWasCommand: this.lastWasCommand, timeout: this.timeout, pendingCommand: this.pendingCommand,
      output: this.output ? { ...this.output } : null, lastRead: this.lastRead,
      controllerQueue: this.controllerQueue.map((e) => ({ ...e })),
      keyboard: { ...this.kbd, queue: [...this.kbd.queue] },
    };
  }

  loadState(state: I8042State): void {
    requireStateVersion(state, 1, 'the 8042 keyboard controller');
    requireSaved(Array.isArray(state.ram) && state.ram.length === CONTROLLER_RAM_SIZE && typeof state.keyboard === 'object', 'the 8042 keyboard controller', 'ram');
    this.ram = [...state.ram];
    this.outputPort = state.outputPort;
    this.systemFlag = state.systemFlag;
    this.lastWasCommand = state.lastWasCommand;
    this.timeout = state.timeout;
    this.pendingCommand = state.pendingCommand;
    this.output = state.output ? { ...state.output } : null;
    this.lastRead = state.lastRead;
    this.controllerQueue = state.controllerQueue.map((e) => ({ ...e }));
    this.kbd = { ...state.keyboard, queue: [...state.keyboard.queue] };
    this.irq1Level = false;
    this.irq12Level = false;
    this.refill();
  }

  // ---- Controller ----

  /** The controller places a byte in the output buffer, marked as coming from `source`. */
  private answer(value: number, source: Source = 'controller'): void {
    this.controllerQueue.push({ value: value & 0xff, source });
  }

  private controllerCommand(cmd: number): void {
    this.pendingCommand = 0;
    if (cmd >= CMD_READ_RAM && cmd <= CMD_READ_RAM + CMD_RAM_LAST_OFFSET) {
      this.answer(this.ram[cmd - CMD_READ_RAM]);
      return;
    }
    if (cmd >= CMD_WRITE_RAM && cmd <= CMD_WRITE_RAM + CMD_RAM_LAST_OFFSET) {
      this.pendingCommand = cmd;
      return;
    }
    if (cmd >= CMD_PULSE_FIRST) {
      if (!(cmd & OUT_RESET)) this.onReset(); // 0xFE (and any pulse including bit 0) resets the CPU
      return;
    }
    switch (cmd) {
      case CMD_AUX_DISABLE:
        this.commandByte |= CB_AUX_DISABLED;
        break;
      case CMD_AUX_ENABLE:
        this.commandByte &= ~CB_AUX_DISABLED;
        break;
      case CMD_AUX_TEST:
      case CMD_KBD_TEST:
        this.answer(INTERFACE_TEST_OK);
        break;
      case CMD_SELF_TEST:
        this.systemFlag = true;
        this.answer(SELF_TEST_OK);
        break;
      case CMD_KBD_DISABLE:
        this.commandByte |= CB_KBD_DISABLED;
        break;
      case CMD_KBD_ENABLE:
        this.commandByte &= ~CB_KBD_DISABLED;
        break;
      case CMD_READ_INPUT_PORT:
        this.answer(INPUT_PORT_VALUE);
        break;
      case CMD_READ_OUTPUT_PORT: {
        const obf = this.output ? (this.output.source === 'aux' ? OUT_AUX_OBF : OUT_KBD_OBF) : 0;
        this.answer((this.outputPort & ~(OUT_KBD_OBF | OUT_AUX_OBF)) | obf);
        break;
      }
      case CMD_WRITE_OUTPUT_PORT:
      case CMD_WRITE_KBD_BUFFER:
      case CMD_WRITE_AUX_BUFFER:
      case CMD_WRITE_AUX:
        this.pendingCommand = cmd;
        break;
      case CMD_A20_OFF:
        this.writeOutputPort(this.outputPort & ~OUT_A20);
        break;
      case CMD_A20_ON:
        this.writeOutputPort(this.outputPort | OUT_A20);
        break;
      case CMD_READ_TEST_INPUTS:
        this.answer(0);
        break;
      default:
        break; // unknown commands are ignored, as the 8042 firmware does
    }
  }

  private dataWrite(value: number): void {
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    if (cmd >= CMD_WRITE_RAM && cmd <= CMD_WRITE_RAM + CMD_RAM_LAST_OFFSET) {
      this.ram[cmd - CMD_WRITE_RAM] = value;
      if (cmd === CMD_WRITE_RAM) this.systemFlag = (value & CB_SYS) !== 0;
      return;
    }
    switch (cmd) {
      case CMD_WRITE_OUTPUT_PORT:
        this.writeOutputPort(value);
        return;
      case CMD_WRITE_KBD_BUFFER:
        this.answer(value, 'keyboard'); // written straight into the buffer, as if the keyboard sent it
        return;
      case CMD_WRITE_AUX_BUFFER:
        this.answer(value, 'aux');
        return;
      case CMD_WRITE_AUX:
        // Nothing is plugged into the auxiliary port: the transmission times out.
        this.timeout = true;
        this.answer(AUX_NO_DEVICE, 'aux');
        return;
      default:
        // A byte for the keyboard; sending to it re-enables the keyboard interface.
        this.commandByte &= ~CB_KBD_DISABLED;
        this.keyboardCommand(value);
    }
  }

  private writeOutputPort(value: number): void {
    const old = this.outputPort;
    this.outputPort = value & 0xff;
    if ((old ^ this.outputPort) & OUT_A20) this.onA20Change(this.a20());
    if (!(this.outputPort & OUT_RESET)) {
      this.outputPort |= OUT_RESET; // the reset line is a pulse; the CPU restarts
      this.onReset();
    }
  }

  /** Fills an empty output buffer: the controller's own bytes first, then keyboard data. */
  private refill(): void {
    if (!this.output) {
      const cb = this.commandByte;
      const own = this.controllerQueue.shift();
      if (own) {
        this.output = own;
      } else if (this.kbd.queue.length > 0 && !(cb & CB_KBD_DISABLED)) {
        this.output = { value: this.kbd.queue.shift() as number, source: 'keyboard' };
      }
    }
    this.updateIrqs();
  }

  /** IRQ1 follows keyboard-side data in the buffer, IRQ12 auxiliary data, each if enabled. */
  private updateIrqs(): void {
    const cb = this.commandByte;
    const src = this.output?.source;
    const irq1 = src !== undefined && src !== 'aux' && (cb & CB_KBD_INT) !== 0 && !(cb & CB_KBD_DISABLED);
    const irq12 = src === 'aux' && (cb & CB_AUX_INT) !== 0;
    if (irq1 !== this.irq1Level) {
      this.irq1Level = irq1;
      this.irq1.set(irq1);
    }
    if (irq12 !== this.irq12Level) {
      this.irq12Level = irq12;
      this.irq12.set(irq12);
    }
  }

  // ---- The PS/2 keyboard ----

  private keyboardSend(value: number): void {
    if (this.kbd.queue.length >= DEVICE_QUEUE_LIMIT) return;
    this.kbd.queue.push(value & 0xff);
    this.kbd.lastSent = value & 0xff;
  }

  private keyboardCommand(value: number): void {
    const k = this.kbd;
    const pending = k.pendingCommand;
    k.pendingCommand = 0;
    if (pending === KBD_SET_LEDS) {
      k.leds = value & KBD_LED_MASK;
      this.keyboardSend(KBD_ACK);
      return;
    }
    if (pending === KBD_TYPEMATIC) {
      k.typematic = value & KBD_TYPEMATIC_MASK;
      this.keyboardSend(KBD_ACK);
      return;
    }
    if (pending === KBD_SCANCODE_SET) {
      this.keyboardSend(KBD_ACK);
      if (value === 0) {
        const reply = SCANCODE_SET_REPLY[k.scancodeSet];
        this.keyboardSend(this.translating() ? reply : set1ToSet2([reply])[0]);
      } else if (value >= 1 && value <= 3) {
        k.scancodeSet = value;
      }
      return;
    }
    switch (value) {
      case KBD_SET_LEDS:
      case KBD_TYPEMATIC:
      case KBD_SCANCODE_SET:
        k.pendingCommand = value;
        this.keyboardSend(KBD_ACK);
        break;
      case KBD_ECHO:
        this.keyboardSend(KBD_ECHO);
        break;
      case KBD_IDENTIFY:
        this.keyboardSend(KBD_ACK);
        this.keyboardSend(KBD_ID_FIRST);
        this.keyboardSend(this.translating() ? KBD_ID_MF2_TRANSLATED : KBD_ID_MF2);
        break;
      case KBD_ENABLE:
        k.queue = [];
        k.scanning = true;
        this.keyboardSend(KBD_ACK);
        break;
      case KBD_DISABLE:
      case KBD_DEFAULTS:
        this.kbd = { ...freshKeyboard(), leds: k.leds, scanning: value === KBD_DEFAULTS };
        this.keyboardSend(KBD_ACK);
        break;
      case KBD_RESEND:
        this.keyboardSend(k.lastSent);
        break;
      case KBD_RESET:
        this.kbd = freshKeyboard();
        this.keyboardSend(KBD_ACK);
        this.keyboardSend(KBD_BAT_OK);
        break;
      default:
        if (value >= KBD_SET3_FIRST && value <= KBD_SET3_LAST) this.keyboardSend(KBD_ACK);
        else this.keyboardSend(KBD_RESEND); // not a command: ask for it again
    }
  }
}
