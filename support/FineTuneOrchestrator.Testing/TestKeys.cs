namespace FineTuneOrchestrator.Testing;

/// <summary>The host keys test hosts are configured with (the Testing environment enforces keys as production does).</summary>
public static class TestKeys
{
    public const string Function = "test-function-key-0123456789";
    public const string Master = "test-master-key-0123456789abc";
    public const string System = "test-system-key-0123456789abc";
}
