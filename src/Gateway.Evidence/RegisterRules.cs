using System.Globalization;

namespace FactoryGateway.Evidence;

/// <summary>
/// The register's rules on typed records (indicator spec §1), each broken rule reported as (field, reason).
/// Shared by the file import (which adds row and column) and the typed API (which throws).
/// </summary>
internal static class RegisterRules
{
    /// <summary>The longest text field (names, identities, invoice numbers …).</summary>
    public const int MaxTextLength = 256;

    /// <summary>The largest price, 10^13 CNY in fen (fits a long with room; no machine costs more).</summary>
    public const long MaxPriceFen = 1_000_000_000_000_000;

    public static IEnumerable<(string Field, string Reason)> Check(Enterprise enterprise)
    {
        if (!CreditCode.TryValidate(enterprise.CreditCode, out string reason))
        {
            yield return ("credit_code", $"{Show(enterprise.CreditCode)} is not a valid unified social credit code: {reason}");
        }

        foreach ((string, string) error in CheckText("name", enterprise.Name, required: true))
        {
            yield return error;
        }

        if (!RegionCode.TryValidate(enterprise.Region, out reason))
        {
            yield return ("region", $"{Show(enterprise.Region)} is not a GB/T 2260 region code: {reason}");
        }

        foreach ((string, string) error in CheckText("industry", enterprise.Industry, required: false))
        {
            yield return error;
        }

        if (!TimeZones.TryGetOffsetMinutes(enterprise.TimeZone ?? "", out _))
        {
            yield return ("time_zone", $"{Show(enterprise.TimeZone)} is not a time zone the register accepts ({TimeZones.Names})");
        }
    }

    public static IEnumerable<(string Field, string Reason)> Check(EmployeeMonth month)
    {
        if (!IsMonth(month.Month))
        {
            yield return ("month", $"{Show(month.Month)} is not a month (YYYY-MM)");
        }

        if (month.AverageHeadcount < 0)
        {
            yield return ("average_headcount", $"{month.AverageHeadcount} is negative");
        }
    }

    public static IEnumerable<(string Field, string Reason)> Check(KeyProcess process) => CheckText("process", process.Process, required: true);

    public static IEnumerable<(string Field, string Reason)> Check(RegisteredDevice device)
    {
        if (string.IsNullOrEmpty(device.Device))
        {
            yield return ("device", "is required");
        }
        else if (device.Device.Length > DeviceRegister.MaxDeviceIdLength)
        {
            yield return ("device", $"a device id has at most {DeviceRegister.MaxDeviceIdLength} characters, this one has {device.Device.Length}");
        }
        else if (device.Device.AsSpan().IndexOfAnyInRange('\0', '\u001F') is int control and >= 0)
        {
            yield return ("device", $"{Show(device.Device)} contains a control character (U+{(int)device.Device[control]:X4})");
        }

        foreach ((string field, string? value) in new[]
        {
            ("product_instance_uri", device.ProductInstanceUri), ("manufacturer", device.Manufacturer), ("model", device.Model),
            ("serial_number", device.SerialNumber), ("process", device.Process), ("retrofit_project", device.RetrofitProject), ("invoice", device.Invoice),
        })
        {
            foreach ((string, string) error in CheckText(field, value, required: false))
            {
                yield return error;
            }
        }

        if (device.ProductInstanceUri is null && (device.Manufacturer is null || device.Model is null || device.SerialNumber is null))
        {
            yield return ("product_instance_uri", "a device needs an identity: product_instance_uri, or manufacturer, model and serial_number");
        }

        if (!Enum.IsDefined(device.Class))
        {
            yield return ("class", $"{(int)device.Class} is not a device class");
        }

        if (device.KeyProcess && device.Process is null)
        {
            yield return ("process", "a key_process device names its process (one flagged key in the enterprise's key-process list)");
        }

        if (device.RobotAxes is <= 0)
        {
            yield return ("robot_axes", $"\"{device.RobotAxes}\" is not a positive integer");
        }

        if (device.Retired is DateOnly retired && retired < device.Commissioned)
        {
            yield return ("retired", $"\"{retired:yyyy-MM-dd}\" is before the commissioning date {device.Commissioned:yyyy-MM-dd}");
        }

        if (device.PurchasePrice is decimal price)
        {
            if (price < 0)
            {
                yield return ("purchase_price", $"\"{price.ToString(CultureInfo.InvariantCulture)}\" is negative");
            }
            else if (decimal.Round(price, 2) != price)
            {
                yield return ("purchase_price", $"\"{price.ToString(CultureInfo.InvariantCulture)}\" has more than 2 decimals (CNY is exact to the fen)");
            }
            else if (price * 100 > MaxPriceFen)
            {
                yield return ("purchase_price", $"\"{price.ToString(CultureInfo.InvariantCulture)}\" is more than the largest price {MaxPriceFen / 100} CNY");
            }
        }

        if (device.IdealCycleNanoseconds is <= 0)
        {
            yield return ("ideal_cycle_s", "the ideal cycle time must be positive");
        }
    }

    public static IEnumerable<(string Field, string Reason)> CheckText(string field, string? value, bool required)
    {
        if (value is null || value.Length == 0)
        {
            if (required)
            {
                yield return (field, "is required");
            }

            yield break;
        }

        if (value.Length > MaxTextLength)
        {
            yield return (field, $"has {value.Length} characters; at most {MaxTextLength} are allowed");
        }
        else if (value.AsSpan().IndexOfAnyInRange('\0', '\u001F') is int control and >= 0)
        {
            yield return (field, $"{Show(value)} contains a control character (U+{(int)value[control]:X4})");
        }
        else if (value.Trim().Length != value.Length)
        {
            yield return (field, $"{Show(value)} starts or ends with white space");
        }
    }

    public static bool IsMonth(string? text) =>
        text is { Length: 7 } && text[4] == '-' && DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    /// <summary>A value quoted for an error message: JSON-like escapes, capped at 64 characters.</summary>
    public static string Show(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var text = new System.Text.StringBuilder("\"");
        foreach (char c in value.Length > 64 ? value[..64] : value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                < ' ' => text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => text.Append(c),
            };
        }

        return text.Append(value.Length > 64 ? "\"…" : "\"").ToString();
    }
}
