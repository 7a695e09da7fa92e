// An aedes MQTT broker for FactoryGateway's tests: a second, independent broker implementation.
// Usage: node aedes-broker.mjs --port <port>
// In-memory persistence (sessions survive client reconnects, not a broker restart).
// Prints "READY <port>" on stdout once it accepts connections; stops on SIGTERM/SIGINT.
import net from "node:net";
import { Aedes } from "aedes";
import { arg } from "./args.mjs";

const port = Number.parseInt(arg("port", "0"), 10);
if (!port) {
  console.error("usage: node aedes-broker.mjs --port <port>");
  process.exit(2);
}

const broker = await Aedes.createBroker();
const server = net.createServer(broker.handle);
broker.on("clientError", (client, err) => console.log(`client error ${client?.id}: ${err.message}`));
broker.on("subscribe", (subscriptions, client) =>
  console.log(`subscribe ${client?.id}: ${subscriptions.map((s) => `${s.topic}@${s.qos}`).join(" ")}`));

server.listen(port, "127.0.0.1", () => console.log(`READY ${port}`));

function stop() {
  server.close();
  broker.close(() => process.exit(0));
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);
