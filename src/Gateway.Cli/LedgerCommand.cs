using System.CommandLine;
using FactoryGateway.Evidence;
using FactoryGateway.Evidence.Ledger;

namespace FactoryGateway.Cli;

/// <summary><c>fgw ledger verify</c>: recomputes the device-day ledger's hash chains and roots and the chain of flag resolutions.</summary>
internal static class LedgerCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The ingest's data directory (holds evidence.db).", Required = true };
        var enterprise = new Option<string?>("--enterprise") { Description = "Print only this enterprise's roots (every chain is verified regardless)." };
        var verify = new Command("verify", "Recompute every sealed row's hash and chain link and every enterprise-day Merkle root; name the first broken row, or print the roots.") { dataDir, enterprise };
        verify.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            string directory = parse.GetRequiredValue(dataDir);
            if (!File.Exists(Path.Combine(directory, EvidenceStore.FileName)))
            {
                parse.InvocationConfiguration.Error.WriteLine($"fgw ledger verify: {Path.Combine(directory, EvidenceStore.FileName)} does not exist.");
                return 2;
            }

            using EvidenceStore store = EvidenceStore.Open(directory);
            LedgerVerification result = store.Ledger.Verify();
            if (!result.IsIntact)
            {
                output.WriteLine($"ledger broken: {result.FirstBreak} ({result.RowsVerified} sealed row(s) verified before it)");
                return 1;
            }

            string? only = parse.GetValue(enterprise);
            IEnumerable<LedgerRoot> roots = only is null ? result.Roots : result.Roots.Where(r => r.Enterprise == only);
            output.WriteLine($"ledger intact: {result.RowsVerified} sealed row(s) in {result.Roots.Count} enterprise-day root(s), {result.ResolutionsVerified} flag resolution(s)");
            foreach (LedgerRoot root in roots)
            {
                output.WriteLine($"{root.Enterprise}  {root.Date:yyyy-MM-dd}  {root.RootHex}  {root.Rows} row(s)");
            }

            return 0;
        });

        return new Command("ledger", "The tamper-evident device-day evidence ledger.") { verify };
    }
}
