using System.Text;

namespace FactoryGateway.Evidence.Ledger;

/// <summary>What a signal's name makes of its samples (spec §1 canonical signals).</summary>
internal enum SignalRole : byte
{
    Process = 0,
    State = 1,
    PartsTotal = 2,
    PartsGood = 3,
    Cycles = 4,
    Program = 5,
    PowerOnSeconds = 6,
    EnergyKwh = 7,
}

/// <summary>The last Good value of one signal of a device, and whether a Bad status is open for it.</summary>
internal sealed class SignalState
{
    public SignalState(byte[] rawKey, SignalRole role)
    {
        RawKey = rawKey;
        Role = role;
    }

    /// <summary>The field key as it appears in line protocol (escaped).</summary>
    public byte[] RawKey { get; }

    public SignalRole Role { get; }

    public bool HasValue { get; set; }

    /// <summary>The value's field kind (<see cref="Telemetry.LineProtocol.FieldKind"/> as a byte).</summary>
    public byte Kind { get; set; }

    /// <summary>The value's bits: a double's bits, a long, an unsigned long's bits, or 0/1.</summary>
    public long Bits { get; set; }

    /// <summary>A string value's raw bytes (escaped, with quotes).</summary>
    public byte[]? Text { get; set; }

    public bool BadOpen { get; set; }

    public static SignalRole RoleOf(ReadOnlySpan<byte> key) => key switch
    {
        _ when key.SequenceEqual("state"u8) => SignalRole.State,
        _ when key.SequenceEqual("parts_total"u8) => SignalRole.PartsTotal,
        _ when key.SequenceEqual("parts_good"u8) => SignalRole.PartsGood,
        _ when key.SequenceEqual("cycles"u8) => SignalRole.Cycles,
        _ when key.SequenceEqual("program"u8) => SignalRole.Program,
        _ when key.SequenceEqual("power_on_s"u8) => SignalRole.PowerOnSeconds,
        _ when key.SequenceEqual("energy_kwh"u8) => SignalRole.EnergyKwh,
        _ => SignalRole.Process,
    };
}

/// <summary>
/// The running state of one device between samples: its clock (the latest source time processed), the
/// last evidence, an open disconnect or Bad status, the current state, the last value of every signal,
/// the open device-day rows and the hash chain's head.
/// </summary>
internal sealed class DeviceTracker
{
    public const long NoTime = long.MinValue;

    public DeviceTracker(string enterprise, string device, int offsetMinutes)
    {
        Enterprise = enterprise;
        Device = device;
        OffsetMinutes = offsetMinutes;
    }

    public string Enterprise { get; }

    public string Device { get; }

    public int OffsetMinutes { get; }

    public long Clock { get; set; } = NoTime;

    public long LastEvidence { get; set; } = NoTime;

    public bool Disconnected { get; set; }

    public int BadOpenCount { get; set; }

    /// <summary>The current state (0–5), or -1 before the first <c>state</c> sample.</summary>
    public int State { get; set; } = -1;

    public long LastTransition { get; set; } = NoTime;

    public long LastInterval { get; set; } = -1;

    /// <summary>The hash of the device's last sealed row; 32 zero bytes before the first.</summary>
    public byte[] ChainHead { get; set; } = new byte[32];

    public List<SignalState> Signals { get; } = [];

    /// <summary>Open rows, oldest first (a device has a few: today, yesterday, the late window).</summary>
    public List<DeviceDayRow> Open { get; } = [];

    public bool Dirty { get; set; } = true;

    public SignalState Signal(ReadOnlySpan<byte> key)
    {
        foreach (SignalState signal in Signals)
        {
            if (signal.RawKey.AsSpan().SequenceEqual(key))
            {
                return signal;
            }
        }

        var added = new SignalState(key.ToArray(), SignalState.RoleOf(key));
        Signals.Add(added);
        return added;
    }

    /// <summary>Serialises the running state (not the rows, which are stored as rows).</summary>
    public byte[] SaveState()
    {
        using var stream = new MemoryStream(64 + (Signals.Count * 32));
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write((byte)1); // layout version
            writer.Write(Clock);
            writer.Write(LastEvidence);
            writer.Write(Disconnected);
            writer.Write(State);
            writer.Write(LastTransition);
            writer.Write(LastInterval);
            writer.Write(ChainHead);
            writer.Write(Signals.Count);
            foreach (SignalState signal in Signals)
            {
                writer.Write(signal.RawKey.Length);
                writer.Write(signal.RawKey);
                writer.Write(signal.HasValue);
                writer.Write(signal.Kind);
                writer.Write(signal.Bits);
                writer.Write(signal.Text?.Length ?? -1);
                if (signal.Text is not null)
                {
                    writer.Write(signal.Text);
                }

                writer.Write(signal.BadOpen);
            }
        }

        return stream.ToArray();
    }

    /// <exception cref="InvalidDataException">The bytes are not a saved tracker state.</exception>
    public void LoadState(byte[] state)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(state), Encoding.UTF8);
            if (reader.ReadByte() != 1)
            {
                throw new InvalidDataException($"device {Device}: unknown tracker state layout.");
            }

            Clock = reader.ReadInt64();
            LastEvidence = reader.ReadInt64();
            Disconnected = reader.ReadBoolean();
            State = reader.ReadInt32();
            LastTransition = reader.ReadInt64();
            LastInterval = reader.ReadInt64();
            ChainHead = reader.ReadBytes(32);
            int signals = reader.ReadInt32();
            Signals.Clear();
            BadOpenCount = 0;
            for (int i = 0; i < signals; i++)
            {
                byte[] key = reader.ReadBytes(reader.ReadInt32());
                var signal = new SignalState(key, SignalState.RoleOf(key))
                {
                    HasValue = reader.ReadBoolean(),
                    Kind = reader.ReadByte(),
                    Bits = reader.ReadInt64(),
                };
                int textLength = reader.ReadInt32();
                signal.Text = textLength < 0 ? null : reader.ReadBytes(textLength);
                signal.BadOpen = reader.ReadBoolean();
                BadOpenCount += signal.BadOpen ? 1 : 0;
                Signals.Add(signal);
            }
        }
        catch (EndOfStreamException error)
        {
            throw new InvalidDataException($"device {Device}: the tracker state is cut short.", error);
        }

        Dirty = false;
    }
}
