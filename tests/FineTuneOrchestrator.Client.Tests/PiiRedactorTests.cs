using System.Text;
using FineTuneOrchestrator.Validation.Internal;

namespace FineTuneOrchestrator.Client.Tests;

public sealed class PiiRedactorTests
{
    // Lines with something the validator's scanner flags, and lines it leaves alone (near misses included).
    public static TheoryData<string> Sensitive => new()
    {
        "contact me at jane.doe@example.com please",
        "Mail: first.last+tag@sub.example.co.uk.",
        "key sk-proj-abcdefghijklmnopqrstuvwxyz0123 leaked",
        "sk-abcdefghijklmnopqrstu",
        "slack xoxb-123456789012-abcdefghijkl token",
        "xoxp-aaaaaaaaaaaaaaaaaaaaaaaa",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv",
        "aws AKIAIOSFODNN7EXAMPLE here",
        "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBg (truncated)",
        "card 4111 1111 1111 1111 expires",
        "card 4111-1111-1111-1111",
        "5500005555555559",
        "pay with 378282246310005 now",
        "two: a@b.io and 4012888888881881",
        "URGENT: charge on 4111111111111111, mail bob@corp.example.org, key sk-live-0123456789abcdefghijkl",
    };

    public static TheoryData<string> Clean => new()
    {
        "I was charged twice for my Pro plan in March.",
        "order #4821 has not arrived after 7 days",
        "task-abcdefghijklmnopqrstuvwxyz is a task id, not a key",
        "email at example dot com",
        "user@localhost",
        "a@b.c1",
        "4111111111111112",
        "0000000000000000",
        "12345678901234567890123",
        "call 555-0100 or 555 0199",
        "sk-short",
        "error code E404 on the Vega Laptop 14",
    };

    [Theory]
    [MemberData(nameof(Sensitive))]
    public void Redact_WhatTheValidatorFlags_LeavesNothingItWouldFlag(string text)
    {
        Assert.NotEqual(SensitiveDataScanner.Finding.None, SensitiveDataScanner.Scan(Encoding.UTF8.GetBytes(text)));

        string redacted = PiiRedactor.Redact(text);

        Assert.Equal(SensitiveDataScanner.Finding.None, SensitiveDataScanner.Scan(Encoding.UTF8.GetBytes(redacted)));
        Assert.True(PiiRedactor.ContainsPii(text));
        Assert.Contains("[redacted-", redacted, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Clean))]
    public void Redact_TextTheValidatorAccepts_IsReturnedUnchanged(string text)
    {
        Assert.Equal(SensitiveDataScanner.Finding.None, SensitiveDataScanner.Scan(Encoding.UTF8.GetBytes(text)));

        string redacted = PiiRedactor.Redact(text);

        Assert.Same(text, redacted);
        Assert.False(PiiRedactor.ContainsPii(text));
    }

    [Fact]
    public void Redact_MixedText_MasksEachKindAndKeepsTheRest()
    {
        string redacted = PiiRedactor.Redact("Hi, I am jane@example.com, card 4111 1111 1111 1111, key sk-abcdefghijklmnopqrstuvwxyz. Thanks.");

        Assert.Equal($"Hi, I am {PiiRedactor.EmailMask}, card {PiiRedactor.CardMask}, key {PiiRedactor.SecretMask}. Thanks.", redacted);
    }

    [Fact]
    public void Redact_EmailFollowedBySentenceDot_KeepsTheDot()
    {
        Assert.Equal($"write to {PiiRedactor.EmailMask}.", PiiRedactor.Redact("write to ops@example.com."));
    }
}
