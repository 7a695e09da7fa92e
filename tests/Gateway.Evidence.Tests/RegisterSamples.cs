namespace FactoryGateway.Evidence.Tests;

/// <summary>The register documents the tests import (the sample is the one in docs/register.md).</summary>
internal static class RegisterSamples
{
    /// <summary>A third valid credit code (region 110108, 北京市海淀区) that no sample registers.</summary>
    public const string UnknownEnterprise = "91110108MA01ABCDEN";

    public const string Json = """
        {
          "format": "fgw-register/1",
          "enterprises": [
            {
              "credit_code": "91330402MA2B3C4D53",
              "name": "嘉兴示例精密机械有限公司",
              "region": "330402",
              "industry": "C3484",
              "time_zone": "Asia/Shanghai",
              "employees": [
                { "month": "2026-06", "average_headcount": 208 },
                { "month": "2026-07", "average_headcount": 212 },
                { "month": "2026-08", "average_headcount": 215 },
                { "month": "2026-09", "average_headcount": 209 }
              ],
              "calendar": {
                "week": { "mon": "08:00-20:00", "tue": "08:00-20:00", "wed": "08:00-20:00", "thu": "08:00-20:00", "fri": "08:00-20:00", "sat": "08:00-12:00", "sun": "" },
                "days": [
                  { "date": "2026-08-14", "kind": "planned_downtime", "note": "annual maintenance" },
                  { "date": "2026-08-16", "kind": "extra_production", "shifts": "08:00-12:00,13:00-17:00", "note": "rush order" },
                  { "date": "2026-10-01", "kind": "planned_downtime", "note": "National Day" }
                ]
              },
              "key_processes": [
                { "process": "精加工", "key": true },
                { "process": "焊接", "key": true },
                { "process": "包装", "key": false }
              ],
              "devices": [
                {
                  "device": "cnc-01", "manufacturer": "DMG MORI", "model": "NLX 2500", "serial_number": "NLX25-001234",
                  "class": "cnc_machine_tool", "production": true, "digital": true, "nc": true, "key_process": true, "process": "精加工",
                  "commissioned": "2024-03-15", "retrofit_project": "JX-2025-017", "purchase_price": "1250000.00",
                  "invoice": "33002400001234567", "ideal_cycle_s": "42.5"
                },
                {
                  "device": "robot-01", "product_instance_uri": "urn:fanuc:r-2000ic:E12345",
                  "class": "industrial_robot", "production": true, "digital": true, "nc": true, "key_process": true, "process": "焊接",
                  "robot_axes": 6, "commissioned": "2025-01-10", "purchase_price": 380000, "leased": true, "first_of_kind": true
                },
                {
                  "device": "lathe-07", "manufacturer": "沈阳机床", "model": "CA6140", "serial_number": "CA-1998-0007",
                  "class": "conventional", "production": true, "commissioned": "1998-06-01", "retired": "2026-06-30"
                }
              ]
            },
            {
              "credit_code": "91350100M000100Y43",
              "name": "福州示例电子有限公司",
              "region": "350102",
              "devices": [
                {
                  "device": "plc-line-1", "product_instance_uri": "urn:siemens:s7-1500:S-C7K123",
                  "class": "plc_automated", "production": true, "digital": true, "nc": true, "commissioned": "2026-08-20", "locally_made": true
                }
              ]
            }
          ]
        }
        """;

    public static byte[] JsonBytes => System.Text.Encoding.UTF8.GetBytes(Json);

    /// <summary>The columns of <see cref="DeviceRow"/>, a subset of the devices table in another order than the export's.</summary>
    public const string DeviceHeader = "enterprise,device,manufacturer,model,serial_number,class,production,digital,nc,key_process,process,robot_axes,commissioned,retired,purchase_price,ideal_cycle_s";

    /// <summary>A valid device row of the sample's first enterprise, with <paramref name="column"/> set to <paramref name="value"/>.</summary>
    public static string DeviceRow(string device, string? column = null, string? value = null)
    {
        var cells = new Dictionary<string, string>
        {
            ["enterprise"] = EvidenceTest.Enterprise,
            ["device"] = device,
            ["manufacturer"] = "DMG MORI",
            ["model"] = "NLX 2500",
            ["serial_number"] = "NLX25-" + device,
            ["class"] = "cnc_machine_tool",
            ["production"] = "true",
            ["digital"] = "true",
            ["nc"] = "true",
            ["key_process"] = "true",
            ["process"] = "精加工",
            ["robot_axes"] = "",
            ["commissioned"] = "2024-03-15",
            ["retired"] = "",
            ["purchase_price"] = "1250000.00",
            ["ideal_cycle_s"] = "42.5",
        };
        if (column is not null)
        {
            cells[column] = value!;
        }

        return string.Join(",", DeviceHeader.Split(',').Select(c => cells[c]));
    }
}
