using System.Globalization;

namespace FactoryGateway.Evidence;

/// <summary>A rejected value of a register file: where it is and why.</summary>
public sealed record RegisterError
{
    /// <summary>The file's name (without its directory).</summary>
    public required string File { get; init; }

    /// <summary>The 1-based line: of the CSV record, or of the JSON value.</summary>
    public required int Line { get; init; }

    /// <summary>The CSV column, or the JSON path (<c>enterprises[0].devices[3].commissioned</c>).</summary>
    public required string Column { get; init; }

    /// <summary>What is wrong.</summary>
    public required string Reason { get; init; }

    /// <summary>True for a CSV file (row and column), false for JSON (line and path).</summary>
    public required bool IsCsv { get; init; }

    /// <summary>
    /// The message: <c>devices.csv row 7 column commissioned: "2025-13-01" is not a date (YYYY-MM-DD)</c>, or
    /// <c>register.json line 42 enterprises[0].devices[3].commissioned: …</c>; for a typed API call
    /// (line 0) <c>register devices.retired: …</c>.
    /// </summary>
    public string Message => IsCsv
        ? string.Create(CultureInfo.InvariantCulture, $"{File} row {Line} column {Column}: {Reason}")
        : Line > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{File} line {Line} {Column}: {Reason}")
            : $"{File} {Column}: {Reason}"; // a typed API call: no file position

    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>The outcome of importing one register file: either every record was written, or none and the errors say why.</summary>
public sealed record RegisterImportResult
{
    /// <summary>The errors, in file order (at most <see cref="AssetRegister.MaxErrors"/>); empty when the file was imported.</summary>
    public required IReadOnlyList<RegisterError> Errors { get; init; }

    /// <summary>How many errors there were in all (more than <see cref="Errors"/> holds when capped).</summary>
    public required int ErrorCount { get; init; }

    /// <summary>The file's table (<c>register</c> for a JSON document, else the CSV table name).</summary>
    public required string Table { get; init; }

    /// <summary>Enterprises written.</summary>
    public int Enterprises { get; init; }

    /// <summary>Employee months written.</summary>
    public int EmployeeMonths { get; init; }

    /// <summary>Weekly shift patterns written.</summary>
    public int ShiftWeeks { get; init; }

    /// <summary>Calendar days (overrides) written.</summary>
    public int CalendarDays { get; init; }

    /// <summary>Key processes written.</summary>
    public int KeyProcesses { get; init; }

    /// <summary>Devices written.</summary>
    public int Devices { get; init; }

    /// <summary>True when the file was imported.</summary>
    public bool Succeeded => ErrorCount == 0;
}

/// <summary>Thrown by the typed register API when a value breaks a register rule; <see cref="Errors"/> lists each.</summary>
public sealed class RegisterValidationException : Exception
{
    public RegisterValidationException()
        : this([])
    {
    }

    public RegisterValidationException(string message)
        : base(message)
    {
        Errors = [];
    }

    public RegisterValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public RegisterValidationException(IReadOnlyList<RegisterError> errors)
        : base(errors.Count == 0 ? "The register rejected the change." : string.Join(Environment.NewLine, errors.Select(e => e.Message)))
    {
        Errors = errors;
    }

    /// <summary>The errors.</summary>
    public IReadOnlyList<RegisterError> Errors { get; }
}
