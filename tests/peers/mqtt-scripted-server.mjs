// A scripted MQTT server for FactoryGateway's client tests: it does only what the test tells it, so a
// test can send what no real broker here sends (topic aliases to a subscriber, a QoS 2 PUBLISH twice,
// a CONNACK with a chosen session-present flag) and cut the connection at an exact step. Packets are
// encoded and decoded by npm mqtt-packet, an implementation independent of the client under test.
//
// Usage: node mqtt-scripted-server.mjs --port <port>
// Standard output, one line each:
//   READY <port>                      listening
//   OPEN <conn>                       a client connected (connections are numbered from 1)
//   RECV <seq> <conn> <json>          a packet from the client (seq counts from 1 over all connections;
//                                     json is the mqtt-packet object, byte fields as UTF-8 strings)
//   CLOSED <conn>                     the connection ended
//   ERROR <conn> <message>            the client's bytes did not decode
// Standard input, one JSON object a line, applied to the newest connection:
//   {"send": <packet>} or {"send": [<packet>, ...]}  encode (with the connection's protocol version)
//                                     and write, several packets in one socket write
//   {"drop": true}                    destroy the connection without DISCONNECT
// Each command is answered with "DONE <n>" (n counts commands from 1) once its bytes are written.
import net from "node:net";
import readline from "node:readline";
import mqttPacket from "mqtt-packet";
import { arg } from "./args.mjs";

const port = Number.parseInt(arg("port", "0"), 10);
if (!port) {
  console.error("usage: node mqtt-scripted-server.mjs --port <port>");
  process.exit(2);
}

let connections = 0;
let received = 0;
let commands = 0;
let current = null;

function bytesAsText(key, value) {
  return value && value.type === "Buffer" && Array.isArray(value.data) ? Buffer.from(value.data).toString("utf8") : value;
}

const server = net.createServer((socket) => {
  const conn = ++connections;
  const state = { socket, conn, protocolVersion: 4 };
  current = state;
  socket.setNoDelay(true);
  const parser = mqttPacket.parser();
  parser.on("packet", (packet) => {
    if (packet.cmd === "connect") {
      state.protocolVersion = packet.protocolVersion;
    }

    console.log(`RECV ${++received} ${conn} ${JSON.stringify(packet, bytesAsText)}`);
  });
  parser.on("error", (err) => {
    console.log(`ERROR ${conn} ${err.message}`);
    socket.destroy();
  });
  console.log(`OPEN ${conn}`);
  socket.on("data", (chunk) => parser.parse(chunk));
  socket.on("error", () => {});
  socket.on("close", () => console.log(`CLOSED ${conn}`));
});

function run(command, n) {
  const target = current;
  if (!target || target.socket.destroyed) {
    console.log(`DONE ${n} no connection`);
    return;
  }

  if (command.drop) {
    target.socket.destroy();
    console.log(`DONE ${n}`);
    return;
  }

  const packets = Array.isArray(command.send) ? command.send : [command.send];
  const bytes = Buffer.concat(packets.map((p) => mqttPacket.generate(p, { protocolVersion: target.protocolVersion })));
  target.socket.write(bytes, () => console.log(`DONE ${n}`));
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim().length > 0) {
    const n = ++commands;
    try {
      run(JSON.parse(line), n);
    } catch (err) {
      console.log(`DONE ${n} failed: ${err.message}`);
    }
  }
});

server.listen(port, "127.0.0.1", () => console.log(`READY ${port}`));

function stop() {
  server.close();
  current?.socket.destroy();
  process.exit(0);
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);
