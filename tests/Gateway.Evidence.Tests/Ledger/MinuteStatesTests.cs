using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Evidence.Tests.Ledger;

/// <summary>The per-minute state vector's run count and correlation, read straight from its run-length encoding.</summary>
public sealed class MinuteStatesTests
{
    [Fact]
    public void Correlation_of_a_vector_with_itself_and_with_a_copy_shifted_by_two_minutes()
    {
        byte[] day = Alternating(shift: 0, stretch: 40);
        byte[] shifted = Alternating(shift: 2, stretch: 40);

        Assert.Equal(1.0, MinuteStates.Correlation(day, day, out int minutes), 12);
        Assert.Equal(12 * 60, minutes);

        // 08:00–20:00 run/idle every 40 minutes; shifted by 2 minutes, 34 of the 718 common minutes differ
        // (r = 1 − 2 × 34/718 for a balanced two-state series), and at a lag of 2 minutes none does.
        double r = MinuteStates.Correlation(day, shifted, out int common);
        Assert.Equal((12 * 60) - 2, common);
        Assert.InRange(r, 0.90, 0.91);
        Assert.Equal(Reference(day, shifted, 0), r, 12);
        Assert.Equal(1.0, MinuteStates.Correlation(day, shifted, 2, out common), 12);
        Assert.Equal(12 * 60, common);
        Assert.Equal(1.0, MinuteStates.Correlation(shifted, day, -2, out _), 12);
        Assert.Equal(Reference(day, shifted, 1), MinuteStates.Correlation(day, shifted, 1, out _), 12);
        Assert.Equal(Reference(day, shifted, -3), MinuteStates.Correlation(day, shifted, -3, out _), 12);
        Assert.Equal(MinuteStates.CountRuns(day), MinuteStates.CountRuns(shifted));
        Assert.Throws<ArgumentOutOfRangeException>(() => MinuteStates.Correlation(day, day, MinuteStates.MinutesPerDay, out _));
    }

    [Fact]
    public void The_first_state_change_moves_with_a_shift_and_is_the_day_end_when_nothing_changes()
    {
        // Alternating(shift, 40): covered from 08:00 + shift, run for 40 minutes, then idle.
        Assert.Equal((8 * 60) + 40, MinuteStates.FirstStateChange(Alternating(shift: 0, stretch: 40)));
        Assert.Equal((8 * 60) + 42, MinuteStates.FirstStateChange(Alternating(shift: 2, stretch: 40)));

        byte[] flat = MinuteStates.CreateEmpty();
        flat.AsSpan(480, 720).Fill((byte)MachineState.Idle);
        Assert.Equal(MinuteStates.MinutesPerDay, MinuteStates.FirstStateChange(MinuteStates.Encode(flat)));

        // A gap in coverage between two states is not a change of known state … until the state differs.
        flat.AsSpan(600, 10).Fill(MinuteStates.NotCovered);
        flat.AsSpan(700, 5).Fill((byte)MachineState.Run);
        Assert.Equal(700, MinuteStates.FirstStateChange(MinuteStates.Encode(flat)));
        Assert.Equal(MinuteStates.MinutesPerDay, MinuteStates.FirstStateChange(MinuteStates.Encode(MinuteStates.CreateEmpty())));
        Assert.Throws<InvalidDataException>(() => MinuteStates.FirstStateChange([3, 10]));
    }

    [Fact]
    public void Only_minutes_where_both_states_are_known_count()
    {
        byte[] a = MinuteStates.CreateEmpty();
        byte[] b = MinuteStates.CreateEmpty();
        for (int m = 600; m < 700; m++)
        {
            a[m] = b[m] = (byte)(m % 10 < 5 ? MachineState.Run : MachineState.Idle);
        }

        a.AsSpan(700, 100).Fill((byte)MachineState.Down); // b is not covered there
        b.AsSpan(500, 100).Fill(MinuteStates.CoveredUnknown); // covered, no state yet: not a number either

        Assert.Equal(1.0, MinuteStates.Correlation(MinuteStates.Encode(a), MinuteStates.Encode(b), out int minutes), 12);
        Assert.Equal(100, minutes);
        Assert.Equal(Reference(MinuteStates.Encode(a), MinuteStates.Encode(b), 0), MinuteStates.Correlation(MinuteStates.Encode(a), MinuteStates.Encode(b), out _), 12);
    }

    [Fact]
    public void A_constant_series_has_no_correlation()
    {
        byte[] flat = MinuteStates.CreateEmpty();
        flat.AsSpan(480, 720).Fill((byte)MachineState.Idle);
        byte[] busy = MinuteStates.Decode(Alternating(0, 30));

        Assert.True(double.IsNaN(MinuteStates.Correlation(MinuteStates.Encode(flat), MinuteStates.Encode(busy), out int minutes)));
        Assert.Equal(720, minutes);
        Assert.True(double.IsNaN(MinuteStates.Correlation(MinuteStates.Encode(MinuteStates.CreateEmpty()), MinuteStates.Encode(busy), out minutes)));
        Assert.Equal(0, minutes);
        Assert.Equal(1, MinuteStates.CountRuns(MinuteStates.Encode(MinuteStates.CreateEmpty())));
        Assert.Equal(3, MinuteStates.CountRuns(MinuteStates.Encode(flat)));
    }

    [Fact]
    public void A_damaged_encoding_is_refused()
    {
        byte[] good = Alternating(0, 30);
        Assert.Throws<InvalidDataException>(() => MinuteStates.CountRuns(good.AsSpan(0, good.Length - 2)));
        Assert.Throws<InvalidDataException>(() => MinuteStates.CountRuns([.. good, 3, 1]));
        Assert.Throws<InvalidDataException>(() => MinuteStates.Correlation(good, good.AsSpan(0, good.Length - 2), out _));
        Assert.Throws<InvalidDataException>(() => MinuteStates.Correlation(good.AsSpan(0, good.Length - 2), good, out _));
        Assert.Throws<InvalidDataException>(() => MinuteStates.Correlation(good, [.. good, 3, 1], out _));
        Assert.Throws<InvalidDataException>(() => MinuteStates.Correlation(good, [.. good, 3, 1], 5, out _));
        Assert.Throws<InvalidDataException>(() => MinuteStates.Correlation(good.AsSpan(0, good.Length - 2), good, -5, out _));
        Assert.Throws<InvalidDataException>(() => MinuteStates.Correlation([3, 0x80], good, out _));
    }

    // 08:00–20:00 covered, run and idle in stretches of `stretch` minutes, everything `shift` minutes later.
    private static byte[] Alternating(int shift, int stretch)
    {
        byte[] minutes = MinuteStates.CreateEmpty();
        for (int m = (8 * 60) + shift; m < (20 * 60) + shift; m++)
        {
            minutes[m] = (byte)((m - (8 * 60) - shift) / stretch % 2 == 0 ? MachineState.Run : MachineState.Idle);
        }

        return MinuteStates.Encode(minutes);
    }

    // The textbook two-pass formula over the decoded vectors, minute m of a against minute m + lag of b.
    private static double Reference(byte[] a, byte[] b, int lag)
    {
        byte[] x = MinuteStates.Decode(a);
        byte[] y = MinuteStates.Decode(b);
        int[] both = [.. Enumerable.Range(0, x.Length).Where(m => m + lag >= 0 && m + lag < y.Length && x[m] <= 5 && y[m + lag] <= 5)];
        double mx = both.Average(m => (double)x[m]);
        double my = both.Average(m => (double)y[m + lag]);
        double sxy = both.Sum(m => (x[m] - mx) * (y[m + lag] - my));
        double sxx = both.Sum(m => (x[m] - mx) * (x[m] - mx));
        double syy = both.Sum(m => (y[m + lag] - my) * (y[m + lag] - my));
        return sxy / Math.Sqrt(sxx * syy);
    }
}
