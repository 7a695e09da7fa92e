using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>
/// The evidence of one device on one local day (spec §2): what the accumulator counted from the samples
/// whose source time falls in the day. Open while the day can still receive samples; sealed (hashed into
/// the device's chain) once the late window after the day's end has passed, and never changed after.
/// </summary>
/// <remarks>
/// Times are Unix nanoseconds; state times are integrated in nanoseconds (exact integers, never seconds
/// through floating point). The canonical bytes (<see cref="WriteCanonical"/>) cover every field that
/// is evidence, so changing any of them breaks the row's hash.
/// </remarks>
public sealed class DeviceDayRow
{
    private static readonly byte[] s_magic = "FGLR"u8.ToArray();
    private const byte CanonicalVersion = 1;

    internal DeviceDayRow(string enterprise, string device, int day, int offsetMinutes, string formulaSet)
    {
        Enterprise = enterprise;
        Device = device;
        Day = day;
        OffsetMinutes = offsetMinutes;
        FormulaSet = formulaSet;
    }

    public string Enterprise { get; }

    public string Device { get; }

    /// <summary>The local day as days since 1970-01-01 (in the enterprise's time zone).</summary>
    public int Day { get; }

    /// <summary>The local date.</summary>
    public DateOnly Date => DateOnly.FromDayNumber(LocalDays.EpochDayNumber + Day);

    /// <summary>The time zone's offset from UTC the day was cut with, in minutes (480 for Asia/Shanghai).</summary>
    public int OffsetMinutes { get; }

    public string FormulaSet { get; }

    /// <summary>Signal samples (values and statuses) with source time in the day, late and backfill ones excepted.</summary>
    public long Samples { get; internal set; }

    /// <summary>Good samples whose value differs from the signal's previous value (spec §2).</summary>
    public long Substantive { get; internal set; }

    /// <summary>Connection events, heartbeats and identity reports: evidence of presence, not samples.</summary>
    public long Events { get; internal set; }

    /// <summary>Samples with a non-Good status (<c>&lt;signal&gt;__status</c>).</summary>
    public long NonGoodSamples { get; internal set; }

    /// <summary>Nanoseconds in each state (index = <see cref="MachineState"/>), integrated over covered time only.</summary>
    public long[] StateNanoseconds { get; } = new long[6];

    public long PartsDelta { get; internal set; }

    public long GoodDelta { get; internal set; }

    public long CyclesDelta { get; internal set; }

    public double PowerOnDeltaSeconds { get; internal set; }

    public double EnergyDeltaKwh { get; internal set; }

    /// <summary>Decreases of a monotone counter: counted, never subtracted.</summary>
    public int CounterResets { get; internal set; }

    public int ProgramChanges { get; internal set; }

    /// <summary>Source time of the day's first and last sample; null when the day has none.</summary>
    public long? FirstNanoseconds { get; internal set; }

    public long? LastNanoseconds { get; internal set; }

    /// <summary>The largest arrival − source time of the day's samples, in nanoseconds.</summary>
    public long MaxArrivalLagNanoseconds { get; internal set; }

    /// <summary>Samples that arrived on this day for a day whose late window had passed (not applied to their day).</summary>
    public long Late { get; internal set; }

    /// <summary>Samples that arrived on this day more than the backfill age after their source time (spec §6 <c>backfill</c>).</summary>
    public long Backfill { get; internal set; }

    /// <summary>Lines older than the device's latest processed time: counted in <see cref="Samples"/>, no other effect.</summary>
    public long OutOfOrder { get; internal set; }

    /// <summary>Changes of the <c>state</c> signal.</summary>
    public int Transitions { get; internal set; }

    /// <summary>Transitions whose interval from the previous one differs from the interval before by less than the regular jitter.</summary>
    public int RegularTransitions { get; internal set; }

    /// <summary>Identities seen (<c>key=value</c>: certificate thumbprint, serial number, product instance URI …), sorted.</summary>
    public SortedSet<string> Identities { get; } = new(StringComparer.Ordinal);

    /// <summary>The per-minute state vector (<see cref="MinuteStates"/>).</summary>
    public byte[] Minutes { get; internal set; } = MinuteStates.CreateEmpty();

    /// <summary>Minutes of the day that are covered, shift or not.</summary>
    public int CoveredMinutes => MinuteStates.CountCovered(Minutes);

    /// <summary>Scheduled shift minutes of the day, from the shift calendar when the row was last computed (sealed: at sealing).</summary>
    public int ScheduledMinutes { get; internal set; }

    /// <summary>Covered minutes within the scheduled shift (spec §2 <c>covered_min</c>).</summary>
    public int CoveredShiftMinutes { get; internal set; }

    public bool IsSealed { get; internal set; }

    /// <summary>SHA-256(previous row hash of the device ‖ canonical bytes); null while open.</summary>
    public byte[]? Hash { get; internal set; }

    /// <summary>The hash of the device's previous sealed row (32 zero bytes for its first); null while open.</summary>
    public byte[]? PreviousHash { get; internal set; }

    internal bool Dirty { get; set; } = true;

    public long StateNanosecondsOf(MachineState state) => StateNanoseconds[(int)state];

    /// <summary>Applies the shift calendar: <see cref="ScheduledMinutes"/> and <see cref="CoveredShiftMinutes"/>.</summary>
    internal void ApplyShift(ReadOnlySpan<bool> shiftMinutes)
    {
        int scheduled = 0;
        int covered = 0;
        for (int m = 0; m < MinuteStates.MinutesPerDay; m++)
        {
            if (shiftMinutes[m])
            {
                scheduled++;
                if (Minutes[m] != MinuteStates.NotCovered)
                {
                    covered++;
                }
            }
        }

        ScheduledMinutes = scheduled;
        CoveredShiftMinutes = covered;
    }

    /// <summary>
    /// The row's canonical bytes: a fixed little-endian layout of every evidence field (strings as u16 length
    /// + UTF-8, the minute vector run-length encoded), versioned by a magic and a layout byte.
    /// </summary>
    public void WriteCanonical(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(s_magic);
        WriteByte(output, CanonicalVersion);
        WriteString(output, FormulaSet);
        WriteString(output, Enterprise);
        WriteString(output, Device);
        WriteInt32(output, Day);
        WriteInt32(output, OffsetMinutes);
        WriteInt64(output, Samples);
        WriteInt64(output, Substantive);
        WriteInt64(output, Events);
        WriteInt64(output, NonGoodSamples);
        foreach (long ns in StateNanoseconds)
        {
            WriteInt64(output, ns);
        }

        WriteInt64(output, PartsDelta);
        WriteInt64(output, GoodDelta);
        WriteInt64(output, CyclesDelta);
        WriteInt64(output, BitConverter.DoubleToInt64Bits(PowerOnDeltaSeconds));
        WriteInt64(output, BitConverter.DoubleToInt64Bits(EnergyDeltaKwh));
        WriteInt32(output, CounterResets);
        WriteInt32(output, ProgramChanges);
        WriteOptional(output, FirstNanoseconds);
        WriteOptional(output, LastNanoseconds);
        WriteInt64(output, MaxArrivalLagNanoseconds);
        WriteInt64(output, Late);
        WriteInt64(output, Backfill);
        WriteInt64(output, OutOfOrder);
        WriteInt32(output, Transitions);
        WriteInt32(output, RegularTransitions);
        WriteInt32(output, Identities.Count);
        foreach (string identity in Identities)
        {
            WriteString(output, identity);
        }

        byte[] minutes = MinuteStates.Encode(Minutes);
        WriteInt32(output, minutes.Length);
        output.Write(minutes);
        WriteInt32(output, ScheduledMinutes);
        WriteInt32(output, CoveredShiftMinutes);
    }

    /// <summary>The canonical bytes as an array.</summary>
    public byte[] ToCanonicalBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteCanonical(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteInt32(IBufferWriter<byte> output, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void WriteInt64(IBufferWriter<byte> output, long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    private static void WriteOptional(IBufferWriter<byte> output, long? value)
    {
        WriteByte(output, value.HasValue ? (byte)1 : (byte)0);
        WriteInt64(output, value ?? 0);
    }

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException($"a ledger string is longer than {ushort.MaxValue} bytes.", nameof(value));
        }

        Span<byte> span = output.GetSpan(2 + length);
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)length);
        Encoding.UTF8.GetBytes(value, span[2..]);
        output.Advance(2 + length);
    }
}
