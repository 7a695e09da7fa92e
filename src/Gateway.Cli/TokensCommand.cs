using System.CommandLine;
using FactoryGateway.Evidence;

namespace FactoryGateway.Cli;

/// <summary><c>fgw tokens create|list|revoke</c>: API tokens, stored hashed in the evidence store.</summary>
internal static class TokensCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir") { Description = "The service's data directory (holds evidence.db).", Required = true };
        var role = new Option<TokenRole>("--role") { Description = "enterprise (writes its own data), bureau (reads its region), or admin.", Required = true };
        var enterprise = new Option<string?>("--enterprise") { Description = "Unified social credit code (18 characters), for enterprise tokens." };
        var region = new Option<string?>("--region") { Description = "6-digit region code (GB/T 2260), for bureau tokens." };
        var description = new Option<string?>("--description") { Description = "What the token is for (shown by list)." };

        var create = new Command("create", "Create a token; the token itself is printed once, as the last line.") { dataDir, role, enterprise, region, description };
        create.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            try
            {
                using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(dataDir));
                string token = store.Tokens.CreateToken(parse.GetRequiredValue(role), parse.GetValue(enterprise), parse.GetValue(region), parse.GetValue(description));
                TokenStore.TryGetId(token, out string? id);
                output.WriteLine($"created {parse.GetRequiredValue(role).ToString().ToLowerInvariant()} token {id}; store it now, it is not shown again:");
                output.WriteLine(token);
                return 0;
            }
            catch (ArgumentException error)
            {
                parse.InvocationConfiguration.Error.WriteLine($"fgw tokens create: {error.Message}");
                return 2;
            }
        });

        var listDataDir = new Option<string>("--data-dir") { Description = "The service's data directory.", Required = true };
        var list = new Command("list", "List tokens (ids, roles, scopes; never the secrets).") { listDataDir };
        list.SetAction(parse =>
        {
            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(listDataDir));
            TextWriter output = parse.InvocationConfiguration.Output;
            output.WriteLine($"{"id",-16}  {"role",-10}  {"scope",-18}  {"state",-7}  description");
            foreach (TokenInfo token in store.Tokens.ListTokens())
            {
                string scope = token.Enterprise ?? token.Region ?? "*";
                output.WriteLine($"{token.Id,-16}  {token.Role.ToString().ToLowerInvariant(),-10}  {scope,-18}  {(token.Revoked ? "revoked" : "active"),-7}  {token.Description}");
            }

            return 0;
        });

        var revokeDataDir = new Option<string>("--data-dir") { Description = "The service's data directory.", Required = true };
        var id = new Argument<string>("id") { Description = "The token id (the part after fgw_)." };
        var revoke = new Command("revoke", "Revoke a token; a running service stops accepting it within 30 s.") { revokeDataDir, id };
        revoke.SetAction(parse =>
        {
            using EvidenceStore store = EvidenceStore.Open(parse.GetRequiredValue(revokeDataDir));
            bool revoked = store.Tokens.RevokeToken(parse.GetRequiredValue(id));
            parse.InvocationConfiguration.Output.WriteLine(revoked ? "revoked" : "no such active token");
            return revoked ? 0 : 1;
        });

        return new Command("tokens", "Manage API tokens.") { create, list, revoke };
    }
}
