// A node-opcua server for FactoryGateway's tests: a third-party OPC UA peer.
// Usage: node opcua-server.mjs --port <port> --pki <dir> [--bulk <n>] [--users <name:password,...>]
// Endpoints: None, and Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss in Sign and
// SignAndEncrypt (node-opcua's defaults), each with anonymous, user-name and X.509 user tokens.
//   --pki <dir>  the server's PKI (its certificate, trusted and rejected client certificates); client
//                certificates are accepted automatically. X.509 user certificates are checked against a
//                second PKI, <dir>-users, which also accepts them automatically. Nothing is written
//                under the home directory.
//   --bulk <n>   adds n Double variables TestMachine/Bulk/Item0000… (ns=1;s=Bulk.0000…) that change every 100 ms
//   --users      accepts these user names and passwords (anonymous access stays allowed)
//   --certificate <pem> --key <pem> --application-uri <uri>   the server's application certificate (for
//                example one issued by a test CA) and PKCS#8 key instead of a self-signed one it creates;
//                the certificate's SubjectAltName must name the URI
//   --max-monitored-items-per-call <n>, --max-nodes-per-read <n>   operation limits the server enforces
//   --namespaces <uri,...>   registers these namespaces in order after the server's own (ns=1); each gets
//                            TestMachine/<uri>:Origin (s=Origin, a String holding the URI) and
//                            TestMachine/<uri>:Counter (s=Counter, Int64, changes every 100 ms)
// Prints "READY <endpointUrl>" on stdout once it accepts connections; stops on SIGTERM/SIGINT.
import { OPCUAServer, OPCUACertificateManager, DataType, Variant, nodesets } from "node-opcua";
import { arg } from "./args.mjs";

const port = Number.parseInt(arg("port", "0"), 10);
const pki = arg("pki", undefined);
if (!port || !pki) {
  console.error("usage: node opcua-server.mjs --port <port> --pki <dir>");
  process.exit(2);
}

const bulk = Number.parseInt(arg("bulk", "0"), 10);
const users = new Map(
  (arg("users", "") || "").split(",").filter((u) => u.includes(":")).map((u) => [u.slice(0, u.indexOf(":")), u.slice(u.indexOf(":") + 1)]),
);

const operationLimits = {};
if (arg("max-monitored-items-per-call", undefined)) operationLimits.maxMonitoredItemsPerCall = Number.parseInt(arg("max-monitored-items-per-call"), 10);
if (arg("max-nodes-per-read", undefined)) operationLimits.maxNodesPerRead = Number.parseInt(arg("max-nodes-per-read"), 10);

const serverCertificateManager = new OPCUACertificateManager({
  rootFolder: pki,
  automaticallyAcceptUnknownCertificate: true,
});

const userCertificateManager = new OPCUACertificateManager({
  rootFolder: `${pki}-users`,
  automaticallyAcceptUnknownCertificate: true,
});

const server = new OPCUAServer({
  port,
  hostname: "127.0.0.1",
  resourcePath: "/UA/FactoryGatewayTest",
  serverCertificateManager,
  userCertificateManager,
  ...(arg("certificate", undefined)
    ? { certificateFile: arg("certificate"), privateKeyFile: arg("key"), serverInfo: { applicationUri: arg("application-uri") } }
    : {}),
  nodeset_filename: [nodesets.standard],
  buildInfo: { productName: "FactoryGatewayTestPeer", manufacturerName: "FactoryGateway tests" },
  ...(Object.keys(operationLimits).length > 0 ? { serverCapabilities: { operationLimits } } : {}),
  ...(users.size > 0 ? { userManager: { isValidUser: (name, password) => users.get(name) === password } } : {}),
});

await server.initialize();

const ns = server.engine.addressSpace.getOwnNamespace();
const machine = ns.addObject({
  organizedBy: server.engine.addressSpace.rootFolder.objects,
  browseName: "TestMachine",
});
let counter = 0;
ns.addVariable({
  componentOf: machine,
  browseName: "PartsTotal",
  nodeId: "s=TestMachine.PartsTotal",
  dataType: "Int64",
  minimumSamplingInterval: 100,
  value: { get: () => new Variant({ dataType: DataType.Int64, value: counter }) },
});
if (bulk > 0) {
  const folder = ns.addObject({ componentOf: machine, browseName: "Bulk" });
  for (let i = 0; i < bulk; i++) {
    const id = String(i).padStart(4, "0");
    const offset = i;
    ns.addVariable({
      componentOf: folder,
      browseName: `Item${id}`,
      nodeId: `s=Bulk.${id}`,
      dataType: "Double",
      minimumSamplingInterval: 100,
      value: { get: () => new Variant({ dataType: DataType.Double, value: counter + offset }) },
    });
  }
}
for (const uri of (arg("namespaces", "") || "").split(",").filter((u) => u.length > 0)) {
  const extra = server.engine.addressSpace.registerNamespace(uri);
  extra.addVariable({
    componentOf: machine,
    browseName: { namespaceIndex: extra.index, name: "Origin" },
    nodeId: "s=Origin",
    dataType: "String",
    value: { dataType: DataType.String, value: uri },
  });
  extra.addVariable({
    componentOf: machine,
    browseName: { namespaceIndex: extra.index, name: "Counter" },
    nodeId: "s=Counter",
    dataType: "Int64",
    minimumSamplingInterval: 100,
    value: { get: () => new Variant({ dataType: DataType.Int64, value: counter }) },
  });
}
const timer = setInterval(() => { counter += 1; }, 100);

await server.start();
console.log(`READY ${server.getEndpointUrl()}`);

async function stop() {
  clearInterval(timer);
  await server.shutdown(0);
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
