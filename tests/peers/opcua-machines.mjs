// A node-opcua server modelling machines as the OPC UA companion specifications lay them out, for the edge's tests.
// Usage: node opcua-machines.mjs --port <port> --pki <dir> [--serial <serial of Mill1>] [--period <ms>]
// The server loads the published NodeSets (node-opcua-nodesets): the standard, DI, IA, Machinery, ISA-95 job control,
// Machinery Jobs, MachineTool and Robotics, so the machines' types (MachineToolType, MotionDeviceSystemType) and the
// Machines folder are the real ones. The machines themselves are laid out by hand (their types' mandatory children are
// not instantiated), with the browse names of the companion specifications.
// Objects/Machines holds
//   Mill1  (urn:test:VendorMillType, a subtype of MachineToolType): Identification, MachineryBuildingBlocks
//          (MachineryItemState, MachineryOperationMode), Monitoring/MachineTool (OperationMode, PowerOnDuration in hours),
//          Monitoring/Channel1 (ChannelState, ChannelModifiers), Production/ActiveProgram/Name,
//          Production/Statistics/PartsProducedInLifetime, and a vendor counter of good parts s=Mill1.Vendor.PartsGood (ns=1;
//          OPC 40501-1 has no machine-wide one). Every period the channel alternates Active (item state Executing) and Reset
//          (NotExecuting); each Active→Reset completes a part (every third part is not good).
//   Robot1 (MotionDeviceSystemType): Identification, MachineryItemState alternating Executing/NotExecuting,
//          SafetyStates/SafetyState1/ParameterSet (OperationalMode AUTOMATIC, EmergencyStop, ProtectiveStop false),
//          Controllers/Controller1 (ParameterSet/TotalPowerOnTime in ms, TaskControls/Task1/ParameterSet/TaskProgramName).
// Plain variables in the server's namespace (ns=1): s=Press3.Current (Double, cycles 0.2 → 3 → 12 A every period),
// s=Mill1.Spindle.Speed (Double), s=Mill1.Sensor.Broken (Double, always BadSensorFailure).
// Alarms (OPC 10000-9 AlarmConditionType): Mill1/SpindleOverload (severity 800) and Mill1/CoolantLow (severity 500),
// condition source Mill1, which is an event notifier; Robot1/Collision (severity 900), condition source Robot1, which is
// an event source of the Server object but no notifier itself (its events are seen only through the Server object).
// ConditionRefresh is served (installAlarmsAndConditionsService).
// Commands on stdin, one a line, each answered "OK <line>" once done (or "ERROR <line>: <reason>"); a word starting with
// "#" is a tag that only makes the answer unique:
//   alarm <SpindleOverload|CoolantLow|Collision> <on|off>   activate (retained) or deactivate (not retained) the alarm, raising its event
//   add-machine <name> [quiet]                    adds a Machinery machine (MachineryItemState Executing, Identification) to
//                                                 Machines; the Server raises a GeneralModelChangeEvent (Machines has a
//                                                 NodeVersion) unless "quiet"
//   remove-machine <name>                         deletes it again
// Prints "READY <endpointUrl>" once it accepts connections; stops on SIGTERM/SIGINT.
import { createInterface } from "node:readline";
import { OPCUAServer, OPCUACertificateManager, DataType, DataValue, LocalizedText, Variant, StatusCodes, nodesets } from "node-opcua";
import { arg } from "./args.mjs";

const port = Number.parseInt(arg("port", "0"), 10);
const pki = arg("pki", undefined);
if (!port || !pki) {
  console.error("usage: node opcua-machines.mjs --port <port> --pki <dir> [--serial <serial>] [--period <ms>]");
  process.exit(2);
}

const serial = arg("serial", "MT-0001");
const period = Number.parseInt(arg("period", "400"), 10);

const server = new OPCUAServer({
  port,
  hostname: "127.0.0.1",
  resourcePath: "/UA/FactoryGatewayMachines",
  serverCertificateManager: new OPCUACertificateManager({ rootFolder: pki, automaticallyAcceptUnknownCertificate: true }),
  nodeset_filename: [
    nodesets.standard, nodesets.di, nodesets.ia, nodesets.machinery, nodesets.isa95JobControl, nodesets.machineryJobs,
    nodesets.machineTool, nodesets.robotics,
  ],
  buildInfo: { productName: "FactoryGatewayMachinesPeer", manufacturerName: "FactoryGateway tests" },
});

await server.initialize();

const space = server.engine.addressSpace;
const own = space.getOwnNamespace();
const di = space.getNamespace("http://opcfoundation.org/UA/DI/");
const machinery = space.getNamespace("http://opcfoundation.org/UA/Machinery/");
const machineTool = space.getNamespace("http://opcfoundation.org/UA/MachineTool/");
const robotics = space.getNamespace("http://opcfoundation.org/UA/Robotics/");
const q = (namespace, name) => ({ namespaceIndex: namespace.index, name });

const machineToolType = space.findObjectType("MachineToolType", machineTool.index);
const vendorMillType = own.addObjectType({ browseName: "VendorMillType", nodeId: "s=VendorMillType", subtypeOf: machineToolType });
const motionDeviceSystemType = space.findObjectType("MotionDeviceSystemType", robotics.index);

const machines = space.findNode(`ns=${machinery.index};i=1001`);
// OPC 10000-3 §5.5.5: a node with a NodeVersion has its model changes reported (GeneralModelChangeEventType).
own.addVariable({ propertyOf: machines, browseName: { namespaceIndex: 0, name: "NodeVersion" }, nodeId: "s=Machines.NodeVersion", dataType: "String", value: { dataType: DataType.String, value: "1" } });

let tick = 0;
const active = () => tick % 2 === 0;
const parts = () => Math.floor(tick / 2);

function variable(parent, browseName, nodeId, dataType, get) {
  return own.addVariable({
    componentOf: parent,
    browseName,
    nodeId: `s=${nodeId}`,
    dataType,
    minimumSamplingInterval: 50,
    value: { get: () => new Variant({ dataType: DataType[dataType], value: get() }) },
  });
}

function object(parent, browseName, nodeId, typeDefinition) {
  return own.addObject({ componentOf: parent, browseName, nodeId: `s=${nodeId}`, ...(typeDefinition ? { typeDefinition } : {}) });
}

function identification(machine, name, plate) {
  const id = object(machine, q(di, "Identification"), `${name}.Identification`);
  for (const [field, dataType, value] of [
    ["Manufacturer", "LocalizedText", { text: plate.manufacturer, locale: "en" }],
    ["Model", "LocalizedText", { text: plate.model, locale: "en" }],
    ["SerialNumber", "String", plate.serial],
    ["ProductInstanceUri", "String", plate.uri],
  ]) {
    own.addVariable({
      propertyOf: id,
      browseName: q(di, field),
      nodeId: `s=${name}.Identification.${field}`,
      dataType,
      value: { dataType: DataType[dataType], value },
    });
  }
}

function buildingBlocks(machine, name, itemState, operationMode) {
  const blocks = object(machine, q(machinery, "MachineryBuildingBlocks"), `${name}.MachineryBuildingBlocks`);
  const state = object(blocks, q(machinery, "MachineryItemState"), `${name}.MachineryItemState`);
  const currentState = { namespaceIndex: 0, name: "CurrentState" };
  variable(state, currentState, `${name}.MachineryItemState.CurrentState`, "LocalizedText", () => new LocalizedText({ text: itemState(), locale: "en" }));
  if (operationMode) {
    const mode = object(blocks, q(machinery, "MachineryOperationMode"), `${name}.MachineryOperationMode`);
    variable(mode, currentState, `${name}.MachineryOperationMode.CurrentState`, "LocalizedText", () => new LocalizedText({ text: operationMode(), locale: "en" }));
  }
}

// Mill1: a machine tool.
const mill = own.addObject({ organizedBy: machines, browseName: "Mill1", nodeId: "s=Mill1", typeDefinition: vendorMillType, eventNotifier: 1 });
identification(mill, "Mill1", { manufacturer: "ACME Machine Tools", model: "VMC-850", serial, uri: `urn:acme:vmc850:${serial}` });
buildingBlocks(mill, "Mill1", () => (active() ? "Executing" : "NotExecuting"), () => "Processing");
const monitoring = object(mill, q(machineTool, "Monitoring"), "Mill1.Monitoring");
const machineMonitoring = object(monitoring, "MachineTool", "Mill1.Monitoring.MachineTool");
variable(machineMonitoring, q(machineTool, "OperationMode"), "Mill1.Monitoring.MachineTool.OperationMode", "Int32", () => 1);
variable(machineMonitoring, q(machineTool, "PowerOnDuration"), "Mill1.Monitoring.MachineTool.PowerOnDuration", "UInt32", () => 1200);
const channel = object(monitoring, "Channel1", "Mill1.Monitoring.Channel1");
variable(channel, q(machineTool, "ChannelState"), "Mill1.Monitoring.Channel1.ChannelState", "Int32", () => (active() ? 0 : 2));
const modifiers = object(channel, q(machineTool, "ChannelModifiers"), "Mill1.Monitoring.Channel1.ChannelModifiers");
for (const modifier of ["DryRun", "TestMode", "SingleStep"]) {
  variable(modifiers, q(machineTool, modifier), `Mill1.Monitoring.Channel1.ChannelModifiers.${modifier}`, "Boolean", () => false);
}
const production = object(mill, q(machineTool, "Production"), "Mill1.Production");
const program = object(production, q(machineTool, "ActiveProgram"), "Mill1.Production.ActiveProgram");
variable(program, q(machineTool, "Name"), "Mill1.Production.ActiveProgram.Name", "String", () => "O1234_FLANGE");
const statistics = object(production, q(machineTool, "Statistics"), "Mill1.Production.Statistics");
variable(statistics, q(machineTool, "PartsProducedInLifetime"), "Mill1.Production.Statistics.PartsProducedInLifetime", "UInt32", () => parts());
const vendor = object(mill, "Vendor", "Mill1.Vendor");
variable(vendor, "PartsGood", "Mill1.Vendor.PartsGood", "UInt32", () => parts() - Math.floor(parts() / 3));
const spindle = object(mill, "Spindle", "Mill1.Spindle");
variable(spindle, "Speed", "Mill1.Spindle.Speed", "Double", () => (active() ? 8000 : 0));
own.addVariable({
  componentOf: mill,
  browseName: "BrokenSensor",
  nodeId: "s=Mill1.Sensor.Broken",
  dataType: "Double",
  minimumSamplingInterval: 50,
  value: {
    timestamped_get: () => new DataValue({
      value: new Variant({ dataType: DataType.Double, value: 0 }),
      statusCode: StatusCodes.BadSensorFailure,
      sourceTimestamp: new Date(),
      serverTimestamp: new Date(),
    }),
  },
});

// Robot1: a robot.
const robot = own.addObject({ organizedBy: machines, browseName: "Robot1", nodeId: "s=Robot1", typeDefinition: motionDeviceSystemType });
identification(robot, "Robot1", { manufacturer: "RoboCorp", model: "RC-6", serial: "RB-42", uri: "urn:robocorp:rc6:RB-42" });
buildingBlocks(robot, "Robot1", () => (active() ? "Executing" : "NotExecuting"), null);
const safetyStates = object(robot, q(robotics, "SafetyStates"), "Robot1.SafetyStates");
const safety = object(safetyStates, "SafetyState1", "Robot1.SafetyStates.SafetyState1");
const safetyParameters = object(safety, q(di, "ParameterSet"), "Robot1.SafetyStates.SafetyState1.ParameterSet");
variable(safetyParameters, q(robotics, "OperationalMode"), "Robot1.OperationalMode", "Int32", () => 3);
variable(safetyParameters, q(robotics, "EmergencyStop"), "Robot1.EmergencyStop", "Boolean", () => false);
variable(safetyParameters, q(robotics, "ProtectiveStop"), "Robot1.ProtectiveStop", "Boolean", () => false);
const controllers = object(robot, q(robotics, "Controllers"), "Robot1.Controllers");
const controller = object(controllers, "Controller1", "Robot1.Controllers.Controller1");
const controllerParameters = object(controller, q(di, "ParameterSet"), "Robot1.Controllers.Controller1.ParameterSet");
variable(controllerParameters, q(robotics, "TotalPowerOnTime"), "Robot1.TotalPowerOnTime", "Double", () => 3_600_000);
const taskControls = object(controller, q(robotics, "TaskControls"), "Robot1.TaskControls");
const task = object(taskControls, "Task1", "Robot1.TaskControls.Task1");
const taskParameters = object(task, q(di, "ParameterSet"), "Robot1.TaskControls.Task1.ParameterSet");
variable(taskParameters, q(robotics, "TaskProgramName"), "Robot1.TaskProgramName", "String", () => "PICK_PLACE");
variable(robot, "Cycles", "Robot1.Cycles", "UInt32", () => parts());

// Press3: a manual press with a retrofit current sensor.
const press = own.addObject({ organizedBy: space.rootFolder.objects, browseName: "Press3", nodeId: "s=Press3" });
const currents = [0.2, 3, 12];
variable(press, "Current", "Press3.Current", "Double", () => currents[tick % 3]);

// Mill1's alarms.
space.installAlarmsAndConditionsService();
// OPC 10000-9 §4.8: the Server object is the root of the event hierarchy; Mill1 and Robot1 are event sources below it.
space.rootFolder.objects.server.addReference({ referenceType: "HasEventSource", nodeId: mill });
space.rootFolder.objects.server.addReference({ referenceType: "HasEventSource", nodeId: robot });
const alarms = {};
for (const [machine, machineName, name, severity] of [[mill, "Mill1", "SpindleOverload", 800], [mill, "Mill1", "CoolantLow", 500], [robot, "Robot1", "Collision", 900]]) {
  const folder = machine.getComponentByName("Alarms") ?? object(machine, "Alarms", `${machineName}.Alarms`);
  const input = folder.getComponentByName("Input") ?? own.addVariable({ componentOf: folder, browseName: "Input", nodeId: `s=${machineName}.Alarms.Input`, dataType: "Boolean", value: { dataType: DataType.Boolean, value: false } });
  const alarm = own.instantiateAlarmCondition("AlarmConditionType", {
    browseName: name,
    nodeId: `s=${machineName}.Alarms.${name}`,
    componentOf: folder,
    conditionSource: machine,
    inputNode: input,
  });
  alarm.setEnabledState(true);
  alarms[name] = { alarm, severity };
}

function setAlarm(name, on) {
  const entry = alarms[name];
  if (!entry) {
    throw new Error(`no alarm ${name}`);
  }
  if (on) {
    entry.alarm.activateAlarm();
  } else {
    entry.alarm.deactivateAlarm(false);
  }
  entry.alarm.raiseNewCondition({ severity: entry.severity, message: `${name} ${on ? "active" : "cleared"}`, retain: on });
}

// Machines added at run time: a Machinery machine with a nameplate and an item state.
const added = {};
function addMachine(name, quiet) {
  if (added[name]) {
    throw new Error(`${name} exists`);
  }
  space.suspendModelChangeEvents = quiet;
  space.modelChangeTransaction(() => {
    const machine = own.addObject({ organizedBy: machines, browseName: name, nodeId: `s=${name}` });
    identification(machine, name, { manufacturer: "Late Machines", model: "LM-1", serial: `${name}-SN`, uri: `urn:late:${name}` });
    buildingBlocks(machine, name, () => "Executing", () => "Processing");
    added[name] = machine;
  });
  space.suspendModelChangeEvents = false;
}
function removeMachine(name) {
  const machine = added[name];
  if (!machine) {
    throw new Error(`no added machine ${name}`);
  }
  space.modelChangeTransaction(() => space.deleteNode(machine));
  delete added[name];
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const [command, name, value] = line.trim().split(/\s+/).filter((word) => !word.startsWith("#"));
  try {
    if (command === "alarm") {
      setAlarm(name, value === "on");
    } else if (command === "add-machine") {
      addMachine(name, value === "quiet");
    } else if (command === "remove-machine") {
      removeMachine(name);
    } else if (command) {
      throw new Error("unknown command");
    }
    console.log(`OK ${line.trim()}`);
  } catch (err) {
    console.log(`ERROR ${line.trim()}: ${err.message}`);
  }
});

const timer = setInterval(() => { tick += 1; }, period);

await server.start();
console.log(`READY ${server.getEndpointUrl()}`);

async function stop() {
  clearInterval(timer);
  await server.shutdown(0);
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
