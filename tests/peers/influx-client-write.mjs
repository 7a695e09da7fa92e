// Writes points to an InfluxDB v2 write API with the official JavaScript client
// (@influxdata/influxdb-client): a third-party client for FactoryGateway's ingest.
// Usage: node influx-client-write.mjs --url <url> --token <token> --org <org> --bucket <bucket>
//        --points <n> --batch <n> [--device <id>]
// Prints "WROTE <n>" when every batch was acknowledged; exits non-zero with the error otherwise.
import { InfluxDB, Point } from "@influxdata/influxdb-client";
import { arg } from "./args.mjs";

const url = arg("url");
const token = arg("token");
const org = arg("org", "factory");
const bucket = arg("bucket", "telemetry");
const points = Number.parseInt(arg("points", "1000"), 10);
const batchSize = Number.parseInt(arg("batch", "500"), 10);
const device = arg("device", "js-client-01");

// gzipThreshold 0: every batch is sent gzip-compressed.
const influx = new InfluxDB({ url, token, timeout: 30000 });
const writeApi = influx.getWriteApi(org, bucket, "ns", {
  batchSize,
  gzipThreshold: 0,
  maxRetries: 0,
  flushInterval: 0,
});

const start = 1795000000000000000n;
for (let i = 0; i < points; i++) {
  const point = new Point("telemetry")
    .tag("dev", device)
    .intField("parts_total", i)
    .floatField("spindle_speed", 12000.5 + (i % 10))
    .timestamp((start + BigInt(i) * 1000000000n).toString());
  writeApi.writePoint(point);
}

try {
  await writeApi.close();
  console.log(`WROTE ${points}`);
} catch (error) {
  console.error(`FAILED ${error?.statusCode ?? ""} ${error?.message ?? error}`);
  process.exit(1);
}
