/**
 * The messages between the trainer and its worker threads. They carry only small control data
 * (which slice, which step); images, gradients and weights travel through the shared buffers of
 * exchange.ts.
 */
import type { ModelOptions } from '../../model/resnet.ts';
import type { ExchangeBuffers } from './exchange.ts';

export interface InitMessage {
  type: 'init';
  /** 0-based; messages to the user count from 1. */
  index: number;
  workers: number;
  /** The tfjs backend the trainer runs on (`wasm`, or `cpu` in tests). */
  backend: string;
  model: ModelOptions;
  /** The trainer's weights, names and shapes in row order, to check the replica against. */
  trainable: { name: string; shape: number[] }[];
  moving: { name: string; shape: number[] }[];
  buffers: ExchangeBuffers;
  numClasses: number;
  /** False: batch norm on the moving statistics (tests), see `computeGradients`. */
  training: boolean;
}

export interface StepMessage {
  type: 'step';
  id: number;
  start: number;
  count: number;
  /** The version of the shared weights; a worker holding an older one loads them first. */
  weightsVersion: number;
}

export interface ChecksumMessage {
  type: 'checksum';
  id: number;
  weightsVersion: number;
}

/** Average `[from, to)` of the first `shares.length` gradient rows into the shared average. */
export interface ReduceMessage {
  type: 'reduce';
  id: number;
  from: number;
  to: number;
  shares: number[];
}

export type ToWorker = InitMessage | StepMessage | ChecksumMessage | ReduceMessage;

export type FromWorker =
  | { type: 'ready'; index: number }
  | { type: 'stepped'; id: number }
  | { type: 'reduced'; id: number }
  | { type: 'checksum'; id: number; checksum: string }
  | { type: 'failed'; message: string; stack?: string };
