// A Sparkplug B edge node for FactoryGateway's tests: npm sparkplug-client (Eclipse Tahu's JavaScript
// client) as the edge node, one device "dev1", metrics of every scalar datatype plus Bytes, File,
// DataSet and Template.
// Usage: node sparkplug-edge.mjs --port <port> --group <group> --node <edge node> --client-id <id>
// Prints "BIRTH <n>" after each NBIRTH+DBIRTH (n counts births; a Rebirth NCMD causes the next),
// "REBIRTH-REQUEST" when an NCMD Node Control/Rebirth=true arrives, and "DONE <n> <command>" after the
// n-th command read from stdin, one per line:
//   ndata | ddata | ddeath | gap (a raw NDATA whose seq skips 5) | stale-ndeath (a raw NDEATH, bdSeq 99) | stop
//   ddata-no-datatype (a raw DDATA, in sequence, whose metrics carry alias and value only)
import readline from "node:readline";
import sparkplug from "sparkplug-client";
import sparkplugPayload from "sparkplug-payload";
import sparkplugProto from "sparkplug-payload/lib/sparkplugPayloadProto.js";
import { requiredArg as arg } from "./args.mjs";

const port = arg("port");
const group = arg("group");
const node = arg("node");
const payloads = sparkplugPayload.get("spBv1.0");

// Fixed values, mirrored by the C# test that checks what the host decoded.
export const T0 = 1700000000000;

function nodeMetrics() {
  return [
    { name: "Node Control/Rebirth", type: "Boolean", value: false },
    { name: "Properties/Int8", type: "Int8", value: -5 },
    { name: "Properties/Int16", type: "Int16", value: -1234 },
    { name: "Properties/Int32", type: "Int32", value: -123456 },
    { name: "Properties/Int64", type: "Int64", value: -1234567890123 },
    { name: "Properties/UInt8", type: "UInt8", value: 200 },
    { name: "Properties/UInt16", type: "UInt16", value: 60000 },
    { name: "Properties/UInt32", type: "UInt32", value: 4000000000 },
    { name: "Properties/UInt64", type: "UInt64", value: 9007199254740991 },
    { name: "Properties/Float", type: "Float", value: 1.5 },
    { name: "Properties/Double", type: "Double", value: 3.141592653589793 },
    { name: "Properties/Boolean", type: "Boolean", value: true },
    { name: "Properties/String", type: "String", value: "hello, Sparkplug" },
    { name: "Properties/DateTime", type: "DateTime", value: T0 + 123 },
    { name: "Properties/Text", type: "Text", value: "a longer text\nwith two lines" },
    { name: "Properties/UUID", type: "UUID", value: "2f1c4b6e-8a7d-4c3b-9e2f-1a2b3c4d5e6f" },
    { name: "Properties/Bytes", type: "Bytes", value: Buffer.from([1, 2, 3, 255]) },
    {
      name: "Properties/File", type: "File", value: Buffer.from("file body"),
      metadata: { fileName: "notes.txt", fileType: "text/plain", size: 9 },
    },
    {
      name: "Properties/DataSet", type: "DataSet",
      value: {
        numOfColumns: 3, columns: ["id", "name", "level"], types: ["Int32", "String", "Double"],
        rows: [[1, "tank A", 0.25], [2, "tank B", 0.75]],
      },
    },
    {
      name: "Properties/Template", type: "Template",
      value: {
        version: "1.0", templateRef: "Motor", isDefinition: false,
        metrics: [{ name: "RPM", type: "Int32", value: 1450 }, { name: "Running", type: "Boolean", value: true }],
        parameters: [{ name: "Rated", type: "Float", value: 7.5 }],
      },
    },
    { name: "Properties/Null", type: "Int32", value: null },
  ];
}

function deviceMetrics() {
  return [
    {
      name: "Temperature", alias: 1, type: "Double", value: 21.5, timestamp: T0,
      properties: {
        engUnit: { type: "String", value: "degC" },
        Quality: { type: "Int32", value: 192 },
        limits: { type: "PropertySet", value: { low: { type: "Double", value: -20 }, high: { type: "Double", value: 120 } } },
      },
    },
    { name: "Counter", alias: 2, type: "UInt32", value: 7, timestamp: T0 },
    { name: "Status", alias: 3, type: "String", value: "RUN", timestamp: T0 },
  ];
}

const client = sparkplug.newClient({
  serverUrl: `mqtt://127.0.0.1:${port}`,
  username: "",
  password: "",
  groupId: group,
  edgeNode: node,
  clientId: arg("client-id"),
  version: "spBv1.0",
  publishDeath: true,
});

let births = 0;
let ddataCount = 0;

function birth() {
  client.publishNodeBirth({ timestamp: T0, metrics: nodeMetrics() });
  client.publishDeviceBirth("dev1", { timestamp: T0, metrics: deviceMetrics() });
  births++;
  console.log(`BIRTH ${births}`);
}

client.on("birth", birth);
client.on("error", (e) => console.log(`ERROR ${e.message}`));
client.on("ncmd", (payload) => {
  const rebirth = (payload.metrics || []).find((m) => m.name === "Node Control/Rebirth");
  if (rebirth && rebirth.value === true) {
    console.log("REBIRTH-REQUEST");
    birth();
  }
});

function raw(topic, payload) {
  return new Promise((resolve, reject) =>
    client.client.publish(topic, Buffer.from(payloads.encodePayload(payload)), { qos: 0 }, (e) => (e ? reject(e) : resolve())));
}

const commands = {
  async ndata() {
    client.publishNodeData({ timestamp: T0 + 1000, metrics: [{ name: "Properties/Int32", type: "Int32", value: 42 }] });
  },
  async ddata() {
    ddataCount++;
    // By alias only, as Sparkplug edge nodes do after the birth certificate.
    client.publishDeviceData("dev1", {
      timestamp: T0 + 2000,
      metrics: [
        { alias: 1, type: "Double", value: 21.5 + ddataCount, timestamp: T0 + 2000 + ddataCount },
        { alias: 2, type: "UInt32", value: 7 + ddataCount, timestamp: T0 + 2000 + ddataCount },
      ],
    });
  },
  async ddeath() {
    client.publishDeviceDeath("dev1", { timestamp: T0 + 3000, metrics: [] });
  },
  async gap() {
    // A raw NDATA whose seq skips five: the library's own counter is left as it was.
    await raw(`spBv1.0/${group}/NDATA/${node}`, {
      timestamp: T0 + 4000,
      seq: (client.seq + 5) % 256,
      metrics: [{ name: "Properties/Int32", type: "Int32", value: 99 }],
    });
  },
  async "ddata-no-datatype"() {
    // The specification lets DATA metrics leave out the datatype; sparkplug-payload always writes it, so
    // this one is encoded with the generated protobuf type directly, with the library's next seq.
    const Payload = sparkplugProto.org.eclipse.tahu.protobuf.Payload;
    const payload = Payload.fromObject({
      timestamp: T0 + 6000,
      seq: client.incrementSeqNum(),
      metrics: [{ alias: 1, doubleValue: 30.5 }, { alias: 2, longValue: 9 }],
    });
    await new Promise((resolve, reject) =>
      client.client.publish(`spBv1.0/${group}/DDATA/${node}/dev1`, Buffer.from(Payload.encode(payload).finish()), { qos: 0 }, (e) => (e ? reject(e) : resolve())));
  },
  async "stale-ndeath"() {
    await raw(`spBv1.0/${group}/NDEATH/${node}`, {
      timestamp: T0 + 5000,
      metrics: [{ name: "bdSeq", type: "UInt64", value: 99 }],
    });
  },
  async stop() {
    client.stop();
  },
};

const input = readline.createInterface({ input: process.stdin });
let done = 0;
for await (const line of input) {
  const command = commands[line.trim()];
  if (!command) {
    console.log(`UNKNOWN ${line}`);
    continue;
  }
  await command();
  done++;
  console.log(`DONE ${done} ${line.trim()}`);
  if (line.trim() === "stop") {
    break;
  }
}
