// A JSON device publisher at a steady rate for FactoryGateway's tests: npm mqtt (MQTT.js) publishing, for each
// device, message n = 0, 1, 2, … as {"ts": <start-ts + n * step-ms>, "n": n} to <prefix>/<device>/telemetry at
// QoS 1, one message per device every 1/rate s of wall-clock time (on a fixed schedule: a late send does not
// shift the ones after it), for the given number of seconds, then disconnecting.
// Usage: node mqtt-steady-publish.mjs --port <port> --prefix <topic prefix> --devices <a,b,…> --rate <per s>
//          --seconds <s> --start-ts <ms> --step-ms <ms>
// Prints "PUBLISHED <messages> <elapsed ms>" when every message is acknowledged.
import mqtt from "mqtt";
import { requiredArg as arg } from "./args.mjs";

const prefix = arg("prefix");
const devices = arg("devices").split(",");
const rate = Number(arg("rate"));
const seconds = Number(arg("seconds"));
const startTs = Number(arg("start-ts"));
const stepMs = Number(arg("step-ms"));
const count = Math.round(rate * seconds);

const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${arg("port")}`, { clientId: `steady-pub-${process.pid}`, protocolVersion: 5 });
const begin = performance.now();
for (let n = 0; n < count; n++) {
  const due = begin + (n * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) {
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const payload = JSON.stringify({ ts: startTs + n * stepMs, n });
  await Promise.all(devices.map((d) => client.publishAsync(`${prefix}/${d}/telemetry`, payload, { qos: 1 })));
}
// The schedule's last slot ends one period after the last message.
const end = begin + (count * 1000) / rate;
if (end > performance.now()) {
  await new Promise((resolve) => setTimeout(resolve, end - performance.now()));
}
console.log(`PUBLISHED ${count * devices.length} ${Math.round(performance.now() - begin)}`);
await client.endAsync();
