// node-opcua's own client as the reference in FactoryGateway's OPC UA load run
// (benchmarks/Gateway.Benchmarks `load-opcua`): subscribes to n bulk variables of opcua-server.mjs.
// Usage: node opcua-load-client.mjs --endpoint <url> --items <n> [--interval <ms>]
// Prints "SUBSCRIBED" once every item reported its first value; on SIGUSR1 prints
// "MARK <notifications> <lost> <messages>"; stops on SIGTERM/SIGINT. Lost = sequence numbers that
// never arrived plus values that did not increase (the bulk variables only ever count up).
import { OPCUAClient, ClientMonitoredItemGroup, AttributeIds, TimestampsToReturn, MessageSecurityMode, SecurityPolicy } from "node-opcua";
import { arg } from "./args.mjs";

const endpoint = arg("endpoint", undefined);
const items = Number.parseInt(arg("items", "0"), 10);
const interval = Number.parseInt(arg("interval", "1000"), 10);
if (!endpoint || !items) {
  console.error("usage: node opcua-load-client.mjs --endpoint <url> --items <n> [--interval <ms>]");
  process.exit(2);
}

const client = OPCUAClient.create({
  applicationName: "node-opcua load client",
  securityMode: MessageSecurityMode.None,
  securityPolicy: SecurityPolicy.None,
  endpointMustExist: false,
  connectionStrategy: { maxRetry: 3, initialDelay: 500 },
});
await client.connect(endpoint);
const session = await client.createSession();
const subscription = await session.createSubscription2({
  requestedPublishingInterval: interval,
  requestedLifetimeCount: 60,
  requestedMaxKeepAliveCount: 10,
  maxNotificationsPerPublish: 0,
  publishingEnabled: true,
  priority: 0,
});

let notifications = 0;
let lost = 0;
let messages = 0;
let lastSequence = 0;
const last = new Float64Array(items).fill(Number.NEGATIVE_INFINITY);
const seen = new Uint8Array(items);
let first = 0;

subscription.on("raw_notification", (message) => {
  messages += 1;
  const sequence = message.sequenceNumber;
  if (lastSequence !== 0 && sequence > lastSequence + 1) lost += sequence - lastSequence - 1;
  lastSequence = sequence;
});

const toMonitor = [];
for (let i = 0; i < items; i++) {
  toMonitor.push({ nodeId: `ns=1;s=Bulk.${String(i).padStart(4, "0")}`, attributeId: AttributeIds.Value });
}
const group = ClientMonitoredItemGroup.create(subscription, toMonitor, { samplingInterval: interval, discardOldest: true, queueSize: 1 }, TimestampsToReturn.Both);
let subscribed = false;
group.on("changed", (_item, dataValue, index) => {
  notifications += 1;
  const value = dataValue.value.value;
  if (value <= last[index]) lost += 1;
  last[index] = value;
  if (!seen[index]) {
    seen[index] = 1;
    first += 1;
    if (first === items && !subscribed) {
      subscribed = true;
      console.log("SUBSCRIBED");
    }
  }
});

process.on("SIGUSR1", () => console.log(`MARK ${notifications} ${lost} ${messages}`));

async function stop() {
  try {
    await subscription.terminate();
    await session.close();
    await client.disconnect();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
