// A node-opcua client for FactoryGateway's tests: a third-party OPC UA peer against our server.
// Usage: node opcua-client.mjs --endpoint <url> --pki <dir> [--user <name:password>]
//          [--security <Basic256Sha256:Sign|SignAndEncrypt> --certificate <pem> --key <pem> --application-uri <uri>]
//          [--browse <nodeId>]... [--read <nodeId>]... [--subscribe <nodeId> --count <n>]
//   --security   connects with that SecurityPolicy and MessageSecurityMode, using the given client
//                certificate and PKCS#8 key (PEM) whose SubjectAltName names --application-uri
//   --browse     browses the node's forward hierarchical references
//   --read       reads the node's Value, DisplayName, BrowseName, NodeClass and DataType
//   --subscribe  monitors the node's Value (sampling 0, queue 1000) until <n> data changes arrived
// Prints one JSON object per line (each with "ms" since start): {"event":"session"}, {"event":"browse",...}, {"event":"read",...},
// {"event":"subscribed"}, {"event":"change",...}, {"event":"done"}; on failure {"event":"error",...} and exit code 1.
import {
  OPCUAClient, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, AttributeIds, NodeClass,
  TimestampsToReturn, ClientSubscription, ClientMonitoredItem, UserTokenType, BrowseDirection,
} from "node-opcua";

function args(name) {
  const values = [];
  for (let i = 0; i < process.argv.length - 1; i++) {
    if (process.argv[i] === `--${name}`) values.push(process.argv[i + 1]);
  }
  return values;
}

const endpoint = args("endpoint")[0];
const pki = args("pki")[0];
if (!endpoint || !pki) {
  console.error("usage: node opcua-client.mjs --endpoint <url> --pki <dir> ...");
  process.exit(2);
}

const started = Date.now();
const print = (o) => console.log(JSON.stringify({ ...o, ms: Date.now() - started }));
const text = (v) => (typeof v === "bigint" ? v.toString() : v);

function plain(value) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value, plain);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object" && "text" in value) return value.text;
  if (typeof value === "object" && "name" in value && "namespaceIndex" in value) return `${value.namespaceIndex}:${value.name}`;
  if (typeof value === "object" && typeof value.toString === "function" && value.constructor?.name === "NodeId") return value.toString();
  return text(value);
}

const [policyName, modeName] = (args("security")[0] ?? "None:None").split(":");
const secure = policyName !== "None";
const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true });
const client = OPCUAClient.create({
  applicationName: "FactoryGatewayTestClient",
  endpointMustExist: false,
  securityMode: MessageSecurityMode[modeName],
  securityPolicy: SecurityPolicy[policyName],
  ...(secure ? { certificateFile: args("certificate")[0], privateKeyFile: args("key")[0], applicationUri: args("application-uri")[0] } : {}),
  connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
  clientCertificateManager,
  keepSessionAlive: false,
});

let session;
try {
  await client.connect(endpoint);
  const user = args("user")[0];
  const identity = user
    ? { type: UserTokenType.UserName, userName: user.slice(0, user.indexOf(":")), password: user.slice(user.indexOf(":") + 1) }
    : { type: UserTokenType.Anonymous };
  session = await client.createSession(identity);
  print({ event: "session", sessionId: session.sessionId.toString(), securityMode: MessageSecurityMode[client.securityMode], securityPolicy: client.securityPolicy });

  for (const nodeId of args("browse")) {
    const result = await session.browse({ nodeId, browseDirection: BrowseDirection.Forward, referenceTypeId: "HierarchicalReferences", includeSubtypes: true, resultMask: 63 });
    print({
      event: "browse", nodeId, status: result.statusCode.name,
      references: (result.references || []).map((r) => ({
        browseName: r.browseName.toString(), nodeId: r.nodeId.toString(), nodeClass: NodeClass[r.nodeClass],
        referenceTypeId: r.referenceTypeId.toString(), typeDefinition: r.typeDefinition.toString(),
      })),
    });
  }

  for (const nodeId of args("read")) {
    const attributes = [AttributeIds.Value, AttributeIds.DisplayName, AttributeIds.BrowseName, AttributeIds.NodeClass, AttributeIds.DataType];
    const values = await session.read(attributes.map((attributeId) => ({ nodeId, attributeId })));
    print({
      event: "read", nodeId, status: values[0].statusCode.name, value: plain(values[0].value.value),
      displayName: plain(values[1].value.value), browseName: plain(values[2].value.value),
      nodeClass: NodeClass[values[3].value.value], dataType: values[4].value.value?.toString() ?? null,
    });
  }

  const watched = args("subscribe")[0];
  if (watched) {
    const count = Number.parseInt(args("count")[0] ?? "1", 10);
    const subscription = ClientSubscription.create(session, {
      requestedPublishingInterval: 50, requestedLifetimeCount: 600, requestedMaxKeepAliveCount: 20, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1,
    });
    await new Promise((resolve, reject) => {
      subscription.on("started", resolve);
      subscription.on("internal_error", reject);
    });
    const item = ClientMonitoredItem.create(subscription, { nodeId: watched, attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 1000, discardOldest: true }, TimestampsToReturn.Both);
    let seen = 0;
    await new Promise((resolve, reject) => {
      item.on("changed", (dataValue) => {
        print({ event: "change", value: plain(dataValue.value.value), status: dataValue.statusCode.name, sourceTimestamp: dataValue.sourceTimestamp?.toISOString() ?? null });
        if (++seen >= count) resolve();
      });
      item.on("initialized", () => print({ event: "subscribed", subscriptionId: subscription.subscriptionId }));
      item.on("err", (message) => reject(new Error(String(message))));
    });
    await subscription.terminate();
  }

  await session.close();
  await client.disconnect();
  print({ event: "done" });
  process.exit(0);
} catch (err) {
  print({ event: "error", message: String(err?.message ?? err) });
  try {
    await client.disconnect();
  } catch {
    // already gone
  }
  process.exit(1);
}
