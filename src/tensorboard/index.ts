/**
 * The TensorBoard layer of embedding-timelapse: everything the other folders write to
 * TensorBoard goes through here. Layering and files: README.md in this folder.
 */
export { UserError } from '../errors.ts';
export { crc32c, maskedCrc32c, maskCrc } from './crc32c.ts';
export { frameRecord, RecordWriter } from './record-writer.ts';
export { scanRecords, type RawRecord, type RecordScan } from './record-reader.ts';
export { EventFileWriter, eventFileName, FILE_VERSION, type EventFileWriterOptions } from './event-file-writer.ts';
export {
  readEventFile,
  readEventFileDetailed,
  readRunEvents,
  readEvents,
  listEventFiles,
  listRuns,
  lastStepsByTag,
  isEventFileName,
  PROJECTOR_CONFIG_FILE,
  type EventFileContents,
  type RunInfo,
} from './event-reader.ts';
export { SummaryWriter, summaryFileWriter, type SummaryWriterOptions } from './summary-writer.ts';
export {
  scalarValue,
  histogramValue,
  imageValue,
  textValue,
  type DisplayOptions,
  type RgbaImage,
} from './summaries.ts';
export { bucketize, DEFAULT_BUCKET_COUNT, type HistogramBucket } from './histogram.ts';
export { pluginOf, scalarOf, imagesOf, histogramOf, textOf, tensorNumbers, type SummaryPng } from './interpret.ts';
export { encodePng, decodePng, isPng, readPngHeader, type DecodedPng, type PngHeader } from './png.ts';
export {
  ProjectorWriter,
  writeMetadataTsv,
  writeSprite,
  spritePng,
  layoutSprite,
  spriteGrid,
  metadataTsv,
  tensorTsv,
  formatFloat32,
  formatProjectorConfig,
  parseProjectorConfig,
  safeFileName,
  MAX_SPRITE_PIXELS,
  type AddEmbeddingOptions,
  type SpriteGrid,
} from './projector.ts';
export {
  encodeEvent,
  decodeEvent,
  eventToJson,
  protoType,
  type Event,
  type ReadEvent,
  type Summary,
  type SummaryValue,
  type SummaryMetadata,
  type SummaryImage,
  type TensorProto,
  type TensorShapeProto,
  type HistogramProto,
  type DataTypeName,
  type ProjectorConfig,
  type EmbeddingInfo,
  type SpriteMetadata,
} from './protos.ts';
export { tensorboardCommand, TENSORBOARD_FLAGS, IMAGES_KEPT_PER_TAG } from './command.ts';
export { summarizeLogdir, summarizeRun, type RunSummary, type TagSummary, type ProjectorSummary } from './summarize.ts';
