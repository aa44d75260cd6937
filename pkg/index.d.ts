// The types of gatito's API (index.js). The wasm module's own types are in wasm/gatito.d.ts;
// a page never needs them: the worker owns the module.

export type ErrorCode = "no_model" | "no_tokens" | "missing" | "corrupt" | "bad_input" | "crashed" | "aborted" | "disposed";

export class GatitoError extends Error {
  constructor(code: ErrorCode, message: string);
  readonly name: "GatitoError";
  readonly code: ErrorCode;
}

export type Backend = "auto" | "webgpu" | "cpu";

export interface LoadOptions {
  /** The folder with the model's files and manifest.json, relative to the page or absolute. */
  model: string | URL;
  /** "auto": WebGPU on a hardware adapter, else the CPU (the default). */
  backend?: Backend;
  /** Called while model files download (and again if a restarted worker loads them). */
  progress?: (progress: Progress) => void;
}

export interface Progress {
  file: string;
  loaded: number;
  total: number;
}

export interface Loaded {
  tokens: { ok: true; vocabularySize: number } | { ok: false; error: string };
  weights: { shipped: boolean; ok: true; parameters: number } | { shipped: boolean; ok: false; reason: string };
}

export interface BackendReport {
  want: Backend;
  active: "webgpu" | "cpu";
  /** Why it runs where it does, in a sentence. */
  reason: string;
  adapter?: string;
}

/** Something that is an image: drawable, an encoded file, its URL, or an `agent.image()` picture. */
export type ImageInput = ImageBitmap | HTMLCanvasElement | OffscreenCanvas | HTMLImageElement | VideoFrame | Blob | string | URL | Picture;

export interface Interval {
  lo: number;
  hi: number;
}

/** An image decoded, centre-cropped, shrunk to 64x64 and cut into 16x16 patches. */
export interface Picture {
  /** The source's width and height. */
  source: [number, number];
  input: number;
  patch_size: number;
  grid: [number, number];
  patches: Array<{ index: number; row: Interval; col: Interval; row_bin: number; col_bin: number; first_values: number[] }>;
  /** The 64x64 RGB model input. */
  rgb: Uint8Array;
}

export type Modality = "text" | "patch" | "value" | "separator" | "action";

export interface ValueToken {
  source: "observation" | "discrete" | "action";
  value: number;
  bin: number;
  decoded: number;
}

export interface SequenceElement {
  modality: Modality;
  /** The token id, or for a patch its index among the sequence's patches. */
  id: number;
  position: number;
  /** Whether training puts a loss on it. */
  loss: boolean;
  /** The element in a few characters. */
  label: string;
  value?: ValueToken;
  patch?: { index: number; row: number; col: number };
}

/** A timestep or an image sentence, element by element. */
export interface Sequence {
  elements: SequenceElement[];
  /** The 64x64 RGB image the patches were cut from, if any. */
  rgb?: Uint8Array;
}

export interface TextTokens {
  ids: number[];
  pieces: string[];
}

export interface ValueTokens {
  kind: "observation" | "action";
  bins: number[];
  ids: number[];
  decoded: number[];
}

export type ActionSpec = { type: "discrete"; labels: string[] } | { type: "continuous"; dims: number };

export interface WorldSpec {
  name: string;
  kind: "atari" | "control" | "grid";
  action: ActionSpec;
  description: string;
  max_steps: number;
}

export interface Mission {
  text: string;
  /** Training never pairs its verb with its object. */
  held_out: boolean;
}

export interface Scores {
  mean: number;
  std: number;
  scores: number[];
}

export interface References {
  episodes: number;
  seed: number;
  expert: Scores;
  random: Scores;
}

export interface Scene {
  png: Uint8Array;
  caption: string;
  questions: Array<{ question: string; answer: string }>;
}

/** Who acts: the trained model, the scripted expert, random play, or a person (`held`, `step`). */
export type Actor = "model" | "expert" | "random" | "you";

export type Action = { discrete: number[] } | { continuous: number[] };

export interface Frame {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export interface StepReport {
  step: number;
  reward: number;
  score: number;
  done: boolean;
  action: {
    label?: string;
    values: ValueToken[];
    choice: "one_hot" | "uniform" | "model";
    /** For discrete actions, the probability the actor gave each one. */
    probabilities?: number[];
    /** For the model's continuous actions, the probability it gave each chosen bin. */
    confidence?: number[];
    backend?: "cpu" | "gpu";
  };
}

export interface Step {
  report: StepReport;
  /** The reward of every step since the last event (a tick may take several). */
  rewards: number[];
  frame: Frame;
  /** null when the tokenizer failed to load. */
  tokens: Sequence | null;
  timing: { stepMs: number; tokenMs: number; elements: number; model: boolean };
  running: boolean;
}

export interface PlayOptions {
  /** Each frame is drawn on it as it comes. */
  canvas?: HTMLCanvasElement | OffscreenCanvas | null;
  /** Steps per second; Infinity runs as fast as it goes. Default 10. */
  speed?: number;
  /** Default: "model" when the weights loaded, else "expert". */
  actor?: Actor;
  seed?: number;
  /** Whether it starts at once (default true). */
  running?: boolean;
}

export interface EpisodeChanges {
  actor?: Actor;
  speed?: number;
  running?: boolean;
  /** The action a person holds down, for actor "you"; null waits for one. */
  held?: Action | null;
}

export interface SessionInfo {
  spec: WorldSpec;
  seed: number;
  mission?: Mission;
}

export interface EventMap {
  progress: Progress;
  backend: BackendReport;
  restart: { reason: string; error?: GatitoError };
}

export class Agent {
  private constructor();
  /** What the last load found. */
  readonly loaded: Loaded;
  readonly backend: BackendReport;
  /** Loads the model again into the worker and applies the chosen backend. */
  reload(): Promise<void>;
  on<K extends keyof EventMap>(type: K, listener: (event: EventMap[K]) => void): () => void;
  useBackend(want: Backend): Promise<BackendReport>;

  image(image: ImageInput): Promise<Picture>;
  caption(image: ImageInput, options?: { onText?: (textSoFar: string) => void }): Promise<string>;
  ask(image: ImageInput, question: string, options?: { onText?: (textSoFar: string) => void }): Promise<string>;
  /** Yields the text so far as it grows; with a question, the answer. */
  stream(image: ImageInput, question?: string | null): AsyncGenerator<string, void, undefined>;
  tokens(text: string): Promise<TextTokens>;
  tokens(values: { values: number[]; action?: boolean }): Promise<ValueTokens>;
  tokens(sentence: { image: ImageInput; question?: string }): Promise<Sequence>;
  /** The tokens of an observation, as a controller reads it, up to the separator. */
  tokens(observation: { observation: Observation }): Promise<Sequence>;

  worlds(): Promise<WorldSpec[]>;
  references(world: string): Promise<References>;
  missions(options?: { count?: number; seed?: number }): Promise<Mission[]>;
  sample(seed?: number): Promise<Scene>;
  play(world: string | { mission: string }, options?: PlayOptions): Promise<Episode>;

  /** The benchmark's report (crate/src/web/bench.rs). */
  /** The model acting for a game or body of the page's own, keeping the episode's observations. */
  control(actions: ActionSpace, options?: { seed?: number }): Promise<Controller>;
  /** One action for one observation, with no episode before it. */
  act(observation: Observation, actions: ActionSpace): Promise<Acted>;

  bench(options?: { backend?: "cpu" | "webgpu"; steps?: number }): Promise<Record<string, unknown>>;
  /** The worker's wasm memory in bytes, and each model step's time in ms since the last call. */
  stats(): Promise<{ wasmBytes: number; stepMs: number[] }>;
  diagnose(what: "crash" | "lose-device"): Promise<void>;

  abort(): void;
  dispose(): void;
}

export interface EpisodeEventMap {
  step: Step;
  error: GatitoError;
}

export class Episode {
  private constructor();
  readonly info: SessionInfo;
  readonly frame: Frame;
  readonly tokens: Sequence | null;
  /** null before the first step. */
  readonly report: StepReport | null;
  readonly running: boolean;
  on<K extends keyof EpisodeEventMap>(type: K, listener: (event: EpisodeEventMap[K]) => void): () => void;
  /** Resolves with whether it runs. */
  set(changes: EpisodeChanges): Promise<boolean>;
  pause(): Promise<boolean>;
  resume(): Promise<boolean>;
  step(action: Action): Promise<{ done: boolean }>;
  push(x: number, y: number): Promise<void>;
  stop(): Promise<void>;
}

/** A page's own action space: one of 0..n, or d values in [-1, 1]. */
export type ActionSpace = { discrete: number } | { continuous: number };

/** What a page's own body shows the model; at least one part. */
export interface Observation {
  /** A mission or instruction, at most 4096 characters. */
  text?: string;
  image?: ImageInput;
  /** Continuous values, mu-law companded into bins. */
  values?: number[];
  /** Integers in 0..1023. */
  discrete?: number[];
}

export interface Acted {
  action: Action;
  /** Discrete: the probability of each action. Continuous: that of each value's chosen bin. */
  probabilities: number[];
  /** Where the model decided. */
  backend: "cpu" | "gpu";
}

export class Controller {
  private constructor();
  /** Observes, then decodes one action. */
  act(observation: Observation): Promise<Acted>;
  /** Forgets the episode: the next observation begins a new one. */
  reset(): Promise<void>;
  /** Lets the body go; later calls on it reject. */
  release(): Promise<void>;
}

export function load(options: LoadOptions): Promise<Agent>;

/** Draws a frame on a canvas, scaled up without smoothing; returns it at its own size. */
export function drawFrame(canvas: HTMLCanvasElement | OffscreenCanvas, frame: Frame): OffscreenCanvas;
