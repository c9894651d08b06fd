/**
 * Which tfjs backend to run on: the decision only, with every probe injected, so the order and
 * the messages can be tested on a machine without a GPU or tfjs-node.
 */
import { UserError } from '../errors.ts';

export const BACKEND_CHOICES = ['auto', 'wasm', 'webgpu', 'cpu', 'tfjs-node', 'tfjs-node-gpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

/** What a probe found: usable (and `activate` makes it the tfjs backend), or not, and why. */
export type ProbeResult =
  { available: true; detail: string; activate: () => Promise<string> } | { available: false; why: string; fix: string };

export type Probes = Record<ConcreteBackend, () => Promise<ProbeResult>>;

export interface BackendChoiceResult {
  /** The name tfjs knows the backend by (`wasm`, `webgpu`, `cpu`, `tensorflow`). */
  name: string;
  /** One line: what was chosen and why (and what was passed over). */
  reason: string;
}

/** The order `auto` tries: native TensorFlow first, then a GPU, then wasm (always there). */
export const AUTO_ORDER: readonly ConcreteBackend[] = ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm'];

export function parseBackendChoice(value: string | undefined, fallback: BackendChoice = 'auto'): BackendChoice {
  if (value === undefined) return fallback;
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new UserError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got '${value}'`);
}

export async function chooseBackend(choice: BackendChoice, probes: Probes): Promise<BackendChoiceResult> {
  if (choice !== 'auto') {
    const found = await probes[choice]();
    if (!found.available) {
      throw new UserError(`--backend ${choice} is not available: ${found.why}; ${found.fix} (or use --backend auto)`);
    }
    const name = await found.activate();
    return { name, reason: `${choice} (asked for with --backend; ${found.detail})` };
  }
  const passedOver: string[] = [];
  for (const candidate of AUTO_ORDER) {
    const found = await probes[candidate]();
    if (!found.available) {
      passedOver.push(`${candidate}: ${found.why}`);
      continue;
    }
    try {
      const name = await found.activate();
      const skipped = passedOver.length > 0 ? `; passed over ${passedOver.join('; ')}` : '';
      return { name, reason: `${candidate} (auto: ${found.detail}${skipped})` };
    } catch (error) {
      // A backend that probes fine but fails to start (a driver refusing a device, say) must not
      // stop the run: auto means "the best that works".
      passedOver.push(`${candidate}: failed to start (${(error as Error).message})`);
    }
  }
  throw new Error(`no tfjs backend could start: ${passedOver.join('; ')}`);
}
