// A third-party JSON publisher for FactoryGateway's tests: npm mqtt (MQTT.js) publishing the messages of
// a file, in order, at QoS 1, then disconnecting.
// Usage: node mqtt-json-publish.mjs --port <port> --messages <file: [{"topic": "...", "payload": "..."}]>
// The payloads are strings sent as they are (so a test can send malformed JSON). Prints "PUBLISHED <n>".
import { readFile } from "node:fs/promises";
import mqtt from "mqtt";
import { requiredArg as arg } from "./args.mjs";

const messages = JSON.parse(await readFile(arg("messages"), "utf8"));
const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${arg("port")}`, { clientId: `json-pub-${process.pid}`, protocolVersion: 5 });
for (const m of messages) {
  await client.publishAsync(m.topic, m.payload, { qos: 1 });
}
console.log(`PUBLISHED ${messages.length}`);
await client.endAsync();
