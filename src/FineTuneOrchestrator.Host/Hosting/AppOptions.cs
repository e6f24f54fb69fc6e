namespace FineTuneOrchestrator.Host.Hosting;

/// <summary>Host-wide settings (configuration section <c>FineTune</c>).</summary>
public sealed class FineTuneAppOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FineTune";

    /// <summary>Registers the demo orchestrations (HelloSequence, WaitForApproval, AlwaysFails) used to exercise the management API. Off by default.</summary>
    public bool EnableDemoOrchestrations { get; set; }
}
