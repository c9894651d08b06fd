/**
 * What TensorBoard serves, read over HTTP with the requests its web frontend makes
 * (`/data/runs`, `/data/plugin/<plugin>/...`).
 */
export interface ProjectorEntry {
  tensorName: string;
  tensorShape: number[];
  tensorPath?: string;
  metadataPath?: string;
  sprite?: { imagePath: string; singleImageDim: number[] };
}

/** How often a 5xx is asked again before it counts, and how long apart. */
const SERVER_ERROR_TRIES = 3;
const SERVER_ERROR_PAUSE_MS = 500;

export class Served {
  /** `log`: what the TensorBoard process printed so far, shown when a request fails. */
  constructor(
    readonly url: string,
    private readonly log: readonly string[] = [],
  ) {}

  /**
   * A 5xx is asked again, as TensorBoard's own page does on its next reload: its reload thread
   * can race a request (tensorflow/tensorboard#1201). One that persists fails with its log.
   */
  private async get(path: string): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(this.url + path);
      if (response.ok) return response;
      const body = await response.text();
      if (response.status < 500 || attempt === SERVER_ERROR_TRIES) {
        const log = this.log.join('').split('\n').slice(-40).join('\n');
        throw new Error(`GET ${path}: ${response.status} after ${attempt} tries: ${body}\nTensorBoard's log:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, SERVER_ERROR_PAUSE_MS));
    }
  }

  async json<T>(path: string): Promise<T> {
    return (await (await this.get(path)).json()) as T;
  }

  async bytes(path: string): Promise<Buffer> {
    return Buffer.from(await (await this.get(path)).arrayBuffer());
  }

  async text(path: string): Promise<string> {
    return (await this.get(path)).text();
  }

  runs(): Promise<string[]> {
    return this.json('data/runs');
  }

  /** Tags per run of one dashboard plugin ('scalars', 'images'). */
  async tags(plugin: string): Promise<Map<string, string[]>> {
    const byRun = await this.json<Record<string, Record<string, unknown>>>(`data/plugin/${plugin}/tags`);
    return new Map(Object.entries(byRun).map(([run, tags]) => [run, Object.keys(tags)]));
  }

  /** The steps of a scalar tag, in the order served. */
  async scalarSteps(run: string, tag: string): Promise<number[]> {
    const points = await this.json<[number, number, number][]>(`data/plugin/scalars/scalars?${query({ run, tag })}`);
    return points.map(([, step]) => step);
  }

  /** Each image of a tag: its step and the URL of its bytes. */
  async images(run: string, tag: string): Promise<{ step: number; path: string }[]> {
    const path = `data/plugin/images/images?${query({ run, tag })}`;
    const images = await this.json<{ step: number; query: string }[]>(path);
    return images.map((image) => ({ step: image.step, path: `data/plugin/images/individualImage?${image.query}` }));
  }

  projectorRuns(): Promise<string[]> {
    return this.json('data/plugin/projector/runs');
  }

  async projectorEntries(run: string): Promise<ProjectorEntry[]> {
    const info = await this.json<{ embeddings?: ProjectorEntry[] }>(`data/plugin/projector/info?${query({ run })}`);
    return info.embeddings ?? [];
  }

  projectorFile(what: 'tensor' | 'metadata' | 'sprite_image', run: string, name: string): Promise<Buffer> {
    return this.bytes(`data/plugin/projector/${what}?${query({ run, name })}`);
  }
}

function query(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}
