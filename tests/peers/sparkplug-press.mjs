// A Sparkplug B edge node with one machine for the edge agent's tests: npm sparkplug-client (Eclipse Tahu's
// JavaScript client) as edge node "--node", device "press" whose birth certificate carries its nameplate.
// Usage: node sparkplug-press.mjs --port <port> --group <group> --node <edge node> --client-id <id>
// Prints "BIRTH <n>" after each NBIRTH+DBIRTH (a Rebirth NCMD causes the next) and "DONE <n> <command>"
// after the n-th command read from stdin, one per line:
//   ddata (Counter and Spindle by alias, the n-th with Counter 100+n at T0+n s) | ddata-bad (Spindle with
//   Quality 0, Counter null) | ddata-stale (Spindle with Quality 500) | ndata (Temperature of the node itself) |
//   ddeath | dbirth | stop
import readline from "node:readline";
import sparkplug from "sparkplug-client";
import { requiredArg as arg } from "./args.mjs";

// Fixed values, mirrored by the C# test.
const T0 = 1700000000000;

const client = sparkplug.newClient({
  serverUrl: `mqtt://127.0.0.1:${arg("port")}`,
  username: "",
  password: "",
  groupId: arg("group"),
  edgeNode: arg("node"),
  clientId: arg("client-id"),
  version: "spBv1.0",
  publishDeath: true,
});

function deviceBirth() {
  client.publishDeviceBirth("press", {
    timestamp: T0,
    metrics: [
      { name: "Properties/Manufacturer", type: "String", value: "Acme Presses" },
      { name: "Properties/Model", type: "String", value: "HP-400" },
      { name: "Properties/SerialNumber", type: "String", value: "SN-0042" },
      { name: "Counter", alias: 1, type: "UInt32", value: 100, timestamp: T0 },
      { name: "Spindle", alias: 2, type: "Double", value: 0.0, timestamp: T0 },
    ],
  });
}

let births = 0;
let ddata = 0;
function birth() {
  client.publishNodeBirth({ timestamp: T0, metrics: [{ name: "Node Control/Rebirth", type: "Boolean", value: false }, { name: "Temperature", type: "Float", value: 20.5 }] });
  deviceBirth();
  births++;
  console.log(`BIRTH ${births}`);
}

client.on("birth", birth);
client.on("error", (e) => console.log(`ERROR ${e.message}`));
client.on("ncmd", (payload) => {
  const rebirth = (payload.metrics || []).find((m) => m.name === "Node Control/Rebirth");
  if (rebirth && rebirth.value === true) {
    birth();
  }
});

const commands = {
  async ddata() {
    ddata++;
    const t = T0 + ddata * 1000;
    client.publishDeviceData("press", {
      timestamp: t,
      metrics: [
        { alias: 1, type: "UInt32", value: 100 + ddata, timestamp: t },
        { alias: 2, type: "Double", value: 1000.5 + ddata },
      ],
    });
  },
  async "ddata-bad"() {
    client.publishDeviceData("press", {
      timestamp: T0 + 60000,
      metrics: [
        { alias: 2, type: "Double", value: 7.5, properties: { Quality: { type: "Int32", value: 0 } } },
        { alias: 1, type: "UInt32", value: null, isNull: true },
      ],
    });
  },
  async "ddata-stale"() {
    client.publishDeviceData("press", {
      timestamp: T0 + 65000,
      metrics: [{ alias: 2, type: "Double", value: 8.5, properties: { Quality: { type: "Int32", value: 500 } } }],
    });
  },
  async ndata() {
    client.publishNodeData({ timestamp: T0 + 70000, metrics: [{ name: "Temperature", type: "Float", value: 21.25 }] });
  },
  async ddeath() {
    client.publishDeviceDeath("press", { timestamp: T0 + 80000, metrics: [] });
  },
  async dbirth() {
    deviceBirth();
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
