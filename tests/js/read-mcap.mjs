// Independent MCAP check for the .NET tests: reads a file with @mcap/core's indexed reader (footer, summary,
// chunk indexes, message indexes, all CRCs) and its stream reader (every record in file order), and verifies the
// Data End CRC. Prints one JSON object: header, statistics, per-topic counts and schemas, and the first decoded
// message of each topic (JSON messages parsed).
// Usage: node read-mcap.mjs FILE.mcap
import { open, readFile } from "node:fs/promises";
import { McapIndexedReader, McapStreamReader } from "@mcap/core";
import { crc32 } from "@foxglove/crc";

const path = process.argv[2];
if (!path) {
  console.error("usage: node read-mcap.mjs FILE.mcap");
  process.exit(2);
}

const handle = await open(path, "r");
const readable = {
  size: async () => BigInt((await handle.stat()).size),
  read: async (offset, size) => {
    const buffer = new Uint8Array(Number(size));
    const { bytesRead } = await handle.read(buffer, 0, Number(size), Number(offset));
    if (bytesRead !== Number(size)) throw new Error(`short read at ${offset}`);
    return buffer;
  },
};
const reader = await McapIndexedReader.Initialize({ readable });
const decoder = new TextDecoder();
const topics = {};
const first = {};
let lastLogTime = -1n;
let ordered = true;
for await (const message of reader.readMessages({ validateCrcs: true })) {
  const channel = reader.channelsById.get(message.channelId);
  const schema = reader.schemasById.get(channel.schemaId);
  const t = (topics[channel.topic] ??= { count: 0, schema: schema?.name ?? null, schemaEncoding: schema?.encoding ?? null, messageEncoding: channel.messageEncoding });
  t.count++;
  if (message.logTime < lastLogTime) ordered = false;
  lastLogTime = message.logTime;
  if (!(channel.topic in first)) {
    first[channel.topic] = { logTime: message.logTime.toString(), sequence: message.sequence, data: JSON.parse(decoder.decode(message.data)) };
  }
}

const metadata = {};
for await (const m of reader.readMetadata()) metadata[m.name] = Object.fromEntries(m.metadata);
await handle.close();

// Second, independent pass: every record in file order.
const bytes = await readFile(path);
const stream = new McapStreamReader({ validateCrcs: true, includeChunks: true });
stream.append(bytes);
const streamCounts = {};
let dataEndCrcOk = null;
let offset = 8; // after the leading magic
for (let record; (record = stream.nextRecord()); ) {
  streamCounts[record.type] = (streamCounts[record.type] ?? 0) + 1;
  if (record.type === "DataEnd") dataEndCrcOk = record.dataSectionCrc === 0 || record.dataSectionCrc === crc32(bytes.subarray(0, dataEndOffset()));
}
if (!stream.done()) throw new Error("stream reader did not reach the end magic");

function dataEndOffset() {
  // The Data End record is the one just before the summary: footer.summaryStart - 13 bytes (opcode + length + crc).
  return Number(reader.footer.summaryStart) - 13;
}

const s = reader.statistics;
console.log(JSON.stringify({
  header: { profile: reader.header.profile, library: reader.header.library },
  statistics: s && {
    messageCount: Number(s.messageCount), schemaCount: s.schemaCount, channelCount: s.channelCount,
    chunkCount: s.chunkCount, metadataCount: s.metadataCount,
    messageStartTime: s.messageStartTime.toString(), messageEndTime: s.messageEndTime.toString(),
    channelMessageCounts: Object.fromEntries([...s.channelMessageCounts].map(([id, n]) => [reader.channelsById.get(id).topic, Number(n)])),
  },
  chunkIndexes: reader.chunkIndexes.length,
  ordered,
  topics,
  first,
  metadata,
  streamCounts,
  dataEndCrcOk,
}));
